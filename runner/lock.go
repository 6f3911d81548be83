package runner

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/dlrun/dlrun/internal/atomicfile"
	"github.com/dlrun/dlrun/rundir"
	"github.com/pkg/errors"
)

// ErrInUse is wrapped by the error of a Train or Resume whose run folder
// another process is training into.
var ErrInUse = errors.New("in use")

// A run holds an exclusive lock on its folder's rundir.Lock (flock on
// Unix, LockFileEx on Windows) from before it reads or writes the folder
// until it returns. The operating system releases the lock when the
// process ends, however it ends, so a killed run never leaves the folder
// locked. The file stays empty.

// folderLock is a held lock on a run folder.
type folderLock struct {
	f    *os.File
	path string
}

// lockFolder takes the lock of run folder dir, which must exist, without
// waiting: if another process holds it, the error wraps ErrInUse and names
// the folder and, where the system says (Linux), the holder's process id.
func lockFolder(dir string) (*folderLock, error) {
	path := filepath.Join(dir, rundir.Lock)
	for try := 1; ; try++ {
		// The lock file is dlrun's own: a link or anything but a regular
		// file in its place is refused, never opened.
		if fi, err := os.Lstat(path); err == nil && !fi.Mode().IsRegular() {
			return nil, errors.Errorf("locking run folder %s: %s is %s, not a regular file", dir, rundir.Lock, atomicfile.Describe(fi.Mode()))
		}
		f, err := openLockFile(path)
		if err != nil {
			return nil, errors.Wrapf(err, "locking run folder %s", dir)
		}
		held, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, errors.Wrapf(err, "locking run folder %s", dir)
		}
		if !held {
			pid := lockHolder(f)
			f.Close()
			if pid > 0 {
				return nil, fmt.Errorf("run folder %s is %w by another dlrun process (pid %d): wait for it to end, or choose another folder", dir, ErrInUse, pid)
			}
			return nil, fmt.Errorf("run folder %s is %w by another dlrun process: wait for it to end, or choose another folder", dir, ErrInUse)
		}
		// A run that gave up a folder it had made removes the lock file;
		// a lock taken on the removed file between our open and our lock
		// guards nothing, so open the folder's file again.
		fi, err1 := f.Stat()
		pi, err2 := os.Lstat(path)
		if err1 == nil && err2 == nil && os.SameFile(fi, pi) {
			return &folderLock{f: f, path: path}, nil
		}
		f.Close()
		if try == 3 {
			return nil, errors.Errorf("locking run folder %s: its lock file %s keeps being removed", dir, rundir.Lock)
		}
	}
}

// release releases the lock.
func (l *folderLock) release() {
	if l != nil && l.f != nil {
		l.f.Close() // closing the last descriptor releases the lock
		l.f = nil
	}
}

// remove removes the lock file, then releases the lock: for a run that
// gives up a folder before writing anything into it.
func (l *folderLock) remove() {
	if l != nil && l.f != nil {
		os.Remove(l.path)
		l.release()
	}
}
