package nn

import (
	"slices"

	"github.com/dlrun/dlrun/graph"
)

// BatchMemory is implemented by layers that say what building them adds
// to a training graph for one batch, so that the memory a training needs
// is known before anything is built (train.EstimateMemory refuses a model
// that would not fit before it reserves any of it). A layer kind of one's
// own implements it in its own file; a layer without it is counted by the
// fallback of BatchValues.
type BatchMemory interface {
	// BatchValues returns the values, in the graph's dtype, that Build
	// adds to a training graph for batches of batch examples of
	// per-example shape in (a shape the layer fits), beside its
	// parameters and their gradients: every value its ops produce in
	// the forward pass, the gradients its backward pass produces for its
	// input and its intermediate values, and the working memory its ops
	// keep (a convolution's packed filters, a recurrent layer's caches).
	BatchValues(in []int, batch int) int64
}

// BatchValues returns the values that layer l adds to a training graph
// for batches of batch examples of per-example shape in, beside its
// parameters and their gradients (see BatchMemory): l's own count where it
// implements BatchMemory, otherwise the fallback of one output and the
// gradient of its input, batch × (size(out) + size(in)), which is exact
// for a layer of one elementwise op. The error is OutputShape's for an
// input l does not fit.
func BatchValues(l Layer, in []int, batch int) (int64, error) {
	if isNil(l) {
		return 0, nilLayer(l)
	}
	out, err := l.OutputShape(in)
	if err != nil {
		return 0, err
	}
	if m, ok := l.(BatchMemory); ok {
		return m.BatchValues(in, batch), nil
	}
	return oneOp(in, out, batch), nil
}

// oneOp counts one output of shape out and the gradient of an input of
// shape in, for batch examples.
func oneOp(in, out []int, batch int) int64 {
	return int64(batch) * int64(size(in)+size(out))
}

var (
	_ BatchMemory = (*Sequential)(nil)
	_ BatchMemory = (*Dense)(nil)
	_ BatchMemory = (*Activation)(nil)
	_ BatchMemory = (*Flatten)(nil)
	_ BatchMemory = (*Conv2D)(nil)
	_ BatchMemory = (*MaxPool2D)(nil)
	_ BatchMemory = (*Dropout)(nil)
	_ BatchMemory = (*BatchNorm)(nil)
	_ BatchMemory = (*LayerNorm)(nil)
	_ BatchMemory = (*Recurrent)(nil)
	_ BatchMemory = (*Embedding)(nil)
	_ BatchMemory = (*MF)(nil)
	_ BatchMemory = (*Biases)(nil)
	_ BatchMemory = (*NCF)(nil)
	_ BatchMemory = (*Residual)(nil)
	_ BatchMemory = (*Attention)(nil)
	_ BatchMemory = (*Conv1D)(nil)
	_ BatchMemory = (*PositionalEmbedding)(nil)
	_ BatchMemory = (*Reshape)(nil)
	_ BatchMemory = (*FrameChanges)(nil)

	_ MultiBatchMemory = (*Add)(nil)
	_ MultiBatchMemory = (*Concat)(nil)
	_ MultiBatchMemory = (*Attention)(nil)

	_ learningBatchMemory = (*Sequential)(nil)
	_ learningBatchMemory = (*Residual)(nil)
)

// MultiBatchMemory is BatchMemory for a layer of several inputs
// (MultiInput): BatchValuesOf counts what Build adds for inputs of the
// per-example shapes in, as BatchValues does for one.
type MultiBatchMemory interface {
	BatchValuesOf(in [][]int, batch int) int64
}

// batchValuesOf is BatchValues for a layer given the shapes of its
// inputs: a MultiBatchMemory's own count, otherwise BatchValues of the
// first.
func batchValuesOf(l Layer, in [][]int, batch int) (int64, error) {
	if m, ok := l.(MultiBatchMemory); ok && !isNil(l) {
		if _, err := l.(MultiInput).OutputShapeOf(in); err != nil {
			return 0, err
		}
		return m.BatchValuesOf(in, batch), nil
	}
	return BatchValues(l, in[0], batch)
}

