package kernels

import (
	"math"
	"runtime"
)

// AttentionDims are the sizes of a multi-head scaled dot-product
// attention over a batch: B sequences of T query steps, width E (all heads
// together, E = H·(E/H)), H heads. With Causal set, the query at position
// i attends to the keys at positions up to i only.
type AttentionDims struct {
	B, T, E, H int
	Causal     bool
}

// HeadDim returns E/H, the width of one head.
func (d AttentionDims) HeadDim() int { return d.E / d.H }

// AttentionScratch is the working memory of AttentionBackward, one block
// per worker, kept from call to call.
type AttentionScratch[T Float] struct{ buf []T }

// per returns worker w's n values, growing the scratch for GOMAXPROCS
// workers when it is too small.
func (s *AttentionScratch[T]) per(n int) []T {
	if need := runtime.GOMAXPROCS(0) * n; len(s.buf) < need {
		s.buf = make([]T, need)
	}
	return s.buf
}

// AttentionForward computes, for every sequence b and head h, the
// attention of the queries over the keys and values packed in qkv
// [B, T, 3E] (q, k and v side by side, head h in columns h·D to (h+1)·D
// of each, D = E/H, PyTorch's nn.MultiheadAttention layout):
//
//	P = softmax(q·kᵀ/√D) (rows over keys), out[b, :, h·D:(h+1)·D] = P·v
//
// keeping P in probs [B, H, T, T] for the backward pass. mask, if not nil,
// is [B, T]: a nonzero value marks key position j of sequence b as
// padding, which no query attends to (PyTorch's key_padding_mask). A
// query that may attend to no key gets probabilities and output 0 (where
// PyTorch gives NaN). The products are the blocked gemm's; sequences and
// heads are shared among workers, each summed in a fixed order.
func AttentionForward[T Float](d AttentionDims, qkv, mask, probs, out []T) {
	D, ld := d.HeadDim(), 3*d.E
	scale := 1 / math.Sqrt(float64(D))
	ParallelFor(d.B*d.H, 1, func(lo, hi int) {
		for bh := lo; bh < hi; bh++ {
			b, h := bh/d.H, bh%d.H
			x := qkv[b*d.T*ld:]
			var m []T
			if mask != nil {
				m = mask[b*d.T : (b+1)*d.T]
			}
			attendHead(d.T, d.T, D, x[h*D:], ld, x[d.E+h*D:], ld, x[2*d.E+h*D:], ld, m, d.Causal, 0, scale,
				probs[bh*d.T*d.T:], d.T, out[b*d.T*d.E+h*D:], d.E)
		}
	})
}

// AttentionCachedForward is AttentionForward for incremental decoding:
// qkv [B, T, 3E] holds T new steps of each sequence, which follow the pos
// steps whose keys and values the caches already hold: kc [B, H, D, max]
// the keys, each head's transposed (a step per column, so that a query's
// scores are a product with an untransposed matrix, the gemm's fast path
// for one row), vc [B, max, E] the values (max ≥ pos+T). It appends the
// new keys and values and lets each new query attend, causally, to every
// key up to its own position. probs is scratch of B·H·T·max values.
func AttentionCachedForward[T Float](d AttentionDims, max, pos int, qkv, kc, vc, probs, out []T) {
	D, ld, E := d.HeadDim(), 3*d.E, d.E
	for b := 0; b < d.B; b++ {
		for t := 0; t < d.T; t++ {
			row := qkv[(b*d.T+t)*ld:]
			at := pos + t
			for h := 0; h < d.H; h++ {
				kt := kc[(b*d.H+h)*D*max:]
				for i, v := range row[E+h*D : E+(h+1)*D] {
					kt[i*max+at] = v
				}
			}
			copy(vc[(b*max+at)*E:(b*max+at+1)*E], row[2*E:3*E])
		}
	}
	L := pos + d.T
	scale := 1 / math.Sqrt(float64(D))
	ParallelFor(d.B*d.H, 1, func(lo, hi int) {
		for bh := lo; bh < hi; bh++ {
			b, h := bh/d.H, bh%d.H
			x, p := qkv[b*d.T*ld+h*D:], probs[bh*d.T*max:]
			Gemm(false, false, d.T, L, D, x, ld, kc[bh*D*max:], max, false, p, max)
			for i := 0; i < d.T; i++ {
				softmaxRow(p[i*max:i*max+L], min(L, pos+i+1), scale, nil)
			}
			Gemm(false, false, d.T, D, L, p, max, vc[b*max*E+h*D:], E, false, out[b*d.T*E+h*D:], E)
		}
	})
}

// causalChunk is the rows of queries a causal attention takes at a time:
// each chunk needs the keys up to its last row only, so the products skip
// most of the masked upper triangle (for 128 steps, 59% of the full
// products are computed). A multiple of the gemm's 12-row tiles.
const causalChunk = 24

// chunkKeys returns the keys that queries up to row i1 (exclusive) of a
// head over L keys see: all of them, or causally those up to off+i1.
func chunkKeys(causal bool, L, off, i1 int) int {
	if causal {
		return min(L, off+i1)
	}
	return L
}

