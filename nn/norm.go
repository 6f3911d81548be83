package nn

import (
	"math"

	"github.com/dlrun/dlrun/graph"
)

// BatchNorm normalises each feature (or channel) with statistics taken
// over the batch, PyTorch's BatchNorm1d for a per-example input [features]
// and BatchNorm2d for [channels, h, w]; the output has the input's shape.
// See graph.BatchNorm for the computation, training and evaluation mode
// (graph.Graph.SetTraining) and padded batches.
//
// Its parameters are weight (gamma, initialised to ones) and bias (beta,
// zeros), both [C]; its buffers, not trained, running_mean (zeros),
// running_var (ones), both [C], and num_batches_tracked (an int64 counter),
// so that "<name>.weight", "<name>.running_mean", ... map one to one onto
// the layer's PyTorch state dict.
type BatchNorm struct {
	base
	// Momentum weighs the batch in the running statistics' update;
	// 0 means PyTorch's default 0.1. It must lie in [0, 1], as
	// graph.BatchNorm requires (1 keeps the last batch's statistics).
	Momentum float64
	// Eps is added to the variance; 0 means PyTorch's default 1e-5.
	Eps float64
}

// NewBatchNorm returns a batch normalisation layer with PyTorch's defaults
// (momentum 0.1, eps 1e-5).
func NewBatchNorm() *BatchNorm { return &BatchNorm{} }

// Kind implements Layer.
func (b *BatchNorm) Kind() string { return "BatchNorm" }

func (b *BatchNorm) settings() (momentum, eps float64) {
	momentum, eps = b.Momentum, b.Eps
	if momentum == 0 {
		momentum = 0.1
	}
	if eps == 0 {
		eps = 1e-5
	}
	return momentum, eps
}

// OutputShape implements Layer.
func (b *BatchNorm) OutputShape(in []int) ([]int, error) {
	if b == nil {
		return nil, nilLayer(b)
	}
	if len(in) != 1 && len(in) != 3 {
		return nil, shapeErr(b, in, "want [features] or [channels height width] per example")
	}
	if err := normDimsPositive(b, in); err != nil {
		return nil, err
	}
	if !(b.Momentum >= 0 && b.Momentum <= 1) {
		return nil, shapeErr(b, in, "momentum %g must lie in [0, 1] (0: the default 0.1)", b.Momentum)
	}
	if !(b.Eps >= 0) || math.IsInf(b.Eps, 1) {
		return nil, shapeErr(b, in, "eps %g must be positive (0: the default 1e-5)", b.Eps)
	}
	return append([]int(nil), in...), nil
}

// NumParams implements Layer: weight and bias, 2·C (buffers are not
// parameters).
func (b *BatchNorm) NumParams(in []int) int {
	if b == nil || (len(in) != 1 && len(in) != 3) {
		return 0
	}
	return 2 * in[0]
}

// Build implements Layer.
func (b *BatchNorm) Build(g *graph.Graph, x *graph.Node) (*graph.Node, error) {
	in, err := checkInput(b, g, x)
	if err != nil {
		return nil, err
	}
	c := []int{in[0]}
	b.params = nil
	w, err := b.param(g, "weight", c, graph.Constant(1))
	if err != nil {
		return nil, err
	}
	bias, err := b.param(g, "bias", c, graph.Zeros)
	if err != nil {
		return nil, err
	}
	mean, err := g.Buffer(b.name+".running_mean", c, graph.Zeros)
	if err != nil {
		return nil, err
	}
	variance, err := g.Buffer(b.name+".running_var", c, graph.Constant(1))
	if err != nil {
		return nil, err
	}
	count, err := g.Counter(b.name + ".num_batches_tracked")
	if err != nil {
		return nil, err
	}
	momentum, eps := b.settings()
	return graph.BatchNorm(x, w.Node, bias.Node, mean, variance, count, momentum, eps)
}

// LayerNorm normalises the last axis of each example with its own mean and
// variance, PyTorch's LayerNorm(d) for a per-example input [..., d]; the
// output has the input's shape, and the layer is the same in training and
// evaluation. Its parameters are weight (ones) and bias (zeros), both [d].
type LayerNorm struct {
	base
	// Eps is added to the variance; 0 means PyTorch's default 1e-5.
	Eps float64
}

// NewLayerNorm returns a layer normalisation layer with eps 1e-5.
func NewLayerNorm() *LayerNorm { return &LayerNorm{} }

// Kind implements Layer.
func (l *LayerNorm) Kind() string { return "LayerNorm" }

// OutputShape implements Layer.
func (l *LayerNorm) OutputShape(in []int) ([]int, error) {
	if l == nil {
		return nil, nilLayer(l)
	}
	if len(in) == 0 {
		return nil, shapeErr(l, in, "empty shape")
	}
	if err := normDimsPositive(l, in); err != nil {
		return nil, err
	}
	if !(l.Eps >= 0) || math.IsInf(l.Eps, 1) {
		return nil, shapeErr(l, in, "eps %g must be positive (0: the default 1e-5)", l.Eps)
	}
	return append([]int(nil), in...), nil
}

// NumParams implements Layer: weight and bias, 2·d.
func (l *LayerNorm) NumParams(in []int) int {
	if l == nil || len(in) == 0 {
		return 0
	}
	return 2 * in[len(in)-1]
}

// Build implements Layer.
func (l *LayerNorm) Build(g *graph.Graph, x *graph.Node) (*graph.Node, error) {
	in, err := checkInput(l, g, x)
	if err != nil {
		return nil, err
	}
	d := []int{in[len(in)-1]}
	l.params = nil
	w, err := l.param(g, "weight", d, graph.Constant(1))
	if err != nil {
		return nil, err
	}
	b, err := l.param(g, "bias", d, graph.Zeros)
	if err != nil {
		return nil, err
	}
	eps := l.Eps
	if eps == 0 {
		eps = 1e-5
	}
	return graph.LayerNorm(x, w.Node, b.Node, eps)
}

// normDimsPositive checks that every dimension of in is positive.
func normDimsPositive(l Layer, in []int) error {
	for _, d := range in {
		if d <= 0 {
			return shapeErr(l, in, "dimensions must be positive")
		}
	}
	return nil
}

// Model files (spec.go) name these layers batch_norm and layer_norm.
func init() {
	RegisterLayer("batch_norm",
		func(s *Settings) *BatchNorm {
			b := &BatchNorm{Momentum: s.Float("momentum", 0), Eps: s.Float("eps", 0)}
			if !(b.Momentum >= 0 && b.Momentum <= 1) {
				s.Invalid("momentum", "at least 0 and at most 1")
			}
			if b.Eps < 0 {
				s.Invalid("eps", "a positive number")
			}
			return b
		},
		func(b *BatchNorm, s *Settings) bool {
			if b.Momentum != 0 && b.Momentum != 0.1 {
				s.Set("momentum", b.Momentum)
			}
			if b.Eps != 0 && b.Eps != 1e-5 {
				s.Set("eps", b.Eps)
			}
			return true
		})
	RegisterLayer("layer_norm",
		func(s *Settings) *LayerNorm {
			l := &LayerNorm{Eps: s.Float("eps", 0)}
			if l.Eps < 0 {
				s.Invalid("eps", "a positive number")
			}
			return l
		},
		func(l *LayerNorm, s *Settings) bool {
			if l.Eps != 0 && l.Eps != 1e-5 {
				s.Set("eps", l.Eps)
			}
			return true
		})
}
