package graph

import (
	"fmt"
	"sync"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// This file holds what attribution methods (gradient saliency, integrated
// gradients; package explain) need of a graph: the gradient of a model's
// output with respect to its input, or to the rows its embeddings look up,
// for a whole batch of inputs in one pass.

// Gradients is a compiled evaluation pass that computes a node y and, for
// each of a list of nodes w, the vector–Jacobian product
//
//	∂(Σ seed⊙y)/∂w
//
// with seed a tensor of y's shape set before each run (SetSeed): with a
// one-hot seed it is the gradient of one output of y. In evaluation mode no
// op of dlrun mixes the rows of a batch (batch norm uses its running
// statistics), so with a seed that picks an output in every row, row r of
// each gradient is that output's gradient for row r alone: one pass
// differentiates a whole batch of inputs, such as the points along the path
// of integrated gradients. The nodes w may be inputs (Graph.Input) or the
// shifts of embedding lookups (TapEmbeddings).
//
// A Gradients is not safe for concurrent use, nor for use concurrently with
// another pass over the same graph.
type Gradients struct {
	g      *Graph
	seed   *tensor.Dense
	vm     *machine
	yV     gorgonia.Value
	gradV  []gorgonia.Value
	names  []string
	closed bool
}

// CompileGradients compiles a pass computing y (a tensor, not a scalar)
// and the gradient of Σ seed⊙y with respect to each node of wrt, which
// must affect y differentiably. The seed starts at zeros.
func (g *Graph) CompileGradients(y *Node, wrt ...*Node) (gr *Gradients, err error) {
	if err := g.check("compile gradients"); err != nil {
		return nil, err
	}
	if y == nil {
		return nil, errors.New("graph: compile gradients: nil output node")
	}
	if y.Graph() != g.g {
		return nil, errors.Errorf("graph: compile gradients: output %s belongs to another graph", y.Name())
	}
	if y.IsScalar() {
		return nil, &ShapeError{"compile gradients", y.Name(), y.Shape(), nil, "the output must be a tensor, not a scalar"}
	}
	if len(wrt) == 0 {
		return nil, errors.Errorf("graph: compile gradients of %s: no node to differentiate with respect to", y.Name())
	}
	seen := map[*Node]bool{}
	names := make([]string, len(wrt))
	for i, w := range wrt {
		if w == nil {
			return nil, errors.Errorf("graph: compile gradients of %s: node %d is nil", y.Name(), i)
		}
		if w.Graph() != g.g {
			return nil, errors.Errorf("graph: compile gradients of %s: %s belongs to another graph", y.Name(), w.Name())
		}
		if seen[w] {
			return nil, errors.Errorf("graph: compile gradients of %s: %s is named twice", y.Name(), w.Name())
		}
		seen[w], names[i] = true, w.Name()
	}
	seed, err := g.Input(g.unusedName("gradients.seed"), y.Shape()...)
	if err != nil {
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil { // Backpropagate may panic on a bad graph
			gr, err = nil, errors.Errorf("graph: compiling the gradients of %s: %v", y.Name(), r)
		}
	}()
	grads, err := gorgonia.Backpropagate(Nodes{y}, Nodes{seed}, Nodes(wrt))
	if err != nil {
		return nil, errors.Errorf("graph: compile gradients of %s with respect to %v: %v (does each affect it through differentiable ops?)", y.Name(), names, err)
	}
	gr = &Gradients{g: g, seed: seed.Value().(*tensor.Dense), gradV: make([]gorgonia.Value, len(grads)), names: names}
	reads := map[*gorgonia.Node]*gorgonia.Value{}
	read := func(n *gorgonia.Node, dst *gorgonia.Value) *gorgonia.Node {
		r := gorgonia.Read(n, dst)
		reads[r] = dst
		return r
	}
	roots := Nodes{read(y, &gr.yV)}
	for i, d := range grads {
		roots = append(roots, read(d, &gr.gradV[i]))
	}
	if gr.vm, err = newMachine(g.g.SubgraphRoots(roots...), reads); err != nil {
		return nil, err
	}
	return gr, nil
}

// unusedName returns base, or base followed by the first number that makes
// it a name no node of g has.
func (g *Graph) unusedName(base string) string {
	name := base
	for k := 2; g.names[name]; k++ {
		name = fmt.Sprintf("%s%d", base, k)
	}
	return name
}

// usable returns ErrClosed for a nil or closed Gradients and an error for
// one that CompileGradients did not make.
func (gr *Gradients) usable() error {
	if gr == nil || gr.closed {
		return ErrClosed
	}
	if gr.vm == nil || gr.seed == nil {
		return errors.New("graph: the gradients were not compiled (use Graph.CompileGradients)")
	}
	return nil
}

// SetSeed sets the seed of the next runs (row-major, y's shape).
func (gr *Gradients) SetSeed(v []float64) error {
	if err := gr.usable(); err != nil {
		return err
	}
	return copyIn(gr.seed, v, "the gradient seed")
}

// Run runs the pass in evaluation mode, after the graph's feeds.
func (gr *Gradients) Run() error {
	if err := gr.usable(); err != nil {
		return err
	}
	gr.g.SetTraining(false)
	if err := gr.g.Feed(); err != nil {
		return err
	}
	return gr.vm.run()
}

// Output returns a copy of y's values from the last run.
func (gr *Gradients) Output() ([]float64, error) {
	if err := gr.usable(); err != nil {
		return nil, err
	}
	return valuesOf(gr.yV, "the output")
}

// Gradient returns a copy of the gradient with respect to the i-th node
// given to CompileGradients, from the last run: the node's shape.
func (gr *Gradients) Gradient(i int) ([]float64, error) {
	if err := gr.usable(); err != nil {
		return nil, err
	}
	if i < 0 || i >= len(gr.gradV) {
		return nil, errors.Errorf("graph: gradient %d of %d", i, len(gr.gradV))
	}
	return valuesOf(gr.gradV[i], "the gradient with respect to "+gr.names[i])
}

// Close releases the pass; a closed Gradients returns ErrClosed.
func (gr *Gradients) Close() error {
	if gr != nil {
		gr.closed, gr.vm = true, nil
	}
	return nil
}

// valuesOf copies a tensor value of a run out as float64.
func valuesOf(v gorgonia.Value, what string) ([]float64, error) {
	t, ok := v.(*tensor.Dense)
	if !ok {
		return nil, errors.Errorf("graph: %s has no value yet: run the pass first", what)
	}
	out := make([]float64, t.Shape().TotalSize())
	return out, copyOut(t, out, what)
}

// Tap is an embedding lookup made movable and differentiable, as
// attribution methods over embeddings need (integrated gradients moves the
// looked-up rows from a baseline to their values): the model reads
// Output = the looked-up rows + Shift, where Shift is an input of the
// lookup's shape, zeros unless set (Graph.SetInput). The gradient with
// respect to Shift (CompileGradients) is the gradient with respect to the
// rows the model reads.
type Tap struct {
	Table  *Node // the table [vocab, dim] looked up
	IDs    *Node // the ids, of any shape [...]
	Shift  *Node // the input added to the rows, [..., dim]
	Output *Node // the rows plus Shift, what the model reads
}

// tapping holds the graphs that TapEmbeddings is building, by their
// Gorgonia graph (Embedding is given nodes, not a Graph).
var tapping = struct {
	sync.Mutex
	on map[*gorgonia.ExprGraph]*tapRecord
}{on: map[*gorgonia.ExprGraph]*tapRecord{}}

type tapRecord struct {
	g    *Graph
	taps []Tap
}

// TapEmbeddings runs build, which builds a model on g, so that every
// Embedding it builds on g is tapped (Tap), and returns the taps in the
// order built. Outside TapEmbeddings, Embedding adds nothing to a graph.
// It is an error to call it again on g while it runs.
func (g *Graph) TapEmbeddings(build func() error) ([]Tap, error) {
	if err := g.check("tap embeddings"); err != nil {
		return nil, err
	}
	if build == nil {
		return nil, errors.New("graph: tap embeddings: nil build function")
	}
	rec := &tapRecord{g: g}
	tapping.Lock()
	if tapping.on[g.g] != nil {
		tapping.Unlock()
		return nil, errors.New("graph: tap embeddings: already tapping this graph")
	}
	tapping.on[g.g] = rec
	tapping.Unlock()
	defer func() {
		tapping.Lock()
		delete(tapping.on, g.g)
		tapping.Unlock()
	}()
	if err := build(); err != nil {
		return nil, err
	}
	return rec.taps, nil
}

// tapped returns rows, the lookup of ids in table, or, while TapEmbeddings
// builds on its graph, rows plus a new shift input, recorded as a Tap.
func tapped(ids, table, rows *Node) (*Node, error) {
	tapping.Lock()
	rec := tapping.on[rows.Graph()]
	tapping.Unlock()
	if rec == nil {
		return rows, nil
	}
	shift, err := rec.g.Input(rec.g.unusedName(table.Name()+".shift"), rows.Shape()...)
	if err != nil {
		return nil, err
	}
	out, err := Add(rows, shift)
	if err != nil {
		return nil, err
	}
	rec.taps = append(rec.taps, Tap{Table: table, IDs: ids, Shift: shift, Output: out})
	return out, nil
}
