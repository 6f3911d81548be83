//go:build !unix && !windows

package runner

import "os"

// openLockFile opens (creating) a lock file.
func openLockFile(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
}

// tryLock reports the lock as taken: this system (Plan 9, WebAssembly) has
// no advisory file locks, so two runs into one folder are not kept apart
// there.
func tryLock(*os.File) (bool, error) { return true, nil }

// lockHolder returns 0: no process can hold a lock here.
func lockHolder(*os.File) int { return 0 }
