package nn

import "github.com/dlrun/dlrun/graph"

// GELU is the Gaussian error linear unit x·Φ(x) (graph.GELU), or with
// Tanh set its tanh approximation (graph.GELUTanh, GPT-2's): PyTorch's
// nn.GELU() and nn.GELU(approximate="tanh"). It has no parameters.
type GELU struct {
	base
	Tanh bool
}

// NewGELU returns an exact GELU layer.
func NewGELU() *GELU { return &GELU{} }

// Kind implements Layer.
func (l *GELU) Kind() string { return "GELU" }

// OutputShape implements Layer.
func (l *GELU) OutputShape(in []int) ([]int, error) {
	if l == nil {
		return nil, nilLayer(l)
	}
	if len(in) == 0 {
		return nil, shapeErr(l, in, "empty shape")
	}
	return append([]int(nil), in...), nil
}

// Build implements Layer.
func (l *GELU) Build(g *graph.Graph, x *graph.Node) (*graph.Node, error) {
	if _, err := checkInput(l, g, x); err != nil {
		return nil, err
	}
	if l.Tanh {
		return graph.GELUTanh(x)
	}
	return graph.GELU(x)
}

// Model files (spec.go) name this layer gelu, with PyTorch's setting
// approximate: none (the default) or tanh.
func init() {
	RegisterLayer("gelu",
		func(s *Settings) *GELU { return &GELU{Tanh: s.Choice("approximate", "none", "tanh") == "tanh"} },
		func(l *GELU, s *Settings) bool {
			if l.Tanh {
				s.Set("approximate", "tanh")
			}
			return true
		})
}

// NumParams implements Layer: GELU has no parameters.
func (l *GELU) NumParams([]int) int { return 0 }
