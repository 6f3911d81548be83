package nn

import (
	"math"
	"strings"

	"github.com/dlrun/dlrun/graph"
)

// Conv1D is a 1-D convolution over sequences: per example the input is
// [steps, channels] (dlrun's sequence layout, Keras's Conv1D) and the
// output [osteps, Filters]. Its weight has PyTorch's nn.Conv1d layout
// [Filters, channels, Kernel]; PyTorch computes the same on
// x.transpose(1, 2). A dilated convolution's Kernel taps lie Dilation
// steps apart, so a window spans (Kernel−1)·Dilation+1 steps (PyTorch's
// dilation, Keras's dilation_rate): a stack of them with dilations 1, 2,
// 4, ... sees far at the cost of a few taps, as WaveNet's and TransNetV2's
// do.
type Conv1D struct {
	base
	Filters, Kernel int
	Stride          int               // default 1
	Dilation        int               // steps between taps; default 1
	Padding         string            // "valid" (default), "same" or "causal"
	KernelInit      graph.Initializer // default graph.GlorotUniform
	BiasInit        graph.Initializer // default graph.Zeros
	NoBias          bool
}

// NewConv1D returns a convolution with the given filters and kernel
// width, stride 1 and "valid" padding.
func NewConv1D(filters, kernel int) *Conv1D { return &Conv1D{Filters: filters, Kernel: kernel} }

// Kind implements Layer.
func (c *Conv1D) Kind() string { return "Conv1D" }

func (c *Conv1D) stride() int { return max(c.Stride, 1) }

func (c *Conv1D) dilation() int { return max(c.Dilation, 1) }

// Span returns the steps one window covers: (Kernel−1)·Dilation + 1.
func (c *Conv1D) Span() int { return graph.Conv1DSpan(c.Kernel, c.dilation()) }

// Pads returns the zero steps before and after a sequence of in[0] steps:
// none (valid); an output of ⌈l/stride⌉, the odd extra step after (same,
// as TensorFlow's); or Span−1 before, so that no output sees a later step
// (causal, Keras's).
func (c *Conv1D) Pads(in []int) (left, right int, err error) {
	switch strings.ToLower(c.Padding) {
	case "", "valid":
		return 0, 0, nil
	case "same":
		p := graph.SamePadding(1, in[0], 1, c.Span(), 1, c.stride())
		return p.Left, p.Right, nil
	case "causal":
		return c.Span() - 1, 0, nil
	}
	return 0, 0, shapeErr(c, in, "padding %q (want valid, same or causal)", c.Padding)
}

// OutputShape implements Layer.
func (c *Conv1D) OutputShape(in []int) ([]int, error) {
	if c == nil {
		return nil, nilLayer(c)
	}
	if len(in) != 2 {
		return nil, shapeErr(c, in, "want [steps channels] per example")
	}
	if c.Filters <= 0 || c.Kernel <= 0 || c.Stride < 0 || c.Dilation < 0 {
		return nil, shapeErr(c, in, "filters %d, kernel %d, stride %d and dilation %d must be positive", c.Filters, c.Kernel, c.Stride, c.Dilation)
	}
	if c.Span() > MaxSettingInt {
		return nil, shapeErr(c, in, "a kernel of %d taps %d steps apart spans %d steps, more than %d", c.Kernel, c.dilation(), c.Span(), MaxSettingInt)
	}
	l, r, err := c.Pads(in)
	if err != nil {
		return nil, err
	}
	span := in[0] + l + r
	if span < c.Span() {
		if c.dilation() > 1 {
			return nil, shapeErr(c, in, "a kernel of %d taps %d steps apart (%d steps) does not fit", c.Kernel, c.dilation(), c.Span())
		}
		return nil, shapeErr(c, in, "a kernel of %d steps does not fit", c.Kernel)
	}
	return []int{(span-c.Span())/c.stride() + 1, c.Filters}, nil
}

// NumParams implements Layer. It saturates at math.MaxInt rather than
// overflow.
func (c *Conv1D) NumParams(in []int) int {
	if c == nil || len(in) != 2 {
		return 0
	}
	n := float64(c.Filters) * float64(in[1]) * float64(c.Kernel)
	if !c.NoBias {
		n += float64(c.Filters)
	}
	if n >= math.MaxInt {
		return math.MaxInt
	}
	return int(n)
}

// Build implements Layer.
func (c *Conv1D) Build(g *graph.Graph, x *graph.Node) (*graph.Node, error) {
	in, err := checkInput(c, g, x)
	if err != nil {
		return nil, err
	}
	w, b, err := c.weightAndBias(g, []int{c.Filters, in[1], c.Kernel}, c.Filters, c.KernelInit, c.BiasInit, c.NoBias)
	if err != nil {
		return nil, err
	}
	l, r, _ := c.Pads(in)
	return graph.Conv1D(x, w, b, c.stride(), c.dilation(), l, r)
}

// SetIncremental implements Incremental: only a convolution of one step
// at stride 1 runs a step at a time.
func (c *Conv1D) SetIncremental(maxLen int) error {
	if c == nil || (c.Kernel == 1 && c.stride() == 1) {
		return nil
	}
	return refuseIncremental(c, maxLen, "each output sees several steps")
}

// Model files (spec.go) name this layer conv1d.
func init() {
	RegisterLayer("conv1d",
		func(s *Settings) *Conv1D {
			c := &Conv1D{Filters: s.Int("filters"), Kernel: s.Int("kernel"), Stride: s.Int("stride", 0), Dilation: s.Int("dilation", 0)}
			if c.Padding = s.Choice("padding", "valid", "same", "causal"); c.Padding == "valid" {
				c.Padding = ""
			}
			c.NoBias = !s.Bool("bias", true)
			c.KernelInit, c.BiasInit = s.Init("kernel_init"), s.Init("bias_init")
			return c
		},
		func(c *Conv1D, s *Settings) bool {
			s.Set("filters", c.Filters)
			s.Set("kernel", c.Kernel)
			if c.stride() != 1 {
				s.Set("stride", c.stride())
			}
			if c.dilation() != 1 {
				s.Set("dilation", c.dilation())
			}
			if p := strings.ToLower(c.Padding); p != "" && p != "valid" {
				s.Set("padding", p)
			}
			if c.NoBias {
				s.Set("bias", false)
			}
			s.SetInit("kernel_init", c.KernelInit, graph.GlorotUniform)
			s.SetInit("bias_init", c.BiasInit, graph.Zeros)
			return true
		})
}

// BatchValues implements BatchMemory: the output and the gradient of the
// input, and the convolution's working memory (graph.Conv1DWorkspace).
func (c *Conv1D) BatchValues(in []int, batch int) int64 {
	out, err := c.OutputShape(in)
	if err != nil {
		return 0
	}
	l, r, err := c.Pads(in)
	if err != nil {
		return 0
	}
	return oneOp(in, out, batch) + graph.Conv1DWorkspace(batch, in[0], in[1], c.Filters, c.Kernel, c.dilation(), out[0], l+r)
}
