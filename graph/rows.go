package graph

import (
	"slices"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// rowGatherer is implemented by the kernels whose input 0 holds row ids
// into the table [vocab, dim] at input 1 and whose gradient with respect
// to the table is zero outside the rows those ids select: Embedding and
// RowsSquaredNorm. A parameter used only through such ops has a gradient
// with at most as many nonzero rows as a batch has ids, which is what lets
// an optimizer whose semantics allow it update those rows alone
// (Program.GradientRows).
type rowGatherer interface{ gathersRows() }

func (embeddingKernel) gathersRows() {}
func (rowsNormKernel) gathersRows()  {}

// rowSet records the distinct rows that an op's ids selected since the
// last reset. Recording more rows than the gradient touches is harmless
// (their gradient is zero); recording fewer never happens, since every
// run of the op records its ids.
type rowSet struct {
	seen []bool
	rows []int
}

func newRowSet(vocab int) *rowSet { return &rowSet{seen: make([]bool, vocab)} }

// add records the ids held in t (which the op has already checked to be
// whole numbers in [0, vocab)).
func (s *rowSet) add(t *tensor.Dense) {
	mark := func(id int) {
		if id >= 0 && id < len(s.seen) && !s.seen[id] {
			s.seen[id] = true
			s.rows = append(s.rows, id)
		}
	}
	switch t.Dtype() {
	case tensor.Float32:
		for _, v := range t.Float32s() {
			mark(int(v))
		}
	case tensor.Float64:
		for _, v := range t.Float64s() {
			mark(int(v))
		}
	}
}

func (s *rowSet) reset() {
	for _, r := range s.rows {
		s.seen[r] = false
	}
	s.rows = s.rows[:0]
}

// rowOps returns, for each of params, the ops through which the loss uses
// it if every such op gathers rows of it (nil otherwise): the parameters
// whose gradient is sparse by rows. Only the loss's own subgraph counts,
// not the gradient nodes that also read the parameters.
func rowOps(g *gorgonia.ExprGraph, loss *gorgonia.Node, params []*Param) [][]*op {
	forward := map[int64]bool{}
	stack := []int64{loss.ID()}
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if forward[id] {
			continue
		}
		forward[id] = true
		for ch := g.From(id); ch.Next(); {
			stack = append(stack, ch.Node().ID())
		}
	}
	out := make([][]*op, len(params))
	for i, p := range params {
		var ops []*op
		sparse := forward[p.Node.ID()] && p.Node.Shape().Dims() == 2
		for users := g.To(p.Node.ID()); sparse && users.Next(); {
			u := users.Node().(*gorgonia.Node)
			if !forward[u.ID()] {
				continue // a gradient node
			}
			o, ok := u.Op().(*op)
			if !ok || o.rows == nil {
				sparse = false
				break
			}
			ins := g.From(u.ID())
			ins.Next()
			if ins.Node().ID() == p.Node.ID() { // the parameter as the ids: not a table
				sparse = false
				break
			}
			ops = append(ops, o)
		}
		if sparse && len(ops) > 0 {
			out[i] = ops
		}
	}
	return out
}

// GradientRows returns the rows of parameter i (as Params orders them)
// that the last training pass may have given a nonzero gradient, in
// increasing order, when the loss uses the parameter only through ops
// that gather rows of it (Embedding, RowsSquaredNorm): its gradient is
// zero in every other row. ok is false, and rows nil, for any other
// parameter, whose gradient may be nonzero anywhere. rows is valid until
// the next pass.
//
// It is what lets an optimizer update an embedding table's batch rows
// alone where its semantics allow (plain SGD and AdaGrad leave a row with
// a zero gradient as it is; Adam's and momentum's moments do not), as
// PyTorch's sparse embedding gradients do.
func (p *Program) GradientRows(i int) (rows []int, ok bool, err error) {
	if p == nil || p.closed {
		return nil, false, ErrClosed
	}
	if i < 0 || i >= len(p.gradV) {
		return nil, false, errors.Errorf("graph: gradient rows %d of %d parameters", i, len(p.gradV))
	}
	if _, done := p.gradV[i].(*tensor.Dense); !done {
		return nil, false, errors.Errorf("graph: no gradient of %s yet: run a training pass first", p.params[i].Name)
	}
	ops := p.rowOps[i]
	if ops == nil {
		return nil, false, nil
	}
	rows = append(p.rowsBuf[i][:0], ops[0].rows.rows...)
	for _, o := range ops[1:] {
		rows = append(rows, o.rows.rows...)
	}
	slices.Sort(rows)
	rows = slices.Compact(rows)
	p.rowsBuf[i] = rows
	return rows, true, nil
}

// resetRows forgets the rows recorded by the ops of sparse parameters,
// before a training pass.
func (p *Program) resetRows() {
	for _, ops := range p.rowOps {
		for _, o := range ops {
			o.rows.reset()
		}
	}
}
