package graph

import (
	"fmt"
	"math"
	"strconv"

	"github.com/dlrun/dlrun/internal/kernels"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// This file holds penalties: scalar terms that layers add to the training
// loss (Keras's add_loss), such as the L2 regularisation of the embedding
// rows a recommender's batch touches, and the ops that compute them.

// AddPenalty registers p, a scalar node of g, as a term of the training
// loss: the trainer minimises its loss plus the sum of every penalty
// (Penalties, PenalisedLoss), as Keras adds a layer's add_loss terms to
// the compiled loss. A layer registers its penalties when it is built. A
// nil or zero Graph, a nil node, a node of another graph or of another
// dtype, a node that is not a scalar and a node registered already are
// errors.
func (g *Graph) AddPenalty(p *Node) error {
	if err := g.check("adding a penalty"); err != nil {
		return err
	}
	if p == nil {
		return errors.New("graph: add penalty: nil node")
	}
	if p.Graph() != g.g {
		return errors.Errorf("graph: add penalty: %s belongs to another graph", p.Name())
	}
	if p.Dtype() != g.dtype.Tensor() {
		return errors.Errorf("graph: add penalty: %s is %v, the graph %v", p.Name(), p.Dtype(), g.dtype)
	}
	if !p.IsScalar() {
		return &ShapeError{"add penalty", p.Name(), p.Shape(), nil, "a penalty must be a scalar"}
	}
	for _, q := range g.penalties {
		if q == p {
			return errors.Errorf("graph: add penalty: %s is registered already", p.Name())
		}
	}
	g.penalties = append(g.penalties, p)
	return nil
}

// Penalties returns the penalties registered with AddPenalty, in order
// (none for a nil Graph).
func (g *Graph) Penalties() []*Node {
	if g == nil {
		return nil
	}
	return append([]*Node(nil), g.penalties...)
}

// PenalisedLoss returns loss plus every penalty of g, the loss that
// training minimises: loss itself when there is none. loss must be a
// scalar of g. Compile the result for training; the data loss alone (loss)
// can be one of the program's outputs, for reporting.
func (g *Graph) PenalisedLoss(loss *Node) (*Node, error) {
	if err := g.check("penalised loss"); err != nil {
		return nil, err
	}
	if loss == nil {
		return nil, errors.New("graph: penalised loss: nil loss node")
	}
	if loss.Graph() != g.g {
		return nil, errors.Errorf("graph: penalised loss: loss %s belongs to another graph", loss.Name())
	}
	if !loss.IsScalar() {
		return nil, &ShapeError{"penalised loss", loss.Name(), loss.Shape(), nil, "the loss must be a scalar"}
	}
	total := loss
	for _, p := range g.penalties {
		var err error
		if total, err = Add(total, p); err != nil {
			return nil, errors.Wrap(err, "graph: penalised loss")
		}
	}
	return total, nil
}

// Scale returns x·c elementwise for a constant c, such as the weight of a
// penalty (PyTorch x * c). c must be finite; in a float32 graph it is
// rounded to float32. x, of any shape (a scalar included), is
// differentiable, with gradient c·dy.
func Scale(x *Node, c float64) (*Node, error) {
	if err := checkNodes("scale", x); err != nil {
		return nil, err
	}
	if math.IsNaN(c) || math.IsInf(c, 0) {
		return nil, errors.Errorf("graph: scale %s: the constant %v is not finite", x.Name(), c)
	}
	return apply(scaleKernel{c}, x.Shape().Clone(), x)
}

type scaleKernel struct{ c float64 }

// name holds c in the shortest form that reads back as the same float64,
// so that ops scaling by different constants are different nodes.
func (k scaleKernel) name() string {
	return "Scale(" + strconv.FormatFloat(k.c, 'g', -1, 64) + ")"
}
func (scaleKernel) diffWRT(int) []bool { return []bool{true} }
func (k scaleKernel) do(out *tensor.Dense, in []*tensor.Dense) error {
	return floats(out, in, func(o []float32, in [][]float32) { scaleInto(o, in[0], float32(k.c)) },
		func(o []float64, in [][]float64) { scaleInto(o, in[0], k.c) })
}
func (k scaleKernel) grad(in gorgonia.Nodes, _, g *gorgonia.Node) (gorgonia.Nodes, error) {
	dx, err := apply(k, in[0].Shape().Clone(), g)
	return gorgonia.Nodes{dx}, err
}

func scaleInto[T kernels.Float](o, x []T, c T) {
	for i, v := range x {
		o[i] = v * c
	}
}

// RowsSquaredNorm returns Σ over the ids of ||table[id]||², a scalar: the
// squared L2 norm of the rows of table [vocab, dim] that ids selects, ids
// being of any shape [...] as Embedding takes them (stored as floats). A
// repeated id counts each time, as it would in the sum of the squares of
// Embedding(ids, table) (PyTorch table[ids].pow(2).sum()). It is the L2
// penalty of the embedding rows a batch touches, as factorisation models
// regularise. Its gradient is 2·table[id] for each occurrence of id,
// scattered into the rows touched, zero elsewhere; ids are not
// differentiable. An id outside [0, vocab) is an error when the op runs.
func RowsSquaredNorm(ids, table *Node) (*Node, error) {
	if err := checkNodes("rows squared norm", ids, table); err != nil {
		return nil, err
	}
	si, st := ids.Shape(), table.Shape()
	if si.Dims() < 1 || ids.IsScalar() || st.Dims() != 2 {
		return nil, &ShapeError{"rows squared norm", table.Name(), si, st, "ids must be a tensor of ids ([batch] or [batch, steps]) and the table [vocab, dim]"}
	}
	return apply(rowsNormKernel{si.TotalSize(), st[0], st[1]}, tensor.ScalarShape(), ids, table)
}

type rowsNormKernel struct{ n, vocab, dim int }

func (k rowsNormKernel) name() string     { return fmt.Sprintf("RowsSquaredNorm(%d, %d)", k.vocab, k.dim) }
func (rowsNormKernel) diffWRT(int) []bool { return []bool{false, true} }
func (k rowsNormKernel) do(out *tensor.Dense, in []*tensor.Dense) error {
	var bad error
	err := floats(out, in, func(o []float32, in [][]float32) { o[0], bad = rowsNorm(k, in[0], in[1]) },
		func(o []float64, in [][]float64) { o[0], bad = rowsNorm(k, in[0], in[1]) })
	if err != nil {
		return err
	}
	return bad
}

// rowsNorm sums the squares of the selected rows, accumulating in float64.
func rowsNorm[T kernels.Float](k rowsNormKernel, ids, table []T) (T, error) {
	var s float64
	for i, v := range ids {
		id := int(v)
		if id < 0 || id >= k.vocab || T(id) != v {
			return 0, errors.Errorf("rows squared norm: id %v at position %d is not in [0, %d)", v, i, k.vocab)
		}
		for _, x := range table[id*k.dim : (id+1)*k.dim] {
			s += float64(x) * float64(x)
		}
	}
	return T(s), nil
}

func (k rowsNormKernel) grad(in gorgonia.Nodes, _, g *gorgonia.Node) (gorgonia.Nodes, error) {
	dt, err := apply(rowsNormGradKernel{k: k}, in[1].Shape().Clone(), in[0], in[1], g)
	return gorgonia.Nodes{nil, dt}, err
}

// rowsNormGradKernel scatters 2·dy·table[id] into a zero table, for each
// id in position order.
type rowsNormGradKernel struct {
	noGrad
	k rowsNormKernel
}

func (k rowsNormGradKernel) name() string {
	return fmt.Sprintf("RowsSquaredNormGrad(%d, %d)", k.k.vocab, k.k.dim)
}
func (k rowsNormGradKernel) do(out *tensor.Dense, in []*tensor.Dense) error {
	return floats(out, in, func(o []float32, in [][]float32) { rowsNormGrad(k.k, in[0], in[1], in[2][0], o) },
		func(o []float64, in [][]float64) { rowsNormGrad(k.k, in[0], in[1], in[2][0], o) })
}

func rowsNormGrad[T kernels.Float](k rowsNormKernel, ids, table []T, g T, dt []T) {
	clear(dt)
	g2 := 2 * g
	for _, v := range ids {
		id := int(v)
		row, x := dt[id*k.dim:(id+1)*k.dim], table[id*k.dim:(id+1)*k.dim]
		for j, t := range x {
			row[j] += g2 * t
		}
	}
}
