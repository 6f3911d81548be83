package run_test

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/datasets"
	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/runner"
)

// fixture is the path of a file of testdata/cli.
func fixture(name string) string { return filepath.Join("..", "testdata", "cli", name) }

// PredictImages classifies every readable image and gives each file that
// cannot be read its own one-line error naming it; a model that is not an
// image classifier is refused as a whole.
func TestPredictImagesPerFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "mlp")
	d := smallFashion(t, 40)
	cfg := run.Config{Model: "mlp", Dataset: d.Name}
	cfg.Epochs = 1
	if _, err := runner.Train(cfg, runner.Options{Data: run.FromDataset(d), Out: dir}); err != nil {
		t.Fatal(err)
	}
	m, err := run.Open(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	files := []string{fixture("gray-28x28.png"), fixture("not-an-image.png"), fixture("rgb-40x30.png"), fixture("truncated.png"), fixture("absent.png")}
	preds, err := m.PredictImages(files, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(preds) != len(files) {
		t.Fatalf("%d predictions for %d files", len(preds), len(files))
	}
	for i, p := range preds {
		ok := i == 0 || i == 2
		if p.File != files[i] {
			t.Errorf("prediction %d is of %s, want %s", i, p.File, files[i])
		}
		if ok != (p.Err == nil) {
			t.Errorf("%s: error %v", files[i], p.Err)
		}
		if p.Err != nil {
			if msg := p.Err.Error(); !strings.Contains(msg, files[i]) || strings.Contains(msg, "\n") || p.Probabilities != nil {
				t.Errorf("%s: error %q, want one line naming the file and no probabilities", files[i], msg)
			}
			continue
		}
		sum := 0.0
		for _, v := range p.Probabilities {
			sum += v
		}
		if len(p.Probabilities) != 10 || math.Abs(sum-1) > 1e-6 {
			t.Errorf("%s: probabilities %v", files[i], p.Probabilities)
		}
		top := p.Top(3, m.Classes())
		if len(top) != 3 || top[0].Probability < top[1].Probability || top[1].Probability < top[2].Probability ||
			top[0].Class != m.Classes()[top[0].Index] || top[0].Probability != p.Probabilities[top[0].Index] {
			t.Errorf("%s: top 3 %+v", files[i], top)
		}
		if n := len(p.Top(50, nil)); n != 10 {
			t.Errorf("top 50 of 10 classes gave %d", n)
		}
	}
	// The same image alone gives the same probabilities: a bad file
	// beside it does not shift the batch.
	alone, err := m.PredictImages(files[2:3], false)
	if err != nil || alone[0].Err != nil {
		t.Fatal(err, alone[0].Err)
	}
	for j, v := range alone[0].Probabilities {
		if math.Abs(v-preds[2].Probabilities[j]) > 1e-6 {
			t.Fatalf("rgb-40x30.png alone: %v; beside others: %v", alone[0].Probabilities, preds[2].Probabilities)
		}
	}

	xor := filepath.Join(t.TempDir(), "xor")
	xc := run.Config{Model: "xor"}
	xc.Epochs = 1
	if _, err := runner.Train(xc, runner.Options{Out: xor}); err != nil {
		t.Fatal(err)
	}
	xm, err := run.Open(xor, false)
	if err != nil {
		t.Fatal(err)
	}
	defer xm.Close()
	if _, err := xm.PredictImages(files[:1], false); err == nil || !strings.Contains(err.Error(), "image classifier") {
		t.Errorf("PredictImages with the xor model: %v", err)
	}
}

// smallFashion returns the bundled Fashion-MNIST subset cut to n training
// and n/4 test images.
func smallFashion(t *testing.T, n int) *datasets.Dataset {
	d, err := datasets.FashionMNIST()
	if err != nil {
		t.Fatal(err)
	}
	small := *d
	small.Train, small.Test = d.Train.Subset(n), d.Test.Subset(n/4)
	return &small
}
