package nn

import (
	"fmt"
	"strings"

	"github.com/dlrun/dlrun/graph"
)

// Conv2D is a 2-D convolution over NCHW images: per example the input is
// [channels, height, width] and the output [Filters, oh, ow]. Its weight
// has PyTorch's layout [Filters, channels, KernelH, KernelW].
type Conv2D struct {
	base
	Filters          int
	KernelH, KernelW int
	StrideH, StrideW int               // default 1
	Padding          string            // "valid" (default) or "same"
	KernelInit       graph.Initializer // default graph.GlorotUniform
	BiasInit         graph.Initializer // default graph.Zeros
	NoBias           bool
}

// NewConv2D returns a convolution with the given number of filters and a
// square kernel, stride 1 and "valid" padding.
func NewConv2D(filters, kernel int) *Conv2D {
	return &Conv2D{Filters: filters, KernelH: kernel, KernelW: kernel}
}

// Kind implements Layer.
func (c *Conv2D) Kind() string { return "Conv2D" }

func (c *Conv2D) strides() (int, int) {
	sh, sw := c.StrideH, c.StrideW
	if sh == 0 {
		sh = 1
	}
	if sw == 0 {
		sw = 1
	}
	return sh, sw
}

func (c *Conv2D) padding(in []int) (graph.Padding, error) {
	sh, sw := c.strides()
	switch strings.ToLower(c.Padding) {
	case "", "valid":
		return graph.Padding{}, nil
	case "same":
		return graph.SamePadding(in[1], in[2], c.KernelH, c.KernelW, sh, sw), nil
	}
	return graph.Padding{}, shapeErr(c, in, "padding %q (want valid or same)", c.Padding)
}

// OutputShape implements Layer.
func (c *Conv2D) OutputShape(in []int) ([]int, error) {
	if c == nil {
		return nil, nilLayer(c)
	}
	if len(in) != 3 {
		return nil, shapeErr(c, in, "want [channels height width] per example")
	}
	if c.Filters <= 0 || c.KernelH <= 0 || c.KernelW <= 0 || c.StrideH < 0 || c.StrideW < 0 {
		return nil, shapeErr(c, in, "filters %d, kernel %dx%d and strides must be positive", c.Filters, c.KernelH, c.KernelW)
	}
	p, err := c.padding(in)
	if err != nil {
		return nil, err
	}
	sh, sw := c.strides()
	h, w := in[1]+p.Top+p.Bottom, in[2]+p.Left+p.Right
	if h < c.KernelH || w < c.KernelW {
		return nil, shapeErr(c, in, "a %dx%d kernel does not fit", c.KernelH, c.KernelW)
	}
	return []int{c.Filters, (h-c.KernelH)/sh + 1, (w-c.KernelW)/sw + 1}, nil
}

// NumParams implements Layer.
func (c *Conv2D) NumParams(in []int) int {
	if c == nil || len(in) != 3 {
		return 0
	}
	n := c.Filters * in[0] * c.KernelH * c.KernelW
	if !c.NoBias {
		n += c.Filters
	}
	return n
}

// Build implements Layer.
func (c *Conv2D) Build(g *graph.Graph, x *graph.Node) (*graph.Node, error) {
	return c.build(g, x, false)
}

// build adds the convolution, followed by a ReLU fused into it if relu.
func (c *Conv2D) build(g *graph.Graph, x *graph.Node, relu bool) (*graph.Node, error) {
	in, err := checkInput(c, g, x)
	if err != nil {
		return nil, err
	}
	w, b, err := c.weightAndBias(g, []int{c.Filters, in[0], c.KernelH, c.KernelW}, c.Filters, c.KernelInit, c.BiasInit, c.NoBias)
	if err != nil {
		return nil, err
	}
	p, _ := c.padding(in)
	sh, sw := c.strides()
	if relu {
		return graph.Conv2DReLU(x, w, b, sh, sw, p)
	}
	return graph.Conv2D(x, w, b, sh, sw, p)
}

// MaxPool2D takes the maximum over Size×Size windows every Stride pixels
// (Stride defaults to Size), without padding.
type MaxPool2D struct {
	base
	Size, Stride int
}

// NewMaxPool2D returns a max-pooling layer with a square window of size
// and stride size.
func NewMaxPool2D(size int) *MaxPool2D { return &MaxPool2D{Size: size} }

// Kind implements Layer.
func (m *MaxPool2D) Kind() string { return "MaxPool2D" }

func (m *MaxPool2D) stride() int {
	if m.Stride == 0 {
		return m.Size
	}
	return m.Stride
}

