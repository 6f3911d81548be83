package kernels

import (
	"math"
	"runtime"
	"testing"
)

// The normalisation loops split channels (batch norm) or rows and columns
// (layer norm) among workers; the results must not depend on how many.
func TestNormLoopsIndependentOfWorkers(t *testing.T) {
	const n, c, s = 16, 64, 256 // batch norm: 4096 values per channel
	x, dy := make([]float32, n*c*s), make([]float32, n*c*s)
	for i := range x {
		x[i] = float32(math.Sin(float64(i)*0.37) * 3)
		dy[i] = float32(math.Cos(float64(i) * 0.11))
	}
	w, b := make([]float32, c), make([]float32, c)
	for i := range w {
		w[i], b[i] = float32(1+0.01*float64(i)), float32(0.1*float64(i))
	}
	run := func() [][]float32 {
		rows := n - 3
		mean, variance, invstd := make([]float64, c), make([]float64, c), make([]float64, c)
		BatchNormStats(x, rows, c, s, mean, variance)
		for i, v := range variance {
			invstd[i] = 1 / math.Sqrt(v+1e-5)
		}
		y, sums, dx := make([]float32, len(x)), make([]float32, 2*c), make([]float32, len(x))
		BatchNormForward(y, x, w, b, rows, c, s, mean, invstd)
		BatchNormGradSums(sums, x, dy, rows, c, s, mean, invstd)
		BatchNormInputGrad(dx, x, dy, w, sums, rows, c, s, mean, invstd, true)
		const d = 64 // layer norm over rows of 64
		lw, lb := make([]float32, d), make([]float32, d)
		copy(lw, w)
		copy(lb, b)
		r := len(x) / d
		lm, li := make([]float64, r), make([]float64, r)
		ly, ldx, ldw := make([]float32, len(x)), make([]float32, len(x)), make([]float32, d)
		LayerNormForward(ly, x, lw, lb, d, 1e-5, lm, li)
		LayerNormInputGrad(ldx, x, dy, lw, d, lm, li)
		LayerNormWeightGrad(ldw, x, dy, lm, li)
		return [][]float32{y, sums, dx, ly, ldx, ldw}
	}
	procs := runtime.GOMAXPROCS(1)
	one := run()
	runtime.GOMAXPROCS(max(procs, 4))
	many := run()
	runtime.GOMAXPROCS(procs)
	for k := range one {
		for i := range one[k] {
			if math.Float32bits(one[k][i]) != math.Float32bits(many[k][i]) {
				t.Fatalf("output %d element %d: one worker %g, several %g", k, i, one[k][i], many[k][i])
			}
		}
	}
	// Padded rows are zero in the output and the input gradient.
	for i := (n - 3) * c * s; i < len(x); i++ {
		if one[0][i] != 0 || one[2][i] != 0 {
			t.Fatalf("padded element %d: y %g dx %g", i, one[0][i], one[2][i])
		}
	}
}
