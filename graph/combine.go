package graph

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/dlrun/dlrun/internal/kernels"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// This file holds the ops that combine tensors, as the recommenders need:
// elementwise sums, per-row dot products, concatenation and column picks.

// Add returns a + b elementwise (PyTorch a + b), broadcast as Sub, Mul
// and Div are (elementwise.go): operands of one shape, or of the same
// number of axes with sizes equal or 1 on each, or a scalar. Both
// operands are differentiable: each receives the output gradient, summed
// over the axes where it was repeated.
func Add(a, b *Node) (*Node, error) {
	if err := checkNodes("add", a, b); err != nil {
		return nil, err
	}
	sa, sb := a.Shape(), b.Shape()
	if !identicalShape(sa, sb) {
		return binary("add", binAdd, a, b)
	}
	return apply(addKernel{}, sa.Clone(), a, b)
}

type addKernel struct{}

func (addKernel) name() string       { return "Add" }
func (addKernel) diffWRT(int) []bool { return []bool{true, true} }
func (addKernel) do(out *tensor.Dense, in []*tensor.Dense) error {
	return floats(out, in, func(o []float32, in [][]float32) { addInto(o, in[0], in[1]) },
		func(o []float64, in [][]float64) { addInto(o, in[0], in[1]) })
}
func (addKernel) grad(_ gorgonia.Nodes, _, g *gorgonia.Node) (gorgonia.Nodes, error) {
	return gorgonia.Nodes{g, g}, nil
}

func addInto[T kernels.Float](o, a, b []T) {
	b = b[:len(a)]
	for i, v := range a {
		o[i] = v + b[i]
	}
}

// AddScalar returns x + c elementwise for a constant c, such as the global
// mean rating of a recommender (PyTorch x + c). c must be finite; in a
// float32 graph it is rounded to float32. x is differentiable, with
// gradient dy.
func AddScalar(x *Node, c float64) (*Node, error) {
	if err := checkNodes("add scalar", x); err != nil {
		return nil, err
	}
	if math.IsNaN(c) || math.IsInf(c, 0) {
		return nil, errors.Errorf("graph: add scalar %s: the constant %v is not finite", x.Name(), c)
	}
	return apply(addScalarKernel{c}, x.Shape().Clone(), x)
}

type addScalarKernel struct{ c float64 }

// name holds c in the shortest form that reads back as the same float64,
// so that ops adding different constants are different nodes.
func (k addScalarKernel) name() string {
	return "AddScalar(" + strconv.FormatFloat(k.c, 'g', -1, 64) + ")"
}
func (addScalarKernel) diffWRT(int) []bool { return []bool{true} }
func (k addScalarKernel) do(out *tensor.Dense, in []*tensor.Dense) error {
	return floats(out, in, func(o []float32, in [][]float32) { addConst(o, in[0], float32(k.c)) },
		func(o []float64, in [][]float64) { addConst(o, in[0], k.c) })
}
func (addScalarKernel) grad(_ gorgonia.Nodes, _, g *gorgonia.Node) (gorgonia.Nodes, error) {
	return gorgonia.Nodes{g}, nil
}

func addConst[T kernels.Float](o, x []T, c T) {
	for i, v := range x {
		o[i] = v + c
	}
}

// RowDot returns the dot product of each row of a with the same row of b,
// for a and b of one shape [..., d] (in the recommenders, [n, d] user and
// item embeddings): shape [..., 1] (PyTorch (a*b).sum(-1, keepdim=True)).
// Both are differentiable: da = dy·b and db = dy·a, dy broadcast over each
// row.
func RowDot(a, b *Node) (*Node, error) {
	if err := checkNodes("row dot", a, b); err != nil {
		return nil, err
	}
	sa, sb := a.Shape(), b.Shape()
	if sa.Dims() < 1 || !identicalShape(sa, sb) {
		return nil, &ShapeError{"row dot", a.Name() + ", " + b.Name(), sa, sb, "the operands must have one shape, with at least one axis"}
	}
	d := sa[sa.Dims()-1]
	out := sa.Clone()
	out[len(out)-1] = 1
	return apply(rowDotKernel{rows: sa.TotalSize() / d, d: d}, out, a, b)
}

type rowDotKernel struct{ rows, d int }

