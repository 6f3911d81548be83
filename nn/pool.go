package nn

import "github.com/dlrun/dlrun/graph"

// GlobalAvgPool1D averages each channel of a sequence over its steps:
// [steps, channels] → [channels] (Keras's GlobalAveragePooling1D;
// PyTorch's x.mean(dim=1) on dlrun's layout).
type GlobalAvgPool1D struct{ base }

// GlobalAvgPool2D averages each channel of an image over its positions:
// [channels, h, w] → [channels] (PyTorch's nn.AdaptiveAvgPool2d(1) then
// flatten; Keras's GlobalAveragePooling2D on channels-first images).
type GlobalAvgPool2D struct{ base }

// NewGlobalAvgPool1D returns a GlobalAvgPool1D layer.
func NewGlobalAvgPool1D() *GlobalAvgPool1D { return &GlobalAvgPool1D{} }

// NewGlobalAvgPool2D returns a GlobalAvgPool2D layer.
func NewGlobalAvgPool2D() *GlobalAvgPool2D { return &GlobalAvgPool2D{} }

// Kind implements Layer.
func (p *GlobalAvgPool1D) Kind() string { return "GlobalAvgPool1D" }

// Kind implements Layer.
func (p *GlobalAvgPool2D) Kind() string { return "GlobalAvgPool2D" }

// OutputShape implements Layer.
func (p *GlobalAvgPool1D) OutputShape(in []int) ([]int, error) {
	if p == nil {
		return nil, nilLayer(p)
	}
	if len(in) != 2 {
		return nil, shapeErr(p, in, "want [steps channels] per example")
	}
	return []int{in[1]}, nil
}

// OutputShape implements Layer.
func (p *GlobalAvgPool2D) OutputShape(in []int) ([]int, error) {
	if p == nil {
		return nil, nilLayer(p)
	}
	if len(in) != 3 {
		return nil, shapeErr(p, in, "want [channels height width] per example")
	}
	return []int{in[0]}, nil
}

// Build implements Layer.
func (p *GlobalAvgPool1D) Build(g *graph.Graph, x *graph.Node) (*graph.Node, error) {
	if _, err := checkInput(p, g, x); err != nil {
		return nil, err
	}
	return graph.Mean(x, 1)
}

// Build implements Layer.
func (p *GlobalAvgPool2D) Build(g *graph.Graph, x *graph.Node) (*graph.Node, error) {
	if _, err := checkInput(p, g, x); err != nil {
		return nil, err
	}
	return graph.Mean(x, 2, 3)
}

// SetIncremental implements Incremental: an average over every step
// cannot be taken a step at a time.
func (p *GlobalAvgPool1D) SetIncremental(maxLen int) error {
	return refuseIncremental(p, maxLen, "it averages over every step")
}

// Model files (spec.go) name these layers global_avg_pool1d and
// global_avg_pool2d.
func init() {
	RegisterLayer("global_avg_pool1d",
		func(*Settings) *GlobalAvgPool1D { return NewGlobalAvgPool1D() },
		func(*GlobalAvgPool1D, *Settings) bool { return true })
	RegisterLayer("global_avg_pool2d",
		func(*Settings) *GlobalAvgPool2D { return NewGlobalAvgPool2D() },
		func(*GlobalAvgPool2D, *Settings) bool { return true })
}

// NumParams implements Layer: pooling has no parameters.
func (p *GlobalAvgPool1D) NumParams([]int) int { return 0 }

// NumParams implements Layer: pooling has no parameters.
func (p *GlobalAvgPool2D) NumParams([]int) int { return 0 }
