package onnx

import (
	"fmt"
	"strings"

	"github.com/dlrun/dlrun/nn"
	"github.com/pkg/errors"
)

// tensor is a converted layer's output: its name in the ONNX graph, its
// shape per example, and whether it holds int64 ids.
type tensor struct {
	x   string
	in  []int
	ids bool
}

func (c *converter) current() tensor { return tensor{c.x, c.in, c.ids} }
func (c *converter) set(t tensor)    { c.x, c.in, c.ids = t.x, t.in, t.ids }

// inputNamer is implemented by the layers that may name their inputs.
type inputNamer interface{ Inputs() []string }

// layers converts each layer of s in turn, each on the output of the one
// before it or on the outputs of the layers it names (nn.InputName: s's
// input); errors name the layer by position, name and kind.
func (c *converter) layers(s *nn.Sequential) error {
	outs := map[string]tensor{nn.InputName: c.current()}
	for i, l := range s.Layers {
		var srcs []tensor
		if w, ok := l.(inputNamer); ok {
			for _, n := range w.Inputs() {
				t, ok := outs[n]
				if !ok {
					return errors.Errorf("%s: layer %d (%s, %s): input %q names no earlier layer", s.Name(), i+1, l.Name(), l.Kind(), n)
				}
				srcs = append(srcs, t)
			}
		}
		if len(srcs) == 0 {
			srcs = []tensor{c.current()}
		}
		c.set(srcs[0])
		shapes := make([][]int, len(srcs))
		for k, t := range srcs {
			shapes[k] = t.in
		}
		var out []int
		var err error
		if m, ok := l.(nn.MultiInput); ok {
			out, err = m.OutputShapeOf(shapes)
		} else {
			out, err = l.OutputShape(c.in)
		}
		if err != nil {
			return errors.Wrapf(err, "layer %d (%s, %s)", i+1, l.Name(), l.Kind())
		}
		if err := c.layer(l, srcs); err != nil {
			if errors.Is(err, ErrNotExportable) {
				return fmt.Errorf("%s: layer %d (%s, %s): %w (ONNX export knows %s)", s.Name(), i+1, l.Name(), l.Kind(), err, strings.Join(Exportable, ", "))
			}
			return errors.Wrapf(err, "%s: layer %d (%s, %s)", s.Name(), i+1, l.Name(), l.Kind())
		}
		c.in = out
		outs[l.Name()] = c.current()
	}
	return nil
}

// residual adds r's body's output to its input, or to its shortcut's
// output.
func (c *converter) residual(name string, r *nn.Residual) error {
	x := c.current()
	if err := c.layers(nn.NewSequential(name, r.Layers...)); err != nil {
		return err
	}
	body := c.current()
	c.set(x)
	if len(r.Shortcut) > 0 {
		if err := c.layers(nn.NewSequential(name+" shortcut", r.Shortcut...)); err != nil {
			return err
		}
	}
	c.x = c.b.op("Add", name, []string{body.x, c.x})
	c.in = body.in
	return nil
}

// join adds or concatenates the inputs srcs.
func (c *converter) join(name string, l nn.Layer, srcs []tensor) {
	xs := make([]string, len(srcs))
	for i, t := range srcs {
		xs[i] = t.x
	}
	switch l := l.(type) {
	case *nn.Add:
		y := xs[0]
		for _, x := range xs[1:] {
			y = c.b.op("Add", name, []string{y, x})
		}
		c.x = y
	case *nn.Concat:
		c.x = c.b.op("Concat", name, xs, attrInt("axis", l.JoinAxis(len(srcs[0].in))+1))
	}
}
