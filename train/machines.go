package train

import (
	"github.com/dlrun/dlrun/graph"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// machines are the two tape machines over a model's graph, the values
// they copy out, and the optimizer's view of the parameters. Trainer and
// LM embed them.
type machines struct {
	g       *graph.Graph
	params  []*graph.Param
	trainVM gorgonia.VM // loss, outputs and gradients
	evalVM  gorgonia.VM // loss and outputs only
	lossV   gorgonia.Value
	outV    gorgonia.Value
	gradV   []gorgonia.Value
	vars    []Var
}

// compile differentiates loss with respect to every parameter of m.g and
// compiles the training machine over the subgraph that computes loss,
// out and the gradients (so that no unneeded gradient, such as the
// input's, is computed) and the evaluation machine over the forward
// subgraph. Values are read out with gorgonia.Read, because the tape may
// reuse a node's memory for a later op.
func (m *machines) compile(loss, out *gorgonia.Node) (err error) {
	m.params = m.g.Params()
	if len(m.params) == 0 {
		return errors.New("the model has no parameters to train")
	}
	grads, err := gorgonia.Grad(loss, m.g.Nodes()...)
	if err != nil {
		return errors.Wrap(err, "differentiating the loss")
	}
	readLoss := gorgonia.Read(loss, &m.lossV)
	readOut := gorgonia.Read(out, &m.outV)
	m.gradV = make([]gorgonia.Value, len(grads))
	roots := gorgonia.Nodes{readLoss, readOut}
	for i, gn := range grads {
		roots = append(roots, gorgonia.Read(gn, &m.gradV[i]))
	}
	defer func() {
		if r := recover(); r != nil { // NewTapeMachine panics on compile errors
			err = errors.Errorf("compiling the model: %v", r)
		}
	}()
	m.trainVM = gorgonia.NewTapeMachine(m.g.Expr().SubgraphRoots(roots...))
	m.evalVM = gorgonia.NewTapeMachine(m.g.Expr().SubgraphRoots(readLoss, readOut))
	m.vars = make([]Var, len(m.params))
	for i, p := range m.params {
		m.vars[i] = Var{Name: p.Name, Value: make([]float64, p.Size()), Grad: make([]float64, p.Size())}
	}
	return nil
}

// bind allocates a tensor of the graph's dtype for each input node and
// binds it; the tensors are refilled in place before each run.
func (m *machines) bind(inputs ...*gorgonia.Node) ([]*tensor.Dense, error) {
	out := make([]*tensor.Dense, len(inputs))
	for i, n := range inputs {
		out[i] = tensor.New(tensor.Of(m.g.DType().Tensor()), tensor.WithShape(n.Shape()...))
		if err := gorgonia.Let(n, out[i]); err != nil {
			return nil, errors.Wrapf(err, "binding %s", n.Name())
		}
	}
	return out, nil
}

// run feeds the model's own inputs (dropout masks, recurrent state),
// executes one pass of vm and returns the loss.
func (m *machines) run(vm gorgonia.VM, training bool) (float64, error) {
	m.g.SetTraining(training)
	if err := m.g.Feed(); err != nil {
		return 0, err
	}
	vm.Reset()
	if err := vm.RunAll(); err != nil {
		return 0, err
	}
	switch v := m.lossV.(type) {
	case *gorgonia.F32:
		return float64(*v), nil
	case *gorgonia.F64:
		return float64(*v), nil
	}
	return 0, errors.Errorf("loss value has type %T", m.lossV)
}

// step applies one update of opt with the gradients just read.
func (m *machines) step(opt Optimizer) error { return stepParams(m.params, m.vars, m.gradV, opt) }

// Graph returns the model's graph (parameters, RNG).
func (m *machines) Graph() *graph.Graph { return m.g }

// NumParams returns the number of trainable scalars.
func (m *machines) NumParams() int { return m.g.NumParams() }

// Close releases the machines.
func (m *machines) Close() {
	if m.trainVM != nil {
		m.trainVM.Close()
		m.evalVM.Close()
	}
}