// learningBatchMemory is implemented by the layers whose count depends on
// whether their input depends on parameters (and so has a gradient):
// Sequential and Residual.
type learningBatchMemory interface {
	batchValues(in []int, batch int, learning bool) int64
}

// BatchValues implements BatchMemory: the sum over the layers, each with
// the shapes its inputs give it, less the input gradients that no
// parameter needs (those of parameter-free layers whose inputs depend on
// no parameter), plus a sum of gradients for each further layer that
// takes an output which has one; a ReLU that Build fuses into the
// convolution before it counts only the gradient the fused op keeps for
// it, and nothing before a max-pool, whose gradient applies the ReLU's.
// It stops at a layer that does not fit its inputs (OutputShape says
// which).
func (s *Sequential) BatchValues(in []int, batch int) int64 {
	if s == nil {
		return 0
	}
	return s.batchValues(in, batch, false)
}

// batchValues is BatchValues for an input that depends on parameters if
// learning.
func (s *Sequential) batchValues(in []int, batch int, learning bool) int64 {
	from, err := s.plan()
	if err != nil {
		return 0
	}
	var n int64
	outs := make([][]int, len(s.Layers))
	learns := make([]bool, len(s.Layers)) // layer i's output depends on parameters
	uses := make([]int, len(s.Layers)+1)  // the layers taking layer j's output, at j+1 (the input at 0)
	for i, l := range s.Layers {
		ins := inShapes(from[i], in, outs)
		out, err := s.layerShape(i, ins)
		if err != nil {
			return n
		}
		outs[i] = out
		learned := false // one of its inputs depends on parameters
		for k, j := range from[i] {
			if j >= 0 && learns[j] || j < 0 && learning {
				learned = true
				if uses[j+1]++; uses[j+1] > 1 {
					n += int64(batch) * int64(size(ins[k])) // the gradients' sum
				}
			}
		}
		if i > 0 && isReLU(l) && slices.Equal(from[i], []int{i - 1}) && s.fusesReLU(i-1, from) {
			if _, ok := s.Layers[i-1].(*Conv2D); ok {
				// The fused op's gradient keeps the ReLU's, unless a
				// max-pool follows, whose gradient applies it.
				if _, pool := layerAt(s.Layers, i+1).(*MaxPool2D); !pool {
					n += int64(batch) * int64(size(out))
				}
				learns[i] = learns[i-1]
				continue
			}
		}
		var v int64
		if lb, ok := l.(learningBatchMemory); ok {
			v = lb.batchValues(ins[0], batch, learned)
		} else if v, err = batchValuesOf(l, ins, batch); err != nil {
			return n
		}
		learns[i] = learned || l.NumParams(ins[0]) > 0
		if !learns[i] {
			// No gradients, but at least the output.
			for _, x := range ins {
				v -= int64(batch) * int64(size(x))
			}
			if _, view := l.(*Reshape); view {
				v = max(v, 0) // a view of its input holds nothing
			} else {
				v = max(v, int64(batch)*int64(size(out)))
			}
		}
		n += v
	}
	return n
}

// layerAt returns layers[i], or nil past the end.
func layerAt(layers []Layer, i int) Layer {
	if i < len(layers) {
		return layers[i]
	}
	return nil
}

// BatchValues implements BatchMemory: the product and the bias added to
// it, and the gradient of the input; on a sequence, the reshapes to rows
// of steps and back, and their gradients.
func (d *Dense) BatchValues(in []int, batch int) int64 {
	b, x, y := int64(batch), int64(size(in)), int64(batch)*int64(size(in[:len(in)-1]))*int64(d.Units)
	fwd := y
	if !d.NoBias {
		fwd += y
	}
	n := fwd + b*x
	if len(in) == 2 {
		n += b*x + y + b*x + y
	}
	return n
}

// BatchValues implements BatchMemory: the activation and its gradient.
func (a *Activation) BatchValues(in []int, batch int) int64 { return oneOp(in, in, batch) }

// BatchValues implements BatchMemory: the reshape and its gradient.
func (f *Flatten) BatchValues(in []int, batch int) int64 { return oneOp(in, in, batch) }

