package train_test

import (
	"math"
	"testing"

	"github.com/dlrun/dlrun/nn"
	"github.com/dlrun/dlrun/train"
)

// Predict on fewer examples than the model's batch runs a graph built for
// that many, sharing the model's weights and batch norm's statistics: the
// probabilities are those of the same examples in a full batch, and stay
// so after the model trains on.
func TestPredictSmallBatchesShareTheWeights(t *testing.T) {
	d := smallFashion(t, 128)
	model := nn.NewSequential("small",
		&nn.Conv2D{Filters: 4, KernelH: 3, KernelW: 3}, nn.NewBatchNorm(), nn.ReLU(),
		nn.NewFlatten(), nn.NewDense(10))
	tr, err := train.New(model, &train.Classify{Shape: d.Shape, Outputs: 10}, train.Config{Epochs: 1, BatchSize: 32})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Fit(d.Train, d.Test, nil); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := tr.Save(dir); err != nil {
		t.Fatal(err)
	}
	tr.Close()
	m, err := train.Load(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	check := func(when string) {
		t.Helper()
		full, err := m.Predict(d.Test.X[:64*784]) // two batches of the model's 32
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{1, 3, 31} {
			part, err := m.Predict(d.Test.X[5*784 : (5+n)*784])
			if err != nil {
				t.Fatal(err)
			}
			for i := range part {
				for j, p := range part[i] {
					if q := full[5+i][j]; math.Abs(p-q) > 1e-6 {
						t.Fatalf("%s: %d examples: example %d class %d: %v, in a full batch %v", when, n, i, j, p, q)
					}
				}
			}
		}
	}
	check("loaded")
	// Train the loaded model on: the small graphs see its new weights.
	if _, _, err := m.Trainer().TrainEpoch(d.Train); err != nil {
		t.Fatal(err)
	}
	check("after another epoch")
}