// OutputShape implements Layer.
func (m *MaxPool2D) OutputShape(in []int) ([]int, error) {
	if m == nil {
		return nil, nilLayer(m)
	}
	if len(in) != 3 {
		return nil, shapeErr(m, in, "want [channels height width] per example")
	}
	if m.Size <= 0 || m.stride() <= 0 {
		return nil, shapeErr(m, in, "size %d and stride %d must be positive", m.Size, m.stride())
	}
	if in[1] < m.Size || in[2] < m.Size {
		return nil, shapeErr(m, in, "a %dx%d window does not fit", m.Size, m.Size)
	}
	s := m.stride()
	return []int{in[0], (in[1]-m.Size)/s + 1, (in[2]-m.Size)/s + 1}, nil
}

// NumParams implements Layer: pooling has no parameters.
func (m *MaxPool2D) NumParams([]int) int { return 0 }

// Build implements Layer.
func (m *MaxPool2D) Build(g *graph.Graph, x *graph.Node) (*graph.Node, error) {
	if _, err := checkInput(m, g, x); err != nil {
		return nil, err
	}
	return graph.MaxPool2D(x, m.Size, m.Size, m.stride(), m.stride())
}

// Dropout zeroes each value with probability Rate during training and
// scales the rest by 1/(1-Rate) (inverted dropout); in evaluation it passes
// its input through. Masks are drawn from the graph's seeded RNG, so a run
// is reproducible.
type Dropout struct {
	base
	Rate float64
}

// NewDropout returns a dropout layer with the given drop probability.
func NewDropout(rate float64) *Dropout { return &Dropout{Rate: rate} }

// Kind implements Layer.
func (d *Dropout) Kind() string { return "Dropout" }

// OutputShape implements Layer.
func (d *Dropout) OutputShape(in []int) ([]int, error) {
	if d == nil {
		return nil, nilLayer(d)
	}
	if !(d.Rate >= 0 && d.Rate < 1) {
		return nil, shapeErr(d, in, "rate %g must be in [0, 1)", d.Rate)
	}
	return append([]int(nil), in...), nil
}

// NumParams implements Layer: dropout has no parameters.
func (d *Dropout) NumParams([]int) int { return 0 }

// Build implements Layer. The mask is an input of the graph,
// "<name>.mask", that a feed fills before every run.
func (d *Dropout) Build(g *graph.Graph, x *graph.Node) (*graph.Node, error) {
	if _, err := checkInput(d, g, x); err != nil {
		return nil, err
	}
	mask, err := g.Input(d.name+".mask", x.Shape()...)
	if err != nil {
		return nil, err
	}
	m, err := g.InputData(mask)
	if err != nil {
		return nil, fmt.Errorf("%s: binding the mask: %v", d.name, err)
	}
	rate, rng := d.Rate, g.RNG()
	keep := 1 / (1 - rate)
	err = g.AddFeed(d.name, func(training bool) error {
		if m32 := m.Float32s(); m32 != nil {
			fillMask(m32, training, rate, float32(keep), rng.Float64)
		} else {
			fillMask(m.Float64s(), training, rate, keep, rng.Float64)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return graph.Mask(x, mask)
}

func fillMask[T float32 | float64](m []T, training bool, rate float64, keep T, u func() float64) {
	for i := range m {
		if !training || u() >= rate {
			if training {
				m[i] = keep
			} else {
				m[i] = 1
			}
		} else {
			m[i] = 0
		}
	}
}

// Model files (spec.go) name these layers conv2d, max_pool2d and dropout.
func init() {
	RegisterLayer("conv2d",
		func(s *Settings) *Conv2D {
			c := &Conv2D{Filters: s.Int("filters")}
			c.KernelH, c.KernelW = s.Pair("kernel")
			c.StrideH, c.StrideW = s.Pair("stride", 0)
			if c.Padding = s.Choice("padding", "valid", "same"); c.Padding == "valid" {
				c.Padding = ""
			}
			c.NoBias = !s.Bool("bias", true)
			c.KernelInit, c.BiasInit = s.Init("kernel_init"), s.Init("bias_init")
			return c
		},
		func(c *Conv2D, s *Settings) bool {
			s.Set("filters", c.Filters)
			s.SetPair("kernel", c.KernelH, c.KernelW)
			if sh, sw := c.strides(); sh != 1 || sw != 1 {
				s.SetPair("stride", sh, sw)
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
	RegisterLayer("max_pool2d",
		func(s *Settings) *MaxPool2D { return &MaxPool2D{Size: s.Int("size"), Stride: s.Int("stride", 0)} },
		func(m *MaxPool2D, s *Settings) bool {
			s.Set("size", m.Size)
			if m.Stride != 0 && m.Stride != m.Size {
				s.Set("stride", m.Stride)
			}
			return true
		})
	RegisterLayer("dropout",
		func(s *Settings) *Dropout {
			d := NewDropout(s.Float("rate"))
			if !(d.Rate >= 0 && d.Rate < 1) {
				s.Invalid("rate", "at least 0 and less than 1")
			}
			return d
		},
		func(d *Dropout, s *Settings) bool { s.Set("rate", d.Rate); return true })
}
