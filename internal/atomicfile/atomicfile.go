// Package atomicfile writes files so that a reader, or a crash, never sees
// a half-written one, and holds the one rule for where dlrun may write
// (dest.go): data goes to a temporary file in the destination's folder,
// which is synced and then renamed over the destination, only where a
// regular file or nothing is. A write that fails (a full disk, say)
// removes its temporary file and leaves the destination as it was; one
// cut short by a kill leaves the destination as it was and a temporary
// file beside it, which RemoveStale removes.
package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// tempInfix separates a destination's name from the random digits of its
// temporary file: WriteFile(dir/name) writes dir/.name.tmp-<digits>.
const tempInfix = ".tmp-"

// write writes data to the temporary file f; a variable so that the
// package's tests can make a write fail part way, as a full disk does.
var write = func(f *os.File, data []byte) (int, error) { return f.Write(data) }

// File is a file being written atomically: its content goes to a
// temporary file beside the destination until Commit renames it over the
// destination. Abort, or a failed Commit, removes the temporary file and
// leaves the destination as it was.
type File struct {
	path string // the destination as given, for errors
	dest string // where the rename lands (Dest of path)
	perm os.FileMode
	f    *os.File // the temporary file; nil once committed or aborted
}

var _ io.Writer = (*File)(nil)

// Create starts an atomic write of path with permissions perm. A
// destination that the rule refuses (Dest) is a *DestError, returned
// before anything is created.
func Create(path string, perm os.FileMode) (*File, error) {
	dest, err := Dest(path)
	if err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+tempInfix+"*")
	if err != nil {
		return nil, writeErr(path, err)
	}
	return &File{path: path, dest: dest, perm: perm, f: f}, nil
}

// Write writes p to the temporary file.
func (f *File) Write(p []byte) (int, error) {
	if f.f == nil {
		return 0, writeErr(f.path, fs.ErrClosed)
	}
	n, err := write(f.f, p)
	if err != nil {
		err = writeErr(f.path, err)
	}
	return n, err
}

// Name returns the destination's path, as given to Create.
func (f *File) Name() string { return f.path }

// TempName returns the temporary file's path, for a child process that
// writes the content by name (ffmpeg): it must write that file in place
// (truncating it, as ffmpeg -y does), not replace it, so that Commit
// renames what it wrote. It is "" after Commit or Abort.
func (f *File) TempName() string {
	if f.f == nil {
		return ""
	}
	return f.f.Name()
}

// Commit syncs the temporary file and renames it over the destination,
// having checked the destination against the rule once more. On error the
// temporary file is removed and the destination is as it was.
func (f *File) Commit() error {
	if f.f == nil {
		return writeErr(f.path, fs.ErrClosed)
	}
	tmp := f.f
	f.f = nil
	fail := func(err error) error {
		tmp.Close()
		os.Remove(tmp.Name())
		var de *DestError
		if errors.As(err, &de) {
			return err
		}
		return writeErr(f.path, err)
	}
	if err := tmp.Chmod(f.perm); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	// What the destination is may have changed since Create.
	if dest, err := Dest(f.path); err != nil {
		return fail(err)
	} else if dest != f.dest {
		return fail(fmt.Errorf("the destination changed during the write (it now leads to %s)", dest))
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return writeErr(f.path, err)
	}
	if err := os.Rename(tmp.Name(), f.dest); err != nil {
		os.Remove(tmp.Name())
		return writeErr(f.path, err)
	}
	if d, err := os.Open(filepath.Dir(f.dest)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// Abort removes the temporary file, leaving the destination as it was. It
// does nothing after Commit or Abort.
func (f *File) Abort() {
	if f.f != nil {
		f.f.Close()
		os.Remove(f.f.Name())
		f.f = nil
	}
}

// WriteFile writes data to path atomically with permissions perm. On
// error, path is unchanged and no temporary file is left; the error names
// path and says what failed, or is a *DestError for a destination the
// rule refuses.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	f, err := Create(path, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Abort()
		return err
	}
	return f.Commit()
}

// WriteNew writes data to path with permissions perm only if nothing is
// there yet, and reports whether something was (then it writes nothing).
// The file appears whole or not at all: it is written under a temporary
// name and hard-linked to path, which fails rather than replace a file
// that appeared meanwhile (a file system without hard links gets a
// rename after a second look instead).
func WriteNew(path string, data []byte, perm os.FileMode) (existed bool, err error) {
	if _, err := os.Lstat(path); err == nil {
		return true, nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+tempInfix+"*")
	if err != nil {
		return false, writeErr(path, err)
	}
	defer os.Remove(tmp.Name())
	_, err = write(tmp, data)
	if err == nil {
		err = tmp.Chmod(perm)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return false, writeErr(path, err)
	}
	err = os.Link(tmp.Name(), path)
	if errors.Is(err, fs.ErrExist) {
		return true, nil
	}
	if err != nil {
		// A file system without hard links: rename, having looked again.
		if _, serr := os.Lstat(path); serr == nil {
			return true, nil
		}
		if err := os.Rename(tmp.Name(), path); err != nil {
			return false, writeErr(path, err)
		}
	}
	return false, nil
}

// writeErr is the error of a failed write of path: "writing PATH: cause",
// a *fs.PathError whose Err is the cause (not another *fs.PathError).
func writeErr(path string, err error) error {
	return &fs.PathError{Op: "writing", Path: path, Err: unwrapPath(err)}
}

// IsTemp reports whether name (a base name) is a temporary file that
// WriteFile writes for a destination called dest: .dest.tmp-<digits>.
func IsTemp(name, dest string) bool {
	digits, ok := strings.CutPrefix(name, "."+dest+tempInfix)
	if !ok || digits == "" {
		return false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// RemoveStale removes from folder dir the temporary files that WriteFile
// left for the destinations named dests (base names) when its process was
// killed during a write. It removes only regular files named as IsTemp
// says, and returns the paths it removed. Call it only while no other
// process writes those destinations (under a lock).
func RemoveStale(dir string, dests ...string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, &fs.PathError{Op: "cleaning", Path: dir, Err: unwrapPath(err)}
	}
	var removed []string
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		for _, dest := range dests {
			if IsTemp(e.Name(), dest) {
				p := filepath.Join(dir, e.Name())
				if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
					return removed, &fs.PathError{Op: "cleaning", Path: dir, Err: unwrapPath(err)}
				}
				removed = append(removed, p)
				break
			}
		}
	}
	return removed, nil
}
