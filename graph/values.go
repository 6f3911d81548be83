package graph

import (
	"github.com/dlrun/dlrun/internal/kernels"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Values returns a copy of the parameter's values as float64, in row-major
// order.
func (p *Param) Values() []float64 {
	out := make([]float64, p.Size())
	_ = p.ReadInto(out)
	return out
}

// ReadInto copies the parameter's values into dst, which must have the
// parameter's size. It allocates nothing, for use in training loops.
func (p *Param) ReadInto(dst []float64) error {
	return copyOut(p.Value(), dst, p.Name)
}

// SetValues overwrites the parameter's values with v (row-major, the
// parameter's size), converting to the graph's dtype.
func (p *Param) SetValues(v []float64) error {
	return copyIn(p.Value(), v, p.Name)
}

// SetInput binds the values v (row-major, as many as the input's shape
// holds) to an input node declared with Input, converting them to the
// graph's dtype; the next run of a Program reads them.
func (g *Graph) SetInput(x *gorgonia.Node, v []float64) error {
	if g == nil || x == nil {
		return errors.New("graph: set input: nil graph or node")
	}
	if x.Graph() != g.g {
		return errors.Errorf("graph: set input: %s belongs to another graph", x.Name())
	}
	t, ok := x.Value().(*tensor.Dense)
	if !ok {
		return errors.Errorf("graph: set input: %s is not a tensor input", x.Name())
	}
	return copyIn(t, v, x.Name())
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