// attendHead computes one head of one sequence: P = softmax(q·kᵀ·scale)
// over the first L keys (for T queries at positions off, off+1, ...;
// causal: each up to its own position, in chunks of causalChunk rows) into
// p (row stride ldp), and o = P·v.
func attendHead[T Float](nq, L, D int, q []T, ldq int, k []T, ldk int, v []T, ldv int, mask []T, causal bool, off int, scale float64, p []T, ldp int, o []T, ldo int) {
	step := nq
	if causal {
		step = causalChunk
	}
	for i0 := 0; i0 < nq; i0 += step {
		i1 := min(i0+step, nq)
		keys := chunkKeys(causal, L, off, i1)
		Gemm(false, true, i1-i0, keys, D, q[i0*ldq:], ldq, k, ldk, false, p[i0*ldp:], ldp)
		for i := i0; i < i1; i++ {
			softmaxRow(p[i*ldp:i*ldp+L], chunkKeys(causal, L, off, i+1), scale, mask)
		}
		Gemm(false, false, i1-i0, D, keys, p[i0*ldp:], ldp, v, ldv, false, o[i0*ldo:], ldo)
	}
}

// softmaxRow sets row[:n] to the softmax of row[:n]·scale over the
// positions that mask (if not nil) leaves unmasked, and every other value
// of row to 0; a row with no position left is all 0. A float32 row runs
// on the vector exp (Exps).
func softmaxRow[T Float](row []T, n int, scale float64, mask []T) {
	var m T
	found := false
	for j, v := range row[:n] {
		if mask != nil && mask[j] != 0 {
			continue
		}
		if !found || v > m {
			m, found = v, true
		}
	}
	if !found {
		clear(row)
		return
	}
	sc := T(scale)
	for j, v := range row[:n] {
		row[j] = (v - m) * sc
	}
	if mask != nil {
		neg := T(math.Inf(-1))
		for j := range row[:n] {
			if mask[j] != 0 {
				row[j] = neg
			}
		}
	}
	if r, ok := any32(row[:n]); ok {
		Exps(r, r)
	} else {
		for j, v := range row[:n] {
			row[j] = T(math.Exp(float64(v)))
		}
	}
	var s T
	for _, v := range row[:n] {
		s += v
	}
	inv := 1 / s
	for j := range row[:n] {
		row[j] *= inv
	}
	clear(row[n:])
}

// any32 returns x as []float32 if it is one.
func any32[T Float](x []T) ([]float32, bool) {
	r, ok := any(x).([]float32)
	return r, ok
}

// AttentionBackward computes the gradient dqkv [B, T, 3E] of the
// attention from the output gradient dout [B, T, E], given the forward
// pass's qkv and probs:
//
//	dv = Pᵀ·dout, dP = dout·vᵀ, dS = P⊙(dP − rowsum(dP⊙P))/√D,
//	dq = dS·k, dk = dSᵀ·q
//
// for each sequence and head; a causal attention takes its queries in
// chunks, as the forward pass does, the last first (it reaches every key,
// so it writes dk and dv, which the others add to). Every value of dqkv is
// written.
func AttentionBackward[T Float](d AttentionDims, qkv, probs, dout, dqkv []T, s *AttentionScratch[T]) {
	D, ld, T_ := d.HeadDim(), 3*d.E, d.T
	scale := T(1 / math.Sqrt(float64(D)))
	buf := s.per(T_ * T_)
	step := T_
	if d.Causal {
		step = causalChunk
	}
	parallelWorkers(d.B*d.H, 1, func(w, lo, hi int) {
		dp := buf[w*T_*T_ : (w+1)*T_*T_]
		for bh := lo; bh < hi; bh++ {
			b, h := bh/d.H, bh%d.H
			x, dx := qkv[b*T_*ld:], dqkv[b*T_*ld:]
			q, k, v := x[h*D:], x[d.E+h*D:], x[2*d.E+h*D:]
			dq, dk, dv := dx[h*D:], dx[d.E+h*D:], dx[2*d.E+h*D:]
			p, do := probs[bh*T_*T_:(bh+1)*T_*T_], dout[b*T_*d.E+h*D:]
			last := (T_ - 1) / step * step
			for i0 := last; i0 >= 0; i0 -= step {
				i1 := min(i0+step, T_)
				rows, keys, acc := i1-i0, chunkKeys(d.Causal, T_, 0, i1), i0 != last
				Gemm(true, false, keys, D, rows, p[i0*T_:], T_, do[i0*d.E:], d.E, acc, dv, ld)
				Gemm(false, true, rows, keys, D, do[i0*d.E:], d.E, v, ld, false, dp[i0*T_:], T_)
				for i := i0; i < i1; i++ {
					pr, gr := p[i*T_:i*T_+keys], dp[i*T_:i*T_+keys]
					var dot T
					for j, pv := range pr {
						dot += T(pv * gr[j])
					}
					for j, pv := range pr {
						gr[j] = pv * (gr[j] - dot) * scale
					}
				}
				Gemm(false, false, rows, D, keys, dp[i0*T_:], T_, k, ld, false, dq[i0*ld:], ld)
				Gemm(true, false, keys, D, rows, dp[i0*T_:], T_, q[i0*ld:], ld, acc, dk, ld)
			}
		}
	})
}
