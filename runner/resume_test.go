package runner_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dlrun/dlrun/datasets"
	"github.com/dlrun/dlrun/nn"
	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/runner"
	"github.com/dlrun/dlrun/train"
)

// A run of 2 epochs resumed to 4 ends with exactly the weights, optimizer
// state and metrics of a run of 4 epochs straight through.
func TestResumeEqualsStraightThrough(t *testing.T) {
	d := smallFashion(t, 640)
	cfg := runConfig("mlp", d)
	straight, split := filepath.Join(t.TempDir(), "straight"), filepath.Join(t.TempDir(), "split")
	cfg.Epochs = 4
	if _, err := runner.Train(cfg, runner.Options{Data: run.FromDataset(d), Out: straight}); err != nil {
		t.Fatal(err)
	}
	cfg.Epochs = 2
	if _, err := runner.Train(cfg, runner.Options{Data: run.FromDataset(d), Out: split}); err != nil {
		t.Fatal(err)
	}
	// A write cut short by a kill leaves at most a stray temporary file.
	os.WriteFile(filepath.Join(split, ".checkpoint.safetensors.tmp-1"), []byte("partial"), 0o644)
	if _, err := runner.Resume(split, runner.Options{Epochs: 4, Data: run.FromDataset(d)}); err != nil {
		t.Fatal(err)
	}
	if a, b := metricsWithoutSeconds(t, straight), metricsWithoutSeconds(t, split); a != b {
		t.Fatalf("metrics differ:\nstraight\n%s\nresumed\n%s", a, b)
	}
	for _, f := range []string{"model.safetensors", "best.safetensors"} {
		a, _ := os.ReadFile(filepath.Join(straight, f))
		b, _ := os.ReadFile(filepath.Join(split, f))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s differs between the straight and the resumed run", f)
		}
	}
	// Resuming a finished run to its own epochs trains nothing, writes
	// nothing and says so; to fewer epochs it is a one-line error that
	// changes nothing either.
	before := snapshot(t, split)
	var log strings.Builder
	s, err := runner.Resume(split, runner.Options{Epochs: 4, Data: run.FromDataset(d), Log: &log})
	if err != nil || !strings.Contains(log.String(), "is finished (4 epochs): nothing to do") {
		t.Errorf("resuming a finished run: %v, log %q", err, log.String())
	}
	if err == nil && (s.Epochs != 4 || s.SamplesPerSec <= 0) {
		t.Errorf("resuming a finished run returned %+v, want its summary", s)
	}
	if _, err := runner.Resume(split, runner.Options{Data: run.FromDataset(d)}); err != nil {
		t.Errorf("resuming a finished run to its configured epochs: %v", err)
	}
	_, err = runner.Resume(split, runner.Options{Epochs: 2, Data: run.FromDataset(d)})
	if err == nil || !strings.Contains(err.Error(), "has trained 4 epochs already, more than the 2 asked for") || strings.Contains(err.Error(), "\n") {
		t.Errorf("resuming 4 epochs to 2: %v", err)
	}
	if after := snapshot(t, split); after != before {
		t.Errorf("resuming a finished run changed its folder:\nbefore\n%s\nafter\n%s", before, after)
	}
}

// snapshot lists the files of dir with their sizes, SHA-256 and
// modification times.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(mustRead(t, filepath.Join(dir, e.Name())))
		fmt.Fprintf(&b, "%s %d %x %s\n", e.Name(), fi.Size(), sum[:8], fi.ModTime().Format(time.RFC3339Nano))
	}
	return b.String()
}

