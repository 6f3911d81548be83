package graph

import (
	"fmt"
	"math"
	"slices"

	"github.com/dlrun/dlrun/internal/kernels"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// This file holds the elementwise arithmetic and the reductions that a
// loss of one's own is written with (PyTorch's a - b, a * b, a / b,
// torch.exp, torch.log, x.sum(dim), x.mean(dim)): each differentiable, in
// float32 and float64, with its operands' shapes checked when it is built.
//
// The binary ops broadcast as PyTorch does, with one rule more: the
// operands have the same number of axes (or one is a scalar, such as
// Graph.Scalar), and on each axis their sizes are equal or one of them is
// 1, which is repeated. [b, n] and [b, 1] make [b, n]; [3] and [3, 1] are
// an error, where PyTorch would silently make a [3, 3].

// Sub returns a − b elementwise, broadcast (see above).
func Sub(a, b *Node) (*Node, error) { return binary("sub", binSub, a, b) }

// Mul returns a·b elementwise (PyTorch a * b), broadcast.
func Mul(a, b *Node) (*Node, error) { return binary("mul", binMul, a, b) }

// Div returns a / b elementwise, broadcast. A zero in b gives ±Inf or
// NaN, as in PyTorch.
func Div(a, b *Node) (*Node, error) { return binary("div", binDiv, a, b) }

// binOp is the operation of a broadcasting binary kernel.
type binOp int

const (
	binAdd binOp = iota
	binSub
	binMul
	binDiv
)

func (o binOp) String() string { return [...]string{"Add", "Sub", "Mul", "Div"}[o] }

// binary builds op on a and b, broadcast.
func binary(opName string, op binOp, a, b *Node) (*Node, error) {
	if err := checkNodes(opName, a, b); err != nil {
		return nil, err
	}
	bc, ok := broadcast(shapeOf(a), shapeOf(b))
	if !ok {
		return nil, &ShapeError{opName, a.Name() + ", " + b.Name(), a.Shape(), b.Shape(),
			"the operands' shapes differ and do not broadcast (same number of axes, each equal or 1 on one side)"}
	}
	return apply(&binaryKernel{op: op, bc: bc}, tensor.Shape(bc.out).Clone(), a, b)
}

// shapeOf returns n's shape, nil for a scalar.
func shapeOf(n *Node) []int {
	if n.IsScalar() {
		return nil
	}
	return []int(n.Shape().Clone())
}

// bcast maps the elements of an output shape to those of two operands
// broadcast to it: sa and sb are their strides per output axis, 0 where
// the operand's size is 1 (or it is a scalar).
type bcast struct {
	out, sa, sb []int
	a, b        []int // the operands' shapes (nil for a scalar)
}

// broadcast returns the broadcast of shapes a and b (nil: a scalar).
func broadcast(a, b []int) (*bcast, bool) {
	switch {
	case a == nil && b == nil:
		return &bcast{}, true
	case a == nil:
		return &bcast{out: b, sa: make([]int, len(b)), sb: strides(b, b), b: b}, true
	case b == nil:
		return &bcast{out: a, sa: strides(a, a), sb: make([]int, len(a)), a: a}, true
	case len(a) != len(b):
		return nil, false
	}
	out := make([]int, len(a))
	for i := range a {
		switch {
		case a[i] == b[i] || b[i] == 1:
			out[i] = a[i]
		case a[i] == 1:
			out[i] = b[i]
		default:
			return nil, false
		}
	}
	return &bcast{out: out, sa: strides(a, out), sb: strides(b, out), a: a, b: b}, true
}

// strides returns the strides of shape s (row-major) per axis of out, 0
// where s has size 1 and out does not.
func strides(s, out []int) []int {
	st := make([]int, len(s))
	n := 1
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] != 1 || out[i] == 1 {
			st[i] = n
		}
		n *= s[i]
	}
	return st
}

// same reports whether neither operand is broadcast.
func (bc *bcast) same() bool { return slices.Equal(bc.a, bc.out) && slices.Equal(bc.b, bc.out) }

// runs calls fn for each run of output elements along the last axis: the
// run starts at output offset o and operand offsets ia and ib, holds n
// elements, and steps da and db (0 or 1) in the operands.
func (bc *bcast) runs(fn func(o, ia, ib, n, da, db int)) {
	r := len(bc.out)
	if r == 0 {
		fn(0, 0, 0, 1, 0, 0)
		return
	}
	n, da, db := bc.out[r-1], bc.sa[r-1], bc.sb[r-1]
	var buf [8]int
	idx := buf[:0]
	for range r - 1 {
		idx = append(idx, 0)
	}
	o, ia, ib := 0, 0, 0
	for {
		fn(o, ia, ib, n, da, db)
		o += n
		k := r - 2
		for ; k >= 0; k-- {
			idx[k]++
			ia += bc.sa[k]
			ib += bc.sb[k]
			if idx[k] < bc.out[k] {
				break
			}
			ia -= bc.sa[k] * bc.out[k]
			ib -= bc.sb[k] * bc.out[k]
			idx[k] = 0
		}
		if k < 0 {
			return
		}
	}
}

