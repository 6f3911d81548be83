package runner_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/datasets"
	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/runner"
)

// dlrun train --model xor --optimizer sgd --lr 1e300: the weights blow up
// in the first epoch. Nothing is saved, the error says that no checkpoint
// was written, and the folder the run made is gone.
func TestBlowUpInTheFirstEpochSavesNothing(t *testing.T) {
	d := datasets.XOR()
	cfg := runConfig("xor", d)
	cfg.Epochs, cfg.Optimizer, cfg.LearningRate = 3, "sgd", 1e300
	dir := filepath.Join(t.TempDir(), "run")
	_, err := runner.Train(cfg, runner.Options{Data: run.FromDataset(d), Out: dir})
	if !errors.Is(err, runner.ErrNotFinite) || !strings.Contains(err.Error(), "epoch 1: the test loss became NaN, so nothing of epoch 1 was saved; no checkpoint was written") {
		t.Fatalf("error %v", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the run left its folder: %v", err)
	}
}

// A test loss that overflows while the training loss and the weights stay
// finite (one test point far out, a squared error): nothing of that epoch
// is saved, and the error names the checkpoint of the epoch before.
func TestNonFiniteTestLossSavesNothingOfItsEpoch(t *testing.T) {
	d := *datasets.XOR()
	far := float32(1.9e20) // epoch 1's test loss is about 2e38, epoch 2's overflows float32
	var err error
	if d.Test, err = datasets.NewSplit([]float32{0, 0, 0, 1, 1, 0, far, far}, []int{0, 1, 1, 0}, []int{2}, 2); err != nil {
		t.Fatal(err)
	}
	cfg := runConfig("mlp", &d)
	cfg.Epochs, cfg.Loss = 3, "mse"
	dir := filepath.Join(t.TempDir(), "run")
	_, err = runner.Train(cfg, runner.Options{Data: run.FromDataset(&d), Out: dir})
	want := "epoch 2: the test loss became +Inf, so nothing of epoch 2 was saved; the last good checkpoint is " + filepath.Join(dir, "checkpoint.safetensors") + " (epoch 1)"
	if !errors.Is(err, runner.ErrNotFinite) || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want %q", err, want)
	}
	checkSavedEpoch(t, dir, d.Train, 1)
}
