package kernels

import (
	"math"
	"testing"
)

// naiveAttention is AttentionForward written out, in float64.
func naiveAttention(d AttentionDims, qkv, mask []float64) []float64 {
	D := d.HeadDim()
	out := make([]float64, d.B*d.T*d.E)
	at := func(b, t, part, h, i int) float64 { return qkv[(b*d.T+t)*3*d.E+part*d.E+h*D+i] }
	for b := 0; b < d.B; b++ {
		for h := 0; h < d.H; h++ {
			for i := 0; i < d.T; i++ {
				s := make([]float64, d.T)
				allowed := make([]bool, d.T)
				m, any := math.Inf(-1), false
				for j := 0; j < d.T; j++ {
					if (d.Causal && j > i) || (mask != nil && mask[b*d.T+j] != 0) {
						continue
					}
					for c := 0; c < D; c++ {
						s[j] += at(b, i, 0, h, c) * at(b, j, 1, h, c)
					}
					s[j] /= math.Sqrt(float64(D))
					allowed[j], any = true, true
					m = math.Max(m, s[j])
				}
				if !any {
					continue
				}
				sum := 0.0
				for j := range s {
					if allowed[j] {
						s[j] = math.Exp(s[j] - m)
						sum += s[j]
					} else {
						s[j] = 0
					}
				}
				for c := 0; c < D; c++ {
					v := 0.0
					for j := range s {
						v += s[j] / sum * at(b, j, 2, h, c)
					}
					out[(b*d.T+i)*d.E+h*D+c] = v
				}
			}
		}
	}
	return out
}

func closeTo(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	for i := range want {
		if math.Abs(got[i]-want[i]) > tol*math.Max(1, math.Abs(want[i])) {
			t.Fatalf("%s[%d] = %g, want %g", what, i, got[i], want[i])
		}
	}
}

func TestAttentionForwardMatchesNaive(t *testing.T) {
	for _, d := range []AttentionDims{
		{B: 2, T: 5, E: 6, H: 2},
		{B: 2, T: 7, E: 8, H: 4, Causal: true},
		{B: 1, T: 33, E: 64, H: 4, Causal: true},
		{B: 2, T: 130, E: 16, H: 2, Causal: true}, // several chunks of causalChunk rows
	} {
		qkv := make([]float64, d.B*d.T*3*d.E)
		for i := range qkv {
			qkv[i] = math.Sin(float64(3*i + 1))
		}
		mask := make([]float64, d.B*d.T)
		mask[1], mask[len(mask)-1] = 1, 1
		for _, m := range [][]float64{nil, mask} {
			probs := make([]float64, d.B*d.H*d.T*d.T)
			out := make([]float64, d.B*d.T*d.E)
			AttentionForward(d, qkv, m, probs, out)
			closeTo(t, "out", out, naiveAttention(d, qkv, m), 1e-12)
			// float32 within float32's precision.
			q32, m32 := make([]float32, len(qkv)), []float32(nil)
			for i, v := range qkv {
				q32[i] = float32(v)
			}
			if m != nil {
				m32 = make([]float32, len(m))
				for i, v := range m {
					m32[i] = float32(v)
				}
			}
			p32, o32 := make([]float32, len(probs)), make([]float32, len(out))
			AttentionForward(d, q32, m32, p32, o32)
			o64 := make([]float64, len(o32))
			for i, v := range o32 {
				o64[i] = float64(v)
			}
			closeTo(t, "out32", o64, out, 1e-5)
		}
	}
}

// Steps appended one at a time (or a few at a time) to the caches give
// the outputs of the causal attention over the whole sequence.
func TestAttentionCachedMatchesFull(t *testing.T) {
	d := AttentionDims{B: 2, T: 9, E: 8, H: 2, Causal: true}
	qkv := make([]float64, d.B*d.T*3*d.E)
	for i := range qkv {
		qkv[i] = math.Cos(float64(5*i + 2))
	}
	want := naiveAttention(d, qkv, nil)
	max := 12
	kc, vc := make([]float64, d.B*d.H*d.HeadDim()*max), make([]float64, d.B*max*d.E)
	pos := 0
	for _, n := range []int{1, 3, 1, 4} {
		step := AttentionDims{B: d.B, T: n, E: d.E, H: d.H, Causal: true}
		in := make([]float64, d.B*n*3*d.E)
		for b := 0; b < d.B; b++ {
			copy(in[b*n*3*d.E:(b+1)*n*3*d.E], qkv[(b*d.T+pos)*3*d.E:(b*d.T+pos+n)*3*d.E])
		}
		out := make([]float64, d.B*n*d.E)
		AttentionCachedForward(step, max, pos, in, kc, vc, make([]float64, d.B*d.H*n*max), out)
		for b := 0; b < d.B; b++ {
			closeTo(t, "cached", out[b*n*d.E:(b+1)*n*d.E], want[(b*d.T+pos)*d.E:(b*d.T+pos+n)*d.E], 1e-12)
		}
		pos += n
	}
}
