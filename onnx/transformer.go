package onnx

import (
	"math"

	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/nn"
	"github.com/pkg/errors"
)

// The layers of transformers and sequence models, decomposed into
// opset 17's operators: attention into MatMul, Softmax and Where,
// positions into Slice and Add, GELU into Erf or Tanh and arithmetic.

// transposed adds the named [rows, cols] parameter transposed, as a
// [cols, rows] initialiser, so that x·wᵀ (PyTorch's F.linear) is one
// MatMul.
func (c *converter) transposed(name string) (string, int, error) {
	v, shape, err := c.values(name)
	if err != nil {
		return "", 0, err
	}
	if len(shape) != 2 {
		return "", 0, errors.Errorf("%s has shape %v, not a matrix", name, shape)
	}
	r, k := shape[0], shape[1]
	t := make([]float32, len(v))
	for i := 0; i < r; i++ {
		for j := 0; j < k; j++ {
			t[j*r+i] = v[i*k+j]
		}
	}
	return c.b.floats(name, []int{k, r}, t), r, nil
}

// linear adds x·wᵀ + b for the parameters named weight and bias (none if
// "").
func (c *converter) linear(out, x, weight, bias string) (string, error) {
	w, _, err := c.transposed(weight)
	if err != nil {
		return "", err
	}
	if bias == "" {
		return c.b.op("MatMul", out, []string{x, w}), nil
	}
	b, err := c.weight(bias)
	if err != nil {
		return "", err
	}
	y := c.b.op("MatMul", out+"/matmul", []string{x, w})
	return c.b.op("Add", out, []string{y, b}), nil
}

// steps returns the current tensor's number of steps (its axis 1, which
// is symbolic in a next-token model) as an int64 vector of one value.
func (c *converter) steps(name string) string {
	shape := c.b.op("Shape", name+"/shape", []string{c.x})
	return c.b.op("Gather", name+"/steps", []string{shape, c.b.int64s("const/one", []int{1}, []int64{1})}, attrInt("axis", 0))
}

// attention is nn.Attention: the input projection, the heads split off
// ([batch, heads, steps, d]), softmax(q·kᵀ/√d) with the causal mask as a
// Where, the heads joined, and the output projection.
func (c *converter) attention(name string, l *nn.Attention) error {
	e := c.in[1]
	d := e / l.Heads
	bias := func(p string) string {
		if l.NoBias {
			return ""
		}
		return name + "." + p
	}
	qkv, err := c.linear(name+"/qkv", c.x, name+".in_proj_weight", bias("in_proj_bias"))
	if err != nil {
		return err
	}
	parts := c.b.node("Split", []string{qkv}, []string{name + "/q", name + "/k", name + "/v"}, attrInt("axis", 2))
	heads := c.b.int64s(name+"/heads", []int{4}, []int64{0, 0, int64(l.Heads), int64(d)})
	split := func(x string, perm ...int) string {
		y := c.b.op("Reshape", x+"/heads", []string{x, heads})
		return c.b.op("Transpose", x+"/t", []string{y}, attrInts("perm", perm...))
	}
	q, kt, v := split(parts[0], 0, 2, 1, 3), split(parts[1], 0, 2, 3, 1), split(parts[2], 0, 2, 1, 3)
	scores := c.b.op("MatMul", name+"/scores", []string{q, kt})
	scores = c.b.op("Mul", name+"/scaled", []string{scores, c.b.scalar(name+"/scale", float32(1/math.Sqrt(float64(d))))})
	if l.Causal {
		t := c.steps(name)
		zero, one := c.b.int64s("const/zero", nil, []int64{0}), c.b.int64s("const/step", nil, []int64{1})
		n := c.b.op("Squeeze", name+"/n", []string{t, c.b.axes(0)})
		pos := c.b.op("Range", name+"/positions", []string{zero, n, one})
		rows := c.b.op("Unsqueeze", name+"/rows", []string{pos, c.b.axes(1)})
		cols := c.b.op("Unsqueeze", name+"/cols", []string{pos, c.b.axes(0)})
		mask := c.b.op("GreaterOrEqual", name+"/causal", []string{rows, cols})
		scores = c.b.op("Where", name+"/masked", []string{mask, scores, c.b.scalar(name+"/-inf", float32(math.Inf(-1)))})
	}
	probs := c.b.op("Softmax", name+"/weights", []string{scores}, attrInt("axis", -1))
	heads2 := c.b.op("MatMul", name+"/heads", []string{probs, v})
	joined := c.b.op("Transpose", name+"/joined", []string{heads2}, attrInts("perm", 0, 2, 1, 3))
	joined = c.b.op("Reshape", name+"/concat", []string{joined, c.b.int64s(name+"/width", []int{3}, []int64{0, 0, int64(e)})})
	c.x, err = c.linear(name, joined, name+".out_proj.weight", bias("out_proj.bias"))
	return err
}

