package kernels

import "math"

// momentFloor is the magnitude below which Adam's moments are set to zero
// (0x0c06e93f5da2824c, hard-coded in adam_amd64.s). A weight whose
// gradient stays zero (a unit that never fires) has its first moment
// shrink by β1 each step through the float64 subnormals, where arithmetic
// runs many times slower: after four million connect4 moves half the value
// network's first-layer moments were subnormal and the update was 4.8x
// slower. Below the floor a moment moves a weight by under 1e-240 of the
// learning rate, so flushing it changes no weight's bits except a zero
// weight's sign.
const momentFloor = 1e-250

// floor returns x, or 0 if |x| is below momentFloor.
func floor(x float64) float64 {
	if math.Abs(x) < momentFloor {
		return 0
	}
	return x
}

// AdamUpdate applies one Adam step to w from gradient g, updating the
// moments m and v in place:
//
//	m = b1·m + (1-b1)·g
//	v = b2·v + (1-b2)·g²
//	w = w - (lrc·m) / (sqrt(v)·c2inv + eps)
//
// where lrc is the learning rate over the first bias correction and c2inv
// the inverse square root of the second, with m and v set to zero where
// their magnitude falls below momentFloor (1e-250), which keeps them out
// of the slow subnormal range. With AVX2 it runs four elements
// at a time, with NEON two, with the same operations in the same order and
// no fused multiply-add (float64(a*b) keeps the compiler from fusing the
// Go loop's, on arm64 and elsewhere), so every path gives the same bits.
func AdamUpdate(w, g, m, v []float64, b1, b2, lrc, c2inv, eps float64) {
	n := len(w)
	g, m, v = g[:n], m[:n], v[:n]
	done := 0
	if cpu.vector && n >= 4 {
		done = n &^ 3
		adamVec(&w[0], &g[0], &m[0], &v[0], done, b1, b2, lrc, c2inv, eps)
	}
	for i := done; i < n; i++ {
		mi := floor(float64(b1*m[i]) + float64((1-b1)*g[i]))
		vi := floor(float64(b2*v[i]) + float64((1-b2)*(g[i]*g[i])))
		m[i], v[i] = mi, vi
		w[i] -= (lrc * mi) / (float64(math.Sqrt(vi)*c2inv) + eps)
	}
}

// AdamUpdate32 is AdamUpdate for float32 weights and gradients with
// float64 moments: each element is widened to float64, updated exactly as
// AdamUpdate updates it, and w rounded back to float32. It gives the bits
// of AdamUpdate on float64 copies of w and g followed by a conversion,
// without the copies.
func AdamUpdate32(w, g []float32, m, v []float64, b1, b2, lrc, c2inv, eps float64) {
	n := len(w)
	g, m, v = g[:n], m[:n], v[:n]
	done := 0
	if cpu.vector && n >= 4 {
		done = n &^ 3
		adam32Vec(&w[0], &g[0], &m[0], &v[0], done, b1, b2, lrc, c2inv, eps)
	}
	for i := done; i < n; i++ {
		gi := float64(g[i])
		mi := floor(float64(b1*m[i]) + float64((1-b1)*gi))
		vi := floor(float64(b2*v[i]) + float64((1-b2)*(gi*gi)))
		m[i], v[i] = mi, vi
		w[i] = float32(float64(w[i]) - (lrc*mi)/(float64(math.Sqrt(vi)*c2inv)+eps))
	}
}

// AdamWUpdate is AdamUpdate on a gradient scaled by s (clipping by global
// norm) and a weight first scaled by decay (1 − lr·weight decay: AdamW's
// decoupled decay, PyTorch's param.mul_(1 - lr*weight_decay)), for float32
// or float64 weights and gradients with float64 moments. Each element is
// widened to float64, updated with AdamUpdate's operations in its order
// and rounded back once, so with s = decay = 1 it gives AdamUpdate's bits
// (and AdamUpdate32's for float32).
func AdamWUpdate[T Float](w, g []T, m, v []float64, s, decay, b1, b2, lrc, c2inv, eps float64) {
	n := len(w)
	g, m, v = g[:n], m[:n], v[:n]
	for i := range w {
		gi := float64(g[i]) * s
		mi := floor(float64(b1*m[i]) + float64((1-b1)*gi))
		vi := floor(float64(b2*v[i]) + float64((1-b2)*(gi*gi)))
		m[i], v[i] = mi, vi
		w[i] = T(float64(float64(w[i])*decay) - (lrc*mi)/(float64(math.Sqrt(vi)*c2inv)+eps))
	}
}
