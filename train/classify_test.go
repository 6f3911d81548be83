package train_test

import (
	"math"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/datasets"
	"github.com/dlrun/dlrun/nn"
	"github.com/dlrun/dlrun/train"
)

// smallFashion returns the first examples of the bundled data, for fast runs.
func smallFashion(t testing.TB, n int) *datasets.Dataset {
	d, err := datasets.FashionMNIST()
	if err != nil {
		t.Fatal(err)
	}
	small := *d
	small.Train, small.Test = d.Train.Subset(n), d.Test.Subset(n/4)
	return &small
}

// reference builds a reference model and its classification task for d.
func reference(t testing.TB, name string, d *datasets.Dataset) (nn.Layer, *train.Classify) {
	ref, err := nn.ReferenceByName(name)
	if err != nil {
		t.Fatal(err)
	}
	m, err := ref.New(d.Shape, len(d.Classes))
	if err != nil {
		t.Fatal(err)
	}
	return m, &train.Classify{Shape: d.Shape, Outputs: len(d.Classes)}
}

// The padding rows of a short last batch must not count: evaluating with a
// batch size that does not divide the data gives the same figures as one
// that does.
func TestShortLastBatchIsMasked(t *testing.T) {
	d := smallFashion(t, 400)
	eval := func(batch int) *train.Evaluation {
		model, task := reference(t, "mlp", d)
		tr, err := train.New(model, task, train.Config{BatchSize: batch, Seed: 3, DType: "float64"})
		if err != nil {
			t.Fatal(err)
		}
		defer tr.Close()
		ev, err := tr.Evaluate(d.Train)
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	a, b := eval(400), eval(64) // 400 = 6·64 + 16
	if math.Abs(a.Loss-b.Loss) > 1e-9 || a.Accuracy != b.Accuracy || len(b.Predictions) != 400 {
		t.Fatalf("batch 400: loss %v acc %v; batch 64: loss %v acc %v (%d predictions)", a.Loss, a.Accuracy, b.Loss, b.Accuracy, len(b.Predictions))
	}
}

func TestDataShapeMismatchIsAnError(t *testing.T) {
	d := smallFashion(t, 100)
	model, _ := reference(t, "mlp", d)
	tr, err := train.New(model, &train.Classify{Shape: []int{1, 14, 14}, Outputs: 10}, train.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if _, err := tr.Fit(d.Train, d.Test, nil); err == nil || !strings.Contains(err.Error(), "[1 28 28]") {
		t.Fatalf("error %v", err)
	}
	if _, err := tr.Fit(train.Tokens{1, 2, 3}, d.Test, nil); err == nil || !strings.Contains(err.Error(), "labelled examples") {
		t.Fatalf("tokens for a classifier: %v", err)
	}
}

// Misuse of the public API returns errors, never panics.
func TestNilAndClosedAreErrors(t *testing.T) {
	d := smallFashion(t, 64)
	model, task := reference(t, "mlp", d)
	if _, err := train.New(nil, task, train.Config{}); err == nil {
		t.Error("train.New(nil model): no error")
	}
	if _, err := train.New(model, nil, train.Config{}); err == nil {
		t.Error("train.New(nil task): no error")
	}
	if _, err := train.New(model, task, train.Config{Epochs: -1}); err == nil || !strings.Contains(err.Error(), "epochs") {
		t.Errorf("negative epochs: %v", err)
	}
	if _, err := train.New(model, task, train.Config{Schedule: "constant", StepEvery: 2}); err == nil || !strings.Contains(err.Error(), "lr_step_every") {
		t.Errorf("lr_step_every without the step schedule: %v", err)
	}
	tr, err := train.New(model, task, train.Config{BatchSize: 32})
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Evaluate(d.Test); err != train.ErrClosed {
		t.Errorf("Evaluate after Close: %v, want ErrClosed", err)
	}
	if _, _, err := tr.TrainEpoch(d.Train); err != train.ErrClosed {
		t.Errorf("TrainEpoch after Close: %v, want ErrClosed", err)
	}
	if _, err := tr.Fit(d.Train, d.Test, nil); err != train.ErrClosed {
		t.Errorf("Fit after Close: %v, want ErrClosed", err)
	}
	var zero train.Trainer
	if _, err := zero.Evaluate(d.Test); err == nil {
		t.Error("zero Trainer: no error")
	}
}

// The learning rate of every epoch is recorded, as the schedule set it.
func TestEpochStatsRecordTheLearningRate(t *testing.T) {
	d := smallFashion(t, 128)
	model, task := reference(t, "mlp", d)
	tr, err := train.New(model, task, train.Config{Epochs: 3, BatchSize: 64, Optimizer: "sgd", LearningRate: 0.1,
		Schedule: "step", StepEvery: 1, Gamma: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	hist, err := tr.Fit(d.Train, d.Test, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []float64{0.1, 0.05, 0.025} {
		if got := hist[i].LearningRate; math.Abs(got-want) > 1e-15 {
			t.Errorf("epoch %d: learning rate %g, want %g", i+1, got, want)
		}
	}
}

// A NaN or infinite input value, or a label outside the classes, is
// refused before training with a line naming the split and the example:
// a NaN pixel used to train the weights to NaN and the accuracy to chance.
func TestCheckRefusesNonFiniteInputs(t *testing.T) {
	d := smallFashion(t, 64)
	model, task := reference(t, "mlp", d)
	tr, err := train.New(model, task, train.Config{BatchSize: 32})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	src := d.Train
	for _, c := range []struct {
		value float32
		want  string
	}{
		{float32(math.NaN()), "training data: example 5 has value NaN at position 3"},
		{float32(math.Inf(-1)), "training data: example 5 has value -Inf at position 3"},
	} {
		x := append([]float32(nil), src.X...)
		x[5*784+3] = c.value
		bad, err := datasets.NewSplit(x, src.Labels, src.Shape(), src.NumClasses())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tr.Fit(bad, d.Test, nil); err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("error %v, want one line containing %q", err, c.want)
		}
		if _, _, err := tr.TrainEpoch(bad); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("TrainEpoch: error %v, want %q", err, c.want)
		}
		if tr.Epoch() != 0 {
			t.Fatalf("trained %d epochs on bad data", tr.Epoch())
		}
	}
	if _, err := tr.Evaluate(badLabels{d.Test}); err == nil || !strings.Contains(err.Error(), "evaluation data: example 2 has label 10, outside its 10 classes") {
		t.Errorf("label out of range: %v", err)
	}
	if _, err := tr.Fit(d.Train, d.Test, nil); err != nil {
		t.Errorf("good data after bad: %v", err)
	}
}

// badLabels gives example 2 the label 10 of 10 classes.
type badLabels struct{ *datasets.Split }

func (b badLabels) Example(i int, dst []float32) int {
	if l := b.Split.Example(i, dst); i != 2 {
		return l
	}
	return 10
}
