package graph

import (
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// Buffer is a named, non-trainable tensor of a graph (BatchNorm's running
// statistics): saved with the weights, restored on resume, never touched
// by optimizers. Graph.Params does not list buffers; Graph.Buffers does.
//
// A float buffer holds values of the graph's dtype; a counter (Graph.Counter)
// holds one int64, like PyTorch's num_batches_tracked. Ops update buffers
// in place while they run, so a buffer's Data is the live value.
type Buffer struct {
	Name string

	g     *Graph
	shape []int
	f32   []float32
	f64   []float64
	i64   []int64
}

// Buffer declares a float buffer of the graph's dtype with the given shape,
// filled by init (with fans from Fans(shape), from the graph's RNG). Its
// name is claimed like a node's: no parameter, input or other buffer may
// share it.
func (g *Graph) Buffer(name string, shape []int, init Initializer) (*Buffer, error) {
	if err := g.check("buffer " + name); err != nil {
		return nil, err
	}
	if err := checkShape(name, shape); err != nil {
		return nil, err
	}
	if init == nil {
		return nil, errors.Errorf("graph: buffer %s has no initialiser", name)
	}
	if err := g.claim(name); err != nil {
		return nil, err
	}
	fanIn, fanOut := Fans(shape)
	vals := make([]float64, tensor.Shape(shape).TotalSize())
	init.Fill(g.rng, vals, fanIn, fanOut)
	b := &Buffer{Name: name, g: g, shape: append([]int(nil), shape...)}
	if g.dtype == Float64 {
		b.f64 = vals
	} else {
		b.f32 = make([]float32, len(vals))
		for i, v := range vals {
			b.f32[i] = float32(v)
		}
	}
	g.buffers = append(g.buffers, b)
	return b, nil
}

// Counter declares an int64 scalar buffer (shape []) starting at 0, like
// PyTorch's num_batches_tracked.
func (g *Graph) Counter(name string) (*Buffer, error) {
	if err := g.check("counter " + name); err != nil {
		return nil, err
	}
	if err := g.claim(name); err != nil {
		return nil, err
	}
	b := &Buffer{Name: name, g: g, shape: []int{}, i64: make([]int64, 1)}
	g.buffers = append(g.buffers, b)
	return b, nil
}

// Buffers returns the graph's buffers in declaration order.
func (g *Graph) Buffers() []*Buffer {
	if g == nil {
		return nil
	}
	return append([]*Buffer(nil), g.buffers...)
}

// BufferByName returns the buffer with the given name, or nil.
func (g *Graph) BufferByName(name string) *Buffer {
	if g == nil {
		return nil
	}
	for _, b := range g.buffers {
		if b.Name == name {
			return b
		}
	}
	return nil
}

// Shape returns the buffer's shape ([] for a counter).
func (b *Buffer) Shape() []int {
	if b == nil {
		return nil
	}
	return append([]int{}, b.shape...)
}

// Size returns the number of values in the buffer (1 for a counter).
func (b *Buffer) Size() int {
	switch {
	case b == nil:
		return 0
	case b.i64 != nil:
		return len(b.i64)
	case b.f64 != nil:
		return len(b.f64)
	}
	return len(b.f32)
}

// Int reports whether the buffer is an int64 counter.
func (b *Buffer) Int() bool { return b != nil && b.i64 != nil }

// Data returns the backing slice, shared with the ops that update it:
// []float32, []float64 (the graph's dtype) or []int64 (a counter).
func (b *Buffer) Data() any {
	switch {
	case b == nil:
		return nil
	case b.i64 != nil:
		return b.i64
	case b.f64 != nil:
		return b.f64
	}
	return b.f32
}

// Values returns a copy of the buffer's values as float64.
func (b *Buffer) Values() []float64 {
	v := make([]float64, b.Size())
	for i := range v {
		v[i] = b.at(i)
	}
	return v
}

// SetValues overwrites the buffer's values with v, which must hold Size()
// values (whole numbers for a counter).
func (b *Buffer) SetValues(v []float64) error {
	if b == nil {
		return errors.New("graph: SetValues on a nil buffer")
	}
	if len(v) != b.Size() {
		return errors.Errorf("graph: buffer %s: %d values for shape %v (size %d)", b.Name, len(v), b.shape, b.Size())
	}
	if b.i64 != nil {
		for _, x := range v {
			if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
				return errors.Errorf("graph: counter %s: %g is not a whole number", b.Name, x)
			}
		}
	}
	for i, x := range v {
		b.set(i, x)
	}
	return nil
}

// at returns value i as float64.
func (b *Buffer) at(i int) float64 {
	switch {
	case b.i64 != nil:
		return float64(b.i64[i])
	case b.f64 != nil:
		return b.f64[i]
	}
	return float64(b.f32[i])
}

// set stores x as value i.
func (b *Buffer) set(i int, x float64) {
	switch {
	case b.i64 != nil:
		b.i64[i] = int64(x)
	case b.f64 != nil:
		b.f64[i] = x
	default:
		b.f32[i] = float32(x)
	}
}
