package nn

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dlrun/dlrun/graph"
)

// Add sums the outputs of two or more layers, which must have one shape
// (Keras's Add, PyTorch's a + b): a skip connection written out, or the
// join of branches. Name its inputs with SetInputs (NewAdd); in a model
// file, add: {inputs: [a, b]}.
type Add struct{ base }

// NewAdd returns an Add of the named layers' outputs.
func NewAdd(inputs ...string) *Add {
	a := &Add{}
	a.SetInputs(inputs...)
	return a
}

// Kind implements Layer.
func (a *Add) Kind() string { return "Add" }

// OutputShape implements Layer: an Add of one input is an error.
func (a *Add) OutputShape(in []int) ([]int, error) { return a.OutputShapeOf([][]int{in}) }

// OutputShapeOf implements MultiInput.
func (a *Add) OutputShapeOf(in [][]int) ([]int, error) {
	if a == nil {
		return nil, nilLayer(a)
	}
	if len(in) < 2 {
		return nil, shapeErr(a, first(in), "adds two or more inputs, not %d (name them in its inputs)", len(in))
	}
	for _, s := range in[1:] {
		if !slices.Equal(s, in[0]) {
			return nil, shapeErr(a, in[0], "the inputs' shapes %s differ", shapeList(in))
		}
	}
	return slices.Clone(in[0]), nil
}

// Build implements Layer: an Add of one input is an error.
func (a *Add) Build(g *graph.Graph, x *graph.Node) (*graph.Node, error) {
	return a.BuildOn(g, []*graph.Node{x})
}

// BuildOn implements MultiInput.
func (a *Add) BuildOn(g *graph.Graph, xs []*graph.Node) (*graph.Node, error) {
	if err := checkInputs(a, g, xs); err != nil {
		return nil, err
	}
	y := xs[0]
	for _, x := range xs[1:] {
		var err error
		if y, err = graph.Add(y, x); err != nil {
			return nil, err
		}
	}
	return y, nil
}

// Concat joins the outputs of two or more layers along an axis (Keras's
// Concatenate, PyTorch's torch.cat): Axis counts as theirs do, the batch
// axis being 0, so 1 is an example's first axis and -1 (the default, which
// 0 also means) its last; the inputs must agree on every other axis. On
// images [c, h, w], axis 1 joins channels.
type Concat struct {
	base
	Axis int
}

// NewConcat returns a Concat of the named layers' outputs along their
// last axis.
func NewConcat(inputs ...string) *Concat {
	c := &Concat{}
	c.SetInputs(inputs...)
	return c
}

// Kind implements Layer.
func (c *Concat) Kind() string { return "Concat" }

// JoinAxis returns the axis of examples of rank n that c joins along,
// counted from 0 for an example's first.
func (c *Concat) JoinAxis(n int) int {
	switch {
	case c.Axis == 0:
		return n - 1
	case c.Axis < 0:
		return c.Axis + n
	}
	return c.Axis - 1
}

// OutputShape implements Layer: a Concat of one input is an error.
func (c *Concat) OutputShape(in []int) ([]int, error) { return c.OutputShapeOf([][]int{in}) }

// OutputShapeOf implements MultiInput.
func (c *Concat) OutputShapeOf(in [][]int) ([]int, error) {
	if c == nil {
		return nil, nilLayer(c)
	}
	if len(in) < 2 {
		return nil, shapeErr(c, first(in), "joins two or more inputs, not %d (name them in its inputs)", len(in))
	}
	n := len(in[0])
	a := c.JoinAxis(n)
	if a < 0 || a >= n {
		return nil, shapeErr(c, in[0], "axis %d is not one of an example's %d axes (1 to %d, or -1 to -%d)", c.Axis, n, n, n)
	}
	out := slices.Clone(in[0])
	for _, s := range in[1:] {
		if len(s) != n || !slices.Equal(s[:a], in[0][:a]) || !slices.Equal(s[a+1:], in[0][a+1:]) {
			return nil, shapeErr(c, in[0], "the inputs' shapes %s differ on an axis other than %d", shapeList(in), a+1)
		}
		out[a] += s[a]
	}
	return out, nil
}

