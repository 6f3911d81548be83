package graph

import (
	"slices"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
)

// ShareValues makes the parameters and buffers of g use the values of
// from's, without a copy: both graphs must declare the same parameters and
// buffers (names, shapes, kinds) in the same order, at the same dtype. A
// later change to from's values shows in g. It is for running one model's
// weights in graphs built for other batch sizes, such as inference on one
// example with a model trained on batches of 64; training g would change
// from's values too.
func (g *Graph) ShareValues(from *Graph) error {
	if err := g.check("share values"); err != nil {
		return err
	}
	if err := from.check("share values"); err != nil {
		return err
	}
	if g.dtype != from.dtype {
		return errors.Errorf("graph: share values: dtype %v and %v differ", g.dtype, from.dtype)
	}
	if len(g.params) != len(from.params) || len(g.buffers) != len(from.buffers) {
		return errors.Errorf("graph: share values: %d parameters and %d buffers, the other graph %d and %d", len(g.params), len(g.buffers), len(from.params), len(from.buffers))
	}
	for i, p := range g.params {
		q := from.params[i]
		if p.Name != q.Name || !slices.Equal(p.Shape(), q.Shape()) {
			return errors.Errorf("graph: share values: parameter %d is %s %v here, %s %v there", i, p.Name, p.Shape(), q.Name, q.Shape())
		}
	}
	for i, b := range g.buffers {
		o := from.buffers[i]
		if b.Name != o.Name || !slices.Equal(b.shape, o.shape) || b.Int() != o.Int() {
			return errors.Errorf("graph: share values: buffer %d is %s %v here, %s %v there", i, b.Name, b.shape, o.Name, o.shape)
		}
	}
	for i, p := range g.params {
		if err := gorgonia.Let(p.Node, from.params[i].Node.Value()); err != nil {
			return errors.Wrapf(err, "graph: share values: parameter %s", p.Name)
		}
	}
	for i, b := range g.buffers {
		o := from.buffers[i]
		b.f32, b.f64, b.i64 = o.f32, o.f64, o.i64
	}
	return nil
}
