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
