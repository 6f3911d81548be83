package graph

import (
	"fmt"

	"github.com/dlrun/dlrun/internal/kernels"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// ShapeError reports operands whose shapes do not fit an operation.
type ShapeError struct {
	Op     string // the operation, e.g. "matmul"
	Node   string // the node being built (a layer or parameter name)
	A, B   tensor.Shape
	Reason string
}

// Error implements error.
func (e *ShapeError) Error() string {
	if e == nil {
		return "graph: shape error"
	}
	if e.B == nil {
		return fmt.Sprintf("graph: %s %s: input shape %v: %s", e.Op, e.Node, e.A, e.Reason)
	}
	return fmt.Sprintf("graph: %s %s: shapes %v and %v: %s", e.Op, e.Node, e.A, e.B, e.Reason)
}

// MatMul returns a·b for matrices a (m×k) and b (k×n).
func MatMul(a, b *Node) (*Node, error) {
	if err := checkNodes("matmul", a, b); err != nil {
		return nil, err
	}
	sa, sb := a.Shape(), b.Shape()
	if sa.Dims() != 2 || sb.Dims() != 2 {
		return nil, &ShapeError{"matmul", b.Name(), sa, sb, "both operands must be matrices"}
	}
	if sa[1] != sb[0] {
		return nil, &ShapeError{"matmul", b.Name(), sa, sb, fmt.Sprintf("inner dimensions %d and %d differ", sa[1], sb[0])}
	}
	return apply(matmulKernel{m: sa[0], n: sb[1], k: sa[1]}, tensor.Shape{sa[0], sb[1]}, a, b)
}

// matmulKernel computes op(A)·op(B) with dlrun's blocked gemm; the
// transposed forms serve the gradients.
type matmulKernel struct {
	transA, transB bool
	m, n, k        int
}

func (k matmulKernel) name() string {
	return fmt.Sprintf("MatMul(%v,%v)", k.transA, k.transB)
}
func (k matmulKernel) diffWRT(n int) []bool {
	return []bool{!k.transA && !k.transB, !k.transA && !k.transB}
}
func (k matmulKernel) do(out *tensor.Dense, in []*tensor.Dense) error {
	lda, ldb := k.k, k.n
	if k.transA {
		lda = k.m
	}
	if k.transB {
		ldb = k.k
	}
	return floats(out, in, func(o []float32, in [][]float32) {
		kernels.ParallelGemm(k.transA, k.transB, k.m, k.n, k.k, in[0], lda, in[1], ldb, false, o, k.n)
	}, func(o []float64, in [][]float64) {
		kernels.ParallelGemm(k.transA, k.transB, k.m, k.n, k.k, in[0], lda, in[1], ldb, false, o, k.n)
	})
}
func (k matmulKernel) grad(in gorgonia.Nodes, _, g *gorgonia.Node) (gorgonia.Nodes, error) {
	if k.transA || k.transB {
		return noGrad{}.grad(nil, nil, nil)
	}
	// dA = dC·Bᵀ (m×k), dB = Aᵀ·dC (k×n).
	da, err := apply(matmulKernel{transB: true, m: k.m, n: k.k, k: k.n}, tensor.Shape{k.m, k.k}, g, in[1])
	if err != nil {
		return nil, err
	}
	db, err := apply(matmulKernel{transA: true, m: k.k, n: k.n, k: k.m}, tensor.Shape{k.k, k.n}, in[0], g)
	return gorgonia.Nodes{da, db}, err
}

// AddBias returns x + b, adding the vector b (shape [c]) along the last
// axis of x (shape [..., c]).
func AddBias(x, b *Node) (*Node, error) {
	if err := checkNodes("add bias", x, b); err != nil {
		return nil, err
	}
	sx, sb := x.Shape(), b.Shape()
	if sb.Dims() != 1 || sx.Dims() < 1 || sx[sx.Dims()-1] != sb[0] {
		return nil, &ShapeError{"add bias", b.Name(), sx, sb, "the bias must be a vector as long as the input's last axis"}
	}
	return apply(biasKernel{}, sx.Clone(), x, b)
}

type biasKernel struct{}

func (biasKernel) name() string       { return "AddBias" }
func (biasKernel) diffWRT(int) []bool { return []bool{true, true} }
func (biasKernel) do(out *tensor.Dense, in []*tensor.Dense) error {
	return floats(out, in, func(o []float32, in [][]float32) { kernels.AddBias(o, in[0], in[1]) },
		func(o []float64, in [][]float64) { kernels.AddBias(o, in[0], in[1]) })
}
func (biasKernel) grad(in gorgonia.Nodes, _, g *gorgonia.Node) (gorgonia.Nodes, error) {
	db, err := apply(sumRowsKernel{}, in[1].Shape().Clone(), g)
	return gorgonia.Nodes{g, db}, err
}

type sumRowsKernel struct{ noGrad }

func (sumRowsKernel) name() string { return "SumRows" }
func (sumRowsKernel) do(out *tensor.Dense, in []*tensor.Dense) error {
	return floats(out, in, func(o []float32, in [][]float32) { kernels.SumRows(o, in[0]) },
		func(o []float64, in [][]float64) { kernels.SumRows(o, in[0]) })
}

// elemKernel is an elementwise activation with its derivative, which reads
// either the input x or (withOutput) the output y.
type elemKernel struct {
	nm         string
	f32        func(dst, x []float32)
	f64        func(dst, x []float64)
	g32        func(dx, xy, dy []float32)
	g64        func(dx, xy, dy []float64)
	withOutput bool
}

func (k *elemKernel) name() string       { return k.nm }
func (k *elemKernel) diffWRT(int) []bool { return []bool{true} }
func (k *elemKernel) do(out *tensor.Dense, in []*tensor.Dense) error {
	return floats(out, in, func(o []float32, in [][]float32) { k.f32(o, in[0]) },
		func(o []float64, in [][]float64) { k.f64(o, in[0]) })
}
func (k *elemKernel) grad(in gorgonia.Nodes, out, g *gorgonia.Node) (gorgonia.Nodes, error) {
	xy := in[0]
	if k.withOutput {
		xy = out
	}
	dx, err := apply(&elemGradKernel{f: k}, in[0].Shape().Clone(), xy, g)
	return gorgonia.Nodes{dx}, err
}

type elemGradKernel struct {
	noGrad
	f *elemKernel
}

func (k *elemGradKernel) name() string { return k.f.nm + "Grad" }
func (k *elemGradKernel) do(out *tensor.Dense, in []*tensor.Dense) error {
	return floats(out, in, func(o []float32, in [][]float32) { k.f.g32(o, in[0], in[1]) },
		func(o []float64, in [][]float64) { k.f.g64(o, in[0], in[1]) })
}

var (
	reluK    = &elemKernel{"ReLU", kernels.ReLU[float32], kernels.ReLU[float64], kernels.ReLUGrad[float32], kernels.ReLUGrad[float64], false}
	sigmoidK = &elemKernel{"Sigmoid", kernels.Sigmoids, kernels.Sigmoid[float64], kernels.SigmoidGrad[float32], kernels.SigmoidGrad[float64], true}
	tanhK    = &elemKernel{"Tanh", kernels.Tanhs, kernels.Tanh[float64], kernels.TanhGrad[float32], kernels.TanhGrad[float64], true}
	geluK    = geluKernel(false)
	geluTK   = geluKernel(true)
)

// geluKernel is GELU's kernel, in its tanh form if tanh.
func geluKernel(tanh bool) *elemKernel {
	name := "GELU"
	if tanh {
		name = "GELUTanh"
	}
	return &elemKernel{name,
		func(d, x []float32) { kernels.GELU(d, x, tanh) }, func(d, x []float64) { kernels.GELU(d, x, tanh) },
		func(dx, x, dy []float32) { kernels.GELUGrad(dx, x, dy, tanh) }, func(dx, x, dy []float64) { kernels.GELUGrad(dx, x, dy, tanh) },
		false}
}

// ReLU returns max(x, 0) elementwise.
func ReLU(x *Node) (*Node, error) { return unary("relu", reluK, x) }

// Sigmoid returns 1/(1+exp(-x)) elementwise; in float32 by the vector
// kernel the recurrent layers use (within 3e-7 of the exact value, the
// same bits on every run), in float64 by the standard library.
func Sigmoid(x *Node) (*Node, error) { return unary("sigmoid", sigmoidK, x) }

// Tanh returns tanh(x) elementwise; in float32 by the vector kernel the
// recurrent layers use (within 3e-7 of math.Tanh, the same bits on every
// run), in float64 by math.Tanh.
func Tanh(x *Node) (*Node, error) { return unary("tanh", tanhK, x) }

// GELU returns x·Φ(x) elementwise, Φ being the standard normal
// distribution function: 0.5·x·(1 + erf(x/√2)), PyTorch's nn.GELU(). In
// float32 erf is computed to within 2e-7.
func GELU(x *Node) (*Node, error) { return unary("gelu", geluK, x) }

// GELUTanh returns the tanh approximation of GELU elementwise,
// 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))): GPT-2's, and PyTorch's
// nn.GELU(approximate="tanh"). In float32 it runs on the vector tanh of
// Tanh.
func GELUTanh(x *Node) (*Node, error) { return unary("gelu tanh", geluTK, x) }

// Softmax returns the softmax of x along its last axis.
func Softmax(x *Node) (*Node, error) {
	if err := checkNodes("softmax", x); err != nil {
		return nil, err
	}
	return apply(softmaxKernel{log: false, n: lastDim(x)}, x.Shape().Clone(), x)
}

// LogSoftmax returns the log of the softmax of x along its last axis,
// computed stably.
func LogSoftmax(x *Node) (*Node, error) {
	if err := checkNodes("log softmax", x); err != nil {
		return nil, err
	}
	return apply(softmaxKernel{log: true, n: lastDim(x)}, x.Shape().Clone(), x)
}

// unary applies an elementwise kernel to x, which must not be nil.
func unary(opName string, k kernel, x *gorgonia.Node) (*gorgonia.Node, error) {
	if err := checkNodes(opName, x); err != nil {
		return nil, err
	}
	return apply(k, x.Shape().Clone(), x)
}

func lastDim(x *gorgonia.Node) int {
	s := x.Shape()
	if len(s) == 0 {
		return 1
	}
	return s[len(s)-1]
}

type softmaxKernel struct {
	log bool
	n   int
}

func (k softmaxKernel) name() string {
	if k.log {
		return "LogSoftmax"
	}
	return "Softmax"
}
func (softmaxKernel) diffWRT(int) []bool { return []bool{true} }
func (k softmaxKernel) do(out *tensor.Dense, in []*tensor.Dense) error {
	return floats(out, in, func(o []float32, in [][]float32) { kernels.Softmax(o, in[0], k.n, k.log) },
		func(o []float64, in [][]float64) { kernels.Softmax(o, in[0], k.n, k.log) })
}
func (k softmaxKernel) grad(in gorgonia.Nodes, out, g *gorgonia.Node) (gorgonia.Nodes, error) {
	dx, err := apply(softmaxGradKernel{f: k}, in[0].Shape().Clone(), out, g)
	return gorgonia.Nodes{dx}, err
}

type softmaxGradKernel struct {
	noGrad
	f softmaxKernel
}

func (k softmaxGradKernel) name() string { return k.f.name() + "Grad" }
func (k softmaxGradKernel) do(out *tensor.Dense, in []*tensor.Dense) error {
	return floats(out, in, func(o []float32, in [][]float32) { kernels.SoftmaxGrad(o, in[0], in[1], k.f.n, k.f.log) },
		func(o []float64, in [][]float64) { kernels.SoftmaxGrad(o, in[0], in[1], k.f.n, k.f.log) })
}

// Reshape returns x with a new shape of the same size; every dimension of
// shape must be positive (no shape at all makes a scalar of a 1-element x).
func Reshape(x *Node, shape ...int) (*Node, error) {
	if err := checkNodes("reshape", x); err != nil {
		return nil, err
	}
	to := tensor.Shape(append([]int{}, shape...))
	for _, d := range shape {
		if d < 1 {
			return nil, &ShapeError{"reshape", x.Name(), x.Shape(), to, "dimensions must be positive"}
		}
	}
	if to.TotalSize() != x.Shape().TotalSize() {
		return nil, &ShapeError{"reshape", x.Name(), x.Shape(), to, "sizes differ"}
	}
	return apply(reshapeKernel{}, to.Clone(), x)
}

// reshapeKernel copies its input into a buffer of another shape (Gorgonia's
// own reshape allocates a new tensor on every run).
type reshapeKernel struct{}

func (reshapeKernel) name() string       { return "Reshape" }
func (reshapeKernel) isView()            {}
func (reshapeKernel) diffWRT(int) []bool { return []bool{true} }
func (reshapeKernel) do(out *tensor.Dense, in []*tensor.Dense) error {
	return floats(out, in, func(o []float32, in [][]float32) { copy(o, in[0]) },
		func(o []float64, in [][]float64) { copy(o, in[0]) })
}
func (reshapeKernel) grad(in gorgonia.Nodes, _, g *gorgonia.Node) (gorgonia.Nodes, error) {
	dx, err := apply(reshapeKernel{}, in[0].Shape().Clone(), g)
	return gorgonia.Nodes{dx}, err
}
