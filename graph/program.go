package graph

import (
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// ErrClosed is returned by a Program used after Close, or a nil one.
var ErrClosed = errors.New("graph: the program is closed")

// errNotCompiled is returned by a zero Program.
var errNotCompiled = errors.New("graph: the program was not compiled (use Graph.Compile)")

// Program runs a graph: a training pass computes a scalar loss, the
// outputs asked for and the gradient of the loss with respect to every
// parameter; an evaluation pass computes the loss and the outputs only.
// Each runs just the subgraph it needs (no gradient nobody reads, such as
// an input's), in Gorgonia's order (see machine); every value stays
// readable until the next pass.
//
// A Program is what the train package's Trainer and Minimizer run; it is
// also enough on its own to train a hand-built graph (see train.Minimizer).
type Program struct {
	g          *Graph
	params     []*Param
	trainVM    *machine // prepared at the first training pass
	evalVM     *machine
	trainRoots gorgonia.Nodes
	reads      map[*gorgonia.Node]*gorgonia.Value // each Read node's destination
	lossV      gorgonia.Value
	outV       []gorgonia.Value
	gradV      []gorgonia.Value
	rowOps     [][]*op // per parameter: the row-gathering ops using it, if only those (rows.go)
	rowsBuf    [][]int
	closed     bool
}

// Compile differentiates the scalar loss with respect to every parameter
// of g and compiles the evaluation pass over it; the training pass is
// compiled at its first Run, so a program used only for evaluation never
// builds the gradient tape. outputs are further nodes whose values the
// passes keep (a model's logits, say).
func (g *Graph) Compile(loss *Node, outputs ...*Node) (p *Program, err error) {
	if err := g.check("compile"); err != nil {
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil { // Grad may panic on a bad graph
			p, err = nil, errors.Errorf("graph: compiling the model: %v", r)
		}
	}()
	if loss == nil {
		return nil, errors.New("graph: compile: nil loss node")
	}
	if loss.Graph() != g.g {
		return nil, errors.Errorf("graph: compile: loss %s belongs to another graph", loss.Name())
	}
	if !loss.IsScalar() {
		return nil, &ShapeError{"compile", loss.Name(), loss.Shape(), nil, "the loss must be a scalar"}
	}
	for i, o := range outputs {
		if o == nil {
			return nil, errors.Errorf("graph: compile: output %d is nil", i)
		}
		if o.Graph() != g.g {
			return nil, errors.Errorf("graph: compile: output %s belongs to another graph", o.Name())
		}
	}
	p = &Program{g: g, params: g.Params()}
	if len(p.params) == 0 {
		return nil, errors.New("graph: compile: the graph has no parameters to train")
	}
	p.rowOps, p.rowsBuf = rowOps(g.g, loss, p.params), make([][]int, len(p.params))
	grads, err := gorgonia.Grad(loss, g.Nodes()...)
	if err != nil {
		return nil, errors.Wrap(err, "graph: compile: differentiating the loss")
	}
	p.reads = map[*gorgonia.Node]*gorgonia.Value{}
	roots := gorgonia.Nodes{p.read(loss, &p.lossV)}
	p.outV = make([]gorgonia.Value, len(outputs))
	for i, o := range outputs {
		roots = append(roots, p.read(o, &p.outV[i]))
	}
	evalRoots := append(gorgonia.Nodes(nil), roots...)
	p.gradV = make([]gorgonia.Value, len(grads))
	for i, gn := range grads {
		roots = append(roots, p.read(gn, &p.gradV[i]))
	}
	p.trainRoots = roots
	if p.evalVM, err = newMachine(g.g.SubgraphRoots(evalRoots...), p.reads); err != nil {
		return nil, err
	}
	return p, nil
}

// CompileForward compiles an evaluation pass alone, computing outputs
// (at least one) with no loss and no gradients: inference, such as text
// generation. Run(false) runs it and returns a loss of 0; Run(true) is an
// error.
func (g *Graph) CompileForward(outputs ...*Node) (p *Program, err error) {
	if err := g.check("compile"); err != nil {
		return nil, err
	}
	if len(outputs) == 0 {
		return nil, errors.New("graph: compile: no output to compute")
	}
	p = &Program{g: g, params: g.Params(), outV: make([]gorgonia.Value, len(outputs)), reads: map[*gorgonia.Node]*gorgonia.Value{}}
	var roots gorgonia.Nodes
	for i, o := range outputs {
		if o == nil {
			return nil, errors.Errorf("graph: compile: output %d is nil", i)
		}
		if o.Graph() != g.g {
			return nil, errors.Errorf("graph: compile: output %s belongs to another graph", o.Name())
		}
		roots = append(roots, p.read(o, &p.outV[i]))
	}
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, errors.Errorf("graph: compiling the model: %v", r)
		}
	}()
	if p.evalVM, err = newMachine(g.g.SubgraphRoots(roots...), p.reads); err != nil {
		return nil, err
	}
	return p, nil
}

// Graph returns the graph the program runs (nil for a nil Program).
func (p *Program) Graph() *Graph {
	if p == nil {
		return nil
	}
	return p.g
}

// Params returns the parameters the training pass differentiates, in
// declaration order (none for a nil Program).
func (p *Program) Params() []*Param {
	if p == nil {
		return nil
	}
	return p.params
}

