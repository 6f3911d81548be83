package runner_test

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/datasets"
	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/runner"
	"github.com/dlrun/dlrun/train"
)

// tinyLM returns a text whose held-out tail differs from the rest (so the
// held-out loss falls, then rises as the model learns the training text
// by heart) and a small language model file for it.
func tinyLM(t *testing.T) (*datasets.Text, string) {
	text := strings.Repeat("the cat sat on the mat. ", 54) + strings.Repeat("a mat sat on the cat. ", 6)
	txt, err := datasets.NewText("tiny", text, 0.1)
	if err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(t.TempDir(), "tiny-lm.yaml")
	spec := fmt.Sprintf("name: tiny-lm\nlayers:\n  - embedding: {vocab: %d, dim: 8}\n  - lstm: {hidden: 32, return_sequences: true, stateful: true}\n  - dense: {units: %d}\n", len(txt.Vocab), len(txt.Vocab))
	if err := os.WriteFile(model, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	return txt, model
}

// A language model's best.safetensors holds the weights of the epoch with
// the lowest held-out loss (here the third of five), which are those a
// run of three epochs ends with; summary.json names that epoch.
func TestLanguageModelBestIsTheLowestHeldOutLoss(t *testing.T) {
	txt, model := tinyLM(t)
	cfg := run.Config{Model: model, Task: "next-token", Dataset: txt.Name, SeqLen: 20,
		Config: train.Config{Epochs: 5, BatchSize: 4, LearningRate: 0.005}}
	dir := filepath.Join(t.TempDir(), "run")
	s, err := runner.Train(cfg, runner.Options{Data: run.FromText(txt), Out: dir})
	if err != nil {
		t.Fatal(err)
	}
	best, bestLoss := 0, math.Inf(1)
	rows := strings.Split(strings.TrimSpace(metricsWithoutSeconds(t, dir)), "\n")
	col := slices.Index(strings.Split(rows[0], ","), "test_loss")
	for i, r := range rows[1:] {
		loss, _ := strconv.ParseFloat(strings.Split(r, ",")[col], 64)
		if loss < bestLoss {
			best, bestLoss = i+1, loss
		}
	}
	if best <= 1 || best >= cfg.Epochs || s.BestEpoch != best {
		t.Fatalf("the held-out loss is lowest at epoch %d of %d, summary.json says %d; want a best epoch between the first and the last", best, cfg.Epochs, s.BestEpoch)
	}
	cfg.Epochs = best
	short := filepath.Join(t.TempDir(), "short")
	if _, err := runner.Train(cfg, runner.Options{Data: run.FromText(txt), Out: short}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(mustRead(t, filepath.Join(dir, "best.safetensors")), mustRead(t, filepath.Join(short, "model.safetensors"))) {
		t.Errorf("best.safetensors does not hold the weights of epoch %d", best)
	}
}
