package run_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/datasets"
	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/train"
)

// A batch larger than the training set is lowered to it before any model
// is built (--batch 100000000 with xor ran out of memory; train.MaxBatchSize is the most allowed), the log says
// so, config.json and summary.json record the batch used, and the run is
// the one that batch gives.
func TestBatchLargerThanTheDataIsLowered(t *testing.T) {
	d := datasets.XOR()
	cfg := runConfig("xor", d)
	cfg.Epochs, cfg.BatchSize = 3, train.MaxBatchSize
	dir := filepath.Join(t.TempDir(), "huge")
	var log strings.Builder
	s, err := run.Train(cfg, run.Options{Data: run.FromDataset(d), Out: dir, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "batch 1048576 is larger than the 4 training examples: using batches of 4, one per epoch\n") {
		t.Errorf("log:\n%s", log.String())
	}
	c, err := run.ReadConfig(dir)
	if err != nil || c.BatchSize != 4 || s.BatchSize != 4 {
		t.Fatalf("config.json batch %d, summary %d (%v), want 4", c.BatchSize, s.BatchSize, err)
	}
	cfg.BatchSize = 4
	four := filepath.Join(t.TempDir(), "four")
	if _, err := run.Train(cfg, run.Options{Data: run.FromDataset(d), Out: four}); err != nil {
		t.Fatal(err)
	}
	sameRun(t, four, dir)

	// Next-token prediction: at most one stream per held-out token but
	// the last.
	txt, model := tinyLM(t)
	lm := run.Config{Model: model, Task: run.NextToken, Dataset: txt.Name, SeqLen: 20, Config: train.Config{Epochs: 1, BatchSize: 100000}}
	dir = filepath.Join(t.TempDir(), "lm")
	log.Reset()
	if _, err := run.Train(lm, run.Options{Data: run.FromText(txt), Out: dir, Log: &log}); err != nil {
		t.Fatal(err)
	}
	if c, err := run.ReadConfig(dir); err != nil || c.BatchSize != len(txt.HeldOut)-1 {
		t.Errorf("config.json batch %d (%v), want %d; log:\n%s", c.BatchSize, err, len(txt.HeldOut)-1, log.String())
	}
}
