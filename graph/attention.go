package graph

import (
	"fmt"

	"github.com/dlrun/dlrun/internal/kernels"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Attention returns the multi-head scaled dot-product self-attention of
// the queries, keys and values packed in qkv [b, t, 3e] (an input
// projection's output; each of q, k and v is e wide, head h holding its
// columns h·d to (h+1)·d, d = e/heads, the layout of PyTorch's
// nn.MultiheadAttention): for each sequence and head,
//
//	softmax(q·kᵀ/√d)·v,
//
// the heads side by side in the output [b, t, e]. With causal set, step i
// attends to steps 0 to i only (PyTorch's attn_mask of a causal model).
// padding, if not nil, is [b, t]: a nonzero value marks step j of a
// sequence as padding, to which no step attends (PyTorch's
// key_padding_mask, True where padded). A step that may attend to nothing
// gets 0 where PyTorch gives NaN.
//
// The op runs every head of every sequence on the blocked gemm, two
// products forward and four backward, with the softmax fused in
// (kernels.AttentionForward): one node for all heads, not one per head. It
// keeps the attention weights of the last forward pass (b·heads·t² values)
// for its gradient. qkv is differentiable, padding is not.
func Attention(qkv *Node, heads int, causal bool, padding *Node) (*Node, error) {
	nodes := []*gorgonia.Node{qkv}
	if padding != nil {
		nodes = append(nodes, padding)
	}
	if err := checkNodes("attention", nodes...); err != nil {
		return nil, err
	}
	d, err := attentionDims("attention", qkv, heads, causal)
	if err != nil {
		return nil, err
	}
	inputs := []*gorgonia.Node{qkv}
	if padding != nil {
		if sp := padding.Shape(); sp.Dims() != 2 || sp[0] != d.B || sp[1] != d.T {
			return nil, &ShapeError{"attention", padding.Name(), qkv.Shape(), sp, fmt.Sprintf("the padding mask must be [%d %d], one value per sequence and step", d.B, d.T)}
		}
		inputs = append(inputs, padding)
	}
	return apply(&attentionKernel{d: d}, tensor.Shape{d.B, d.T, d.E}, inputs...)
}

// attentionDims checks qkv [b, t, 3e] and heads, which must divide e.
func attentionDims(op string, qkv *Node, heads int, causal bool) (kernels.AttentionDims, error) {
	s := qkv.Shape()
	if qkv.IsScalar() || s.Dims() != 3 || s[2]%3 != 0 {
		return kernels.AttentionDims{}, &ShapeError{op, qkv.Name(), s, nil, "want [batch, steps, 3·width]: queries, keys and values side by side"}
	}
	e := s[2] / 3
	if heads < 1 || e%heads != 0 {
		return kernels.AttentionDims{}, &ShapeError{op, qkv.Name(), s, nil, fmt.Sprintf("%d heads do not divide the width %d", heads, e)}
	}
	return kernels.AttentionDims{B: s[0], T: s[1], E: e, H: heads, Causal: causal}, nil
}

// attentionKernel is the attention over a whole batch. It keeps the
// probabilities of its last forward pass for attentionGradKernel.
type attentionKernel struct {
	d       kernels.AttentionDims
	p32     []float32
	p64     []float64
	mask    bool
	scratch struct {
		s32 kernels.AttentionScratch[float32]
		s64 kernels.AttentionScratch[float64]
	}
}

func (k *attentionKernel) name() string {
	return fmt.Sprintf("Attention(%d heads, causal %v)", k.d.H, k.d.Causal)
}

// keepsState implements stateful: the attention weights of the last pass.
func (*attentionKernel) keepsState()            {}
func (k *attentionKernel) diffWRT(n int) []bool { return []bool{true, false}[:n] }
func (k *attentionKernel) do(out *tensor.Dense, in []*tensor.Dense) error {
	n := k.d.B * k.d.H * k.d.T * k.d.T
	return floats(out, in, func(o []float32, in [][]float32) {
		if len(k.p32) != n {
			k.p32 = make([]float32, n)
		}
		kernels.AttentionForward(k.d, in[0], maskOf(in), k.p32, o)
	}, func(o []float64, in [][]float64) {
		if len(k.p64) != n {
			k.p64 = make([]float64, n)
		}
		kernels.AttentionForward(k.d, in[0], maskOf(in), k.p64, o)
	})
}

// maskOf returns the padding mask among a kernel's inputs, or nil.
func maskOf[T kernels.Float](in [][]T) []T {
	if len(in) > 1 {
		return in[1]
	}
	return nil
}

func (k *attentionKernel) grad(in gorgonia.Nodes, y, g *gorgonia.Node) (gorgonia.Nodes, error) {
	// y is an input only to order the gradient after the forward pass,
	// whose probabilities it reads.
	dqkv, err := apply(&attentionGradKernel{f: k}, in[0].Shape().Clone(), in[0], g, y)
	out := gorgonia.Nodes{dqkv}
	if len(in) > 1 {
		out = append(out, nil)
	}
	return out, err
}

// attentionGradKernel computes dqkv from qkv and the output gradient.
type attentionGradKernel struct {
	noGrad
	f *attentionKernel
}

func (k *attentionGradKernel) name() string { return fmt.Sprintf("AttentionGrad(%p)", k.f) }
func (k *attentionGradKernel) do(out *tensor.Dense, in []*tensor.Dense) error {
	f := k.f
	return floats(out, in, func(o []float32, in [][]float32) {
		kernels.AttentionBackward(f.d, in[0], f.p32, in[1], o, &f.scratch.s32)
	}, func(o []float64, in [][]float64) {
		kernels.AttentionBackward(f.d, in[0], f.p64, in[1], o, &f.scratch.s64)
	})
}

// workspace counts the attention weights the op keeps and the backward
// pass's scratch (AttentionWorkspace).
func (k *attentionKernel) workspace() int {
	return int(AttentionWorkspace(k.d.B, k.d.H, k.d.T))
}

// KVCache holds the keys and values of the steps a causal attention has
// seen so far, for incremental decoding (CachedAttention): text
// generation runs one step per pass, and each step attends to the cached
// steps instead of recomputing them, so the time per step stays flat as
// the text grows. Make one with NewKVCache; a cache serves one attention.
type KVCache struct {
	max   int
	n     int
	bound bool
	k32   []float32
	v32   []float32
	p32   []float32
	k64   []float64
	v64   []float64
	p64   []float64
}

// NewKVCache returns an empty cache for up to max steps of each sequence.
func NewKVCache(max int) *KVCache { return &KVCache{max: max} }

// Len returns the number of steps the cache holds (0 for a nil cache).
func (c *KVCache) Len() int {
	if c == nil {
		return 0
	}
	return c.n
}

// Cap returns the most steps the cache can hold (0 for a nil cache).
func (c *KVCache) Cap() int {
	if c == nil {
		return 0
	}
	return c.max
}

// Reset empties the cache: the next pass starts a new sequence.
func (c *KVCache) Reset() {
	if c != nil {
		c.n = 0
	}
}

// ErrCacheFull is the error of a CachedAttention pass whose steps do not
// fit in what is left of its cache.
var ErrCacheFull = errors.New("graph: the key/value cache is full")

// CachedAttention is Attention with causal set, run incrementally: qkv
// [b, t, 3e] holds the next t steps of each sequence (usually 1), which
// follow the steps cache already holds. Each pass appends the new steps'
// keys and values to cache and attends, causally, over every step so far;
// the output is the new steps' [b, t, e], what Attention over the whole
// sequence gives at those steps. A pass past the cache's capacity is an
// error (ErrCacheFull); Reset starts a new sequence. The op is for
// inference: it has no gradient.
func CachedAttention(qkv *Node, heads int, cache *KVCache) (*Node, error) {
	if err := checkNodes("cached attention", qkv); err != nil {
		return nil, err
	}
	if cache == nil || cache.max < 1 {
		return nil, errors.Errorf("graph: cached attention %s: no cache, or one of no steps (use NewKVCache)", qkv.Name())
	}
	if cache.bound {
		return nil, errors.Errorf("graph: cached attention %s: the cache already serves another attention", qkv.Name())
	}
	d, err := attentionDims("cached attention", qkv, heads, true)
	if err != nil {
		return nil, err
	}
	if d.T > cache.max {
		return nil, &ShapeError{"cached attention", qkv.Name(), qkv.Shape(), nil, fmt.Sprintf("%d steps do not fit in a cache of %d", d.T, cache.max)}
	}
	k := &cachedAttentionKernel{d: d, c: cache}
	n, err := apply(k, tensor.Shape{d.B, d.T, d.E}, qkv)
	if err != nil {
		return nil, err
	}
	cache.bound = true
	size, probs := d.B*cache.max*d.E, d.B*d.H*d.T*cache.max // keys [b, heads, d, max], values [b, max, e]
	if qkv.Dtype() == tensor.Float64 {
		cache.k64, cache.v64, cache.p64 = make([]float64, size), make([]float64, size), make([]float64, probs)
	} else {
		cache.k32, cache.v32, cache.p32 = make([]float32, size), make([]float32, size), make([]float32, probs)
	}
	return n, nil
}

type cachedAttentionKernel struct {
	noGrad
	d kernels.AttentionDims
	c *KVCache
}

func (k *cachedAttentionKernel) name() string {
	return fmt.Sprintf("CachedAttention(%d heads)", k.d.H)
}

// keepsState implements stateful: the cache.
func (*cachedAttentionKernel) keepsState() {}
func (k *cachedAttentionKernel) do(out *tensor.Dense, in []*tensor.Dense) error {
	c := k.c
	if c.n+k.d.T > c.max {
		return errors.Wrapf(ErrCacheFull, "%d steps held, %d more do not fit in %d (reset it to start a new sequence)", c.n, k.d.T, c.max)
	}
	err := floats(out, in, func(o []float32, in [][]float32) {
		kernels.AttentionCachedForward(k.d, c.max, c.n, in[0], c.k32, c.v32, c.p32, o)
	}, func(o []float64, in [][]float64) {
		kernels.AttentionCachedForward(k.d, c.max, c.n, in[0], c.k64, c.v64, c.p64, o)
	})
	if err == nil {
		c.n += k.d.T
	}
	return err
}

// workspace counts the cache's keys, values and scratch (memory.go).
func (k *cachedAttentionKernel) workspace() int {
	return 2*k.d.B*k.c.max*k.d.E + k.d.B*k.d.H*k.d.T*k.c.max
}
