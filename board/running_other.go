//go:build !linux

package board

import "io/fs"

// lockTable would be the files locked now; only Linux tells, without
// opening them (running_linux.go). Elsewhere the board falls back on the
// age of a run's files (recentWrite).
type lockTable map[string]bool

// readLocks returns false: this system has no /proc/locks.
func readLocks() (lockTable, bool) { return nil, false }

// held reports false.
func (lockTable) held(fs.FileInfo) bool { return false }
