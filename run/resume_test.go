package run_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/datasets"
	"github.com/dlrun/dlrun/nn"
	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/train"
)

// A run of 2 epochs resumed to 4 ends with exactly the weights, optimizer
// state and metrics of a run of 4 epochs straight through.
func TestResumeEqualsStraightThrough(t *testing.T) {
	d := smallFashion(t, 640)
	cfg := runConfig("mlp", d)
	straight, split := filepath.Join(t.TempDir(), "straight"), filepath.Join(t.TempDir(), "split")
	cfg.Epochs = 4
	if _, err := run.Train(cfg, run.Options{Data: run.FromDataset(d), Out: straight}); err != nil {
		t.Fatal(err)
	}
	cfg.Epochs = 2
	if _, err := run.Train(cfg, run.Options{Data: run.FromDataset(d), Out: split}); err != nil {
		t.Fatal(err)
	}
	// A write cut short by a kill leaves at most a stray temporary file.
	os.WriteFile(filepath.Join(split, ".checkpoint.safetensors.tmp-1"), []byte("partial"), 0o644)
	if _, err := run.Resume(split, 4, run.Options{Data: run.FromDataset(d)}); err != nil {
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
	// Resuming a finished run trains nothing and changes nothing; resuming
	// a folder without a checkpoint is an error naming it.
	before := metricsWithoutSeconds(t, split)
	if _, err := run.Resume(split, 4, run.Options{Data: run.FromDataset(d)}); err != nil {
		t.Errorf("resuming a finished run: %v", err)
	}
	if after := metricsWithoutSeconds(t, split); after != before {
		t.Error("resuming a finished run changed its metrics")
	}
	empty := t.TempDir()
	if err := os.WriteFile(filepath.Join(empty, "config.json"), mustRead(t, filepath.Join(split, "config.json")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(empty, "model.json"), mustRead(t, filepath.Join(split, "model.json")), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := run.Resume(empty, 0, run.Options{Data: run.FromDataset(d)}); err == nil || !strings.Contains(err.Error(), "checkpoint.safetensors") {
		t.Errorf("resume without checkpoint: %v", err)
	}
}

func TestCheckpointErrors(t *testing.T) {
	d := smallFashion(t, 128)
	cfg := runConfig("mlp", d)
	cfg.Epochs = 1
	dir := filepath.Join(t.TempDir(), "run")
	if _, err := run.Train(cfg, run.Options{Data: run.FromDataset(d), Out: dir}); err != nil {
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
	if _, err := run.Train(cfg, run.Options{Data: run.FromDataset(d), Out: straight}); err != nil {
		t.Fatal(err)
	}
	cfg.Epochs = 1
	if _, err := run.Train(cfg, run.Options{Data: run.FromDataset(d), Out: split}); err != nil {
		t.Fatal(err)
	}
	if _, err := run.Resume(split, 2, run.Options{Data: run.FromDataset(d)}); err != nil {
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