type binaryKernel struct {
	op binOp
	bc *bcast
}

func (k *binaryKernel) name() string {
	return fmt.Sprintf("%v(%v, %v)", k.op, k.bc.a, k.bc.b)
}
func (k *binaryKernel) diffWRT(int) []bool { return []bool{true, true} }
func (k *binaryKernel) do(out *tensor.Dense, in []*tensor.Dense) error {
	return floats(out, in, func(o []float32, in [][]float32) { binaryDo(k, o, in[0], in[1]) },
		func(o []float64, in [][]float64) { binaryDo(k, o, in[0], in[1]) })
}

func binaryDo[T kernels.Float](k *binaryKernel, o, a, b []T) {
	if k.bc.same() {
		switch k.op {
		case binAdd:
			addInto(o, a, b)
		case binSub:
			for i, v := range a {
				o[i] = v - b[i]
			}
		case binMul:
			for i, v := range a {
				o[i] = v * b[i]
			}
		case binDiv:
			for i, v := range a {
				o[i] = v / b[i]
			}
		}
		return
	}
	k.bc.runs(func(at, ia, ib, n, da, db int) {
		for j := range n {
			x, y := a[ia+j*da], b[ib+j*db]
			var v T
			switch k.op {
			case binAdd:
				v = x + y
			case binSub:
				v = x - y
			case binMul:
				v = x * y
			case binDiv:
				v = x / y
			}
			o[at+j] = v
		}
	})
}

