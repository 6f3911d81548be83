//go:build linux

package board

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// A run holds an exclusive flock on its folder's .dlrun.lock while it
// trains (runner/lock.go); the system drops it when the process ends, however
// it ends. The board tells a folder whose lock is held without opening,
// locking or writing the file: it reads /proc/locks, the kernel's table of
// the locks held, once per scan, and looks up the lock file's device and
// inode there. Taking the lock itself, even shared and without waiting,
// could make a trainer starting at that moment find the folder in use;
// reading /proc/locks cannot.

// lockTable is the set of files on which some process holds a FLOCK,
// each named as /proc/locks names it: "major:minor:inode", in hex, hex
// and decimal.
type lockTable map[string]bool

// readLocks returns the files locked now, and false if it cannot tell
// (no /proc/locks).
func readLocks() (lockTable, bool) {
	b, err := os.ReadFile("/proc/locks")
	if err != nil {
		return nil, false
	}
	return parseLocks(b), true
}

// parseLocks parses the text of /proc/locks: a held lock's line reads
// "1: FLOCK  ADVISORY  WRITE 1234 fd:01:5678 0 EOF"; a waiter's has "->"
// after the number, and is skipped.
func parseLocks(b []byte) lockTable {
	t := lockTable{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 6 && f[1] == "FLOCK" {
			t[f[5]] = true
		}
	}
	return t
}

// held reports whether fi, the lock file's, is locked in t.
func (t lockTable) held(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return false
	}
	dev := uint64(st.Dev) //nolint:unconvert // Dev's type differs between systems
	return t[fmt.Sprintf("%02x:%02x:%d", unix.Major(dev), unix.Minor(dev), st.Ino)]
}
