package graph

import (
	"fmt"

	"github.com/pkg/errors"

	"github.com/dlrun/dlrun/internal/kernels"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// LossKind selects one of the built-in loss kernels.
type LossKind int

// The built-in losses. Each takes logits z and targets t of shape [b, n]
// and per-example weights w of shape [b], and returns the weighted mean over
// the batch of the per-example loss (rows of weight 0 do not count). Without
// weights (w nil) every example has weight 1: the plain mean over the batch.
const (
	// SoftmaxCrossEntropy: -Σ_j t_j·log_softmax(z)_j (categorical
	// cross-entropy from logits).
	SoftmaxCrossEntropy LossKind = iota
	// SigmoidCrossEntropy: the mean over outputs of the binary
	// cross-entropy of sigmoid(z) against t, computed from logits.
	SigmoidCrossEntropy
	// SquaredError: the mean over outputs of (z - t)².
	SquaredError
	// Huber: the mean over outputs of the Huber loss of z - t with δ = 1
	// (PyTorch's HuberLoss(delta=1), SmoothL1Loss): quadratic within 1,
	// linear beyond, so that a large error pulls no harder than 1.
	Huber
	// Linear: Σ_j t_j·z_j, the loss whose gradient with respect to z is t:
	// a surrogate for a gradient computed outside the graph (the clipped
	// policy gradient of PPO, with respect to the logits).
	Linear
)

// String returns the loss kernel's name ("LossKind(n)" for an unknown kind).
func (k LossKind) String() string {
	switch k {
	case SoftmaxCrossEntropy:
		return "SoftmaxCrossEntropy"
	case SigmoidCrossEntropy:
		return "SigmoidCrossEntropy"
	case SquaredError:
		return "SquaredError"
	case Huber:
		return "Huber"
	case Linear:
		return "Linear"
	}
	return fmt.Sprintf("LossKind(%d)", int(k))
}

// Loss returns the scalar loss of the given kind of the logits z against
// the targets t, weighted by w; w nil weighs every example 1.
func Loss(kind LossKind, z, t, w *Node) (*Node, error) {
	nodes := []*gorgonia.Node{z, t}
	if w != nil {
		nodes = append(nodes, w)
	}
	if err := checkNodes("loss "+kind.String(), nodes...); err != nil {
		return nil, err
	}
	if kind < SoftmaxCrossEntropy || kind > Linear {
		return nil, errors.Errorf("graph: loss %s: unknown loss kind (logits %s)", kind, z.Name())
	}
	sz, st := z.Shape(), t.Shape()
	if sz.Dims() != 2 {
		return nil, &ShapeError{"loss", kind.String(), sz, nil, "logits must be a matrix [batch, outputs]"}
	}
	if !sz.Eq(st) {
		return nil, &ShapeError{"loss", kind.String(), sz, st, "logits and targets differ"}
	}
	if w == nil {
		return apply(&unweightedLossKernel{lossKernel: lossKernel{kind, sz[1]}, b: sz[0]}, tensor.ScalarShape(), z, t)
	}
	if sw := w.Shape(); sw.Dims() != 1 || sw[0] != sz[0] {
		return nil, &ShapeError{"loss", kind.String(), sz, sw, "weights must be a vector as long as the batch"}
	}
	return apply(lossKernel{kind, sz[1]}, tensor.ScalarShape(), z, t, w)
}

type lossKernel struct {
	kind LossKind
	n    int
}

func (k lossKernel) name() string     { return fmt.Sprintf("%v(%d)", k.kind, k.n) }
func (lossKernel) diffWRT(int) []bool { return []bool{true, false, false} }
func (k lossKernel) do(out *tensor.Dense, in []*tensor.Dense) error {
	return floats(out, in, func(o []float32, in [][]float32) {
		o[0] = float32(lossValue(k.kind, in[0], in[1], in[2], k.n))
	}, func(o []float64, in [][]float64) {
		o[0] = lossValue(k.kind, in[0], in[1], in[2], k.n)
	})
}

func lossValue[T kernels.Float](kind LossKind, z, t, w []T, n int) float64 {
	switch kind {
	case SigmoidCrossEntropy:
		return kernels.SigmoidCrossEntropy(z, t, w, n)
	case SquaredError:
		return kernels.SquaredError(z, t, w, n)
	case Huber:
		return kernels.Huber(z, t, w, n)
	case Linear:
		return kernels.Linear(z, t, w, n)
	}
	return kernels.SoftmaxCrossEntropy(z, t, w, n)
}

func lossGrad[T kernels.Float](kind LossKind, dz, z, t, w []T, n int, g float64) {
	switch kind {
	case SigmoidCrossEntropy:
		kernels.SigmoidCrossEntropyGrad(dz, z, t, w, n, g)
	case SquaredError:
		kernels.SquaredErrorGrad(dz, z, t, w, n, g)
	case Huber:
		kernels.HuberGrad(dz, z, t, w, n, g)
	case Linear:
		kernels.LinearGrad(dz, z, t, w, n, g)
	default:
		kernels.SoftmaxCrossEntropyGrad(dz, z, t, w, n, g)
	}
}

func (k lossKernel) grad(in gorgonia.Nodes, _, g *gorgonia.Node) (gorgonia.Nodes, error) {
	dz, err := apply(lossGradKernel{f: k}, in[0].Shape().Clone(), in[0], in[1], in[2], g)
	return gorgonia.Nodes{dz, nil, nil}, err
}

type lossGradKernel struct {
	noGrad
	f lossKernel
}

func (k lossGradKernel) name() string { return k.f.name() + "Grad" }
func (k lossGradKernel) do(out *tensor.Dense, in []*tensor.Dense) error {
	return floats(out, in, func(o []float32, in [][]float32) {
		lossGrad(k.f.kind, o, in[0], in[1], in[2], k.f.n, float64(in[3][0]))
	}, func(o []float64, in [][]float64) {
		lossGrad(k.f.kind, o, in[0], in[1], in[2], k.f.n, in[3][0])
	})
}

// unweightedLossKernel is lossKernel without a weights input: it feeds
// weights of 1, kept for the batch of b examples, to the same kernels, so
// its values and gradients are those of lossKernel with all-ones weights.
type unweightedLossKernel struct {
	lossKernel
	b    int
	ones ones
}

func (k *unweightedLossKernel) name() string     { return k.lossKernel.name() + "Unweighted" }
func (*unweightedLossKernel) diffWRT(int) []bool { return []bool{true, false} }
func (k *unweightedLossKernel) do(out *tensor.Dense, in []*tensor.Dense) error {
	return floats(out, in, func(o []float32, in [][]float32) {
		o[0] = float32(lossValue(k.kind, in[0], in[1], k.ones.f32(k.b), k.n))
	}, func(o []float64, in [][]float64) {
		o[0] = lossValue(k.kind, in[0], in[1], k.ones.f64(k.b), k.n)
	})
}

func (k *unweightedLossKernel) grad(in gorgonia.Nodes, _, g *gorgonia.Node) (gorgonia.Nodes, error) {
	dz, err := apply(&unweightedLossGradKernel{f: k}, in[0].Shape().Clone(), in[0], in[1], g)
	return gorgonia.Nodes{dz, nil}, err
}

type unweightedLossGradKernel struct {
	noGrad
	f    *unweightedLossKernel
	ones ones
}

func (k *unweightedLossGradKernel) name() string { return k.f.name() + "Grad" }
func (k *unweightedLossGradKernel) do(out *tensor.Dense, in []*tensor.Dense) error {
	f := k.f
	return floats(out, in, func(o []float32, in [][]float32) {
		lossGrad(f.kind, o, in[0], in[1], k.ones.f32(f.b), f.n, float64(in[2][0]))
	}, func(o []float64, in [][]float64) {
		lossGrad(f.kind, o, in[0], in[1], k.ones.f64(f.b), f.n, in[2][0])
	})
}

// ones holds slices of ones, made on first use.
type ones struct {
	s32 []float32
	s64 []float64
}

func (o *ones) f32(n int) []float32 {
	if len(o.s32) != n {
		o.s32 = make([]float32, n)
		for i := range o.s32 {
			o.s32[i] = 1
		}
	}
	return o.s32
}

func (o *ones) f64(n int) []float64 {
	if len(o.s64) != n {
		o.s64 = make([]float64, n)
		for i := range o.s64 {
			o.s64[i] = 1
		}
	}
	return o.s64
}
