package nn

import (
	"fmt"
	"slices"

	"github.com/dlrun/dlrun/graph"
	"github.com/pkg/errors"
)

// Residual is a residual block (He et al. 2015): its body, a sub-sequence
// of layers, is applied to the block's input and the input is added to
// the result, y = body(x) + x; the body's output must have the input's
// shape. With a Shortcut the input goes through those layers first,
// y = body(x) + shortcut(x): a projection (a 1×1 strided convolution and
// batch norm in a ResNet) where the body changes the shape. In a model
// file:
//
//   - residual: [{layer_norm: {}}, {attention: {heads: 4, causal: true}}]
//   - residual: {layers: [...], shortcut: [{conv2d: {filters: 64, kernel: 1, stride: 2}}]}
//
// Inside the body, layers may name earlier layers of the body as inputs,
// InputName standing for the block's input. Its layers are named by the
// Sequential that holds the block, in the same count as the others
// (residual1's first dense layer may be dense3), so parameter names stay
// flat: "dense3.weight". The block has no parameters of its own.
type Residual struct {
	base
	Layers   []Layer
	Shortcut []Layer
}

// NewResidual returns a residual block around layers.
func NewResidual(layers ...Layer) *Residual { return &Residual{Layers: layers} }

// Kind implements Layer.
func (r *Residual) Kind() string { return "Residual" }

// Sublayers returns the body's layers, then the shortcut's.
func (r *Residual) Sublayers() []Layer {
	if r == nil {
		return nil
	}
	return slices.Concat(r.Layers, r.Shortcut)
}

// parts returns the body and the shortcut (nil without one) as
// Sequentials whose errors name the block.
func (r *Residual) parts() (body, shortcut *Sequential) {
	scope := fmt.Sprintf("%s (%s)", r.name, r.Kind())
	body = &Sequential{Layers: r.Layers, scope: scope}
	body.name = r.name
	if len(r.Shortcut) > 0 {
		shortcut = &Sequential{Layers: r.Shortcut, scope: scope + " shortcut"}
		shortcut.name = r.name
	}
	return body, shortcut
}

// OutputShape implements Layer.
func (r *Residual) OutputShape(in []int) ([]int, error) {
	if r == nil {
		return nil, nilLayer(r)
	}
	return r.walk(in, 0, nil)
}

// walk implements walker: the body's layers, then the shortcut's, the
// first of which takes the block's input.
func (r *Residual) walk(in []int, depth int, visit func(Visit) error) ([]int, error) {
	if len(r.Layers) == 0 {
		return nil, shapeErr(r, in, "an empty body")
	}
	body, shortcut := r.parts()
	out, err := body.walk(in, depth, visit)
	if err != nil {
		return nil, err
	}
	skip := in
	if shortcut != nil {
		first := true
		v := visit
		if visit != nil {
			v = func(x Visit) error {
				if first && x.Depth == depth && len(x.Inputs) == 0 {
					x.Inputs = []string{InputName}
				}
				first = false
				return visit(x)
			}
		}
		if skip, err = shortcut.walk(in, depth, v); err != nil {
			return nil, err
		}
	}
	if !slices.Equal(out, skip) {
		what := "input"
		if shortcut != nil {
			what = "shortcut's output"
		}
		return nil, shapeErr(r, in, "the body's output %v and the %s %v differ (a shortcut can map one to the other)", out, what, skip)
	}
	return out, nil
}

// NumParams implements Layer: the body's and the shortcut's.
func (r *Residual) NumParams(in []int) int {
	if r == nil {
		return 0
	}
	body, shortcut := r.parts()
	n := body.NumParams(in)
	if shortcut != nil {
		n += shortcut.NumParams(in)
	}
	return n
}

// Build implements Layer.
func (r *Residual) Build(g *graph.Graph, x *graph.Node) (*graph.Node, error) {
	if _, err := checkInput(r, g, x); err != nil {
		return nil, err
	}
	body, shortcut := r.parts()
	y, err := body.Build(g, x)
	if err != nil {
		return nil, err
	}
	r.params = append([]*graph.Param(nil), body.params...)
	skip := x
	if shortcut != nil {
		if skip, err = shortcut.Build(g, x); err != nil {
			return nil, err
		}
		r.params = append(r.params, shortcut.params...)
	}
	out, err := graph.Add(y, skip)
	return out, errors.Wrapf(err, "%s (%s)", r.name, r.Kind())
}

// Model files (spec.go) name this block residual, with the settings layers
// (its body, required) and shortcut; a list alone is its layers:
// residual: [...] is residual: {layers: [...]}.
func init() {
	RegisterLayer("residual",
		func(s *Settings) *Residual {
			r := &Residual{Layers: s.Layers("layers"), Shortcut: s.Layers("shortcut")}
			if r.Layers == nil && s.err == nil {
				s.missing("layers")
			}
			return r
		},
		func(r *Residual, s *Settings) bool {
			s.SetLayers("layers", r.Layers)
			if len(r.Shortcut) > 0 {
				s.SetLayers("shortcut", r.Shortcut)
			}
			return true
		})
}

// BatchValues implements BatchMemory: the body's and the shortcut's and
// the sum (whose gradient is its inputs').
func (r *Residual) BatchValues(in []int, batch int) int64 {
	return r.batchValues(in, batch, false)
}

// batchValues is BatchValues for an input that depends on parameters if
// learning: its gradient then sums the body's and the other path's.
func (r *Residual) batchValues(in []int, batch int, learning bool) int64 {
	out, err := r.OutputShape(in)
	if err != nil {
		return 0
	}
	body, shortcut := r.parts()
	n := body.batchValues(in, batch, learning) + int64(batch)*int64(size(out))
	if shortcut != nil {
		n += shortcut.batchValues(in, batch, learning)
	}
	if learning {
		n += int64(batch) * int64(size(in))
	}
	return n
}