// A run killed, or failed, before saving its first epoch leaves config.json
// and model.json without a checkpoint (and perhaps a temporary file): such
// a folder resumes from the first epoch, or takes a new run, and either
// ends as a run straight through does, with the temporary file gone.
func TestFolderWithoutCheckpointResumesOrTakesANewRun(t *testing.T) {
	d := datasets.XOR()
	cfg := runConfig("xor", d)
	cfg.Epochs = 5
	straight := filepath.Join(t.TempDir(), "straight")
	if _, err := runner.Train(cfg, runner.Options{Data: run.FromDataset(d), Out: straight}); err != nil {
		t.Fatal(err)
	}
	killed := func() string {
		dir := t.TempDir()
		for _, f := range []string{"config.json", "model.json"} {
			if err := os.WriteFile(filepath.Join(dir, f), mustRead(t, filepath.Join(straight, f)), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		os.WriteFile(filepath.Join(dir, ".checkpoint.safetensors.tmp-123"), []byte("partial"), 0o644)
		return dir
	}
	resumed := killed()
	var log strings.Builder
	if _, err := runner.Resume(resumed, runner.Options{Data: run.FromDataset(d), Log: &log}); err != nil {
		t.Fatalf("resuming a folder without checkpoint: %v", err)
	}
	if !strings.Contains(log.String(), "from the first epoch") {
		t.Errorf("log %q", log.String())
	}
	retrained := killed()
	log.Reset()
	if _, err := runner.Train(cfg, runner.Options{Data: run.FromDataset(d), Out: retrained, Log: &log}); err != nil {
		t.Fatalf("a new run into a folder without checkpoint: %v", err)
	}
	if !strings.Contains(log.String(), "removed config.json and model.json of a run that saved no epoch") {
		t.Errorf("log %q", log.String())
	}
	for _, dir := range []string{resumed, retrained} {
		sameRun(t, straight, dir)
		if tmp, _ := filepath.Glob(filepath.Join(dir, ".*.tmp-*")); len(tmp) > 0 {
			t.Errorf("temporary files left: %v", tmp)
		}
	}
}

// sameRun fails unless run folders a and b hold the same metrics (but for
// the seconds), weights and best weights.
func sameRun(t *testing.T, a, b string) {
	t.Helper()
	if ma, mb := metricsWithoutSeconds(t, a), metricsWithoutSeconds(t, b); ma != mb {
		t.Errorf("metrics differ:\n%s:\n%s\n%s:\n%s", a, ma, b, mb)
	}
	for _, f := range []string{"model.safetensors", "best.safetensors"} {
		wa, _ := os.ReadFile(filepath.Join(a, f))
		wb, _ := os.ReadFile(filepath.Join(b, f))
		if len(wa) == 0 || !bytes.Equal(wa, wb) {
			t.Errorf("%s differs between %s and %s", f, a, b)
		}
	}
}

// A start that fails (here: the test data does not fit the model) leaves
// the folder as it was: no folder if it made it, an empty one if it was
// given one.
func TestFailedStartLeavesTheFolderAsItWas(t *testing.T) {
	d := *datasets.XOR()
	var err error
	if d.Test, err = datasets.NewSplit(make([]float32, 12), []int{0, 1, 1, 0}, []int{3}, 2); err != nil {
		t.Fatal(err)
	}
	cfg := runConfig("xor", &d)
	made := filepath.Join(t.TempDir(), "new")
	given := t.TempDir()
	for _, dir := range []string{made, given} {
		if _, err := runner.Train(cfg, runner.Options{Data: run.FromDataset(&d), Out: dir}); err == nil || !strings.Contains(err.Error(), "shape") {
			t.Fatalf("training with test data of the wrong shape: %v", err)
		}
	}
	if _, err := os.Stat(made); !os.IsNotExist(err) {
		t.Errorf("the failed run left the folder it made: %v", err)
	}
	if entries, _ := os.ReadDir(given); len(entries) != 0 {
		t.Errorf("the failed run left %d files in the folder it was given", len(entries))
	}
}

// A run killed after its last checkpoint but before summary.json (and
// before the files that follow the checkpoint) is completed by Resume:
// the files it lacked are written from the checkpoint, as a run straight
// through writes them, and summary.json counts every epoch's rate.
func TestResumeCompletesARunKilledAfterItsLastCheckpoint(t *testing.T) {
	d := datasets.XOR()
	cfg := runConfig("xor", d)
	cfg.Epochs = 5
	straight, killed := filepath.Join(t.TempDir(), "straight"), filepath.Join(t.TempDir(), "killed")
	for _, dir := range []string{straight, killed} {
		if _, err := runner.Train(cfg, runner.Options{Data: run.FromDataset(d), Out: dir}); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"summary.json", "metrics.csv", "model.safetensors", "best.safetensors", "curves.png"} {
		if err := os.Remove(filepath.Join(killed, f)); err != nil {
			t.Fatal(err)
		}
	}
	s, err := runner.Resume(killed, runner.Options{Data: run.FromDataset(d)})
	if err != nil {
		t.Fatal(err)
	}
	sameRun(t, straight, killed)
	var want run.Summary
	if err := json.Unmarshal(mustRead(t, filepath.Join(straight, "summary.json")), &want); err != nil {
		t.Fatal(err)
	}
	if s.SamplesPerSec <= 0 {
		t.Errorf("samples_per_sec %g", s.SamplesPerSec)
	}
	s.SamplesPerSec, s.WallSeconds, want.SamplesPerSec, want.WallSeconds = 0, 0, 0, 0
	if !reflect.DeepEqual(*s, want) {
		t.Errorf("summary after completing\n%+v\nwant\n%+v", *s, want)
	}
	if _, err := os.Stat(filepath.Join(killed, "curves.png")); err != nil {
		t.Error(err)
	}
}

func TestCheckpointErrors(t *testing.T) {
	d := smallFashion(t, 128)
	cfg := runConfig("mlp", d)
	cfg.Epochs = 1
	dir := filepath.Join(t.TempDir(), "run")
	if _, err := runner.Train(cfg, runner.Options{Data: run.FromDataset(d), Out: dir}); err != nil {
		t.Fatal(err)
	}
	ck := filepath.Join(dir, "checkpoint.safetensors")
	b, _ := os.ReadFile(ck)
	tr := newTrainer(t, "mlp", d)
	defer tr.Close()
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"truncated", b[:len(b)/2], "not a valid safetensors file"},
		{"not safetensors", []byte("not a checkpoint at all"), "not a valid safetensors file"},
	} {
		p := filepath.Join(t.TempDir(), "ck.safetensors")
		os.WriteFile(p, c.data, 0o644)
		if err := tr.Restore(p); err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	// The weights file alone is not a checkpoint.
	if err := tr.Restore(filepath.Join(dir, "model.safetensors")); err == nil || !strings.Contains(err.Error(), "not a dlrun checkpoint") {
		t.Errorf("weights as checkpoint: %v", err)
	}
	// A checkpoint of another model names the tensor at fault.
	ot := newTrainer(t, "cnn", d)
	defer ot.Close()
	if err := ot.Restore(ck); err == nil || !strings.Contains(err.Error(), "tensor") {
		t.Errorf("mlp checkpoint into a cnn: %v", err)
	}
}

func mustRead(t *testing.T, path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// newTrainer builds a trainer for reference model name on d, as a run of
// it would.
func newTrainer(t *testing.T, name string, d *datasets.Dataset) *train.Trainer {
	ref, err := nn.ReferenceByName(name)
	if err != nil {
		t.Fatal(err)
	}
	m, err := ref.New(d.Shape, len(d.Classes))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := train.New(m, &train.Classify{Shape: d.Shape, Outputs: len(d.Classes)}, train.Config{BatchSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// Batch norm's buffers (running statistics, batch count) are saved in
// checkpoints and restored: a resumed cnn-bn ends with exactly the weights
// and buffers of a run straight through.
func TestBatchNormResumeEqualsStraightThrough(t *testing.T) {
	d := smallFashion(t, 192)
	cfg := runConfig("cnn-bn", d)
	straight, split := filepath.Join(t.TempDir(), "straight"), filepath.Join(t.TempDir(), "split")
	cfg.Epochs = 2
	if _, err := runner.Train(cfg, runner.Options{Data: run.FromDataset(d), Out: straight}); err != nil {
		t.Fatal(err)
	}
	cfg.Epochs = 1
	if _, err := runner.Train(cfg, runner.Options{Data: run.FromDataset(d), Out: split}); err != nil {
		t.Fatal(err)
	}
	if _, err := runner.Resume(split, runner.Options{Epochs: 2, Data: run.FromDataset(d)}); err != nil {
		t.Fatal(err)
	}
	a, b := mustRead(t, filepath.Join(straight, "model.safetensors")), mustRead(t, filepath.Join(split, "model.safetensors"))
	if !bytes.Equal(a, b) {
		t.Fatal("model.safetensors differs between the straight and the resumed run")
	}
	if !bytes.Contains(a, []byte("batchnorm2.running_var")) || !bytes.Contains(a, []byte("batchnorm1.num_batches_tracked")) {
		t.Fatal("model.safetensors lacks batch norm's buffers")
	}
	if metricsWithoutSeconds(t, straight) != metricsWithoutSeconds(t, split) {
		t.Fatal("metrics differ")
	}
}
