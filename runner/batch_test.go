package runner_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/datasets"
	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/runner"
	"github.com/dlrun/dlrun/train"
)

// A batch larger than the training data is lowered to the data, said so
// in the log and recorded in config.json and summary.json, and the run is
// the one trained with that batch from the start; a language model's
// batch is lowered to the streams its held-out text fills.
func TestBatchLargerThanTheDataIsLowered(t *testing.T) {
	d := datasets.XOR()
	cfg := runConfig("xor", d)
	cfg.Epochs, cfg.BatchSize = 3, train.MaxBatchSize
	dir := filepath.Join(t.TempDir(), "huge")
	var log strings.Builder
	s, err := runner.Train(cfg, runner.Options{Data: run.FromDataset(d), Out: dir, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	if want := "batch 1048576 is larger than the 4 training examples: using batches of 4, one per epoch\n"; !strings.Contains(log.String(), want) {
		t.Errorf("log lacks %q:\n%s", want, log.String())
	}
	c, err := run.ReadConfig(dir)
	if err != nil || c.BatchSize != 4 || s.BatchSize != 4 {
		t.Fatalf("config.json batch %d, summary %d (%v), want 4", c.BatchSize, s.BatchSize, err)
	}
	cfg.BatchSize = 4
	four := filepath.Join(t.TempDir(), "four")
	if _, err := runner.Train(cfg, runner.Options{Data: run.FromDataset(d), Out: four}); err != nil {
		t.Fatal(err)
	}
	sameRun(t, four, dir)

	txt, model := tinyLM(t)
	lm := run.Config{Model: model, Task: "next-token", Dataset: txt.Name, SeqLen: 20, Config: train.Config{Epochs: 1, BatchSize: 100000}}
	dir = filepath.Join(t.TempDir(), "lm")
	log.Reset()
	if _, err := runner.Train(lm, runner.Options{Data: run.FromText(txt), Out: dir, Log: &log}); err != nil {
		t.Fatal(err)
	}
	want := min(len(txt.Train), len(txt.HeldOut)) - 1
	if c, err := run.ReadConfig(dir); err != nil || c.BatchSize != want {
		t.Errorf("config.json batch %d (%v), want %d; log:\n%s", c.BatchSize, err, want, log.String())
	}
	if !strings.Contains(log.String(), "batch 100000: more streams than") {
		t.Errorf("log does not say the batch was lowered:\n%s", log.String())
	}
}
