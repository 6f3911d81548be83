package train_test

import (
	"math"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/nn"
	"github.com/dlrun/dlrun/train"
)

// A model built in Go from dlrun's layers, not a reference model, is saved
// with its architecture and loads back without the code that built it:
// the same figures, batch norm's running statistics included.
func TestCustomSequentialSavesAndLoads(t *testing.T) {
	d := smallFashion(t, 256)
	model := nn.NewSequential("custom",
		&nn.Conv2D{Filters: 4, KernelH: 5, KernelW: 5, StrideH: 2, StrideW: 2, Padding: "same"}, nn.NewBatchNorm(), nn.ReLU(),
		nn.NewFlatten(), nn.NewDense(32), nn.NewLayerNorm(), nn.Tanh(), nn.NewDropout(0.1), nn.NewDense(10))
	tr, err := train.New(model, &train.Classify{Shape: d.Shape, Outputs: 10}, train.Config{Epochs: 2, BatchSize: 50})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if _, err := tr.Fit(d.Train, d.Test, nil); err != nil {
		t.Fatal(err)
	}
	want, err := tr.Evaluate(d.Test)
	if err != nil {
		t.Fatal(err)
	}
	if rm := tr.Graph().BufferByName("batchnorm1.running_mean").Values(); rm[0] == 0 {
		t.Fatal("batch norm's running mean never moved")
	}
	dir := t.TempDir()
	if err := tr.Save(dir); err != nil {
		t.Fatal(err)
	}
	m, err := train.Load(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	got, err := m.Evaluate(d.Test)
	if err != nil {
		t.Fatal(err)
	}
	if got.Loss != want.Loss || got.Accuracy != want.Accuracy {
		t.Fatalf("loaded model: loss %v acc %v; trained: loss %v acc %v", got.Loss, got.Accuracy, want.Loss, want.Accuracy)
	}
	probs, err := m.Predict(d.Test.X[:2*784])
	if err != nil || len(probs) != 2 {
		t.Fatalf("predict: %v, %v", probs, err)
	}
	sum := 0.0
	for _, p := range probs[0] {
		sum += p
	}
	if math.Abs(sum-1) > 1e-6 {
		t.Errorf("probabilities sum to %v", sum)
	}
	if _, err := m.Predict(make([]float32, 100)); err == nil || !strings.Contains(err.Error(), "whole number of examples") {
		t.Errorf("predict on 100 values: %v", err)
	}
}

// A layer nn cannot describe (a user's own type) trains, but saving its
// architecture is an error that names it.
func TestUndescribableModelIsAnErrorOnSave(t *testing.T) {
	d := smallFashion(t, 64)
	model := nn.NewSequential("m", nn.NewFlatten(), &scale{Dense: nn.NewDense(10)})
	tr, err := train.New(model, &train.Classify{Shape: d.Shape, Outputs: 10}, train.Config{BatchSize: 32})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if err := tr.Save(t.TempDir()); err == nil || !strings.Contains(err.Error(), "scale") {
		t.Errorf("saving a model with a user's layer: %v", err)
	}
}

// scale is a layer of the user's own: a Dense under another kind.
type scale struct{ *nn.Dense }

func (s *scale) Kind() string { return "Scale" }
