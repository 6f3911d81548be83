package runner_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/runner"
	"github.com/dlrun/dlrun/train"
)

// Early stopping ends the run, summary.json says so and names the best
// epoch (the one with the lowest test loss, here neither the first nor the
// last), and best.safetensors holds that epoch's weights: those a run of
// just that many epochs ends with.
func TestEarlyStoppingAndBest(t *testing.T) {
	d := smallFashion(t, 256)
	cfg := runConfig("mlp", d)
	cfg.Epochs, cfg.Patience, cfg.Monitor = 30, 1, "test_loss"
	cfg.Optimizer, cfg.LearningRate = "sgd", 0.5 // a large step: the test loss stops improving after a few epochs
	dir := filepath.Join(t.TempDir(), "run")
	var log strings.Builder
	s, err := runner.Train(cfg, runner.Options{Data: run.FromDataset(d), Out: dir, Log: &log})
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
	best, bestLoss := 0, math.Inf(1)
	for i, r := range rows {
		loss, _ := strconv.ParseFloat(strings.Split(r, ",")[3], 64) // epoch,train_loss,train_accuracy,test_loss
		if loss < bestLoss {
			best, bestLoss = i+1, loss
		}
	}
	var sum map[string]any
	if err := json.Unmarshal(mustRead(t, filepath.Join(dir, "summary.json")), &sum); err != nil {
		t.Fatal(err)
	}
	if sum["early_stopped"] != true || sum["best_epoch"] != float64(best) || sum["monitor"] != "test_loss" || best <= 1 || best >= s.Epochs {
		t.Errorf("summary.json says early_stopped %v, best_epoch %v by %v; metrics.csv has the lowest test loss at epoch %d of %d",
			sum["early_stopped"], sum["best_epoch"], sum["monitor"], best, s.Epochs)
	}
	if !strings.Contains(log.String(), "has not improved for 1 epoch; best epoch "+strconv.Itoa(best)) {
		t.Errorf("log:\n%s", log.String())
	}
	cfg.Epochs, cfg.Patience, cfg.Monitor = best, 0, ""
	short := filepath.Join(t.TempDir(), "short")
	if _, err := runner.Train(cfg, runner.Options{Data: run.FromDataset(d), Out: short}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(mustRead(t, filepath.Join(dir, "best.safetensors")), mustRead(t, filepath.Join(short, "model.safetensors"))) {
		t.Errorf("best.safetensors does not hold the weights of epoch %d", best)
	}
}

// A loss that turns NaN during training stops it with an error naming the
// last good checkpoint and its epoch; that checkpoint, the weights and the
// best weights are epoch 1's, which are finite.
func TestNaNStopsWithLastGoodCheckpoint(t *testing.T) {
	d := smallFashion(t, 256)
	cfg := runConfig("mlp", d)
	cfg.Epochs, cfg.Optimizer, cfg.LearningRate = 3, "sgd", 0.01
	cfg.Schedule, cfg.StepEvery, cfg.Gamma = "step", 1, 1e30 // epoch 2 steps with lr 1e28
	dir := filepath.Join(t.TempDir(), "run")
	_, err := runner.Train(cfg, runner.Options{Data: run.FromDataset(d), Out: dir})
	want := "epoch 2, batch 2: the loss became NaN; the last good checkpoint is " + filepath.Join(dir, "checkpoint.safetensors") + " (epoch 1)"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want %q", err, want)
	}
	checkSavedEpoch(t, dir, d.Test, 1)
}

// checkSavedEpoch fails unless run folder dir holds a checkpoint of epoch
// epoch, and weights, best weights and metrics.csv of that epoch, all
// finite, with the test loss metrics.csv records.
func checkSavedEpoch(t *testing.T, dir string, test train.Data, epoch int) {
	t.Helper()
	rows := strings.Split(strings.TrimSpace(metricsWithoutSeconds(t, dir)), "\n")[1:]
	if len(rows) != epoch {
		t.Errorf("metrics.csv has %d rows, want %d", len(rows), epoch)
	}
	for _, best := range []bool{false, true} {
		m, err := train.Load(dir, best)
		if err != nil {
			t.Fatal(err)
		}
		r, err := m.Evaluate(test)
		if err != nil || math.IsNaN(r.Loss) || math.IsInf(r.Loss, 0) {
			t.Errorf("the saved weights (best %v): loss %v, %v", best, r.Loss, err)
		}
		m.Close()
	}
	if got := checkpointEpoch(t, filepath.Join(dir, "checkpoint.safetensors")); got != epoch {
		t.Errorf("the checkpoint holds epoch %d, want %d", got, epoch)
	}
}

// checkpointEpoch returns the epoch in the metadata of the checkpoint at
// path.
func checkpointEpoch(t *testing.T, path string) int {
	t.Helper()
	b := mustRead(t, path)
	if len(b) < 8 {
		t.Fatalf("%s: %d bytes", path, len(b))
	}
	n := binary.LittleEndian.Uint64(b)
	var h struct {
		Meta map[string]string `json:"__metadata__"`
	}
	if n > uint64(len(b)-8) || json.Unmarshal(b[8:8+n], &h) != nil {
		t.Fatalf("%s: not a safetensors file", path)
	}
	e, err := strconv.Atoi(h.Meta["epoch"])
	if err != nil {
		t.Fatalf("%s: epoch %q", path, h.Meta["epoch"])
	}
	return e
}
