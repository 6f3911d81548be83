package rl

import (
	"fmt"

	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/nn"
	"github.com/dlrun/dlrun/train"
	"github.com/pkg/errors"
)

// mlpSpec is the spec of a perceptron from in values to out values
// through hidden layers of the given sizes and activation (relu or tanh).
func mlpSpec(name string, hidden []int, activation string, out int) nn.Spec {
	return netSpec(name, nil, 0, "", hidden, activation, out)
}

// netSpec is mlpSpec after kernel×kernel convolutions of the given filters
// (padding same or valid, ReLU), for observations that are planes
// (Connect4's [2 6 7]).
func netSpec(name string, conv []int, kernel int, padding string, hidden []int, activation string, out int) nn.Spec {
	s := nn.Spec{Name: name}
	for _, f := range conv {
		s.Layers = append(s.Layers,
			nn.LayerSpec{Kind: "conv2d", Settings: map[string]any{"filters": f, "kernel": kernel, "padding": padding}},
			nn.LayerSpec{Kind: "relu", Settings: map[string]any{}})
	}
	s.Layers = append(s.Layers, nn.LayerSpec{Kind: "flatten", Settings: map[string]any{}})
	for _, h := range hidden {
		s.Layers = append(s.Layers,
			nn.LayerSpec{Kind: "dense", Settings: map[string]any{"units": h}},
			nn.LayerSpec{Kind: activation, Settings: map[string]any{}})
	}
	s.Layers = append(s.Layers, nn.LayerSpec{Kind: "dense", Settings: map[string]any{"units": out}})
	return s
}

// forward is a model built on a graph of its own for batches of rows
// examples, run forward only: acting, or evaluating targets.
type forward struct {
	g    *graph.Graph
	x    *graph.Node
	prog *graph.Program
	out  []float64 // the last run's outputs, rows × outputs
}

// newForward builds spec on a new graph for batches of rows examples of
// shape in.
func newForward(spec nn.Spec, in []int, rows int, seed uint64) (*forward, error) {
	m, err := spec.Build()
	if err != nil {
		return nil, err
	}
	g := graph.New(graph.WithSeed(seed))
	x, err := g.Input("x", append([]int{rows}, in...)...)
	if err != nil {
		return nil, err
	}
	y, err := m.Build(g, x)
	if err != nil {
		return nil, err
	}
	prog, err := g.CompileForward(y)
	if err != nil {
		return nil, err
	}
	return &forward{g: g, x: x, prog: prog}, nil
}

// run runs the model on x (rows examples, one after another) and returns
// its outputs, valid until the next run.
func (f *forward) run(x []float64) ([]float64, error) {
	if err := f.g.SetInput(f.x, x); err != nil {
		return nil, err
	}
	if _, err := f.prog.Run(false); err != nil {
		return nil, err
	}
	out, err := f.prog.Output(0)
	f.out = out
	return out, err
}

func (f *forward) close() {
	if f != nil && f.prog != nil {
		f.prog.Close()
	}
}

// copyValues sets the parameters of dst to those of src (the same spec).
func copyValues(dst, src *graph.Graph) error {
	sp, dp := src.Params(), dst.Params()
	if len(sp) != len(dp) {
		return errors.Errorf("copying %d parameters into %d", len(sp), len(dp))
	}
	for i, p := range sp {
		if err := dp[i].SetValues(p.Values()); err != nil {
			return err
		}
	}
	return nil
}

// learner is a model built for training on batches of rows examples: its
// output z, a loss of z against the targets t (and row weights w) of a
// kind, and the optimizer that steps it.
type learner struct {
	g       *graph.Graph
	x, t, w *graph.Node
	min     *train.Minimizer
	opt     train.Optimizer
}

// newLearner builds spec for batches of rows examples of shape in, with a
// loss of kind over its outputs (outputs wide) or, with pick set, over the
// output chosen in each row by a one-hot input (DQN's Q(s, a)): then the
// targets are [rows, 1].
func newLearner(spec nn.Spec, in []int, rows, outputs int, kind graph.LossKind, pick bool, opt train.Optimizer, seed uint64) (*learner, *graph.Node, error) {
	m, err := spec.Build()
	if err != nil {
		return nil, nil, err
	}
	g := graph.New(graph.WithSeed(seed))
	x, err := g.Input("x", append([]int{rows}, in...)...)
	if err != nil {
		return nil, nil, err
	}
	z, err := m.Build(g, x)
	if err != nil {
		return nil, nil, err
	}
	l := &learner{g: g, x: x, opt: opt}
	pred, width := z, outputs
	var onehot *graph.Node
	if pick {
		if onehot, err = g.Input("action", rows, outputs); err != nil {
			return nil, nil, err
		}
		if pred, err = graph.RowDot(z, onehot); err != nil {
			return nil, nil, err
		}
		width = 1
	}
	if l.t, err = g.Input("t", rows, width); err != nil {
		return nil, nil, err
	}
	if l.w, err = g.Input("w", rows); err != nil {
		return nil, nil, err
	}
	loss, err := graph.Loss(kind, pred, l.t, l.w)
	if err != nil {
		return nil, nil, err
	}
	if l.min, err = train.NewMinimizer(g, loss, opt, z); err != nil {
		return nil, nil, err
	}
	return l, onehot, nil
}

// step sets the inputs and runs one training step; it returns the loss.
func (l *learner) step(x, t, w []float64) (float64, error) {
	for _, in := range []struct {
		n *graph.Node
		v []float64
	}{{l.x, x}, {l.t, t}, {l.w, w}} {
		if err := l.g.SetInput(in.n, in.v); err != nil {
			return 0, fmt.Errorf("%s: %w", in.n.Name(), err)
		}
	}
	return l.min.Step()
}

func (l *learner) close() {
	if l != nil && l.min != nil {
		l.min.Close()
	}
}