// positions is nn.PositionalEmbedding: the table's first rows, as many as
// the sequence has steps, added to it.
func (c *converter) positions(name string, l *nn.PositionalEmbedding) error {
	var table string
	if l.Sinusoidal {
		rows, e := max(c.in[0], l.MaxLen), c.in[1]
		v := graph.SinusoidalTable(rows, e)
		f := make([]float32, len(v))
		for i, x := range v {
			f[i] = float32(x)
		}
		table = c.b.floats(name+".table", []int{rows, e}, f)
	} else {
		var err error
		if table, err = c.weight(name + ".weight"); err != nil {
			return err
		}
	}
	rows := c.b.op("Slice", name+"/rows", []string{table, c.b.axes(0), c.steps(name), c.b.axes(0)})
	c.x = c.b.op("Add", name, []string{c.x, rows})
	return nil
}

// gelu is x·Φ(x): 0.5·x·(1 + erf(x/√2)), or with tanh
// 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
func (c *converter) gelu(name string, tanh bool) {
	x := c.x
	var inner string
	if tanh {
		cube := c.b.op("Mul", name+"/x3", []string{c.b.op("Mul", name+"/x2", []string{x, x}), x})
		sum := c.b.op("Add", name+"/sum", []string{x, c.b.op("Mul", name+"/cx3", []string{cube, c.b.scalar(name+"/c", 0.044715)})})
		inner = c.b.op("Tanh", name+"/tanh", []string{c.b.op("Mul", name+"/arg", []string{sum, c.b.scalar(name+"/k", float32(math.Sqrt(2/math.Pi)))})})
	} else {
		inner = c.b.op("Erf", name+"/erf", []string{c.b.op("Mul", name+"/arg", []string{x, c.b.scalar(name+"/k", float32(1/math.Sqrt2))})})
	}
	one := c.b.op("Add", name+"/1p", []string{inner, c.b.scalar(name+"/one", 1)})
	half := c.b.op("Mul", name+"/half", []string{x, c.b.scalar(name+"/h", 0.5)})
	c.x = c.b.op("Mul", name, []string{half, one})
}

// conv1d is nn.Conv1D on [batch, steps, channels]: ONNX's Conv (with its
// stride, dilation and pads) on the transposed [batch, channels, steps],
// transposed back.
func (c *converter) conv1d(name string, l *nn.Conv1D) error {
	left, right, err := l.Pads(c.in)
	if err != nil {
		return err
	}
	w, err := c.weight(name + ".weight")
	if err != nil {
		return err
	}
	in := []string{c.b.op("Transpose", name+"/channels", []string{c.x}, attrInts("perm", 0, 2, 1)), w}
	if !l.NoBias {
		b, err := c.weight(name + ".bias")
		if err != nil {
			return err
		}
		in = append(in, b)
	}
	y := c.b.op("Conv", name+"/conv", in, attrInts("kernel_shape", l.Kernel), attrInts("strides", max(l.Stride, 1)), attrInts("dilations", max(l.Dilation, 1)), attrInts("pads", left, right))
	c.x = c.b.op("Transpose", name, []string{y}, attrInts("perm", 0, 2, 1))
	return nil
}
