package graph

import (
	"fmt"

	"github.com/dlrun/dlrun/internal/kernels"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// FrameChanges is the number of change signals FrameChangeSignals gives per
// frame.
const FrameChanges = kernels.FrameChanges

// FrameChangeSignals returns, for sequences of frames x [n, t, 3, h, w]
// (RGB planes, values in [0, 1]), each frame's FrameChanges change
// signals [n, t, FrameChanges]: the L1 distance of its 64-bin colour
// histogram to those of the frames 3, 2, 1 later and 1, 2, 3 earlier,
// four times the mean absolute difference of its 3×4 grid of cell colours
// to the frames 2, 1 later and 1, 2 earlier, and four times that of its
// pixels to the frames 1 later and 1 earlier (kernels.FrameChangeSignals;
// each sequence's edge frames stand in for neighbours past its ends). They
// are the computed cues a shot-boundary detector learns beside its own
// frame features. The signals are not differentiable: x is data, and no
// gradient flows back through them.
func FrameChangeSignals(x *Node) (*Node, error) {
	if err := checkNodes("frame changes", x); err != nil {
		return nil, err
	}
	s := x.Shape()
	if x.IsScalar() || s.Dims() != 5 || s[2] != 3 {
		return nil, &ShapeError{"frame changes", x.Name(), s, nil, "the input must be sequences of RGB frames [batch, frames, 3, height, width]"}
	}
	return apply(&frameChangesKernel{n: s[0], t: s[1], h: s[3], w: s[4]}, tensor.Shape{s[0], s[1], FrameChanges}, x)
}

// frameChangesKernel keeps the histograms and grids of its last run.
type frameChangesKernel struct {
	n, t, h, w int
	s          kernels.FrameChangeScratch
}

func (k *frameChangesKernel) name() string {
	return fmt.Sprintf("FrameChanges(%d×%d)", k.h, k.w)
}

func (*frameChangesKernel) diffWRT(n int) []bool { return make([]bool, n) }
func (k *frameChangesKernel) do(out *tensor.Dense, in []*tensor.Dense) error {
	return floats(out, in, func(o []float32, in [][]float32) { frameChanges(k, o, in[0]) },
		func(o []float64, in [][]float64) { frameChanges(k, o, in[0]) })
}

func frameChanges[T kernels.Float](k *frameChangesKernel, o, x []T) {
	seq := k.t * 3 * k.h * k.w
	for i := range k.n {
		kernels.FrameChangeSignals(x[i*seq:(i+1)*seq], k.t, k.h, k.w, o[i*k.t*FrameChanges:(i+1)*k.t*FrameChanges], &k.s)
	}
}

func (*frameChangesKernel) grad(gorgonia.Nodes, *gorgonia.Node, *gorgonia.Node) (gorgonia.Nodes, error) {
	return gorgonia.Nodes{nil}, nil
}

// FrameStructureChanges is the number of structure signals
// FrameStructureSignals gives per frame.
const FrameStructureChanges = kernels.FrameStructureChanges

// FrameStructureSignals returns, for sequences of frames x [n, t, 3, h, w]
// (RGB planes, values in [0, 1]), each frame's FrameStructureChanges
// structure signals [n, t, FrameStructureChanges]: one minus the
// correlation of its values with those of the frames 2, 1 later and 1, 2
// earlier (kernels.FrameStructureSignals), which a change of light leaves
// near 0 and a new shot does not. Like FrameChangeSignals, they are not
// differentiable.
func FrameStructureSignals(x *Node) (*Node, error) {
	if err := checkNodes("frame structure", x); err != nil {
		return nil, err
	}
	s := x.Shape()
	if x.IsScalar() || s.Dims() != 5 || s[2] != 3 {
		return nil, &ShapeError{"frame structure", x.Name(), s, nil, "the input must be sequences of RGB frames [batch, frames, 3, height, width]"}
	}
	return apply(&frameStructureKernel{frameChangesKernel{n: s[0], t: s[1], h: s[3], w: s[4]}}, tensor.Shape{s[0], s[1], FrameStructureChanges}, x)
}

// frameStructureKernel keeps the means and spreads of its last run.
type frameStructureKernel struct{ frameChangesKernel }

func (k *frameStructureKernel) name() string {
	return fmt.Sprintf("FrameStructure(%d×%d)", k.h, k.w)
}

func (k *frameStructureKernel) do(out *tensor.Dense, in []*tensor.Dense) error {
	return floats(out, in, func(o []float32, in [][]float32) { frameStructure(k, o, in[0]) },
		func(o []float64, in [][]float64) { frameStructure(k, o, in[0]) })
}

func frameStructure[T kernels.Float](k *frameStructureKernel, o, x []T) {
	seq, per := k.t*3*k.h*k.w, k.t*FrameStructureChanges
	for i := range k.n {
		kernels.FrameStructureSignals(x[i*seq:(i+1)*seq], k.t, k.h, k.w, o[i*per:(i+1)*per], &k.s)
	}
}
