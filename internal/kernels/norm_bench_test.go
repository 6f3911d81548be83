package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkBatchNorm times the batch-norm loops on the cnn-bn's two
// layers at batch 64 ([64, 32, 26·26] and [64, 64, 11·11]).
func BenchmarkBatchNorm(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, sz := range [][3]int{{64, 32, 676}, {64, 64, 121}} {
		rows, c, s := sz[0], sz[1], sz[2]
		x, dy := to32(randSlice(r, rows*c*s)), to32(randSlice(r, rows*c*s))
		y, dx := make([]float32, len(x)), make([]float32, len(x))
		w, bias := to32(randSlice(r, c)), to32(randSlice(r, c))
		mean, variance, invstd := make([]float64, c), make([]float64, c), make([]float64, c)
		sums := make([]float32, 2*c)
		BatchNormStats(x, rows, c, s, mean, variance)
		for i := range invstd {
			invstd[i] = 1 / (variance[i] + 1e-5)
		}
		name := fmt.Sprintf("%dx%dx%d", rows, c, s)
		for _, pass := range []struct {
			name string
			run  func()
		}{
			{"stats", func() { BatchNormStats(x, rows, c, s, mean, variance) }},
			{"forward", func() { BatchNormForward(y, x, w, bias, rows, c, s, mean, invstd) }},
			{"sums", func() { BatchNormGradSums(sums, x, dy, rows, c, s, mean, invstd) }},
			{"input", func() { BatchNormInputGrad(dx, x, dy, w, sums, rows, c, s, mean, invstd, true) }},
		} {
			b.Run(name+"/"+pass.name, func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					pass.run()
				}
				b.ReportMetric(float64(len(x))*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mvalues/s")
			})
		}
	}
}
