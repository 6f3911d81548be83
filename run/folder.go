package run

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/dlrun/dlrun/internal/atomicfile"
	"github.com/dlrun/dlrun/train"
	"github.com/pkg/errors"
)

// The files of a run folder (docs/checkpoints.md).
const (
	configFile     = "config.json"
	modelFile      = "model.json"
	metricsFile    = "metrics.csv"
	curvesFile     = "curves.png"
	weightsFile    = "model.safetensors"
	bestFile       = "best.safetensors"
	checkpointFile = "checkpoint.safetensors"
	summaryFile    = "summary.json"
)

// runFiles are the files a run writes into its folder.
var runFiles = []string{configFile, modelFile, metricsFile, curvesFile, weightsFile, bestFile, checkpointFile, summaryFile, agentFile, agentCheckpointFile}

// startFiles are the files a run writes before its first checkpoint: a
// folder holding nothing else of a run is one whose run was killed, or
// failed, before its first epoch was saved, and a new run may use it.
var startFiles = []string{configFile, modelFile, agentFile}

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
	for _, name := range startFiles {
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

// openFolder returns the existing run folder dir (one with a config.json),
// locked, with the temporary files of writes cut short removed.
func openFolder(dir string) (*folder, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, errors.Wrapf(err, "run folder %s", dir)
	}
	if !fi.IsDir() {
		return nil, errors.Errorf("run folder %s is not a folder", dir)
	}
	if _, err := os.Lstat(filepath.Join(dir, configFile)); err != nil {
		return nil, errors.Errorf("run folder %s holds no %s: not a run folder", dir, configFile)
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

func isStartFile(name string) bool {
	for _, s := range startFiles {
		if s == name {
			return true
		}
	}
	return false
}

// path returns the path of the folder's file name.
func (f *folder) path(name string) string { return filepath.Join(f.dir, name) }

// removeTemps removes the temporary files that writes of the folder's
// files left when their process was killed (atomicfile.RemoveStale).
func (f *folder) removeTemps() error {
	_, err := atomicfile.RemoveStale(f.dir, runFiles...)
	return err
}

// abandon undoes the start of a run that failed before saving its first
// epoch, leaving the folder as it was: it removes the files the run wrote
// and the lock file, and the folder if this run created it. It does
// nothing to a folder that holds a checkpoint.
func (f *folder) abandon() {
	for _, ck := range []string{checkpointFile, agentCheckpointFile} {
		if _, err := os.Lstat(f.path(ck)); !errors.Is(err, fs.ErrNotExist) {
			return
		}
	}
	for _, name := range runFiles {
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

func trimExt(name string) string { return name[:len(name)-len(filepath.Ext(name))] }

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return errors.Wrapf(err, "encoding %s", path)
	}
	return atomicfile.WriteFile(path, append(b, '\n'), 0o644)
}

// MetricsHeader is the header row of metrics.csv for a task scored by
// accuracy (classification, next-token prediction).
var MetricsHeader = strings.Join(metricsColumns([]train.Metric{train.Accuracy}), ",")

// metricsColumns returns the columns of metrics.csv for a task scored by
// metrics: epoch, train_loss, train_<metric>..., test_loss,
// test_<metric>..., learning_rate, seconds.
func metricsColumns(metrics []train.Metric) []string {
	cols := []string{"epoch"}
	for _, split := range []string{"train", "test"} {
		cols = append(cols, split+"_loss")
		for _, m := range metrics {
			cols = append(cols, split+"_"+m.Name)
		}
	}
	return append(cols, "learning_rate", "seconds")
}

// WriteMetrics writes rows to path as CSV (the columns of the task's
// metrics, then one row per epoch), atomically. Numbers are written in
// full precision, so two runs with the same seed give byte-identical
// columns (all but seconds).
func WriteMetrics(path string, rows []train.EpochStats, metrics []train.Metric) error {
	cols := metricsColumns(metrics)
	var b bytes.Buffer
	b.WriteString(strings.Join(cols, ",") + "\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "%d", r.Epoch)
		for _, c := range cols[1 : len(cols)-1] {
			v, _ := r.Value(c)
			b.WriteString("," + strconv.FormatFloat(v, 'g', -1, 64))
		}
		b.WriteString("," + strconv.FormatFloat(r.Seconds, 'f', 3, 64) + "\n")
	}
	return atomicfile.WriteFile(path, b.Bytes(), 0o644)
}

// CheckFree returns an *ExistsError if folder dir holds a run (a
// checkpoint, weights, metrics, curves or a summary), which Train would
// refuse, and nil otherwise: for a folder that does not exist, and for one
// holding only the start of a run that never saved an epoch (config.json,
// model.json), which Train takes over. Callers that train into several
// folders check them all with it before the first begins.
func CheckFree(dir string) error {
	for _, name := range runFiles {
		if isStartFile(name) {
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
