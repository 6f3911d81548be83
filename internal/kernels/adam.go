package kernels

import "math"

// AdamUpdate applies one Adam step to w from gradient g, updating the
// moments m and v in place:
//
//	m = b1·m + (1-b1)·g
//	v = b2·v + (1-b2)·g²
//	w = w - (lrc·m) / (sqrt(v)·c2inv + eps)
//
// where lrc is the learning rate over the first bias correction and c2inv
// the inverse square root of the second. On CPUs with AVX2 it runs four
// elements at a time with the same operations in the same order (no fused
// multiply-add), so both paths give the same bits.
func AdamUpdate(w, g, m, v []float64, b1, b2, lrc, c2inv, eps float64) {
	n := len(w)
	g, m, v = g[:n], m[:n], v[:n]
	done := 0
	if useAsm && n >= 4 {
		done = n &^ 3
		adamAVX2(&w[0], &g[0], &m[0], &v[0], done, b1, b2, lrc, c2inv, eps)
	}
	for i := done; i < n; i++ {
		mi := b1*m[i] + (1-b1)*g[i]
		vi := b2*v[i] + (1-b2)*(g[i]*g[i])
		m[i], v[i] = mi, vi
		w[i] -= (lrc * mi) / (math.Sqrt(vi)*c2inv + eps)
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
	if useAsm && n >= 4 {
		done = n &^ 3
		adam32AVX2(&w[0], &g[0], &m[0], &v[0], done, b1, b2, lrc, c2inv, eps)
	}
	for i := done; i < n; i++ {
		gi := float64(g[i])
		mi := b1*m[i] + (1-b1)*gi
		vi := b2*v[i] + (1-b2)*(gi*gi)
		m[i], v[i] = mi, vi
		w[i] = float32(float64(w[i]) - (lrc*mi)/(math.Sqrt(vi)*c2inv+eps))
	}
}
