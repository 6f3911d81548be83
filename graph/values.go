package graph

import (
	"github.com/dlrun/dlrun/internal/kernels"
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// Values returns a copy of the parameter's values as float64, in row-major
// order (nil for a nil Param).
func (p *Param) Values() []float64 {
	if p.Value() == nil {
		return nil
	}
	out := make([]float64, p.Size())
	_ = p.ReadInto(out)
	return out
}

// ReadInto copies the parameter's values into dst, which must have the
// parameter's size. It allocates nothing, for use in training loops.
func (p *Param) ReadInto(dst []float64) error {
	t, err := p.dense()
	if err != nil {
		return err
	}
	return copyOut(t, dst, p.Name)
}

// SetValues overwrites the parameter's values with v (row-major, the
// parameter's size), converting to the graph's dtype.
func (p *Param) SetValues(v []float64) error {
	t, err := p.dense()
	if err != nil {
		return err
	}
	return copyIn(t, v, p.Name)
}

// Data returns the live values of the parameter, shared with the graph as
// InputData's are: reading them needs no copy, and writing them sets the
// parameter (the zero Data for a nil Param). Values, ReadInto and
// SetValues are the float64 ways.
func (p *Param) Data() Data {
	t := p.Value()
	switch {
	case t == nil:
		return Data{}
	case t.Dtype() == tensor.Float32:
		return Data{f32: t.Float32s()}
	case t.Dtype() == tensor.Float64:
		return Data{f64: t.Float64s()}
	}
	return Data{}
}

// dense returns the parameter's value, or an error for a nil Param or one
// whose node holds no tensor.
func (p *Param) dense() (*tensor.Dense, error) {
	if p == nil || p.Node == nil {
		return nil, errors.New("graph: a nil parameter or one without a node")
	}
	t := p.Value()
	if t == nil {
		return nil, errors.Errorf("graph: parameter %s holds no tensor", p.Name)
	}
	return t, nil
}

// input returns the tensor bound to the input node x of g, or an error
// naming what, if x is nil, belongs to another graph or is not an input.
func (g *Graph) input(what string, x *Node) (*tensor.Dense, error) {
	if err := g.check(what); err != nil {
		return nil, err
	}
	if x == nil {
		return nil, errors.Errorf("graph: %s: nil node", what)
	}
	if x.Graph() != g.g {
		return nil, errors.Errorf("graph: %s: %s belongs to another graph", what, x.Name())
	}
	t, ok := x.Value().(*tensor.Dense)
	if x.Op() != nil || !ok {
		return nil, errors.Errorf("graph: %s: %s is not a tensor input", what, x.Name())
	}
	return t, nil
}

// SetInput binds the values v (row-major, as many as the input's shape
// holds) to an input node declared with Input, converting them to the
// graph's dtype; the next run of a Program reads them.
func (g *Graph) SetInput(x *Node, v []float64) error {
	t, err := g.input("set input", x)
	if err != nil {
		return err
	}
	return copyIn(t, v, x.Name())
}

// InputData returns the live values of an input node declared with Input:
// writing to them sets the input for the next runs, with no conversion and
// no copy. A model's own inputs (a dropout mask, a recurrent layer's
// carried state) are filled this way from a Feed.
func (g *Graph) InputData(x *Node) (Data, error) {
	t, err := g.input("input data", x)
	if err != nil {
		return Data{}, err
	}
	switch t.Dtype() {
	case tensor.Float32:
		return Data{f32: t.Float32s()}, nil
	case tensor.Float64:
		return Data{f64: t.Float64s()}, nil
	}
	return Data{}, errors.Errorf("graph: input data: %s is %v", x.Name(), t.Dtype())
}

// Data is the backing of an input's or a parameter's tensor
// (Graph.InputData, Param.Data): []float32 or []float64 after the graph's
// dtype, shared with the graph. The zero Data holds no values.
type Data struct {
	f32 []float32
	f64 []float64
}

// Float32s returns the values of a float32 Data, else nil.
func (d Data) Float32s() []float32 { return d.f32 }

// Float64s returns the values of a float64 Data, else nil.
func (d Data) Float64s() []float64 { return d.f64 }

// Len returns the number of values.
func (d Data) Len() int { return len(d.f32) + len(d.f64) }

// Zero sets every value to 0.
func (d Data) Zero() {
	clear(d.f32)
	clear(d.f64)
}

// copyOut copies t (float32 or float64) into dst as float64, in parallel
// chunks for large tensors.
func copyOut(t *tensor.Dense, dst []float64, name string) error {
	if n := t.Shape().TotalSize(); len(dst) != n {
		return errors.Errorf("graph: %s holds %d values, not %d", name, n, len(dst))
	}
	if t.Dtype() == tensor.Float32 {
		src := t.Float32s()
		kernels.ParallelFor(len(dst), 1<<15, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				dst[i] = float64(src[i])
			}
		})
		return nil
	}
	copy(dst, t.Float64s())
	return nil
}

// copyIn copies src into t (float32 or float64).
func copyIn(t *tensor.Dense, src []float64, name string) error {
	if n := t.Shape().TotalSize(); len(src) != n {
		return errors.Errorf("graph: %s holds %d values, got %d", name, n, len(src))
	}
	if t.Dtype() == tensor.Float32 {
		dst := t.Float32s()
		kernels.ParallelFor(len(src), 1<<15, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				dst[i] = float32(src[i])
			}
		})
		return nil
	}
	copy(t.Float64s(), src)
	return nil
}