// BatchValues implements BatchMemory: the output (the bias, and a ReLU
// that follows, fused into it), the gradient of the input and the
// convolution's working memory (graph.ConvWorkspace).
func (c *Conv2D) BatchValues(in []int, batch int) int64 {
	out, err := c.OutputShape(in)
	if err != nil {
		return 0
	}
	sh, sw := c.strides()
	ws := graph.ConvWorkspace(in[0], c.KernelH, c.KernelW, c.Filters, batch, out[1], out[2], sh, sw)
	return oneOp(in, out, batch) + ws
}

// BatchValues implements BatchMemory: the pooled output and the
// gradient of the input.
func (m *MaxPool2D) BatchValues(in []int, batch int) int64 {
	out, err := m.OutputShape(in)
	if err != nil {
		return 0
	}
	return oneOp(in, out, batch)
}

// BatchValues implements BatchMemory: the mask, the masked output and the
// gradient of the input.
func (d *Dropout) BatchValues(in []int, batch int) int64 { return 3 * int64(batch) * int64(size(in)) }

// BatchValues implements BatchMemory: the normalised output and the
// gradient of the input, and the per-channel sums of the backward pass.
func (b *BatchNorm) BatchValues(in []int, batch int) int64 {
	return oneOp(in, in, batch) + 4*int64(in[0])
}

// BatchValues implements BatchMemory: the normalised output and the
// gradient of the input, and the per-feature sums of the backward pass.
func (l *LayerNorm) BatchValues(in []int, batch int) int64 {
	return oneOp(in, in, batch) + 4*int64(in[len(in)-1])
}

// BatchValues implements BatchMemory: every step's hidden state, the last
// step picked out of them (and its gradient) unless every step is
// returned, the gradient of the input, the initial states a stateful
// layer carries, and the caches of the forward and backward passes
// (graph.RNNWorkspace).
func (r *Recurrent) BatchValues(in []int, batch int) int64 {
	b, t, h := int64(batch), int64(in[0]), int64(r.Hidden)
	n := b*t*h + b*int64(size(in)) + graph.RNNWorkspace(r.Cell, batch, in[0], r.Hidden)
	if !r.ReturnSequences {
		n += b*h + b*t*h
	}
	if r.Stateful {
		n += 2 * b * h
	}
	return n
}

// BatchValues implements BatchMemory: the looked-up rows (the ids have no
// gradient; the table's is its parameter's).
func (e *Embedding) BatchValues(in []int, batch int) int64 {
	return int64(batch) * int64(size(in)) * int64(e.Dim)
}

// recBatch counts what the rating layers share for a batch: the two id
// columns, the two biases looked up, their sum with the rest and its
// gradient; with L2, the penalty's row norms and its gradients with
// respect to the tables (params values), each as large as its table, and
// their sums with the loss's.
func recBatch(batch int, l2 float64, dim, params int) int64 {
	n := int64(batch) * 7
	if l2 > 0 {
		n += int64(batch)*int64(4+2*dim) + 2*int64(params)
	}
	return n
}

// BatchValues implements BatchMemory: the two embeddings looked up, their
// dot product, and the gradients of both.
func (m *MF) BatchValues(in []int, batch int) int64 {
	return recBatch(batch, m.L2, m.dim(), m.NumParams(in)) + int64(batch)*int64(4*m.dim()+1)
}

// BatchValues implements BatchMemory: the two biases looked up and their
// sum.
func (b *Biases) BatchValues(in []int, batch int) int64 {
	return recBatch(batch, b.L2, 0, b.NumParams(in))
}

// BatchValues implements BatchMemory: the two embeddings looked up and
// concatenated, and for each hidden layer its product, bias and ReLU and
// their gradients, and the output layer's.
func (n *NCF) BatchValues(in []int, batch int) int64 {
	v := recBatch(batch, n.L2, n.dim(), n.NumParams(in)) + int64(batch)*int64(6*n.dim())
	prev := 2 * n.dim()
	for _, h := range n.hidden() {
		v += int64(batch) * int64(5*h+prev)
		prev = h
	}
	return v + int64(batch)*int64(3+prev)
}
