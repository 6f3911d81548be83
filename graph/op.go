package graph

import (
	"fmt"
	"hash"
	"hash/fnv"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// kernel is the computation behind one of dlrun's own Gorgonia ops.
type kernel interface {
	// name identifies the kernel and its parameters (it is hashed).
	name() string
	// do computes the output into out, which has the op's shape and dtype.
	// in holds the inputs; scalars arrive as 0-d tensors.
	do(out *tensor.Dense, in []*tensor.Dense) error
	// grad returns one gradient node per input (nil where not differentiable).
	grad(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error)
	// diffWRT says which inputs are differentiable.
	diffWRT(n int) []bool
}

// op adapts a kernel to gorgonia.Op. Each op owns its output buffer, which
// it reuses from run to run: no allocation per batch.
type op struct {
	k      kernel
	inDims []int
	out    tensor.Shape
	dt     tensor.Dtype
	buf    *tensor.Dense
	scalar gorgonia.Value
	ins    []*tensor.Dense
	rows   *rowSet // for a rowGatherer: the rows its ids selected (rows.go)
}

func (o *op) Arity() int { return len(o.inDims) }

func (o *op) Type() hm.Type {
	a := hm.TypeVariable('a')
	typ := func(d int) hm.Type {
		if d == 0 {
			return a
		}
		return gorgonia.TensorType{Dims: d, Of: a}
	}
	ts := make(hm.Types, 0, len(o.inDims)+1)
	for _, d := range o.inDims {
		ts = append(ts, typ(d))
	}
	ts = append(ts, typ(len(o.out)))
	return hm.NewFnType(ts...)
}

func (o *op) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) { return o.out.Clone(), nil }
func (o *op) ReturnsPtr() bool                                      { return false }
func (o *op) CallsExtern() bool                                     { return false }
func (o *op) OverwritesInput() int                                  { return -1 }
func (o *op) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "dlrun.%s%v", o.k.name(), o.out)
	if _, ok := o.k.(stateful); ok {
		fmt.Fprintf(h, "%p", o.k)
	}
}
func (o *op) String() string { return o.k.name() }
func (o *op) Hashcode() uint32 {
	h := fnv.New32a()
	o.WriteHash(h)
	return h.Sum32()
}

func (o *op) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	if len(vals) != len(o.inDims) {
		return nil, errors.Errorf("%s: want %d inputs, got %d", o.k.name(), len(o.inDims), len(vals))
	}
	if o.ins == nil {
		o.ins = make([]*tensor.Dense, len(vals))
	}
	for i, v := range vals {
		t, err := asDense(v)
		if err != nil {
			return nil, errors.Wrapf(err, "%s: input %d", o.k.name(), i)
		}
		o.ins[i] = t
	}
	if len(o.out) == 0 {
		tmp := tensor.New(tensor.Of(o.dt), tensor.WithShape(1))
		if err := o.k.do(tmp, o.ins); err != nil {
			return nil, err
		}
		if o.rows != nil {
			o.rows.add(o.ins[0])
		}
		switch o.dt {
		case tensor.Float32:
			return gorgonia.NewF32(tmp.Float32s()[0]), nil
		case tensor.Float64:
			return gorgonia.NewF64(tmp.Float64s()[0]), nil
		}
		return nil, errors.Errorf("%s: unsupported dtype %v", o.k.name(), o.dt)
	}
	if _, ok := o.k.(viewKernel); ok {
		return o.view(o.ins[0]), nil
	}
	if o.buf == nil {
		o.buf = tensor.New(tensor.Of(o.dt), tensor.WithShape(o.out...))
	}
	if err := o.k.do(o.buf, o.ins); err != nil {
		return nil, err
	}
	if o.rows != nil {
		o.rows.add(o.ins[0])
	}
	return o.buf, nil
}

// stateful is implemented by kernels that keep state from pass to pass
// (an attention's weights for its gradient, a cache, a cursor): their ops
// hash by the kernel's address too, so that Gorgonia never merges two of
// them into one node, whatever their names.
type stateful interface{ keepsState() }

// viewKernel is a kernel whose output is its input's values under another
// shape (Reshape): the op returns a view of the input rather than a copy.
// No op writes into its inputs, so the view stays what a copy would be
// until the input's next pass.
type viewKernel interface{ isView() }

// view returns in's values with the op's shape, reusing the last view
// while in keeps the same memory.
func (o *op) view(in *tensor.Dense) *tensor.Dense {
	if o.buf != nil && o.buf.Uintptr() == in.Uintptr() {
		return o.buf
	}
	o.buf = tensor.New(tensor.WithShape(o.out...), tensor.WithBacking(in.Data()))
	return o.buf
}

func (o *op) DiffWRT(n int) []bool { return o.k.diffWRT(n) }

func (o *op) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	return o.k.grad(inputs, output, grad)
}

// asDense returns v as a dense tensor; scalars become 1-element tensors.
func asDense(v gorgonia.Value) (*tensor.Dense, error) {
	switch t := v.(type) {
	case *tensor.Dense:
		return t, nil
	case *gorgonia.F32:
		return tensor.New(tensor.WithShape(1), tensor.WithBacking([]float32{float32(*t)})), nil
	case *gorgonia.F64:
		return tensor.New(tensor.WithShape(1), tensor.WithBacking([]float64{float64(*t)})), nil
	}
	return nil, errors.Errorf("unsupported value type %T", v)
}

// apply adds a node computing k over the inputs, with output shape out.
func apply(k kernel, out tensor.Shape, inputs ...*gorgonia.Node) (*gorgonia.Node, error) {
	o := &op{k: k, out: out, dt: inputs[0].Dtype()}
	if _, ok := k.(rowGatherer); ok && len(inputs) > 1 && inputs[1].Shape().Dims() == 2 {
		o.rows = newRowSet(inputs[1].Shape()[0])
	}
	for _, in := range inputs {
		o.inDims = append(o.inDims, in.Shape().Dims())
		if in.IsScalar() {
			o.inDims[len(o.inDims)-1] = 0
		}
	}
	n, err := gorgonia.ApplyOp(o, inputs...)
	return n, errors.Wrapf(err, "applying %s", k.name())
}

// noGrad is embedded by kernels that are only ever used in backward passes.
type noGrad struct{}

func (noGrad) diffWRT(n int) []bool { return make([]bool, n) }
func (noGrad) grad(gorgonia.Nodes, *gorgonia.Node, *gorgonia.Node) (gorgonia.Nodes, error) {
	return nil, errors.New("second derivatives are not supported")
}

// floats dispatches f on the dtype of the tensors. It reads their data
// without reflection (tensor.Dense.Data allocates on every call).
func floats(out *tensor.Dense, in []*tensor.Dense, f32 func(out []float32, in [][]float32), f64 func(out []float64, in [][]float64)) error {
	for i, t := range in {
		if t.Dtype() != out.Dtype() {
			return errors.Errorf("input %d is %v, want %v", i, t.Dtype(), out.Dtype())
		}
	}
	switch out.Dtype() {
	case tensor.Float32:
		var buf [4][]float32
		ins := buf[:0]
		for _, t := range in {
			ins = append(ins, t.Float32s())
		}
		f32(out.Float32s(), ins)
	case tensor.Float64:
		var buf [4][]float64
		ins := buf[:0]
		for _, t := range in {
			ins = append(ins, t.Float64s())
		}
		f64(out.Float64s(), ins)
	default:
		return errors.Errorf("unsupported dtype %v", out.Dtype())
	}
	return nil
}