func (k rowDotKernel) name() string     { return fmt.Sprintf("RowDot(%d)", k.d) }
func (rowDotKernel) diffWRT(int) []bool { return []bool{true, true} }
func (k rowDotKernel) do(out *tensor.Dense, in []*tensor.Dense) error {
	return floats(out, in, func(o []float32, in [][]float32) { rowDot(k, o, in[0], in[1]) },
		func(o []float64, in [][]float64) { rowDot(k, o, in[0], in[1]) })
}
func (k rowDotKernel) grad(in gorgonia.Nodes, _, g *gorgonia.Node) (gorgonia.Nodes, error) {
	da, err := apply(rowScaleKernel{f: k}, in[0].Shape().Clone(), g, in[1])
	if err != nil {
		return nil, err
	}
	db, err := apply(rowScaleKernel{f: k}, in[1].Shape().Clone(), g, in[0])
	return gorgonia.Nodes{da, db}, err
}

func rowDot[T kernels.Float](k rowDotKernel, o, a, b []T) {
	for r := range k.rows {
		x, y := a[r*k.d:(r+1)*k.d], b[r*k.d:(r+1)*k.d]
		var s T
		for j, v := range x {
			s += v * y[j]
		}
		o[r] = s
	}
}

// rowScaleKernel computes dy·x for dy [..., 1] and x [..., d]: each row of
// x scaled by its row's gradient, RowDot's gradient for the other operand.
type rowScaleKernel struct {
	noGrad
	f rowDotKernel
}

func (k rowScaleKernel) name() string { return fmt.Sprintf("RowDotGrad(%d)", k.f.d) }
func (k rowScaleKernel) do(out *tensor.Dense, in []*tensor.Dense) error {
	return floats(out, in, func(o []float32, in [][]float32) { rowScale(k.f, o, in[0], in[1]) },
		func(o []float64, in [][]float64) { rowScale(k.f, o, in[0], in[1]) })
}

func rowScale[T kernels.Float](k rowDotKernel, o, g, x []T) {
	for r := range k.rows {
		s := g[r]
		row := o[r*k.d : (r+1)*k.d]
		for j, v := range x[r*k.d : (r+1)*k.d] {
			row[j] = s * v
		}
	}
}

// Concat returns its operands joined along their last axis: for shapes
// [..., d1], [..., d2], ... with the same leading axes, shape
// [..., d1+d2+...] (PyTorch torch.cat(nodes, dim=-1); in the recommenders,
// [n, d] user and item embeddings make [n, 2d]). It takes one or more
// nodes; one makes a copy. Every operand is differentiable: each receives
// its own columns of the output gradient.
func Concat(nodes ...*Node) (*Node, error) {
	if len(nodes) == 0 {
		return nil, errors.New("graph: concat: no operands")
	}
	if err := checkNodes("concat", nodes...); err != nil {
		return nil, err
	}
	first := nodes[0]
	s0 := first.Shape()
	if s0.Dims() < 1 {
		return nil, &ShapeError{"concat", first.Name(), s0, nil, "operands must have at least one axis"}
	}
	lead := s0[:s0.Dims()-1]
	k := concatKernel{rows: lead.TotalSize(), widths: make([]int, len(nodes))}
	total := 0
	for i, n := range nodes {
		s := n.Shape()
		if s.Dims() != s0.Dims() || !identicalShape(s[:s.Dims()-1], lead) {
			return nil, &ShapeError{"concat", first.Name() + ", " + n.Name(), s0, s, "operands must agree on every axis but the last"}
		}
		k.widths[i] = s[s.Dims()-1]
		total += k.widths[i]
	}
	out := s0.Clone()
	out[len(out)-1] = total
	return apply(k, out, nodes...)
}

// concatKernel joins rows of the given widths into rows of their sum.
type concatKernel struct {
	rows   int
	widths []int
}

