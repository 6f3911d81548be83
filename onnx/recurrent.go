package onnx

import (
	"github.com/dlrun/dlrun/graph"
	pb "github.com/dlrun/dlrun/internal/onnxpb"
	"github.com/dlrun/dlrun/nn"
)

// Gate orders. dlrun keeps PyTorch's: LSTM (i, f, g, o), GRU (r, z, n).
// ONNX's LSTM wants (i, o, f, c) and its GRU (z, r, h); gateOrder[cell][k]
// is the PyTorch block that goes to ONNX's block k.
var gateOrder = map[graph.Cell][]int{
	graph.LSTMCell: {0, 3, 1, 2},
	graph.GRUCell:  {1, 0, 2},
}

// recurrent converts an LSTM or GRU layer to ONNX's LSTM or GRU operator
// (not unrolled): the weights' gate blocks reordered, the input moved from
// batch-major [batch, steps, features] to ONNX's [steps, batch, features]
// and back. PyTorch's GRU applies the reset gate after the hidden
// product, ONNX's linear_before_reset=1. A stateful layer (charrnn's) takes
// its initial state as extra inputs "<layer>.h0" (and "<layer>.c0" for an
// LSTM), [batch, hidden], zeros for a new sequence, and gives its final
// state as outputs "<layer>.h" and "<layer>.c", to be fed back for the
// next chunk of the same sequences.
func (c *converter) recurrent(name string, l *nn.Recurrent) error {
	order, ok := gateOrder[l.Cell]
	if !ok {
		return ErrNotExportable
	}
	h := l.Hidden
	gates := len(order)
	load := func(suffix string) ([]float32, error) {
		v, _, err := c.values(name + "." + suffix)
		if err != nil {
			return nil, err
		}
		return reorderGates(v, order), nil
	}
	wih, err := load("weight_ih")
	if err != nil {
		return err
	}
	whh, err := load("weight_hh")
	if err != nil {
		return err
	}
	features := c.in[len(c.in)-1]
	w := c.b.floats(name+".W", []int{1, gates * h, features}, wih)
	r := c.b.floats(name+".R", []int{1, gates * h, h}, whh)
	bias := ""
	if !l.NoBias {
		bih, err := load("bias_ih")
		if err != nil {
			return err
		}
		bhh, err := load("bias_hh")
		if err != nil {
			return err
		}
		bias = c.b.floats(name+".B", []int{1, 2 * gates * h}, append(bih, bhh...))
	}
	x := c.b.op("Transpose", name+"/time_major", []string{c.x}, attrInts("perm", 1, 0, 2))
	in := []string{x, w, r, bias}
	lstm := l.Cell == graph.LSTMCell
	if l.Stateful {
		in = append(in, "", c.stateInput(name+".h0", h))
		if lstm {
			in = append(in, c.stateInput(name+".c0", h))
		}
	}
	attrs := []*pb.AttributeProto{attrInt("hidden_size", h)}
	op, outs := "GRU", []string{name + "/Y", name + "/Y_h"}
	if lstm {
		op, outs = "LSTM", append(outs, name+"/Y_c")
	} else {
		attrs = append(attrs, attrInt("linear_before_reset", 1))
	}
	outs = c.b.node(op, trimOptional(in), outs, attrs...)
	if l.Stateful {
		c.stateOutput(name+".h", outs[1], h)
		if lstm {
			c.stateOutput(name+".c", outs[2], h)
		}
	}
	if l.ReturnSequences {
		y := c.b.op("Squeeze", name+"/steps", []string{outs[0], c.b.axes(1)})
		c.x = c.b.op("Transpose", name, []string{y}, attrInts("perm", 1, 0, 2))
		return nil
	}
	c.x = c.b.op("Squeeze", name, []string{outs[1], c.b.axes(0)})
	return nil
}

// stateInput declares graph input name [batch, hidden] and returns it as
// ONNX's initial state [1, batch, hidden].
func (c *converter) stateInput(name string, hidden int) string {
	name = c.b.fresh(name)
	c.stateIn = append(c.stateIn, valueInfo(name, pb.TensorProto_FLOAT,
		"initial state of a stateful recurrent layer: zeros to start a sequence, then the matching output of the previous chunk",
		"batch", hidden))
	return c.b.op("Unsqueeze", name+"/3d", []string{name, c.b.axes(0)})
}

// stateOutput declares graph output name [batch, hidden], the final state
// y [1, batch, hidden] without its first axis.
func (c *converter) stateOutput(name, y string, hidden int) {
	name = c.b.op("Squeeze", name, []string{y, c.b.axes(0)})
	c.stateOut = append(c.stateOut, valueInfo(name, pb.TensorProto_FLOAT,
		"final state of a stateful recurrent layer, the initial state of the next chunk", "batch", hidden))
}

// reorderGates returns v ([gates·hidden, ...] or [gates·hidden]) with its
// gate blocks (of hidden rows each) in ONNX's order.
func reorderGates(v []float32, order []int) []float32 {
	block := len(v) / len(order)
	out := make([]float32, 0, len(v))
	for _, k := range order {
		out = append(out, v[k*block:(k+1)*block]...)
	}
	return out
}

// trimOptional drops the trailing omitted (empty) inputs of a node.
func trimOptional(in []string) []string {
	for len(in) > 0 && in[len(in)-1] == "" {
		in = in[:len(in)-1]
	}
	return in
}
