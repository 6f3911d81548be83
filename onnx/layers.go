package onnx

import (
	"strings"

	"github.com/dlrun/dlrun/graph"
	pb "github.com/dlrun/dlrun/internal/onnxpb"
	"github.com/dlrun/dlrun/nn"
	"github.com/pkg/errors"
)

// converter turns a built nn model into ONNX nodes, layer by layer, taking
// the weights from the graph the model was built on.
type converter struct {
	b   *builder
	g   *graph.Graph
	x   string // the tensor the next layer reads
	in  []int  // its shape per example
	ids bool   // it holds int64 ids, not float32 values
	// extra inputs and outputs: the states of stateful recurrent layers
	stateIn, stateOut []*pb.ValueInfoProto
	symbolic          bool // the input's first axis (after the batch) is symbolic steps
	// joint is the model's autoregressive output, nil if it has none (or
	// its task does not condition it); keysIn is the input of the keys it
	// is conditioned on, once converted.
	joint  *nn.Autoregressive
	keysIn *pb.ValueInfoProto
}

// Exportable lists the layer kinds Export converts.
var Exportable = []string{"Dense", "ReLU", "Sigmoid", "Tanh", "Softmax", "GELU", "Flatten", "Reshape", "Conv2D", "Conv1D",
	"MaxPool2D", "GlobalAvgPool1D", "GlobalAvgPool2D", "Dropout", "Embedding", "PositionalEmbedding", "Attention", "LSTM", "GRU",
	"BatchNorm", "LayerNorm", "Residual", "Add", "Concat", "MF", "NCF", "Biases", "ColumnEmbedding", "Autoregressive"}

// layer converts l, whose inputs are srcs (the current tensor first).
func (c *converter) layer(l nn.Layer, srcs []tensor) error {
	name := l.Name()
	switch l := l.(type) {
	case *nn.Sequential:
		return c.layers(l)
	case *nn.Dense:
		return c.dense(name, !l.NoBias)
	case *nn.Activation:
		ops := map[string]string{"ReLU": "Relu", "Sigmoid": "Sigmoid", "Tanh": "Tanh"}
		if l.Kind() == "Softmax" {
			c.x = c.b.op("Softmax", name, []string{c.x}, attrInt("axis", -1))
			return nil
		}
		op, ok := ops[l.Kind()]
		if !ok {
			return ErrNotExportable
		}
		c.x = c.b.op(op, name, []string{c.x})
	case *nn.Flatten:
		c.x = c.b.op("Flatten", name, []string{c.x}, attrInt("axis", 1))
	case *nn.Dropout: // evaluation: the identity
		c.x = c.b.op("Identity", name, []string{c.x})
	case *nn.Conv2D:
		return c.conv(name, l)
	case *nn.Conv1D:
		return c.conv1d(name, l)
	case *nn.GlobalAvgPool2D:
		pooled := c.b.op("GlobalAveragePool", name+"/pool", []string{c.x})
		c.x = c.b.op("Flatten", name, []string{pooled}, attrInt("axis", 1))
	case *nn.GlobalAvgPool1D:
		c.x = c.b.op("ReduceMean", name, []string{c.x}, attrInts("axes", 1), attrInt("keepdims", 0))
	case *nn.Reshape:
		shape := []int64{0} // the batch
		for _, d := range l.Shape {
			shape = append(shape, int64(d))
		}
		c.x = c.b.op("Reshape", name, []string{c.x, c.b.int64s(name+"/shape", []int{len(shape)}, shape)})
	case *nn.GELU:
		c.gelu(name, l.Tanh)
	case *nn.PositionalEmbedding:
		return c.positions(name, l)
	case *nn.Attention:
		if len(srcs) > 1 {
			return errors.New("an attention with a padding mask has no ONNX conversion (the exported model has one input)")
		}
		return c.attention(name, l)
	case *nn.Residual:
		return c.residual(name, l)
	case *nn.Autoregressive:
		return c.autoregressive(name, l)
	case *nn.Add, *nn.Concat:
		c.join(name, l, srcs)
	case *nn.MaxPool2D:
		stride := l.Stride
		if stride == 0 {
			stride = l.Size
		}
		c.x = c.b.op("MaxPool", name, []string{c.x}, attrInts("kernel_shape", l.Size, l.Size), attrInts("strides", stride, stride))
	case *nn.ColumnEmbedding:
		return c.columnEmbedding(name, l)
	case *nn.Embedding:
		w, err := c.weight(name + ".weight")
		if err != nil {
			return err
		}
		c.x = c.b.op("Gather", name, []string{w, c.asIDs()})
		c.ids = false
	case *nn.BatchNorm:
		eps := l.Eps
		if eps == 0 {
			eps = 1e-5
		}
		var in []string
		for _, p := range []string{"weight", "bias", "running_mean", "running_var"} {
			v, err := c.weight(name + "." + p)
			if err != nil {
				return err
			}
			in = append(in, v)
		}
		c.x = c.b.op("BatchNormalization", name, append([]string{c.x}, in...), attrFloat("epsilon", eps))
	case *nn.LayerNorm:
		eps := l.Eps
		if eps == 0 {
			eps = 1e-5
		}
		w, err := c.weight(name + ".weight")
		if err != nil {
			return err
		}
		bias, err := c.weight(name + ".bias")
		if err != nil {
			return err
		}
		c.x = c.b.op("LayerNormalization", name, []string{c.x, w, bias}, attrInt("axis", -1), attrFloat("epsilon", eps))
	case *nn.Recurrent:
		return c.recurrent(name, l)
	case *nn.MF:
		return c.recommender(name, l.Mean, true, nil)
	case *nn.NCF:
		hidden := l.Hidden
		if len(hidden) == 0 {
			hidden = nn.DefaultNCFHidden()
		}
		return c.recommender(name, l.Mean, false, append(hidden, 1))
	case *nn.Biases:
		return c.recommender(name, l.Mean, false, nil)
	default:
		return ErrNotExportable
	}
	return nil
}

