package graph

import (
	"fmt"
	"math"

	"github.com/dlrun/dlrun/internal/kernels"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Conv1D returns the 1-D cross-correlation of sequences x [n, l, c]
// (steps, then channels: the layout of dlrun's sequences, Keras's Conv1D)
// with the filters w [f, c, k] (PyTorch's nn.Conv1d layout), whose k taps
// lie dilation steps apart, plus the bias b [f] if not nil: [n, ol, f],
// ol = (l + padLeft + padRight − (k−1)·dilation − 1)/stride + 1. PyTorch
// computes the same on x.transpose(1, 2) (its dilation argument). Each
// sequence is one matrix product of its windows with the filters
// (kernels.Conv1DForward). x, w and b are differentiable.
func Conv1D(x, w, b *Node, stride, dilation, padLeft, padRight int) (*Node, error) {
	nodes := []*gorgonia.Node{x, w}
	if b != nil {
		nodes = append(nodes, b)
	}
	if err := checkNodes("conv1d", nodes...); err != nil {
		return nil, err
	}
	sx, sw := x.Shape(), w.Shape()
	if x.IsScalar() || sx.Dims() != 3 {
		return nil, &ShapeError{"conv1d", w.Name(), sx, sw, "the input must be [batch, steps, channels]"}
	}
	if sw.Dims() != 3 || sw[1] != sx[2] {
		return nil, &ShapeError{"conv1d", w.Name(), sx, sw, "filters must be [out channels, in channels, kernel] with the input's channels"}
	}
	if stride < 1 || dilation < 1 || padLeft < 0 || padRight < 0 {
		return nil, errors.Errorf("graph: conv1d %s: stride %d and dilation %d must be positive and padding %d, %d not negative", w.Name(), stride, dilation, padLeft, padRight)
	}
	g := kernels.Conv1DGeom{N: sx[0], L: sx[1], C: sx[2], F: sw[0], K: sw[2], S: stride, D: dilation, PadL: padLeft, PadR: padRight}
	reach := Conv1DSpan(g.K, dilation)
	if span := g.L + padLeft + padRight; span < reach {
		return nil, &ShapeError{"conv1d", w.Name(), sx, sw, fmt.Sprintf("a window of %d steps is longer than the %d padded steps", reach, span)}
	}
	g.OL = (g.L+padLeft+padRight-reach)/stride + 1
	inputs := []*gorgonia.Node{x, w}
	if b != nil {
		if sb := b.Shape(); sb.Dims() != 1 || sb[0] != g.F {
			return nil, &ShapeError{"conv1d bias", b.Name(), sw, sb, "the bias must be a vector with one value per output channel"}
		}
		inputs = append(inputs, b)
	}
	return apply(&conv1DKernel{g: g}, tensor.Shape{g.N, g.OL, g.F}, inputs...)
}

// Conv1DSpan returns the steps that a window of kernel taps dilation steps
// apart covers: (kernel−1)·dilation + 1. It saturates at math.MaxInt
// rather than overflow.
func Conv1DSpan(kernel, dilation int) int {
	if kernel < 1 {
		return kernel
	}
	d := max(dilation, 1)
	if kernel-1 > (math.MaxInt-1)/d {
		return math.MaxInt
	}
	return (kernel-1)*d + 1
}

// conv1DKernel keeps the packed filters and padded input of its last
// forward pass for its gradient kernels.
type conv1DKernel struct {
	g   kernels.Conv1DGeom
	s32 kernels.Conv1DScratch[float32]
	s64 kernels.Conv1DScratch[float64]
}

func (k *conv1DKernel) name() string {
	return fmt.Sprintf("Conv1D(%d filters of %d, stride %d, dilation %d)", k.g.F, k.g.K, k.g.S, k.g.D)
}

// keepsState implements stateful: the packed filters and padded input.
func (*conv1DKernel) keepsState()            {}
func (k *conv1DKernel) diffWRT(n int) []bool { return []bool{true, true, true}[:n] }
func (k *conv1DKernel) do(out *tensor.Dense, in []*tensor.Dense) error {
	return floats(out, in, func(o []float32, in [][]float32) {
		kernels.Conv1DForward(k.g, in[0], in[1], biasOf(in), o, &k.s32)
	}, func(o []float64, in [][]float64) {
		kernels.Conv1DForward(k.g, in[0], in[1], biasOf(in), o, &k.s64)
	})
}

// biasOf returns the third input, the bias, or nil.
func biasOf[T kernels.Float](in [][]T) []T {
	if len(in) > 2 {
		return in[2]
	}
	return nil
}

func (k *conv1DKernel) grad(in gorgonia.Nodes, y, g *gorgonia.Node) (gorgonia.Nodes, error) {
	// y orders the gradients after the forward pass, whose scratch they read.
	dx, err := apply(&conv1DGradKernel{f: k}, in[0].Shape().Clone(), g, y)
	if err != nil {
		return nil, err
	}
	dw, err := apply(&conv1DGradKernel{f: k, filters: true}, in[1].Shape().Clone(), in[0], g, y)
	if err != nil {
		return nil, err
	}
	out := gorgonia.Nodes{dx, dw}
	if len(in) > 2 {
		db, err := apply(sumRowsKernel{}, in[2].Shape().Clone(), g)
		if err != nil {
			return nil, err
		}
		out = append(out, db)
	}
	return out, nil
}

// conv1DGradKernel computes the input gradient from dy, or (filters) the
// filter gradient from x and dy.
type conv1DGradKernel struct {
	noGrad
	f       *conv1DKernel
	filters bool
}

func (k *conv1DGradKernel) name() string {
	return fmt.Sprintf("Conv1DGrad(%p, filters %v)", k.f, k.filters)
}
func (k *conv1DGradKernel) do(out *tensor.Dense, in []*tensor.Dense) error {
	f := k.f
	return floats(out, in, func(o []float32, in [][]float32) {
		if k.filters {
			kernels.Conv1DFilterGrad(f.g, in[0], in[1], o, &f.s32)
		} else {
			kernels.Conv1DInputGrad(f.g, in[0], o, &f.s32)
		}
	}, func(o []float64, in [][]float64) {
		if k.filters {
			kernels.Conv1DFilterGrad(f.g, in[0], in[1], o, &f.s64)
		} else {
			kernels.Conv1DInputGrad(f.g, in[0], o, &f.s64)
		}
	})
}
