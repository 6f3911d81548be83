package run_test

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/train"
)

func TestEarlyStoppingAndBest(t *testing.T) {
	d := smallFashion(t, 256)
	cfg := runConfig("mlp", d)
	cfg.Epochs, cfg.Patience, cfg.Monitor = 30, 1, "test_loss"
	cfg.Optimizer, cfg.LearningRate = "sgd", 3 // too large a step: the test loss soon stops improving
	dir := filepath.Join(t.TempDir(), "run")
	s, err := run.Train(cfg, run.Options{Data: run.FromDataset(d), Out: dir})
	if err != nil {
		t.Fatal(err)
	}
	if s.Epochs >= 30 {
		t.Fatalf("early stopping never stopped (%d epochs)", s.Epochs)
	}
	rows := strings.Split(strings.TrimSpace(metricsWithoutSeconds(t, dir)), "\n")[1:]
	if len(rows) != s.Epochs {
		t.Fatalf("%d metric rows for %d epochs", len(rows), s.Epochs)
	}
	if _, err := os.Stat(filepath.Join(dir, "best.safetensors")); err != nil {
		t.Fatal(err)
	}
}

// A loss that turns NaN stops training with an error naming the last good
// checkpoint, which stays loadable.
func TestNaNStopsWithLastGoodCheckpoint(t *testing.T) {
	d := smallFashion(t, 256)
	cfg := runConfig("mlp", d)
	cfg.Epochs, cfg.Optimizer, cfg.LearningRate = 3, "sgd", 0.01
	cfg.Schedule, cfg.StepEvery, cfg.Gamma = "step", 1, 1e30 // epoch 2 steps with lr 1e28
	dir := filepath.Join(t.TempDir(), "run")
	_, err := run.Train(cfg, run.Options{Data: run.FromDataset(d), Out: dir})
	if err == nil || !strings.Contains(err.Error(), "the loss became") || !strings.Contains(err.Error(), "checkpoint (epoch 1)") {
		t.Fatalf("error %v", err)
	}
	m, err := train.Load(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	r, err := m.Evaluate(d.Test)
	if err != nil || math.IsNaN(r.Loss) {
		t.Fatalf("the last good weights: loss %v, %v", r.Loss, err)
	}
}