func (k *binaryKernel) grad(in gorgonia.Nodes, _, g *gorgonia.Node) (gorgonia.Nodes, error) {
	if k.op == binAdd && k.bc.same() {
		return gorgonia.Nodes{g, g}, nil
	}
	out := make(gorgonia.Nodes, 2)
	for side := range 2 {
		var err error
		if out[side], err = apply(&binaryGradKernel{f: k, side: side}, in[side].Shape().Clone(), g, in[0], in[1]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// binaryGradKernel computes the gradient of operand side (0: a, 1: b)
// from dy, a and b, summed over the axes where the operand was repeated.
type binaryGradKernel struct {
	noGrad
	f    *binaryKernel
	side int
}

func (k *binaryGradKernel) name() string { return fmt.Sprintf("%sGrad(%d)", k.f.name(), k.side) }
func (k *binaryGradKernel) do(out *tensor.Dense, in []*tensor.Dense) error {
	return floats(out, in, func(o []float32, in [][]float32) { binaryGrad(k, o, in[0], in[1], in[2]) },
		func(o []float64, in [][]float64) { binaryGrad(k, o, in[0], in[1], in[2]) })
}

func binaryGrad[T kernels.Float](k *binaryGradKernel, d, g, a, b []T) {
	clear(d)
	op, side := k.f.op, k.side
	k.f.bc.runs(func(at, ia, ib, n, da, db int) {
		for j := range n {
			x, y, dy := a[ia+j*da], b[ib+j*db], g[at+j]
			var v T
			switch {
			case op == binAdd || (op == binSub && side == 0):
				v = dy
			case op == binSub:
				v = -dy
			case op == binMul && side == 0:
				v = dy * y
			case op == binMul:
				v = dy * x
			case side == 0: // div
				v = dy / y
			default:
				v = -dy * x / (y * y)
			}
			if side == 0 {
				d[ia+j*da] += v
			} else {
				d[ib+j*db] += v
			}
		}
	})
}

// Exp returns e^x elementwise: in float32 by the vector kernel of the
// activations (within a few units in the last place), in float64 by
// math.Exp.
func Exp(x *Node) (*Node, error) { return unary("exp", expK, x) }

// Log returns the natural logarithm of x elementwise: −Inf at 0 and NaN
// below, as in PyTorch.
func Log(x *Node) (*Node, error) { return unary("log", logK, x) }

var (
	expK = &elemKernel{"Exp", kernels.Exps, expOf[float64], expGrad[float32], expGrad[float64], true}
	logK = &elemKernel{"Log", logOf[float32], logOf[float64], logGrad[float32], logGrad[float64], false}
)

func expOf[T kernels.Float](dst, x []T) {
	for i, v := range x {
		dst[i] = T(math.Exp(float64(v)))
	}
}

// expGrad is dx = dy·y from the output y.
func expGrad[T kernels.Float](dx, y, dy []T) {
	for i, v := range y {
		dx[i] = dy[i] * v
	}
}

func logOf[T kernels.Float](dst, x []T) {
	for i, v := range x {
		dst[i] = T(math.Log(float64(v)))
	}
}

func logGrad[T kernels.Float](dx, x, dy []T) {
	for i, v := range x {
		dx[i] = dy[i] / v
	}
}

// Sum returns the sum of x over the given axes (PyTorch x.sum(dim), the
// axes dropped from the shape; a negative axis counts from the end), or
// over every element, a scalar, without axes. Sums run in a fixed order,
// in float64.
func Sum(x *Node, axes ...int) (*Node, error) { return reduce("sum", x, false, axes) }

// Mean returns the mean of x over the given axes, or of every element (a
// scalar) without axes, as Sum does.
func Mean(x *Node, axes ...int) (*Node, error) { return reduce("mean", x, true, axes) }

func reduce(opName string, x *Node, mean bool, axes []int) (*Node, error) {
	if err := checkNodes(opName, x); err != nil {
		return nil, err
	}
	in := shapeOf(x)
	kept := make([]int, len(in)) // in's shape with the reduced axes set to 1
	copy(kept, in)
	drop := make([]bool, len(in))
	if len(axes) == 0 {
		for i := range drop {
			drop[i], kept[i] = true, 1
		}
	}
	for _, a := range axes {
		if a < 0 {
			a += len(in)
		}
		if a < 0 || a >= len(in) || drop[a] {
			return nil, &ShapeError{opName, x.Name(), x.Shape(), nil, fmt.Sprintf("axes %v: each must be one of the %d axes, once", axes, len(in))}
		}
		drop[a], kept[a] = true, 1
	}
	var out tensor.Shape
	for i, d := range in {
		if !drop[i] {
			out = append(out, d)
		}
	}
	k := &reduceKernel{mean: mean, in: in, kept: kept}
	if in == nil {
		k.count = 1
	} else {
		k.count = tensor.Shape(in).TotalSize() / tensor.Shape(kept).TotalSize()
		k.bc = &bcast{out: in, sa: strides(in, in), sb: strides(kept, in), a: in, b: kept}
	}
	return apply(k, out, x)
}

// reduceKernel sums (or averages) x over the axes where kept is 1 and x
// is not: the output, viewed with shape kept, is broadcast over x (bc).
type reduceKernel struct {
	mean     bool
	in, kept []int
	count    int // elements per output value
	bc       *bcast
	acc      []float64
}

func (k *reduceKernel) name() string {
	op := "Sum"
	if k.mean {
		op = "Mean"
	}
	return fmt.Sprintf("%s(%v to %v)", op, k.in, k.kept)
}
func (k *reduceKernel) diffWRT(int) []bool { return []bool{true} }
func (k *reduceKernel) do(out *tensor.Dense, in []*tensor.Dense) error {
	return floats(out, in, func(o []float32, in [][]float32) { reduceDo(k, o, in[0]) },
		func(o []float64, in [][]float64) { reduceDo(k, o, in[0]) })
}

func reduceDo[T kernels.Float](k *reduceKernel, o, x []T) {
	if k.bc == nil { // a scalar
		o[0] = x[0]
		return
	}
	if len(k.acc) != len(o) {
		k.acc = make([]float64, len(o))
	}
	acc := k.acc
	clear(acc)
	k.bc.runs(func(_, ix, io, n, dx, do int) {
		for j := range n {
			acc[io+j*do] += float64(x[ix+j*dx])
		}
	})
	f := 1.0
	if k.mean {
		f = 1 / float64(k.count)
	}
	for i, v := range acc {
		o[i] = T(v * f)
	}
}

func (k *reduceKernel) grad(in gorgonia.Nodes, _, g *gorgonia.Node) (gorgonia.Nodes, error) {
	dx, err := apply(&reduceGradKernel{f: k}, in[0].Shape().Clone(), g)
	return gorgonia.Nodes{dx}, err
}

// reduceGradKernel spreads dy over the elements each output summed,
// divided by their count for a mean.
type reduceGradKernel struct {
	noGrad
	f *reduceKernel
}

func (k *reduceGradKernel) name() string { return k.f.name() + "Grad" }
func (k *reduceGradKernel) do(out *tensor.Dense, in []*tensor.Dense) error {
	return floats(out, in, func(o []float32, in [][]float32) { reduceGrad(k.f, o, in[0]) },
		func(o []float64, in [][]float64) { reduceGrad(k.f, o, in[0]) })
}

func reduceGrad[T kernels.Float](k *reduceKernel, dx, g []T) {
	f := T(1)
	if k.mean {
		f = T(1 / float64(k.count))
	}
	if k.bc == nil {
		dx[0] = g[0] * f
		return
	}
	k.bc.runs(func(_, ix, io, n, _, do int) {
		for j := range n {
			dx[ix+j] = g[io+j*do] * f
		}
	})
}
