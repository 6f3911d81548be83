package nn

import (
	"github.com/dlrun/dlrun/graph"
)

// Dense is a fully connected layer: y = x·W + b, with W of shape
// [in, units] and b of shape [units]. Its input is a vector per example,
// or a sequence of vectors [steps, in], to each of which it applies the
// same weights (as Keras's Dense does on its last axis).
type Dense struct {
	base
	Units      int
	KernelInit graph.Initializer // default graph.GlorotUniform
	BiasInit   graph.Initializer // default graph.Zeros
	NoBias     bool
}

// NewDense returns a dense layer with the given number of output units.
func NewDense(units int) *Dense { return &Dense{Units: units} }

// Kind implements Layer.
func (d *Dense) Kind() string { return "Dense" }

// OutputShape implements Layer.
func (d *Dense) OutputShape(in []int) ([]int, error) {
	if d == nil {
		return nil, nilLayer(d)
	}
	if d.Units <= 0 {
		return nil, shapeErr(d, in, "units must be positive, not %d", d.Units)
	}
	switch len(in) {
	case 1:
		return []int{d.Units}, nil
	case 2:
		return []int{in[0], d.Units}, nil
	}
	return nil, shapeErr(d, in, "want a vector per example (add a Flatten layer before it)")
}

// NumParams implements Layer.
func (d *Dense) NumParams(in []int) int {
	if d == nil || len(in) == 0 {
		return 0
	}
	n := in[len(in)-1] * d.Units
	if !d.NoBias {
		n += d.Units
	}
	return n
}

// Build implements Layer.
func (d *Dense) Build(g *graph.Graph, x *graph.Node) (*graph.Node, error) {
	in, err := checkInput(d, g, x)
	if err != nil {
		return nil, err
	}
	kinit, binit := d.KernelInit, d.BiasInit
	if kinit == nil {
		kinit = graph.GlorotUniform
	}
	if binit == nil {
		binit = graph.Zeros
	}
	d.params = nil
	features := in[len(in)-1]
	w, err := d.param(g, "weight", []int{features, d.Units}, kinit)
	if err != nil {
		return nil, err
	}
	if len(in) == 2 { // a sequence: apply to every step as one product
		if x, err = graph.Reshape(x, x.Shape()[0]*in[0], features); err != nil {
			return nil, err
		}
	}
	y, err := graph.MatMul(x, w.Node)
	if err != nil {
		return nil, err
	}
	if !d.NoBias {
		b, err := d.param(g, "bias", []int{d.Units}, binit)
		if err != nil {
			return nil, err
		}
		if y, err = graph.AddBias(y, b.Node); err != nil {
			return nil, err
		}
	}
	if len(in) == 2 {
		return graph.Reshape(y, y.Shape()[0]/in[0], in[0], d.Units)
	}
	return y, nil
}

// Activation is a parameter-free elementwise (or, for Softmax, row-wise)
// layer.
type Activation struct {
	base
	kind string
	fn   func(*graph.Node) (*graph.Node, error)
}

// ReLU returns a rectified linear unit layer, max(x, 0).
func ReLU() *Activation { return &Activation{kind: "ReLU", fn: graph.ReLU} }

// Sigmoid returns a logistic sigmoid layer.
func Sigmoid() *Activation { return &Activation{kind: "Sigmoid", fn: graph.Sigmoid} }

// Tanh returns a hyperbolic tangent layer.
func Tanh() *Activation { return &Activation{kind: "Tanh", fn: graph.Tanh} }

// Softmax returns a layer applying softmax along the last axis. Models
// trained with a cross-entropy loss output logits and need no Softmax layer.
func Softmax() *Activation { return &Activation{kind: "Softmax", fn: graph.Softmax} }

// Kind implements Layer ("Activation" for a nil one or one not made by
// ReLU, Sigmoid, Tanh or Softmax).
func (a *Activation) Kind() string {
	if a == nil || a.kind == "" {
		return "Activation"
	}
	return a.kind
}

// OutputShape implements Layer.
func (a *Activation) OutputShape(in []int) ([]int, error) {
	if a == nil {
		return nil, nilLayer(a)
	}
	if a.fn == nil {
		return nil, shapeErr(a, in, "no function (make the layer with ReLU, Sigmoid, Tanh or Softmax)")
	}
	if len(in) == 0 {
		return nil, shapeErr(a, in, "empty shape")
	}
	return append([]int(nil), in...), nil
}

// NumParams implements Layer: an activation has no parameters.
func (a *Activation) NumParams([]int) int { return 0 }

// Build implements Layer.
func (a *Activation) Build(g *graph.Graph, x *graph.Node) (*graph.Node, error) {
	if _, err := checkInput(a, g, x); err != nil {
		return nil, err
	}
	return a.fn(x)
}

// Flatten reshapes each example to a vector.
type Flatten struct{ base }

// NewFlatten returns a Flatten layer.
func NewFlatten() *Flatten { return &Flatten{} }

// Kind implements Layer.
func (f *Flatten) Kind() string { return "Flatten" }

// OutputShape implements Layer.
func (f *Flatten) OutputShape(in []int) ([]int, error) {
	if f == nil {
		return nil, nilLayer(f)
	}
	if len(in) == 0 {
		return nil, shapeErr(f, in, "empty shape")
	}
	return []int{size(in)}, nil
}

// NumParams implements Layer: Flatten has no parameters.
func (f *Flatten) NumParams([]int) int { return 0 }

// Build implements Layer.
func (f *Flatten) Build(g *graph.Graph, x *graph.Node) (*graph.Node, error) {
	in, err := checkInput(f, g, x)
	if err != nil {
		return nil, err
	}
	if len(in) == 1 {
		return x, nil
	}
	return graph.Reshape(x, x.Shape()[0], size(in))
}

// Model files (spec.go) name these layers dense, flatten, relu, sigmoid, tanh and softmax.
func init() {
	RegisterLayer("dense",
		func(s *Settings) *Dense {
			return &Dense{
				Units:      s.Int("units"),
				NoBias:     !s.Bool("bias", true),
				KernelInit: s.Init("kernel_init"),
				BiasInit:   s.Init("bias_init"),
			}
		},
		func(d *Dense, s *Settings) bool {
			s.Set("units", d.Units)
			if d.NoBias {
				s.Set("bias", false)
			}
			s.SetInit("kernel_init", d.KernelInit, graph.GlorotUniform)
			s.SetInit("bias_init", d.BiasInit, graph.Zeros)
			return true
		})
	RegisterLayer("flatten",
		func(*Settings) *Flatten { return NewFlatten() },
		func(*Flatten, *Settings) bool { return true })
	for _, a := range []struct {
		kind string
		new  func() *Activation
	}{{"relu", ReLU}, {"sigmoid", Sigmoid}, {"tanh", Tanh}, {"softmax", Softmax}} {
		own := a.new().kind
		RegisterLayer(a.kind,
			func(*Settings) *Activation { return a.new() },
			func(l *Activation, _ *Settings) bool { return l.kind == own })
	}
}
