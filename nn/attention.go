package nn

import (
	"github.com/dlrun/dlrun/graph"
	"github.com/pkg/errors"
)

// Attention is multi-head self-attention over sequences, PyTorch's
// nn.MultiheadAttention(width, Heads, batch_first=True) applied as
// attn(x, x, x): per example the input is [steps, width] and so is the
// output. Its parameters are PyTorch's, in its layout: in_proj_weight
// [3·width, width] and in_proj_bias (the query, key and value projections
// stacked), out_proj.weight [width, width] and out_proj.bias; initialised
// as PyTorch does (Xavier-uniform input projection, out_proj.weight
// U(±1/√width), zero biases) unless KernelInit is set for both weights.
// The heads split the width: Heads must divide it.
//
// With Causal set, step i attends to steps 0 to i only (a language
// model's mask). A second input, if SetInputs names one, is a padding
// mask [steps] per example: a nonzero value marks a step no step attends
// to (PyTorch's key_padding_mask). The whole attention is one op on the
// blocked gemm (graph.Attention); a causal one can also run incrementally
// (Incremental), a step per pass over a key/value cache.
type Attention struct {
	base
	Heads      int
	Causal     bool
	NoBias     bool
	KernelInit graph.Initializer // both weights; default PyTorch's

	maxLen int            // incremental: the steps the cache holds; 0: whole sequences
	cache  *graph.KVCache // incremental: the keys and values so far
}

// NewAttention returns a self-attention with the given number of heads,
// causal if causal.
func NewAttention(heads int, causal bool) *Attention {
	return &Attention{Heads: heads, Causal: causal}
}

// Kind implements Layer.
func (a *Attention) Kind() string { return "Attention" }

// OutputShape implements Layer.
func (a *Attention) OutputShape(in []int) ([]int, error) { return a.OutputShapeOf([][]int{in}) }

// OutputShapeOf implements MultiInput: the sequence, and optionally its
// padding mask.
func (a *Attention) OutputShapeOf(in [][]int) ([]int, error) {
	if a == nil {
		return nil, nilLayer(a)
	}
	x := first(in)
	if len(in) < 1 || len(in) > 2 {
		return nil, shapeErr(a, x, "takes a sequence and optionally its padding mask, not %d inputs", len(in))
	}
	if len(x) != 2 {
		return nil, shapeErr(a, x, "want [steps width] per example")
	}
	if a.Heads <= 0 || x[1]%a.Heads != 0 || x[1] < 1 {
		return nil, shapeErr(a, x, "%d heads must divide the width %d", a.Heads, x[1])
	}
	if len(in) == 2 && (len(in[1]) != 1 || in[1][0] != x[0]) {
		return nil, shapeErr(a, x, "the padding mask %v must be [%d], a value per step", in[1], x[0])
	}
	return []int{x[0], x[1]}, nil
}

// NumParams implements Layer: 4·width² weights and 4·width biases.
func (a *Attention) NumParams(in []int) int {
	if a == nil || len(in) != 2 {
		return 0
	}
	e := in[1]
	n := 4 * e * e
	if !a.NoBias {
		n += 4 * e
	}
	return n
}

// Build implements Layer.
func (a *Attention) Build(g *graph.Graph, x *graph.Node) (*graph.Node, error) {
	return a.BuildOn(g, []*graph.Node{x})
}

// BuildOn implements MultiInput.
func (a *Attention) BuildOn(g *graph.Graph, xs []*graph.Node) (*graph.Node, error) {
	if err := checkInputs(a, g, xs); err != nil {
		return nil, err
	}
	e := xs[0].Shape()[2]
	inInit, outInit := a.KernelInit, a.KernelInit
	if inInit == nil {
		inInit, outInit = graph.GlorotUniform, graph.TorchDefault
	}
	a.params = nil
	win, err := a.param(g, "in_proj_weight", []int{3 * e, e}, inInit)
	if err != nil {
		return nil, err
	}
	var bin, bout *graph.Node
	if !a.NoBias {
		p, err := a.param(g, "in_proj_bias", []int{3 * e}, graph.Zeros)
		if err != nil {
			return nil, err
		}
		bin = p.Node
	}
	wout, err := a.param(g, "out_proj.weight", []int{e, e}, outInit)
	if err != nil {
		return nil, err
	}
	if !a.NoBias {
		p, err := a.param(g, "out_proj.bias", []int{e}, graph.Zeros)
		if err != nil {
			return nil, err
		}
		bout = p.Node
	}
	qkv, err := graph.Project(xs[0], win.Node, bin)
	if err != nil {
		return nil, err
	}
	var att *graph.Node
	if a.maxLen > 0 {
		if len(xs) > 1 {
			return nil, errors.Errorf("%s (%s): a padding mask cannot be used a step at a time", a.name, a.Kind())
		}
		a.cache = graph.NewKVCache(a.maxLen)
		att, err = graph.CachedAttention(qkv, a.Heads, a.cache)
	} else {
		var mask *graph.Node
		if len(xs) > 1 {
			mask = xs[1]
		}
		att, err = graph.Attention(qkv, a.Heads, a.Causal, mask)
	}
	if err != nil {
		return nil, errors.Wrapf(err, "%s (%s)", a.name, a.Kind())
	}
	return graph.Project(att, wout.Node, bout)
}

// SetIncremental implements Incremental: a causal attention keeps the
// keys and values of up to maxLen steps; a bidirectional one refuses.
func (a *Attention) SetIncremental(maxLen int) error {
	if a == nil {
		return nil
	}
	if !a.Causal {
		if err := refuseIncremental(a, maxLen, "a bidirectional attention needs every step at once (only a causal one runs incrementally)"); err != nil {
			return err
		}
	}
	a.maxLen = maxLen
	return nil
}

// ResetState starts a new sequence: an incremental attention forgets the
// steps it has seen. Otherwise it does nothing.
func (a *Attention) ResetState() {
	if a != nil {
		a.cache.Reset()
	}
}

// Model files (spec.go) name this layer attention, with the settings heads
// (required), causal (default false), bias (default true) and
// kernel_init (default: PyTorch's initialisation).
func init() {
	RegisterLayer("attention",
		func(s *Settings) *Attention {
			return &Attention{Heads: s.Int("heads"), Causal: s.Bool("causal", false), NoBias: !s.Bool("bias", true), KernelInit: s.Init("kernel_init")}
		},
		func(a *Attention, s *Settings) bool {
			s.Set("heads", a.Heads)
			if a.Causal {
				s.Set("causal", true)
			}
			if a.NoBias {
				s.Set("bias", false)
			}
			s.SetInit("kernel_init", a.KernelInit, nil)
			return true
		})
}

// BatchValues implements BatchMemory: the input projection (rows of
// steps, their product, its bias and the sequences again), the attention
// and the output projection (the same), the gradients of each step and of
// the input, and the attention weights and scratch the op keeps
// (graph.AttentionWorkspace).
func (a *Attention) BatchValues(in []int, batch int) int64 {
	return a.BatchValuesOf([][]int{in}, batch)
}

// BatchValuesOf implements MultiBatchMemory: BatchValues (a padding mask
// adds no gradient).
func (a *Attention) BatchValuesOf(in [][]int, batch int) int64 {
	x := first(in)
	if len(x) != 2 {
		return 0
	}
	rows, e := int64(batch)*int64(x[0]), int64(x[1])
	n := 25 * rows * e
	if a.NoBias {
		n -= 4 * rows * e
	}
	return n + graph.AttentionWorkspace(batch, a.Heads, x[0])
}
