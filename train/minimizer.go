package train

import (
	"math"

	"github.com/dlrun/dlrun/graph"
	"github.com/pkg/errors"
)

// Minimizer minimises a scalar loss built with the graph package by
// gradient descent with one of train's optimizers: each Step runs the
// graph forward and backward and updates every parameter. It is the core
// of the Trainer, and enough on its own to fit a hand-built graph without
// importing Gorgonia (see the example).
type Minimizer struct {
	prog *graph.Program
	opt  Optimizer
	vars []Var // float64 copies of the parameters and gradients, for Step
	// reduce, if set, runs between the backward pass and the update: it
	// may change the gradients in place (data-parallel training sums the
	// processes'). It also makes every update dense: a gradient's rows
	// are no longer this pass's alone.
	reduce func() error
}

// NewMinimizer compiles g for minimising loss with opt (nil: Adam at its
// default rate). outputs are further nodes whose values each pass keeps,
// readable through Program().OutputRow.
func NewMinimizer(g *graph.Graph, loss *graph.Node, opt Optimizer, outputs ...*graph.Node) (*Minimizer, error) {
	if isNil(opt) {
		opt = &Adam{}
	}
	p, err := g.Compile(loss, outputs...)
	if err != nil {
		return nil, err
	}
	return &Minimizer{prog: p, opt: opt}, nil
}

// Step runs one training pass and, unless the loss is NaN or infinite (an
// error), applies one update of the optimizer. It returns the loss before
// the update.
func (m *Minimizer) Step() (float64, error) {
	if m == nil || m.prog == nil {
		return 0, graph.ErrClosed
	}
	l, err := m.prog.Run(true)
	if err != nil {
		return 0, err
	}
	if math.IsNaN(l) || math.IsInf(l, 0) {
		return l, errors.Errorf("the loss became %v", l)
	}
	if m.reduce != nil {
		if err := m.reduce(); err != nil {
			return l, err
		}
	}
	params := m.prog.Params()
	if o, ok := m.opt.(inPlaceStepper); ok && o.fusable() {
		return l, m.stepInPlace(o, params)
	}
	if m.vars == nil {
		// float64 copies for Step, made at the first update that needs
		// them: an update in place never does.
		for _, prm := range params {
			m.vars = append(m.vars, Var{Name: prm.Name, Value: make([]float64, prm.Size()), Grad: make([]float64, prm.Size())})
		}
	}
	for i, p := range params {
		if err := p.ReadInto(m.vars[i].Value); err != nil {
			return l, err
		}
		if err := m.prog.Gradient(i, m.vars[i].Grad); err != nil {
			return l, err
		}
	}
	if err := m.opt.Step(m.vars); err != nil {
		return l, err
	}
	for i, p := range params {
		if err := p.SetValues(m.vars[i].Value); err != nil {
			return l, err
		}
	}
	return l, nil
}

// stepInPlace updates params where the graph holds them (inplace.go):
// no float64 copies, and for an optimizer that allows it, only the rows
// of an embedding table that the batch touched.
func (m *Minimizer) stepInPlace(o inPlaceStepper, params []*graph.Param) error {
	ps := make([]stepParam, len(params))
	for i, p := range params {
		g, err := m.prog.GradientData(i)
		if err != nil {
			return err
		}
		ps[i] = stepParam{name: p.Name, w: p.Data(), g: g}
		if o.sparse() && m.reduce == nil {
			rows, ok, err := m.prog.GradientRows(i)
			if err != nil {
				return err
			}
			if ok {
				ps[i].rows, ps[i].width = rows, p.Shape()[1]
			}
		}
	}
	return o.stepData(ps)
}

// Loss runs an evaluation pass (no gradients, layers in evaluation mode)
// and returns the loss.
func (m *Minimizer) Loss() (float64, error) {
	if m == nil || m.prog == nil {
		return 0, graph.ErrClosed
	}
	return m.prog.Run(false)
}

// Program returns the compiled graph, for reading outputs.
func (m *Minimizer) Program() *graph.Program { return m.prog }

// Optimizer returns the optimizer.
func (m *Minimizer) Optimizer() Optimizer { return m.opt }

// Close releases the compiled machines; later calls return errors.
func (m *Minimizer) Close() error {
	if m == nil || m.prog == nil {
		return nil
	}
	return m.prog.Close()
}