// weight adds the named parameter or buffer of the graph as a float32
// initialiser of its shape and returns the initialiser's name.
func (c *converter) weight(name string) (string, error) {
	v, shape, err := c.values(name)
	if err != nil {
		return "", err
	}
	return c.b.floats(name, shape, v), nil
}

// values returns the named parameter's or buffer's values as float32.
func (c *converter) values(name string) ([]float32, []int, error) {
	var f64 []float64
	var shape []int
	if p := c.g.ParamByName(name); p != nil {
		f64, shape = p.Values(), p.Shape()
	} else if b := c.g.BufferByName(name); b != nil {
		f64, shape = b.Values(), b.Shape()
	} else {
		return nil, nil, errors.Errorf("the model has no parameter or buffer %q", name)
	}
	if f64 == nil {
		return nil, nil, errors.Errorf("%s holds no values", name)
	}
	return float32s(f64), shape, nil
}

// asIDs returns the current tensor as int64 ids, cast from its float
// values if it holds values.
func (c *converter) asIDs() string {
	if c.ids {
		return c.x
	}
	return c.b.op("Cast", c.x+"/ids", []string{c.x}, attrInt("to", int(pb.TensorProto_INT64)))
}

// dense is x·W + b: Gemm for a vector per example, MatMul and Add for a
// sequence of vectors ([steps, features] per example).
func (c *converter) dense(name string, bias bool) error {
	w, err := c.weight(name + ".weight")
	if err != nil {
		return err
	}
	in := []string{c.x, w}
	if bias {
		b, err := c.weight(name + ".bias")
		if err != nil {
			return err
		}
		in = append(in, b)
	}
	if len(c.in) == 1 {
		c.x = c.b.op("Gemm", name, in)
		return nil
	}
	y := c.b.op("MatMul", name+"/matmul", in[:2])
	if bias {
		y = c.b.op("Add", name, []string{y, in[2]})
	}
	c.x = y
	return nil
}

func (c *converter) conv(name string, l *nn.Conv2D) error {
	sh, sw := max(l.StrideH, 1), max(l.StrideW, 1)
	var p graph.Padding
	if strings.EqualFold(l.Padding, "same") {
		p = graph.SamePadding(c.in[1], c.in[2], l.KernelH, l.KernelW, sh, sw)
	}
	w, err := c.weight(name + ".weight")
	if err != nil {
		return err
	}
	in := []string{c.x, w}
	if !l.NoBias {
		b, err := c.weight(name + ".bias")
		if err != nil {
			return err
		}
		in = append(in, b)
	}
	c.x = c.b.op("Conv", name, in,
		attrInts("kernel_shape", l.KernelH, l.KernelW),
		attrInts("strides", sh, sw),
		attrInts("pads", p.Top, p.Left, p.Bottom, p.Right))
	return nil
}
