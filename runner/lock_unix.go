//go:build unix

package runner

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/dlrun/dlrun/internal/safeio"
	"golang.org/x/sys/unix"
)

// openLockFile opens (creating) a lock file, refusing a symbolic link.
func openLockFile(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o644)
}

// tryLock takes an exclusive flock on f without waiting and reports
// whether it got it.
func tryLock(f *os.File) (bool, error) {
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		switch err {
		case nil:
			return true, nil
		case unix.EWOULDBLOCK:
			return false, nil
		case unix.EINTR:
			continue
		}
		return false, err
	}
}

// lockHolder returns the id of the process holding the flock on f's file,
// as /proc/locks lists it (Linux), or 0 where it cannot tell.
func lockHolder(f *os.File) int {
	fi, err := f.Stat()
	if err != nil {
		return 0
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0
	}
	b, err := safeio.ReadFile("/proc/locks", 1<<20)
	if err != nil {
		return 0
	}
	dev := uint64(st.Dev) //nolint:unconvert // Dev's type differs between systems
	id := fmt.Sprintf("%02x:%02x:%d", unix.Major(dev), unix.Minor(dev), st.Ino)
	return holderIn(b, id)
}

// holderIn finds in the text of /proc/locks the process holding a FLOCK
// on the file whose major:minor:inode is id. A line reads
// "1: FLOCK  ADVISORY  WRITE 1234 fd:01:5678 0 EOF"; a waiter's line has
// "->" after the number.
func holderIn(locks []byte, id string) int {
	sc := bufio.NewScanner(bytes.NewReader(locks))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 6 || f[1] != "FLOCK" || f[5] != id {
			continue
		}
		if pid, err := strconv.Atoi(f[4]); err == nil && pid > 0 {
			return pid
		}
	}
	return 0
}