// Build implements Layer: a Concat of one input is an error.
func (c *Concat) Build(g *graph.Graph, x *graph.Node) (*graph.Node, error) {
	return c.BuildOn(g, []*graph.Node{x})
}

// BuildOn implements MultiInput: each input is viewed as [rows, width]
// with rows the batch times the axes before the joined one, joined along
// its last axis by graph.Concat, and viewed back.
func (c *Concat) BuildOn(g *graph.Graph, xs []*graph.Node) (*graph.Node, error) {
	if err := checkInputs(c, g, xs); err != nil {
		return nil, err
	}
	batch := xs[0].Shape()[0]
	ins := make([][]int, len(xs))
	for i, x := range xs {
		ins[i] = []int(x.Shape()[1:].Clone())
	}
	out, err := c.OutputShapeOf(ins)
	if err != nil {
		return nil, err
	}
	a := c.JoinAxis(len(out))
	rows := batch * size(out[:a])
	flat := make([]*graph.Node, len(xs))
	for i, x := range xs {
		if flat[i], err = graph.Reshape(x, rows, size(ins[i][a:])); err != nil {
			return nil, err
		}
	}
	y, err := graph.Concat(flat...)
	if err != nil {
		return nil, err
	}
	return graph.Reshape(y, append([]int{batch}, out...)...)
}

// first returns in[0], or nil.
func first(in [][]int) []int {
	if len(in) == 0 {
		return nil
	}
	return in[0]
}

// shapeList writes shapes as "[2 3], [2 4]".
func shapeList(in [][]int) string {
	s := make([]string, len(in))
	for i, x := range in {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ", ")
}

// checkInputs is checkInput for each of a MultiInput layer's inputs,
// which must all be of one batch size.
func checkInputs(l MultiInput, g *graph.Graph, xs []*graph.Node) error {
	if len(xs) == 0 {
		return fmt.Errorf("%s (%s): no inputs", l.Name(), l.Kind())
	}
	ins := make([][]int, len(xs))
	for i, x := range xs {
		if err := checkNode(l, g, x); err != nil {
			return err
		}
		if x.Shape()[0] != xs[0].Shape()[0] {
			return fmt.Errorf("%s (%s): inputs of batch %d and %d", l.Name(), l.Kind(), xs[0].Shape()[0], x.Shape()[0])
		}
		ins[i] = []int(x.Shape()[1:].Clone())
	}
	_, err := l.OutputShapeOf(ins)
	return err
}

// Model files (spec.go) name these layers add and concat.
func init() {
	RegisterLayer("add",
		func(*Settings) *Add { return &Add{} },
		func(*Add, *Settings) bool { return true })
	RegisterLayer("concat",
		func(s *Settings) *Concat {
			return &Concat{Axis: s.Signed("axis", -1)}
		},
		func(c *Concat, s *Settings) bool {
			if c.Axis != 0 && c.Axis != -1 {
				s.Set("axis", c.Axis)
			}
			return true
		})
}

// NumParams implements Layer: Add has no parameters.
func (a *Add) NumParams([]int) int { return 0 }

// NumParams implements Layer: Concat has no parameters.
func (c *Concat) NumParams([]int) int { return 0 }

// BatchValuesOf implements MultiBatchMemory: each partial sum (whose
// gradient is its inputs').
func (a *Add) BatchValuesOf(in [][]int, batch int) int64 {
	return int64(len(in)-1) * int64(batch) * int64(size(first(in)))
}

// BatchValuesOf implements MultiBatchMemory: the inputs flattened, joined
// and shaped back, and the gradients of all three steps: six values per
// value of the inputs.
func (c *Concat) BatchValuesOf(in [][]int, batch int) int64 {
	var n int64
	for _, s := range in {
		n += int64(batch) * int64(size(s))
	}
	return 6 * n
}
