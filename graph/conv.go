package graph

import (
	"fmt"

	"github.com/dlrun/dlrun/internal/kernels"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Padding of a convolution: explicit zero rows and columns on each side.
type Padding struct{ Top, Bottom, Left, Right int }

// SamePadding returns the padding that gives an output of ceil(in/stride)
// for a window of size k, split as TensorFlow and Keras do (the odd extra
// row or column goes to the bottom or right). A stride below 1 gives no
// padding on that axis (Conv2D rejects such a stride).
func SamePadding(h, w, kh, kw, sh, sw int) Padding {
	pad := func(in, k, s int) (int, int) {
		if s < 1 {
			return 0, 0
		}
		out := (in + s - 1) / s
		total := max((out-1)*s+k-in, 0)
		return total / 2, total - total/2
	}
	t, b := pad(h, kh, sh)
	l, r := pad(w, kw, sw)
	return Padding{t, b, l, r}
}

// Conv2D returns the 2-D cross-correlation of x (NCHW: [n, c, h, w]) with
// the filters w ([oc, c, kh, kw], PyTorch's layout), plus the bias b ([oc])
// if b is not nil: an output of shape [n, oc, oh, ow]. x and w must not be
// nil.
func Conv2D(x, w, b *Node, strideH, strideW int, pad Padding) (*Node, error) {
	return conv2D(x, w, b, strideH, strideW, pad, false)
}

// Conv2DReLU returns ReLU(Conv2D(x, w, b, ...)) computed as one op: the
// same values and gradients as the two ops, one pass over memory fewer
// each way.
func Conv2DReLU(x, w, b *Node, strideH, strideW int, pad Padding) (*Node, error) {
	return conv2D(x, w, b, strideH, strideW, pad, true)
}

func conv2D(x, w, b *gorgonia.Node, strideH, strideW int, pad Padding, relu bool) (*gorgonia.Node, error) {
	opName := "conv2d"
	if relu {
		opName = "conv2d relu"
	}
	nodes := []*gorgonia.Node{x, w}
	if b != nil {
		nodes = append(nodes, b)
	}
	if err := checkNodes(opName, nodes...); err != nil {
		return nil, err
	}
	sx, sw := x.Shape(), w.Shape()
	if sx.Dims() != 4 {
		return nil, &ShapeError{"conv2d", w.Name(), sx, sw, "the input must be NCHW (4 dimensions)"}
	}
	if sw.Dims() != 4 || sw[1] != sx[1] {
		return nil, &ShapeError{"conv2d", w.Name(), sx, sw, "filters must be [out channels, in channels, kh, kw] with the input's channels"}
	}
	if strideH < 1 || strideW < 1 || pad.Top < 0 || pad.Bottom < 0 || pad.Left < 0 || pad.Right < 0 {
		return nil, errors.Errorf("graph: conv2d %s: strides %dx%d and padding %+v must be positive and non-negative", w.Name(), strideH, strideW, pad)
	}
	g := kernels.NewConvGeom(sx[0], sx[1], sx[2], sx[3], sw[2], sw[3], strideH, strideW, pad.Top, pad.Bottom, pad.Left, pad.Right)
	if g.OH < 1 || g.OW < 1 {
		return nil, &ShapeError{"conv2d", w.Name(), sx, sw, "the window is larger than the padded input"}
	}
	inputs := []*gorgonia.Node{x, w}
	if b != nil {
		if sb := b.Shape(); sb.Dims() != 1 || sb[0] != sw[0] {
			return nil, &ShapeError{"conv2d bias", b.Name(), sw, sb, "the bias must be a vector with one value per output channel"}
		}
		inputs = append(inputs, b)
	}
	k := &convKernel{g: g, oc: sw[0], bias: b != nil, relu: relu}
	return apply(k, tensor.Shape{g.N, k.oc, g.OH, g.OW}, inputs...)
}

// convKernel computes a convolution as an implicit matrix product, image
// by image: Y_n[oc, p] = W[oc, c·kh·kw] · im2col(x_n)[c·kh·kw, p], with the
// patches packed straight from x (kernels.ConvForward), then the bias and
// the fused ReLU while Y_n is in cache. On the pure-Go path a float32 3×3
// convolution of stride 1 with at least 8 channels in and out is computed
// by Winograd's F(4×4, 3×3) instead, in all three passes.
type convKernel struct {
	g    kernels.ConvGeom
	oc   int
	bias bool
	relu bool
	s32  kernels.ConvScratch[float32]
	s64  kernels.ConvScratch[float64]
}

func (k *convKernel) name() string {
	return fmt.Sprintf("Conv2D(%dx%d/%dx%d pad %d,%d,%d,%d bias %v relu %v)", k.g.KH, k.g.KW, k.g.SH, k.g.SW, k.g.PadT, k.g.PadB, k.g.PadL, k.g.PadR, k.bias, k.relu)
}
func (k *convKernel) ckk() int { return k.g.C * k.g.KH * k.g.KW }
func (k *convKernel) np() int  { return k.g.N * k.g.OH * k.g.OW }

func (k *convKernel) diffWRT(n int) []bool {
	d := make([]bool, n)
	for i := range d {
		d[i] = true
	}
	return d
}

func (k *convKernel) do(out *tensor.Dense, in []*tensor.Dense) error {
	return floats(out, in, func(o []float32, in [][]float32) {
		kernels.ConvForward(k.g, k.oc, in[0], in[1], k.biasOf32(in), k.relu, o, &k.s32)
	}, func(o []float64, in [][]float64) {
		kernels.ConvForward(k.g, k.oc, in[0], in[1], k.biasOf64(in), k.relu, o, &k.s64)
	})
}

func (k *convKernel) biasOf32(in [][]float32) []float32 {
	if k.bias {
		return in[2]
	}
	return nil
}

func (k *convKernel) biasOf64(in [][]float64) []float64 {
	if k.bias {
		return in[2]
	}
	return nil
}

func (k *convKernel) grad(in gorgonia.Nodes, y, g *gorgonia.Node) (gorgonia.Nodes, error) {
	dy := g
	if pool := poolOf(y, g); k.relu && pool != nil {
		pool.afterReLU = true // the pool's gradient applies the ReLU's
	} else if k.relu {
		var err error
		if dy, err = apply(convReLUGradKernel{}, y.Shape().Clone(), g, y); err != nil {
			return nil, err
		}
	}
	dx, err := apply(&convInputGradKernel{f: k}, in[0].Shape().Clone(), in[1], dy)
	if err != nil {
		return nil, err
	}
	dw, err := apply(&convFilterGradKernel{f: k}, in[1].Shape().Clone(), dy, in[0])
	if err != nil {
		return nil, err
	}
	out := gorgonia.Nodes{dx, dw}
	if k.bias {
		db, err := apply(&convBiasGradKernel{f: k}, in[2].Shape().Clone(), dy)
		if err != nil {
			return nil, err
		}
		out = append(out, db)
	}
	return out, nil
}

// poolOf returns the max-pool whose gradient g is, if y's gradient comes
// from that pool alone (a pool over y, and no other consumer of y whose
// gradient Gorgonia would have summed into g), or nil.
func poolOf(y, g *gorgonia.Node) *poolKernel {
	o, ok := g.Op().(*op)
	if !ok {
		return nil
	}
	pg, ok := o.k.(*poolGradKernel)
	if !ok || pg.f.x != y {
		return nil
	}
	return pg.f
}

// convReLUGradKernel keeps, for a fused ReLU, only the output gradients
// where the output is positive.
type convReLUGradKernel struct{ noGrad }

func (convReLUGradKernel) name() string { return "Conv2DReLUGrad" }
func (convReLUGradKernel) do(out *tensor.Dense, in []*tensor.Dense) error {
	return floats(out, in, func(o []float32, in [][]float32) { kernels.ReLUGrad(o, in[1], in[0]) },
		func(o []float64, in [][]float64) { kernels.ReLUGrad(o, in[1], in[0]) })
}

// convInputGradKernel computes the input gradient from the filters and
// the output gradient (kernels.ConvInputGrad).
type convInputGradKernel struct {
	noGrad
	f   *convKernel
	s32 kernels.ConvScratch[float32]
	s64 kernels.ConvScratch[float64]
}

func (k *convInputGradKernel) name() string { return fmt.Sprintf("Conv2DInputGrad(%p)", k.f) }
func (k *convInputGradKernel) do(out *tensor.Dense, in []*tensor.Dense) error {
	f := k.f
	return floats(out, in, func(o []float32, in [][]float32) {
		kernels.ConvInputGrad(f.g, f.oc, in[0], in[1], o, &k.s32)
	}, func(o []float64, in [][]float64) {
		kernels.ConvInputGrad(f.g, f.oc, in[0], in[1], o, &k.s64)
	})
}

// convFilterGradKernel computes dW = dY · im2col(x)ᵀ, packing the patches
// from x again rather than keeping them from the forward pass.
type convFilterGradKernel struct {
	noGrad
	f   *convKernel
	s32 kernels.ConvScratch[float32]
	s64 kernels.ConvScratch[float64]
}

func (k *convFilterGradKernel) name() string { return fmt.Sprintf("Conv2DFilterGrad(%p)", k.f) }
func (k *convFilterGradKernel) do(out *tensor.Dense, in []*tensor.Dense) error {
	f := k.f
	return floats(out, in, func(o []float32, in [][]float32) {
		kernels.ConvFilterGrad(f.g, f.oc, in[1], in[0], o, &k.s32)
	}, func(o []float64, in [][]float64) {
		kernels.ConvFilterGrad(f.g, f.oc, in[1], in[0], o, &k.s64)
	})
}

// convBiasGradKernel sums the output gradient over images and positions.
type convBiasGradKernel struct {
	noGrad
	f *convKernel
}

func (k *convBiasGradKernel) name() string { return fmt.Sprintf("Conv2DBiasGrad(%p)", k.f) }
func (k *convBiasGradKernel) do(out *tensor.Dense, in []*tensor.Dense) error {
	g := k.f.g
	return floats(out, in, func(o []float32, in [][]float32) { kernels.ChannelSums(in[0], g.N, k.f.oc, g.OH*g.OW, o) },
		func(o []float64, in [][]float64) { kernels.ChannelSums(in[0], g.N, k.f.oc, g.OH*g.OW, o) })
}

// MaxPool2D returns the maximum over windows of kh×kw taken every sh rows
// and sw columns of x (NCHW), without padding: [n, c, (h-kh)/sh+1, (w-kw)/sw+1].
func MaxPool2D(x *Node, kh, kw, sh, sw int) (*Node, error) {
	if err := checkNodes("maxpool2d", x); err != nil {
		return nil, err
	}
	sx := x.Shape()
	if sx.Dims() != 4 {
		return nil, &ShapeError{"maxpool2d", x.Name(), sx, nil, "the input must be NCHW (4 dimensions)"}
	}
	if kh < 1 || kw < 1 || sh < 1 || sw < 1 {
		return nil, errors.Errorf("graph: maxpool2d %s: window %dx%d and stride %dx%d must be positive", x.Name(), kh, kw, sh, sw)
	}
	g := kernels.NewConvGeom(sx[0], sx[1], sx[2], sx[3], kh, kw, sh, sw, 0, 0, 0, 0)
	if g.OH < 1 || g.OW < 1 {
		return nil, &ShapeError{"maxpool2d", x.Name(), sx, nil, fmt.Sprintf("a %dx%d window does not fit", kh, kw)}
	}
	return apply(&poolKernel{g: g, x: x}, tensor.Shape{g.N, g.C, g.OH, g.OW}, x)
}

type poolKernel struct {
	g   kernels.ConvGeom
	arg []int32
	x   *gorgonia.Node // the input
	// afterReLU is set when the input is a fused Conv2DReLU whose only
	// consumer is this pool: the gradient then folds in the ReLU's.
	afterReLU bool
}

func (k *poolKernel) name() string {
	return fmt.Sprintf("MaxPool2D(%dx%d/%dx%d)", k.g.KH, k.g.KW, k.g.SH, k.g.SW)
}
func (k *poolKernel) diffWRT(int) []bool { return []bool{true} }
func (k *poolKernel) do(out *tensor.Dense, in []*tensor.Dense) error {
	if k.arg == nil {
		k.arg = make([]int32, out.Shape().TotalSize())
	}
	return floats(out, in, func(o []float32, in [][]float32) { kernels.MaxPool(k.g, in[0], o, k.arg) },
		func(o []float64, in [][]float64) { kernels.MaxPool(k.g, in[0], o, k.arg) })
}
func (k *poolKernel) grad(in gorgonia.Nodes, y, g *gorgonia.Node) (gorgonia.Nodes, error) {
	dx, err := apply(&poolGradKernel{f: k}, in[0].Shape().Clone(), g, y)
	return gorgonia.Nodes{dx}, err
}

type poolGradKernel struct {
	noGrad
	f *poolKernel
}

func (k *poolGradKernel) name() string { return fmt.Sprintf("MaxPool2DGrad(%p)", k.f) }
func (k *poolGradKernel) do(out *tensor.Dense, in []*tensor.Dense) error {
	return floats(out, in, func(o []float32, in [][]float32) {
		var y []float32
		if k.f.afterReLU {
			y = in[1]
		}
		kernels.MaxPoolGrad(k.f.g, in[0], y, k.f.arg, o)
	}, func(o []float64, in [][]float64) {
		var y []float64
		if k.f.afterReLU {
			y = in[1]
		}
		kernels.MaxPoolGrad(k.f.g, in[0], y, k.f.arg, o)
	})
}

// Mask returns x ⊙ m elementwise, differentiable in x only: the mask is
// data (a dropout mask, say), not a parameter.
func Mask(x, m *Node) (*Node, error) {
	if err := checkNodes("mask", x, m); err != nil {
		return nil, err
	}
	if !x.Shape().Eq(m.Shape()) {
		return nil, &ShapeError{"mask", m.Name(), x.Shape(), m.Shape(), "shapes differ"}
	}
	return apply(maskKernel{}, x.Shape().Clone(), x, m)
}

type maskKernel struct{}

func (maskKernel) name() string       { return "Mask" }
func (maskKernel) diffWRT(int) []bool { return []bool{true, false} }
func (maskKernel) do(out *tensor.Dense, in []*tensor.Dense) error {
	return floats(out, in, func(o []float32, in [][]float32) { kernels.Mul(o, in[0], in[1]) },
		func(o []float64, in [][]float64) { kernels.Mul(o, in[0], in[1]) })
}
func (maskKernel) grad(in gorgonia.Nodes, _, g *gorgonia.Node) (gorgonia.Nodes, error) {
	dx, err := apply(maskGradKernel{}, in[0].Shape().Clone(), g, in[1])
	return gorgonia.Nodes{dx, nil}, err
}

type maskGradKernel struct{ noGrad }

func (maskGradKernel) name() string { return "MaskGrad" }
func (maskGradKernel) do(out *tensor.Dense, in []*tensor.Dense) error {
	return maskKernel{}.do(out, in)
}
