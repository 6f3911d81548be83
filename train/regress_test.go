package train_test

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/nn"
	"github.com/dlrun/dlrun/train"
)

// rows are examples of 3 inputs with a real-valued target, for tests.
type rows struct {
	x []float32
	y []float32
}

func (r rows) Len() int     { return len(r.y) }
func (r rows) Shape() []int { return []int{3} }
func (r rows) Target(i int, dst []float32) float32 {
	copy(dst, r.x[i*3:i*3+3])
	return r.y[i]
}

// linearRows returns n rows whose target is a linear function of the
// inputs plus a little noise, standardised by std as a table's are.
func linearRows(n int, seed uint64, std float64) rows {
	rng := rand.New(rand.NewPCG(seed, 7))
	r := rows{x: make([]float32, 3*n), y: make([]float32, n)}
	for i := 0; i < n; i++ {
		a, b, c := rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()
		r.x[3*i], r.x[3*i+1], r.x[3*i+2] = float32(a), float32(b), float32(c)
		r.y[i] = float32((2*a - b + 0.5*c + 0.05*rng.NormFloat64()) / std)
	}
	return r
}

// The regression task trains a model to far below the error of the mean,
// reports RMSE and MAE in the target's units (TargetStd), and is saved
// and loaded back with the same figures and predictions.
func TestRegressTrainsSavesAndLoads(t *testing.T) {
	const std = 4
	tr, te := linearRows(400, 1, std), linearRows(100, 2, std)
	model := nn.NewSequential("mlp", nn.NewDense(16), nn.Tanh(), nn.NewDense(1))
	task := &train.Regress{Shape: []int{3}, TargetStd: std}
	trainer, err := train.New(model, task, train.Config{Epochs: 30, BatchSize: 32, Loss: "mse", LearningRate: 0.01, Optimizer: "adam"})
	if err != nil {
		t.Fatal(err)
	}
	defer trainer.Close()
	first, err := trainer.Evaluate(te)
	if err != nil {
		t.Fatal(err)
	}
	hist, err := trainer.Fit(tr, te, nil)
	if err != nil {
		t.Fatal(err)
	}
	last := hist[len(hist)-1]
	rmse, mae := last.Metrics["test_rmse"], last.Metrics["test_mae"]
	t.Logf("test RMSE %.4f -> %.4f, MAE %.4f", first.Metrics["rmse"], rmse, mae)
	if !(rmse < 0.25*first.Metrics["rmse"]) || !(mae <= rmse) {
		t.Errorf("RMSE %v (from %v), MAE %v", rmse, first.Metrics["rmse"], mae)
	}
	// RMSE is in the target's units: the loss (in standardised units)
	// times TargetStd².
	if got := last.TestLoss * std * std; math.Abs(rmse*rmse-got) > 1e-3*got {
		t.Errorf("RMSE² %v, test loss × std² %v", rmse*rmse, got)
	}

	dir := t.TempDir()
	if err := trainer.Save(dir); err != nil {
		t.Fatal(err)
	}
	want, err := trainer.Evaluate(te)
	if err != nil {
		t.Fatal(err)
	}
	m, err := train.Load(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.Info.Task != "regress" || m.Info.TargetStd != std || m.Info.Outputs != 1 {
		t.Errorf("model.json: task %q, target_std %v, outputs %d", m.Info.Task, m.Info.TargetStd, m.Info.Outputs)
	}
	got, err := m.Evaluate(te)
	if err != nil {
		t.Fatal(err)
	}
	if got.Loss != want.Loss || got.Metrics["rmse"] != want.Metrics["rmse"] {
		t.Errorf("loaded: loss %v rmse %v; trained: loss %v rmse %v", got.Loss, got.Metrics["rmse"], want.Loss, want.Metrics["rmse"])
	}
	// Predict gives one standardised value per row, close to the target.
	p, err := m.Predict(te.x[:6])
	if err != nil || len(p) != 2 || len(p[0]) != 1 {
		t.Fatalf("predict: %v, %v", p, err)
	}
	for i := range p {
		if d := math.Abs(p[i][0] - float64(te.y[i])); d > 0.2 {
			t.Errorf("row %d: predicted %v, target %v", i, p[i][0], te.y[i])
		}
	}
	if _, err := m.Predict(make([]float32, 4)); err == nil || !strings.Contains(err.Error(), "whole number of examples") {
		t.Errorf("predict on 4 values: %v", err)
	}
}

// Regression refuses another loss, a model of more than one output, data
// without targets, and non-finite targets, each in one line.
func TestRegressRefusesBadSetups(t *testing.T) {
	task := func() *train.Regress { return &train.Regress{Shape: []int{3}} }
	if _, err := train.New(nn.NewSequential("m", nn.NewDense(1)), task(), train.Config{Loss: "cce"}); err == nil || !strings.Contains(err.Error(), "mse") {
		t.Errorf("cce: %v", err)
	}
	if _, err := train.New(nn.NewSequential("m", nn.NewDense(2)), task(), train.Config{Loss: "mse"}); err == nil || !strings.Contains(err.Error(), "want [1]") {
		t.Errorf("two outputs: %v", err)
	}
	if _, err := train.New(nn.NewSequential("m", nn.NewDense(1)), &train.Regress{Shape: []int{3}, TargetStd: math.NaN()}, train.Config{Loss: "mse"}); err == nil || !strings.Contains(err.Error(), "target_std") {
		t.Errorf("NaN target_std: %v", err)
	}
	tr, err := train.New(nn.NewSequential("m", nn.NewDense(1)), task(), train.Config{BatchSize: 4, Loss: "mse"})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	good := linearRows(8, 3, 1)
	if _, err := tr.Evaluate(train.Tokens{1, 2}); err == nil || !strings.Contains(err.Error(), "not examples with targets") {
		t.Errorf("tokens: %v", err)
	}
	bad := linearRows(8, 3, 1)
	bad.y[5] = float32(math.Inf(1))
	if _, err := tr.Fit(good, bad, nil); err == nil || !strings.Contains(err.Error(), "test data: example 5 has target +Inf") || strings.Contains(err.Error(), "\n") {
		t.Errorf("infinite target: %v", err)
	}
	if _, err := tr.Fit(good, good, nil); err != nil {
		t.Error(err)
	}
}