func (k concatKernel) name() string {
	return "Concat(" + joinInts(k.widths) + ")"
}
func (k concatKernel) diffWRT(n int) []bool {
	d := make([]bool, n)
	for i := range d {
		d[i] = true
	}
	return d
}
func (k concatKernel) do(out *tensor.Dense, in []*tensor.Dense) error {
	return floats(out, in, func(o []float32, in [][]float32) { concat(k, o, in) },
		func(o []float64, in [][]float64) { concat(k, o, in) })
}
func (k concatKernel) grad(in gorgonia.Nodes, _, g *gorgonia.Node) (gorgonia.Nodes, error) {
	out := make(gorgonia.Nodes, len(in))
	for i, n := range in {
		var err error
		if out[i], err = apply(concatGradKernel{f: k, i: i}, n.Shape().Clone(), g); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (k concatKernel) width() int {
	w := 0
	for _, d := range k.widths {
		w += d
	}
	return w
}

func concat[T kernels.Float](k concatKernel, o []T, in [][]T) {
	w := k.width()
	for r := range k.rows {
		at := r * w
		for i, d := range k.widths {
			copy(o[at:at+d], in[i][r*d:(r+1)*d])
			at += d
		}
	}
}

// concatGradKernel copies the columns of operand i out of the output
// gradient.
type concatGradKernel struct {
	noGrad
	f concatKernel
	i int
}

func (k concatGradKernel) name() string {
	return fmt.Sprintf("ConcatGrad(%s; %d)", joinInts(k.f.widths), k.i)
}
func (k concatGradKernel) do(out *tensor.Dense, in []*tensor.Dense) error {
	return floats(out, in, func(o []float32, in [][]float32) { concatGrad(k, o, in[0]) },
		func(o []float64, in [][]float64) { concatGrad(k, o, in[0]) })
}

func concatGrad[T kernels.Float](k concatGradKernel, o, g []T) {
	w, d, off := k.f.width(), k.f.widths[k.i], 0
	for _, v := range k.f.widths[:k.i] {
		off += v
	}
	for r := range k.f.rows {
		copy(o[r*d:(r+1)*d], g[r*w+off:r*w+off+d])
	}
}

// identicalShape reports whether a and b have the same axes (tensor.Shape's
// Eq takes [n] and [n, 1] for equal).
func identicalShape(a, b tensor.Shape) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}

// Column returns column j of the matrix x [n, k] as a vector [n] (PyTorch
// x[:, j]); in the recommenders it splits [n, 2] (user id, item id) inputs
// into the id vectors that Embedding takes (after a Reshape to [n, 1]). It
// is dlrun's own op, not Gorgonia's Slice, whose node hash truncates bounds
// to a byte. x is differentiable: its gradient is dy in column j and zero
// elsewhere.
func Column(x *Node, j int) (*Node, error) {
	if err := checkNodes("column", x); err != nil {
		return nil, err
	}
	s := x.Shape()
	if s.Dims() != 2 {
		return nil, &ShapeError{"column", x.Name(), s, nil, "the input must be a matrix [rows, columns]"}
	}
	if j < 0 || j >= s[1] {
		return nil, &ShapeError{"column", x.Name(), s, nil, fmt.Sprintf("column %d is outside [0, %d)", j, s[1])}
	}
	return apply(columnKernel{n: s[0], k: s[1], j: j}, tensor.Shape{s[0]}, x)
}

type columnKernel struct{ n, k, j int }

// name holds j, so that two columns of one matrix are different nodes.
func (k columnKernel) name() string     { return fmt.Sprintf("Column(%d of %d)", k.j, k.k) }
func (columnKernel) diffWRT(int) []bool { return []bool{true} }
func (k columnKernel) do(out *tensor.Dense, in []*tensor.Dense) error {
	return floats(out, in, func(o []float32, in [][]float32) { column(k, o, in[0]) },
		func(o []float64, in [][]float64) { column(k, o, in[0]) })
}
func (k columnKernel) grad(in gorgonia.Nodes, _, g *gorgonia.Node) (gorgonia.Nodes, error) {
	dx, err := apply(columnGradKernel{f: k}, in[0].Shape().Clone(), g)
	return gorgonia.Nodes{dx}, err
}

func column[T kernels.Float](k columnKernel, o, x []T) {
	for r := range k.n {
		o[r] = x[r*k.k+k.j]
	}
}

// columnGradKernel scatters dy [n] into column j of a zero [n, k].
type columnGradKernel struct {
	noGrad
	f columnKernel
}

func (k columnGradKernel) name() string { return fmt.Sprintf("ColumnGrad(%d of %d)", k.f.j, k.f.k) }
func (k columnGradKernel) do(out *tensor.Dense, in []*tensor.Dense) error {
	return floats(out, in, func(o []float32, in [][]float32) { columnGrad(k.f, o, in[0]) },
		func(o []float64, in [][]float64) { columnGrad(k.f, o, in[0]) })
}

func columnGrad[T kernels.Float](k columnKernel, dx, g []T) {
	clear(dx)
	for r := range k.n {
		dx[r*k.k+k.j] = g[r]
	}
}
