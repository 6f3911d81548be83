// Package atomicfile writes files so that a reader, or a crash, never sees
// a half-written one: data goes to a temporary file in the same folder,
// which is synced and then renamed over the destination. A write that
// fails (a full disk, say) removes its temporary file and leaves the
// destination as it was; one cut short by a kill leaves the destination as
// it was and a temporary file beside it, which RemoveStale removes.
package atomicfile

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/pkg/errors"
)

// tempInfix separates a destination's name from the random digits of its
// temporary file: WriteFile(dir/name) writes dir/.name.tmp-<digits>.
const tempInfix = ".tmp-"

// write writes data to the temporary file f; a variable so that the
// package's tests can make a write fail part way, as a full disk does.
var write = func(f *os.File, data []byte) (int, error) { return f.Write(data) }

// WriteFile writes data to path atomically with permissions perm. On
// error, path is unchanged and no temporary file is left; the error names
// path and says what failed.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+tempInfix+"*")
	if err != nil {
		return errors.Wrapf(err, "writing %s", path)
	}
	tmp := f.Name()
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return errors.Wrapf(err, "writing %s", path)
	}
	if _, err := write(f, data); err != nil {
		return fail(err)
	}
	if err := f.Chmod(perm); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return errors.Wrapf(err, "writing %s", path)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return errors.Wrapf(err, "writing %s", path)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
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
		return nil, errors.Wrapf(err, "cleaning %s", dir)
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
					return removed, errors.Wrapf(err, "cleaning %s", dir)
				}
				removed = append(removed, p)
				break
			}
		}
	}
	return removed, nil
}
