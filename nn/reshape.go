package nn

import (
	"slices"

	"github.com/dlrun/dlrun/graph"
)

// Reshape gives each example a new shape of the same size (Keras's
// Reshape; PyTorch's x.view(batch, *Shape)). One dimension may be -1: it
// takes whatever size the others leave.
type Reshape struct {
	base
	Shape []int
}

// NewReshape returns a Reshape to shape.
func NewReshape(shape ...int) *Reshape { return &Reshape{Shape: shape} }

// Kind implements Layer.
func (r *Reshape) Kind() string { return "Reshape" }

// OutputShape implements Layer.
func (r *Reshape) OutputShape(in []int) ([]int, error) {
	if r == nil {
		return nil, nilLayer(r)
	}
	if len(r.Shape) == 0 {
		return nil, shapeErr(r, in, "no target shape")
	}
	out, known, free := slices.Clone(r.Shape), 1, -1
	for i, d := range out {
		switch {
		case d == -1 && free < 0:
			free = i
		case d < 1:
			return nil, shapeErr(r, in, "target %v: dimensions must be positive, but for one -1", r.Shape)
		default:
			known *= d
		}
	}
	n := size(in)
	if free >= 0 {
		if known == 0 || n%known != 0 {
			return nil, shapeErr(r, in, "%d values do not make a shape %v", n, r.Shape)
		}
		out[free] = n / known
	} else if known != n {
		return nil, shapeErr(r, in, "%d values do not make a shape %v of %d", n, r.Shape, known)
	}
	return out, nil
}

// Build implements Layer.
func (r *Reshape) Build(g *graph.Graph, x *graph.Node) (*graph.Node, error) {
	in, err := checkInput(r, g, x)
	if err != nil {
		return nil, err
	}
	out, _ := r.OutputShape(in)
	return graph.Reshape(x, append([]int{x.Shape()[0]}, out...)...)
}

// Model files (spec.go) name this layer reshape, with the setting shape,
// a list of dimensions of which one may be -1: reshape: {shape: [4, -1]}.
func init() {
	RegisterLayer("reshape",
		func(s *Settings) *Reshape { return &Reshape{Shape: shapeSetting(s, "shape")} },
		func(r *Reshape, s *Settings) bool {
			s.Set("shape", slices.Clone(r.Shape))
			return true
		})
}

// shapeSetting reads setting key, a required list of positive integers
// of which one may be -1.
func shapeSetting(s *Settings, key string) []int {
	out, ok := s.ints(key, "a list of positive integers, one of which may be -1, as in [4, -1]", func(n int) bool { return n > 0 || n == -1 })
	if !ok {
		s.missing(key)
	}
	return out
}

// NumParams implements Layer: Reshape has no parameters.
func (r *Reshape) NumParams([]int) int { return 0 }

// BatchValues implements BatchMemory: nothing, since a reshape is a view
// of its input, and its gradient a view of its output's.
func (r *Reshape) BatchValues(in []int, batch int) int64 { return 0 }
