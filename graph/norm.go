package graph

import (
	"fmt"
	"math"

	"github.com/dlrun/dlrun/internal/kernels"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// BatchNorm returns the batch normalisation of x, PyTorch's BatchNorm1d
// over x of shape [batch, C] (or [batch, C, L]) and BatchNorm2d over NCHW x
// [batch, C, H, W]: each channel c is normalised with a mean and variance
// taken over the batch and the positions of that channel,
//
//	y = (x - mean)/sqrt(var + eps)·weight + bias,
//
// weight (gamma) and bias (beta) being [C] parameters. The output has x's
// shape.
//
// The statistics depend on the mode of the buffers' graph when the op runs
// (Graph.SetTraining). In training mode they are the batch's: its mean and
// biased variance, and the running statistics are updated during the
// forward pass, as PyTorch does:
//
//	runningMean = (1-momentum)·runningMean + momentum·mean
//	runningVar  = (1-momentum)·runningVar  + momentum·var·m/(m-1)
//	numBatches += 1
//
// with m the number of values per channel (the unbiased variance). In
// evaluation mode runningMean and runningVar (both [C] buffers) are used and
// no buffer changes. The gradients (for x, weight and bias) are the full
// batch-norm gradients in training mode, through the mean and variance, and
// the affine ones in evaluation mode, the running statistics being
// constants.
//
// In training mode with 0 < Graph.ActiveRows() < batch, only the active
// rows take part: the statistics (and m) are theirs, the padded rows'
// output is zero and their gradient zero. Training needs m > 1. In
// evaluation mode every row is normalised alike.
//
// numBatches must be a Counter; momentum lies in [0, 1] (PyTorch takes any
// number, but only these make the running statistics an average) and
// eps > 0.
func BatchNorm(x, weight, bias *Node, runningMean, runningVar, numBatches *Buffer, momentum, eps float64) (*Node, error) {
	if err := checkNodes("batchnorm", x, weight, bias); err != nil {
		return nil, err
	}
	if runningMean == nil || runningVar == nil || numBatches == nil {
		return nil, errors.Errorf("graph: batchnorm %s: nil running mean, running variance or batch counter", weight.Name())
	}
	sx := x.Shape()
	if sx.Dims() < 2 {
		return nil, &ShapeError{"batchnorm", x.Name(), sx, nil, "the input must be [batch, channels, ...] (2 or more dimensions)"}
	}
	c := sx[1]
	for _, p := range []*gorgonia.Node{weight, bias} {
		if s := p.Shape(); s.Dims() != 1 || s[0] != c {
			return nil, &ShapeError{"batchnorm", p.Name(), sx, s, fmt.Sprintf("want a vector of %d values, one per channel", c)}
		}
	}
	g := runningMean.g
	if g == nil {
		return nil, errors.Errorf("graph: batchnorm %s: buffer %s belongs to no graph (declare it with Graph.Buffer)", weight.Name(), runningMean.Name)
	}
	for _, b := range []*Buffer{runningMean, runningVar} {
		if b.Int() || len(b.shape) != 1 || b.shape[0] != c {
			return nil, &ShapeError{"batchnorm", b.Name, sx, tensor.Shape(b.shape), fmt.Sprintf("the running statistics must be float vectors of %d values, one per channel", c)}
		}
	}
	if !numBatches.Int() {
		return nil, errors.Errorf("graph: batchnorm %s: %s is not a counter", weight.Name(), numBatches.Name)
	}
	for _, b := range []*Buffer{runningVar, numBatches} {
		if b.g != g {
			return nil, errors.Errorf("graph: batchnorm %s: buffers %s and %s belong to different graphs", weight.Name(), runningMean.Name, b.Name)
		}
	}
	if x.Graph() != g.g {
		return nil, errors.Errorf("graph: batchnorm %s: the input and the buffer %s belong to different graphs", weight.Name(), runningMean.Name)
	}
	if x.Dtype() != g.dtype.Tensor() {
		return nil, errors.Errorf("graph: batchnorm %s: input %s is %v, the graph %v", weight.Name(), x.Name(), x.Dtype(), g.dtype)
	}
	if !(momentum >= 0 && momentum <= 1) || !(eps > 0) || math.IsInf(eps, 1) {
		return nil, errors.Errorf("graph: batchnorm %s: momentum %g must lie in [0, 1] and eps %g be positive", weight.Name(), momentum, eps)
	}
	k := &bnKernel{
		g: g, rm: runningMean, rv: runningVar, nb: numBatches, momentum: momentum, eps: eps,
		n: sx[0], c: c, s: sx[2:].TotalSize(),
		mean: make([]float64, c), variance: make([]float64, c), invstd: make([]float64, c),
	}
	if sx.Dims() == 2 {
		k.s = 1
	}
	return apply(k, sx.Clone(), x, weight, bias)
}

// bnKernel computes batch norm over x viewed as [n, c, s]. It keeps the
// statistics of the last forward pass for its gradient kernels.
type bnKernel struct {
	g             *Graph
	rm, rv, nb    *Buffer
	momentum, eps float64
	n, c, s       int

	mean, variance, invstd []float64
	rows                   int  // examples normalised in the last pass
	batch                  bool // the last pass used the batch's statistics
}

// name includes the running mean's name, unique in its graph, so that two
// layers never share an op.
func (k *bnKernel) name() string {
	return fmt.Sprintf("BatchNorm(%s, momentum %g, eps %g)", k.rm.Name, k.momentum, k.eps)
}
func (k *bnKernel) diffWRT(int) []bool { return []bool{true, true, true} }

func (k *bnKernel) do(out *tensor.Dense, in []*tensor.Dense) error {
	k.batch = k.g.Training()
	k.rows = k.n
	if k.batch {
		k.rows = k.g.rowsOf(k.n)
		if m := k.rows * k.s; m < 2 {
			return errors.Errorf("batchnorm %s: training needs more than one value per channel, got %d", k.rm.Name, m)
		}
	}
	return floats(out, in, func(o []float32, in [][]float32) { bnForward(k, o, in) },
		func(o []float64, in [][]float64) { bnForward(k, o, in) })
}

func bnForward[T kernels.Float](k *bnKernel, y []T, in [][]T) {
	if k.batch {
		kernels.BatchNormStats(in[0], k.rows, k.c, k.s, k.mean, k.variance)
		m := float64(k.rows * k.s)
		for ch := range k.c {
			k.rm.set(ch, (1-k.momentum)*k.rm.at(ch)+k.momentum*k.mean[ch])
			k.rv.set(ch, (1-k.momentum)*k.rv.at(ch)+k.momentum*k.variance[ch]*m/(m-1))
		}
		k.nb.i64[0]++
	} else {
		for ch := range k.c {
			k.mean[ch], k.variance[ch] = k.rm.at(ch), k.rv.at(ch)
		}
	}
	for ch, v := range k.variance {
		k.invstd[ch] = 1 / math.Sqrt(v+k.eps)
	}
	kernels.BatchNormForward(y, in[0], in[1], in[2], k.rows, k.c, k.s, k.mean, k.invstd)
}

func (k *bnKernel) grad(in gorgonia.Nodes, y, dy *gorgonia.Node) (gorgonia.Nodes, error) {
	// y is an input of the sums only to order them after the forward pass.
	sums, err := apply(&bnSumsKernel{f: k}, tensor.Shape{2, k.c}, in[0], dy, y)
	if err != nil {
		return nil, err
	}
	dx, err := apply(&bnInputGradKernel{f: k}, in[0].Shape().Clone(), in[0], dy, in[1], sums)
	if err != nil {
		return nil, err
	}
	dw, err := apply(pickRowKernel{i: 1}, tensor.Shape{k.c}, sums)
	if err != nil {
		return nil, err
	}
	db, err := apply(pickRowKernel{i: 0}, tensor.Shape{k.c}, sums)
	return gorgonia.Nodes{dx, dw, db}, err
}

// bnSumsKernel computes [Σdy; Σdy·x̂] per channel ([2, c]) over the rows
// of the last forward pass: the bias and weight gradients.
type bnSumsKernel struct {
	noGrad
	f *bnKernel
}

func (k *bnSumsKernel) name() string { return fmt.Sprintf("BatchNormGradSums(%p)", k.f) }
func (k *bnSumsKernel) do(out *tensor.Dense, in []*tensor.Dense) error {
	f := k.f
	return floats(out, in, func(o []float32, in [][]float32) {
		kernels.BatchNormGradSums(o, in[0], in[1], f.rows, f.c, f.s, f.mean, f.invstd)
	}, func(o []float64, in [][]float64) {
		kernels.BatchNormGradSums(o, in[0], in[1], f.rows, f.c, f.s, f.mean, f.invstd)
	})
}

// bnInputGradKernel computes dx from x, dy, the weight and the sums.
type bnInputGradKernel struct {
	noGrad
	f *bnKernel
}

func (k *bnInputGradKernel) name() string { return fmt.Sprintf("BatchNormInputGrad(%p)", k.f) }
func (k *bnInputGradKernel) do(out *tensor.Dense, in []*tensor.Dense) error {
	f := k.f
	return floats(out, in, func(o []float32, in [][]float32) {
		kernels.BatchNormInputGrad(o, in[0], in[1], in[2], in[3], f.rows, f.c, f.s, f.mean, f.invstd, f.batch)
	}, func(o []float64, in [][]float64) {
		kernels.BatchNormInputGrad(o, in[0], in[1], in[2], in[3], f.rows, f.c, f.s, f.mean, f.invstd, f.batch)
	})
}

// pickRowKernel copies row i of a matrix.
type pickRowKernel struct {
	noGrad
	i int
}

func (k pickRowKernel) name() string { return fmt.Sprintf("Row(%d)", k.i) }
func (k pickRowKernel) do(out *tensor.Dense, in []*tensor.Dense) error {
	return floats(out, in, func(o []float32, in [][]float32) { copy(o, in[0][k.i*len(o):]) },
		func(o []float64, in [][]float64) { copy(o, in[0][k.i*len(o):]) })
}

// LayerNorm returns the layer normalisation of x over its last axis,
// PyTorch's LayerNorm(d) for x of shape [..., d]: each row of d values is
// normalised with its own mean and biased variance,
//
//	y = (x - mean)/sqrt(var + eps)·weight + bias,
//
// weight and bias being [d] parameters. The output has x's shape; the op is
// the same in training and evaluation mode. eps must be positive.
func LayerNorm(x, weight, bias *Node, eps float64) (*Node, error) {
	if err := checkNodes("layernorm", x, weight, bias); err != nil {
		return nil, err
	}
	sx := x.Shape()
	if sx.Dims() < 1 || x.IsScalar() {
		return nil, &ShapeError{"layernorm", x.Name(), sx, nil, "the input must have at least one axis"}
	}
	d := sx[sx.Dims()-1]
	for _, p := range []*gorgonia.Node{weight, bias} {
		if s := p.Shape(); s.Dims() != 1 || s[0] != d {
			return nil, &ShapeError{"layernorm", p.Name(), sx, s, fmt.Sprintf("want a vector of %d values, as long as the input's last axis", d)}
		}
	}
	if !(eps > 0) || math.IsInf(eps, 1) {
		return nil, errors.Errorf("graph: layernorm %s: eps %g must be positive", weight.Name(), eps)
	}
	rows := sx.TotalSize() / d
	k := &lnKernel{d: d, eps: eps, mean: make([]float64, rows), invstd: make([]float64, rows)}
	return apply(k, sx.Clone(), x, weight, bias)
}

// lnKernel computes layer norm over rows of length d, keeping each row's
// mean and invstd for its gradient kernels.
type lnKernel struct {
	d            int
	eps          float64
	mean, invstd []float64
}

func (k *lnKernel) name() string       { return fmt.Sprintf("LayerNorm(%d, eps %g)", k.d, k.eps) }
func (k *lnKernel) diffWRT(int) []bool { return []bool{true, true, true} }
func (k *lnKernel) do(out *tensor.Dense, in []*tensor.Dense) error {
	return floats(out, in, func(o []float32, in [][]float32) {
		kernels.LayerNormForward(o, in[0], in[1], in[2], k.d, k.eps, k.mean, k.invstd)
	}, func(o []float64, in [][]float64) {
		kernels.LayerNormForward(o, in[0], in[1], in[2], k.d, k.eps, k.mean, k.invstd)
	})
}

func (k *lnKernel) grad(in gorgonia.Nodes, y, dy *gorgonia.Node) (gorgonia.Nodes, error) {
	// y is an input of the gradient kernels only to order them after the
	// forward pass, whose statistics they read.
	dx, err := apply(&lnInputGradKernel{f: k}, in[0].Shape().Clone(), in[0], dy, in[1], y)
	if err != nil {
		return nil, err
	}
	dw, err := apply(&lnWeightGradKernel{f: k}, in[1].Shape().Clone(), in[0], dy, y)
	if err != nil {
		return nil, err
	}
	db, err := apply(sumRowsKernel{}, in[2].Shape().Clone(), dy)
	return gorgonia.Nodes{dx, dw, db}, err
}

type lnInputGradKernel struct {
	noGrad
	f *lnKernel
}

func (k *lnInputGradKernel) name() string { return fmt.Sprintf("LayerNormInputGrad(%p)", k.f) }
func (k *lnInputGradKernel) do(out *tensor.Dense, in []*tensor.Dense) error {
	f := k.f
	return floats(out, in, func(o []float32, in [][]float32) {
		kernels.LayerNormInputGrad(o, in[0], in[1], in[2], f.d, f.mean, f.invstd)
	}, func(o []float64, in [][]float64) {
		kernels.LayerNormInputGrad(o, in[0], in[1], in[2], f.d, f.mean, f.invstd)
	})
}

type lnWeightGradKernel struct {
	noGrad
	f *lnKernel
}

func (k *lnWeightGradKernel) name() string { return fmt.Sprintf("LayerNormWeightGrad(%p)", k.f) }
func (k *lnWeightGradKernel) do(out *tensor.Dense, in []*tensor.Dense) error {
	f := k.f
	return floats(out, in, func(o []float32, in [][]float32) {
		kernels.LayerNormWeightGrad(o, in[0], in[1], f.mean, f.invstd)
	}, func(o []float64, in [][]float64) {
		kernels.LayerNormWeightGrad(o, in[0], in[1], f.mean, f.invstd)
	})
}
