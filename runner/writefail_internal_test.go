package runner

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/dlrun/dlrun/datasets"
	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/rundir"
	"github.com/dlrun/dlrun/train"
	"github.com/pkg/errors"
)

// xorRun trains xor for epochs into dir with log, and returns Train's
// error.
func xorRun(dir string, epochs int, log *onLine) error {
	d := datasets.XOR()
	cfg := run.Config{Model: "xor", Dataset: d.Name, Config: train.Config{Epochs: epochs}}
	opts := Options{Data: run.FromDataset(d), Out: dir}
	if log != nil {
		opts.Log = log
	}
	_, err := Train(cfg, opts)
	return err
}

// onLine is a log that calls do once, on the first line holding prefix.
type onLine struct {
	prefix string
	do     func()
	done   bool
}

func (l *onLine) Write(p []byte) (int, error) {
	if !l.done && bytes.HasPrefix(p, []byte(l.prefix)) {
		l.done = true
		l.do()
	}
	return len(p), nil
}

// sameFiles fails unless the named files of run folders a and b are
// equal (metrics.csv but for its seconds column).
func sameFiles(t *testing.T, a, b string, names ...string) {
	t.Helper()
	for _, n := range names {
		fa, errA := os.ReadFile(filepath.Join(a, n))
		fb, errB := os.ReadFile(filepath.Join(b, n))
		if n == rundir.Metrics {
			fa, fb = dropSeconds(fa), dropSeconds(fb)
		}
		if errA != nil || errB != nil || !bytes.Equal(fa, fb) {
			t.Errorf("%s differs between %s and %s (%v, %v)", n, a, b, errA, errB)
		}
	}
}

func dropSeconds(csv []byte) []byte {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(string(csv)), "\n") {
		out = append(out, l[:strings.LastIndex(l, ",")])
	}
	return []byte(strings.Join(out, "\n"))
}

// The disk fills up as the checkpoint of epoch 3 is written: training
// stops with an error that says what failed and names the checkpoint
// left, of epoch 2, which the folder's other files agree with; once there
// is room again, Resume ends as a run straight through does.
func TestFullDiskAtACheckpointNamesTheCheckpointLeft(t *testing.T) {
	straight := filepath.Join(t.TempDir(), "straight")
	if err := xorRun(straight, 4, nil); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "run")
	defer func(save func(*train.Trainer, string) error) { saveCheckpoint = save }(saveCheckpoint)
	saveCheckpoint = func(tr *train.Trainer, path string) error {
		if tr.Epoch() == 3 {
			// what atomicfile.WriteFile returns when the disk is full
			return errors.Wrapf(&fs.PathError{Op: "write", Path: filepath.Join(filepath.Dir(path), ".checkpoint.safetensors.tmp-1"), Err: syscall.ENOSPC}, "writing %s", path)
		}
		return tr.SaveCheckpoint(path)
	}
	err := xorRun(dir, 4, nil)
	ck := filepath.Join(dir, rundir.Checkpoint)
	want := "training stopped: writing " + ck + ": write " + filepath.Join(dir, ".checkpoint.safetensors.tmp-1") + ": no space left on device; the last good checkpoint is " + ck + " (epoch 2)"
	if err == nil || err.Error() != want {
		t.Fatalf("error %v\nwant  %s", err, want)
	}
	if ci, err := train.ReadCheckpointInfo(ck); err != nil || ci.Epoch != 2 {
		t.Fatalf("the checkpoint holds %+v (%v)", ci, err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, rundir.Metrics)); bytes.Count(b, []byte("\n")) != 3 {
		t.Errorf("metrics.csv:\n%s", b)
	}
	saveCheckpoint = (*train.Trainer).SaveCheckpoint
	if _, err := Resume(dir, Options{Data: run.FromDataset(datasets.XOR())}); err != nil {
		t.Fatal(err)
	}
	sameFiles(t, straight, dir, rundir.Metrics, rundir.Weights, rundir.Best)
}

// A write after the checkpoint fails (a directory stands where the file
// goes, which the rule for destinations refuses): the error names the
// file and the checkpoint just written, and no temporary file is left. Resume rewrites
// the files that follow the checkpoint.
func TestFailedWriteAfterTheCheckpointNamesIt(t *testing.T) {
	straight := filepath.Join(t.TempDir(), "straight")
	if err := xorRun(straight, 4, nil); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{rundir.Weights, rundir.Best, rundir.Metrics} {
		dir := filepath.Join(t.TempDir(), "run")
		block := func() {
			os.Remove(filepath.Join(dir, name))
			os.MkdirAll(filepath.Join(dir, name, "in-the-way"), 0o755)
		}
		err := xorRun(dir, 4, &onLine{prefix: "epoch 2/4", do: block})
		want := "; the last good checkpoint is " + filepath.Join(dir, rundir.Checkpoint) + " (epoch 3)"
		if err == nil || !strings.HasPrefix(err.Error(), "training stopped: "+filepath.Join(dir, name)+" is a folder, not a regular file") || !strings.HasSuffix(err.Error(), want) {
			t.Errorf("%s in the way: %v", name, err)
			continue
		}
		if tmp, _ := filepath.Glob(filepath.Join(dir, ".*.tmp-*")); len(tmp) > 0 {
			t.Errorf("%s in the way: temporary files left: %v", name, tmp)
		}
		os.RemoveAll(filepath.Join(dir, name))
		if _, err := Resume(dir, Options{Data: run.FromDataset(datasets.XOR())}); err != nil {
			t.Fatal(err)
		}
		sameFiles(t, straight, dir, rundir.Metrics, rundir.Weights, rundir.Best)
	}
}
