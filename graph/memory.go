package graph

import (
	"runtime"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// workspacer is implemented by the kernels that keep working memory
// beyond their output, in values of the graph's dtype: the recurrent
// layers' caches of every step's gates and states.
type workspacer interface{ workspace() int }

// workspace counts what LSTMForward/GRUForward and their backward passes
// keep (RNNWorkspace).
func (k *rnnKernel) workspace() int {
	return int(RNNWorkspace(k.cell, k.d.B, k.d.T, k.d.H))
}

// RNNWorkspace returns the working memory, in values, that a recurrent
// layer of cell over batch sequences of steps steps with hidden units
// keeps beyond its output (kernels.RNNCache): the input projections
// (whose memory the gate gradients reuse) and the gates [B, T, G·H], plus
// the GRU's hidden-side gate gradients; the hidden states and the LSTM's
// cell states or the GRU's W_hn·h [B, T, H]; per-step scratch; and W_hh
// packed for each pass. The graph's memory estimate and the estimate made
// before a graph is built (nn.BatchValues) both use it.
func RNNWorkspace(cell Cell, batch, steps, hidden int) int64 {
	g := int64(cell.Gates() * hidden)
	b, t, h := int64(batch), int64(steps), int64(hidden)
	kept := int64(2)
	if cell == GRUCell {
		kept = 3
	}
	return b*t*(kept*g+2*h) + 4*b*g + 2*(g+16)*h
}

// workspace counts the convolution's working memory (ConvWorkspace).
func (k *convKernel) workspace() int {
	return int(ConvWorkspace(k.g.C, k.g.KH, k.g.KW, k.oc, k.g.N, k.g.OH, k.g.OW, k.g.SH, k.g.SW))
}

// ConvWorkspace returns the working memory, in values, that a
// convolution of n images of c channels by oc filters of kh×kw, giving
// oh×ow outputs at strides sh, sw, keeps beyond its output: its packed
// filters (twice: the forward pass's and the input gradient's) and, for a
// stride above 1, the im2col matrix's gradient and the output gradient in
// channel layout that its input gradient reserves; an implicit product
// packs the rest a block at a time.
func ConvWorkspace(c, kh, kw, oc, n, oh, ow, sh, sw int) int64 {
	ckk, np := int64(c*kh*kw), int64(n)*int64(oh)*int64(ow)
	w := 2 * int64(oc+6) * ckk
	if sh != 1 || sw != 1 {
		w += ckk*np + int64(oc)*np
	}
	return w
}

// workspace counts the 1-D convolution's working memory (Conv1DWorkspace).
func (k *conv1DKernel) workspace() int {
	return int(Conv1DWorkspace(k.g.N, k.g.L, k.g.C, k.g.F, k.g.K, k.g.D, k.g.OL, k.g.PadL+k.g.PadR))
}

// Conv1DWorkspace returns the working memory, in values, that a 1-D
// convolution of n sequences of l steps of c channels by f filters of k
// taps dilation steps apart, giving ol steps, with pad steps of padding in
// all, keeps beyond its output (kernels.Conv1DScratch): its filters packed
// twice (the forward pass's and the filter gradient's), the padded input
// where it pads, the gathered windows where it is dilated, and the input
// gradient's windows and padded sequences.
func Conv1DWorkspace(n, l, c, f, k, dilation, ol, pad int) int64 {
	kc, lp := int64(k*c), int64(l+pad)
	w := 2*kc*int64(f) + int64(n)*int64(ol)*kc + int64(n)*lp*int64(c)
	if pad > 0 {
		w += int64(n) * lp * int64(c)
	}
	if dilation > 1 {
		w += int64(n) * int64(ol) * kc
	}
	return w
}

// AttentionWorkspace returns the working memory, in values, that a
// multi-head attention over batch sequences of steps steps keeps beyond
// its output: the attention weights of every head (the gradient reads
// them) and the backward pass's scratch, a steps×steps matrix per worker
// (GOMAXPROCS).
func AttentionWorkspace(batch, heads, steps int) int64 {
	b, h, t := int64(batch), int64(heads), int64(steps)
	return b*h*t*t + int64(runtime.GOMAXPROCS(0))*t*t
}

// MemoryEstimate returns an estimate, in bytes, of the memory the graph of
// p needs to run its passes: every value in it (inputs, parameters, each
// op's output and each gradient's, which dlrun's ops keep from pass to
// pass) and the working memory of the ops that keep more (a recurrent
// layer's caches), at the graph's dtype. Most of it is reserved at the
// first pass, not at Compile: comparing the estimate with the memory the
// machine has, before that pass, turns what would be a fatal out-of-memory
// into an error. It errs on the high side: Gorgonia may share some values.
func (p *Program) MemoryEstimate() int64 {
	if p == nil || p.g == nil {
		return 0
	}
	size := int64(4)
	if p.g.dtype.Tensor() == tensor.Float64 {
		size = 8
	}
	var values int64
	for _, n := range p.g.g.AllNodes() {
		values += int64(nodeValues(n))
		if o, ok := n.Op().(*op); ok {
			if w, ok := o.k.(workspacer); ok {
				values += int64(w.workspace())
			}
		}
	}
	return values * size
}

func nodeValues(n *gorgonia.Node) int {
	if n.IsScalar() {
		return 1
	}
	return n.Shape().TotalSize()
}
