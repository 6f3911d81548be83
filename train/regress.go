package train

import (
	"math"
	"math/rand/v2"
	"slices"

	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/nn"
	"github.com/pkg/errors"
)

func init() {
	registerTask("regress", func(info *ModelInfo) (Task, error) {
		if info.Outputs != 1 {
			return nil, errors.Errorf("outputs %d: a regression model has one output", info.Outputs)
		}
		if !(info.TargetStd >= 0) || math.IsInf(info.TargetStd, 0) {
			return nil, errors.Errorf("target_std %v: must be a finite number, not negative", info.TargetStd)
		}
		if err := CheckInputShape(info.InputShape); err != nil {
			return nil, err
		}
		return &Regress{Shape: slices.Clone(info.InputShape), TargetStd: info.TargetStd}, nil
	})
}

// Targets are examples with a real-valued target each, what Regress
// trains on: a table's rows (datasets.TableSplit).
type Targets interface {
	Data
	// Shape returns the per-example input shape.
	Shape() []int
	// Target copies example i into dst (prod(Shape) values) and returns
	// its target.
	Target(i int, dst []float32) float32
}

// Regress is the task of predicting a number from an example: the model
// maps [batch, shape...] to [batch, 1], the loss is the mean squared error
// (mse), and a pass is scored by RMSE and MAE. The targets are given
// standardised (a table's target, (y − mean) / std: its preprocessing),
// which keeps the loss of order 1 whatever the target's scale; TargetStd
// scales the errors back, so that RMSE and MAE are in the target's own
// units, as scikit-learn's mean_squared_error on the original values
// gives them. Training passes visit the examples in a shuffled order; the
// last batch of a pass is padded with weight-0 rows.
type Regress struct {
	// Shape is the per-example input shape.
	Shape []int
	// TargetStd is what the targets were divided by (0: 1, the targets
	// as they are).
	TargetStd float64

	g *graph.Graph
	shuffledPass
	xT, yT, wT graph.Data
	data       Targets
	idx        []int
	targets    []float64
	example    []float32
	row        []float64
}

var _ Task = (*Regress)(nil)

// Name implements Task.
func (r *Regress) Name() string { return "regress" }

// InputShape implements Task.
func (r *Regress) InputShape() []int { return slices.Clone(r.Shape) }

// OutputSize implements Task: one number.
func (r *Regress) OutputSize() int { return 1 }

// Metrics implements Task: RMSE and MAE, in the target's units.
func (r *Regress) Metrics() []Metric { return []Metric{RMSE, MAE} }

// scale returns what the errors are multiplied by.
func (r *Regress) scale() float64 {
	if r.TargetStd == 0 {
		return 1
	}
	return r.TargetStd
}

// checkBuild implements buildChecker: what Build checks before it builds.
func (r *Regress) checkBuild(model nn.Layer, _ int, loss Loss) error {
	if loss.Kind != graph.SquaredError {
		return errors.Errorf("regression trains with mse, not %s", loss.Name)
	}
	if !(r.TargetStd >= 0) || math.IsInf(r.TargetStd, 0) {
		return errors.Errorf("regression: target_std %v must be a finite number, not negative", r.TargetStd)
	}
	if err := CheckInputShape(r.Shape); err != nil {
		return err
	}
	shape, err := model.OutputShape(r.Shape)
	if err != nil {
		return err
	}
	if len(shape) != 1 || shape[0] != 1 {
		return errors.Errorf("model %s maps an example of shape %v to %v, want [1] (one number)", model.Name(), r.Shape, shape)
	}
	return nil
}

// Build implements Task. The loss must be mse.
func (r *Regress) Build(g *graph.Graph, model nn.Layer, batch int, loss Loss) (out, lossNode *graph.Node, err error) {
	if err := r.checkBuild(model, batch, loss); err != nil {
		return nil, nil, err
	}
	r.g, r.batch = g, batch
	x, err := g.Input("x", append([]int{batch}, r.Shape...)...)
	if err != nil {
		return nil, nil, err
	}
	y, err := g.Input("y", batch, 1)
	if err != nil {
		return nil, nil, err
	}
	w, err := g.Input("weights", batch)
	if err != nil {
		return nil, nil, err
	}
	if out, err = model.Build(g, x); err != nil {
		return nil, nil, err
	}
	if lossNode, err = graph.Loss(graph.SquaredError, out, y, w); err != nil {
		return nil, nil, err
	}
	if r.xT, r.yT, r.wT, err = inputData(g, x, y, w); err != nil {
		return nil, nil, err
	}
	r.targets = make([]float64, 0, batch)
	r.example = make([]float32, size(r.Shape))
	r.row = make([]float64, 1)
	return out, lossNode, nil
}

// Check implements Task: d must be Targets of the task's shape whose
// values and targets are finite. It reads every example once.
func (r *Regress) Check(d Data, role string) error {
	if d == nil || d.Len() == 0 {
		return errors.Errorf("%s data is empty", role)
	}
	ts, ok := d.(Targets)
	if !ok {
		return errors.Errorf("%s data (%T) are not examples with targets, which regression needs", role, d)
	}
	if s := ts.Shape(); !slices.Equal(s, r.Shape) {
		return errors.Errorf("%s data has examples of shape %v, the model takes %v", role, s, r.Shape)
	}
	x := make([]float32, size(r.Shape))
	for i := 0; i < ts.Len(); i++ {
		y := ts.Target(i, x)
		if y-y != 0 {
			return errors.Errorf("%s data: example %d has target %v: targets must be finite", role, i, y)
		}
		if j := nonFinite(x); j >= 0 {
			return errors.Errorf("%s data: example %d has value %v at position %d: inputs must be finite", role, i, x[j], j)
		}
	}
	return nil
}

// Pass implements Task.
func (r *Regress) Pass(d Data, rng *rand.Rand) (int, error) {
	ts, ok := d.(Targets)
	if !ok || r.batch == 0 {
		return 0, errors.New("regress: Pass needs Targets, after Build")
	}
	r.data = ts
	return r.start(d.Len(), rng), nil
}

// Fill implements Task.
func (r *Regress) Fill(i int) (int, error) {
	idx, err := r.indices(i, "regress")
	if err != nil {
		return 0, err
	}
	r.idx = idx
	r.targets = r.targets[:0]
	if r.xT.Float32s() != nil {
		fillTargets(r, r.xT.Float32s(), r.yT.Float32s(), r.wT.Float32s())
	} else {
		fillTargets(r, r.xT.Float64s(), r.yT.Float64s(), r.wT.Float64s())
	}
	r.g.SetActiveRows(len(r.idx))
	return len(r.idx), nil
}

func fillTargets[T float32 | float64](r *Regress, xs, ys, ws []T) {
	n := len(r.example)
	for row := 0; row < r.batch; row++ {
		x := xs[row*n : (row+1)*n]
		if row >= len(r.idx) {
			clear(x)
			ys[row], ws[row] = 0, 0
			continue
		}
		y := r.data.Target(r.idx[row], r.example)
		for j, v := range r.example {
			x[j] = T(v)
		}
		ys[row], ws[row] = T(y), 1
		r.targets = append(r.targets, float64(y))
	}
}

// Score implements Task: the squared and the absolute errors of the
// batch's predictions, in the target's units.
func (r *Regress) Score(p *graph.Program, _ *Evaluation) ([]float64, error) {
	return errorSums(p, r.targets, r.row, r.scale())
}
