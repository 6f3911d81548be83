package runner

import (
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dlrun/dlrun/internal/atomicfile"
	"github.com/dlrun/dlrun/rundir"
	"github.com/pkg/errors"
)

// folder is a run folder held, locked, by this process.
type folder struct {
	dir     string
	created bool   // made by this process
	made    string // the topmost folder made with it (runs/ of runs/<model>-<time>), if created
	lock    *folderLock
}

// newFolder returns the folder of a new run, created if need be and
// locked: out, or by default a new folder of its own (defaultFolder). A
// folder that holds a run (a checkpoint, weights, metrics or a summary) is
// refused; one holding only the start of a run that never saved an epoch
// (config.json, model.json) is taken over, those files removed and the
// fact logged. Temporary files of writes cut short are removed.
func newFolder(out, model string, start time.Time, log io.Writer) (*folder, error) {
	dir := out
	var made string
	var err error
	if dir == "" {
		dir, made, err = defaultFolder(model, start)
	} else {
		made, err = atomicfile.MkdirAll(dir, 0o755)
	}
	if err != nil {
		return nil, errors.Wrap(err, "run folder")
	}
	created := made != ""
	l, err := lockFolder(dir)
	if err != nil {
		if created {
			removeEmpty(dir, made)
		}
		return nil, err
	}
	f := &folder{dir: dir, created: created, made: made, lock: l}
	if err := CheckFree(dir); err != nil {
		f.lock.release()
		return nil, err
	}
	if err := f.removeTemps(); err != nil {
		f.lock.release()
		return nil, err
	}
	var stale []string
	for _, name := range rundir.StartFiles {
		if _, err := os.Lstat(f.path(name)); err == nil {
			if _, err := atomicfile.Dest(f.path(name)); err != nil {
				f.lock.release()
				return nil, err
			}
			if err := os.Remove(f.path(name)); err != nil {
				f.lock.release()
				return nil, errors.Wrapf(err, "run folder %s", dir)
			}
			stale = append(stale, name)
		}
	}
	if len(stale) > 0 {
		fmt.Fprintf(log, "run folder %s: removed %s of a run that saved no epoch\n", dir, strings.Join(stale, " and "))
	}
	return f, nil
}

// openFolder returns the existing run folder dir (one holding a file of a
// run: rundir.Markers), locked, with the temporary files of writes cut
// short removed.
func openFolder(dir string) (*folder, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, errors.Wrapf(err, "run folder %s", dir)
	}
	if !fi.IsDir() {
		return nil, errors.Errorf("run folder %s is not a folder", dir)
	}
	marked := false
	for _, name := range rundir.Markers {
		if _, err := os.Lstat(filepath.Join(dir, name)); err == nil {
			marked = true
			break
		}
	}
	if !marked {
		return nil, errors.Errorf("run folder %s holds no %s: not a run folder", dir, rundir.Config)
	}
	l, err := lockFolder(dir)
	if err != nil {
		return nil, err
	}
	f := &folder{dir: dir, lock: l}
	if err := f.removeTemps(); err != nil {
		f.lock.release()
		return nil, err
	}
	return f, nil
}

// path returns the path of the folder's file name.
func (f *folder) path(name string) string { return filepath.Join(f.dir, name) }

// removeTemps removes the temporary files that writes of the folder's
// files left when their process was killed (atomicfile.RemoveStale).
func (f *folder) removeTemps() error {
	_, err := atomicfile.RemoveStale(f.dir, rundir.Files...)
	return err
}

// abandon undoes the start of a run that failed before saving its first
// epoch, leaving the folder as it was: it removes the files the run wrote
// and the lock file, and the folder if this run created it. It does
// nothing to a folder that holds a checkpoint.
func (f *folder) abandon() {
	for _, ck := range rundir.Checkpoints {
		if _, err := os.Lstat(f.path(ck)); !errors.Is(err, fs.ErrNotExist) {
			return
		}
	}
	for _, name := range rundir.Files {
		os.Remove(f.path(name))
	}
	f.lock.remove()
	if f.created {
		removeEmpty(f.dir, f.made)
	}
}

// removeEmpty removes folder dir and then its parents up to top, each only
// if empty: what making dir made.
func removeEmpty(dir, top string) {
	for p := dir; ; p = filepath.Dir(p) {
		if os.Remove(p) != nil || p == top || filepath.Dir(p) == p {
			return
		}
	}
}

// close releases the folder's lock.
func (f *folder) close() { f.lock.release() }

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return errors.Wrapf(err, "encoding %s", path)
	}
	return atomicfile.WriteFile(path, append(b, '\n'), 0o644)
}

// CheckFree returns an *ExistsError if folder dir holds a run (a
// checkpoint, weights, metrics, curves or a summary), which Train would
// refuse, and nil otherwise: for a folder that does not exist, and for one
// holding only the start of a run that never saved an epoch (config.json,
// model.json), which Train takes over. Callers that train into several
// folders check them all with it before the first begins.
func CheckFree(dir string) error {
	for _, name := range rundir.Files {
		if rundir.IsStartFile(name) {
			continue
		}
		if _, err := os.Lstat(filepath.Join(dir, name)); err == nil {
			return &ExistsError{Dir: dir, File: name}
		}
	}
	return nil
}

// ExistsError is Train's error for a run folder that already holds a run:
// File is the run file found in Dir.
type ExistsError struct{ Dir, File string }

// Error says which file was found and what to do instead.
func (e *ExistsError) Error() string {
	return fmt.Sprintf("run folder %s already holds a run (%s); choose another --out, or continue it with --resume", e.Dir, e.File)
}
