package graph

import (
	"fmt"

	"github.com/dlrun/dlrun/internal/kernels"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// LossKind selects one of the built-in loss kernels.
type LossKind int

// The built-in losses. Each takes logits z and targets t of shape [b, n]
// and per-example weights w of shape [b], and returns the weighted mean over
// the batch of the per-example loss (rows of weight 0 do not count).
const (
	// SoftmaxCrossEntropy: -Σ_j t_j·log_softmax(z)_j (categorical
	// cross-entropy from logits).
	SoftmaxCrossEntropy LossKind = iota
	// SigmoidCrossEntropy: the mean over outputs of the binary
	// cross-entropy of sigmoid(z) against t, computed from logits.
	SigmoidCrossEntropy
	// SquaredError: the mean over outputs of (z - t)².
	SquaredError
)

// String returns the loss kernel's name.
func (k LossKind) String() string {
	return [...]string{"SoftmaxCrossEntropy", "SigmoidCrossEntropy", "SquaredError"}[k]
}

// Loss returns the scalar loss of the given kind.
func Loss(kind LossKind, z, t, w *gorgonia.Node) (*gorgonia.Node, error) {
	sz, st, sw := z.Shape(), t.Shape(), w.Shape()
	if sz.Dims() != 2 {
		return nil, &ShapeError{"loss", kind.String(), sz, nil, "logits must be a matrix [batch, outputs]"}
	}
	if !sz.Eq(st) {
		return nil, &ShapeError{"loss", kind.String(), sz, st, "logits and targets differ"}
	}
	if sw.Dims() != 1 || sw[0] != sz[0] {
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
	}
	return kernels.SoftmaxCrossEntropy(z, t, w, n)
}

func lossGrad[T kernels.Float](kind LossKind, dz, z, t, w []T, n int, g float64) {
	switch kind {
	case SigmoidCrossEntropy:
		kernels.SigmoidCrossEntropyGrad(dz, z, t, w, n, g)
	case SquaredError:
		kernels.SquaredErrorGrad(dz, z, t, w, n, g)
	default:
		kernels.SoftmaxCrossEntropyGrad(dz, z, t, w, n, g)
	}
}

func (k lossKernel) grad(in gorgonia.Nodes, _, g *gorgonia.Node) (gorgonia.Nodes, error) {
	dz, err := apply(lossGradKernel{k}, in[0].Shape().Clone(), in[0], in[1], in[2], g)
	return gorgonia.Nodes{dz, nil, nil}, err
}

type lossGradKernel struct{ lossKernel }

func (k lossGradKernel) name() string       { return k.lossKernel.name() + "Grad" }
func (lossGradKernel) diffWRT(n int) []bool { return make([]bool, n) }
func (lossGradKernel) grad(gorgonia.Nodes, *gorgonia.Node, *gorgonia.Node) (gorgonia.Nodes, error) {
	return noGrad{}.grad(nil, nil, nil)
}
func (k lossGradKernel) do(out *tensor.Dense, in []*tensor.Dense) error {
	return floats(out, in, func(o []float32, in [][]float32) {
		lossGrad(k.kind, o, in[0], in[1], in[2], k.n, float64(in[3][0]))
	}, func(o []float64, in [][]float64) {
		lossGrad(k.kind, o, in[0], in[1], in[2], k.n, in[3][0])
	})
}