// Run sets the graph's mode (training or evaluation), calls its feeds
// (dropout masks, recurrent state), runs the training or the evaluation
// pass and returns the loss.
func (p *Program) Run(training bool) (float64, error) {
	if p == nil || p.closed {
		return 0, ErrClosed
	}
	if p.g == nil || p.evalVM == nil {
		return 0, errNotCompiled
	}
	if training && p.trainRoots == nil {
		return 0, errors.New("graph: the program was compiled for inference only")
	}
	p.g.SetTraining(training)
	if err := p.g.Feed(); err != nil {
		return 0, err
	}
	vm := p.evalVM
	if training {
		if p.trainVM == nil {
			if err := p.compileTraining(); err != nil {
				return 0, err
			}
		}
		vm = p.trainVM
		p.resetRows()
	}
	if err := vm.run(); err != nil {
		return 0, err
	}
	switch v := p.lossV.(type) {
	case nil:
		return 0, nil
	case *gorgonia.F32:
		return float64(*v), nil
	case *gorgonia.F64:
		return float64(*v), nil
	}
	return 0, errors.Errorf("graph: loss value has type %T", p.lossV)
}

// Gradient copies the gradient of parameter i (as Params orders them)
// from the last training pass into dst, which must have the parameter's
// size.
func (p *Program) Gradient(i int, dst []float64) error {
	if p == nil || p.closed {
		return ErrClosed
	}
	if i < 0 || i >= len(p.gradV) {
		return errors.Errorf("graph: gradient %d of %d parameters", i, len(p.gradV))
	}
	t, ok := p.gradV[i].(*tensor.Dense)
	if !ok {
		return errors.Errorf("graph: no gradient of %s yet: run a training pass first", p.params[i].Name)
	}
	return copyOut(t, dst, p.params[i].Name)
}

// GradientData returns the live values of parameter i's gradient from the
// last training pass, without a copy: valid until the next pass, and not
// to be written.
func (p *Program) GradientData(i int) (Data, error) {
	if p == nil || p.closed {
		return Data{}, ErrClosed
	}
	if i < 0 || i >= len(p.gradV) {
		return Data{}, errors.Errorf("graph: gradient %d of %d parameters", i, len(p.gradV))
	}
	t, ok := p.gradV[i].(*tensor.Dense)
	if !ok {
		return Data{}, errors.Errorf("graph: no gradient of %s yet: run a training pass first", p.params[i].Name)
	}
	switch t.Dtype() {
	case tensor.Float32:
		return Data{f32: t.Float32s()}, nil
	case tensor.Float64:
		return Data{f64: t.Float64s()}, nil
	}
	return Data{}, errors.Errorf("graph: gradient of %s is %v", p.params[i].Name, t.Dtype())
}

// OutputRow copies row r of output k (the k-th node given to Compile,
// read as a matrix of len(row) columns) from the last pass into row.
func (p *Program) OutputRow(k, r int, row []float64) error {
	if p == nil || p.closed {
		return ErrClosed
	}
	if k < 0 || k >= len(p.outV) {
		return errors.Errorf("graph: output %d of %d", k, len(p.outV))
	}
	t, ok := p.outV[k].(*tensor.Dense)
	if !ok {
		return errors.Errorf("graph: output %d has no value yet: run a pass first", k)
	}
	n := len(row)
	if (r+1)*n > t.Shape().TotalSize() || r < 0 {
		return errors.Errorf("graph: output %d has no row %d of %d values", k, r, n)
	}
	if t.Dtype() == tensor.Float32 {
		for j, v := range t.Float32s()[r*n : (r+1)*n] {
			row[j] = float64(v)
		}
		return nil
	}
	copy(row, t.Float64s()[r*n:(r+1)*n])
	return nil
}

// Output returns a copy of output k's values from the last pass.
func (p *Program) Output(k int) ([]float64, error) {
	if p == nil || p.closed {
		return nil, ErrClosed
	}
	if k < 0 || k >= len(p.outV) {
		return nil, errors.Errorf("graph: output %d of %d", k, len(p.outV))
	}
	t, ok := p.outV[k].(*tensor.Dense)
	if !ok {
		return nil, errors.Errorf("graph: output %d has no value yet: run a pass first", k)
	}
	out := make([]float64, t.Shape().TotalSize())
	return out, copyOut(t, out, "output")
}

// Close releases the passes; a closed program returns ErrClosed.
func (p *Program) Close() error {
	if p == nil || p.closed {
		return nil
	}
	p.closed = true
	p.trainVM, p.evalVM = nil, nil
	return nil
}

// compileTraining compiles the training pass: loss, outputs and gradients.
func (p *Program) compileTraining() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errors.Errorf("graph: compiling the training pass: %v", r)
		}
	}()
	p.trainVM, err = newMachine(p.g.g.SubgraphRoots(p.trainRoots...), p.reads)
	return err
}

// read returns a Read node of n into dst, noted in p.reads.
func (p *Program) read(n *gorgonia.Node, dst *gorgonia.Value) *gorgonia.Node {
	r := gorgonia.Read(n, dst)
	p.reads[r] = dst
	return r
}
