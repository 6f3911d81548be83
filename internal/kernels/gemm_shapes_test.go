package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// gemmShape is a matrix product C[m, n] = op(A)·op(B) with k terms.
type gemmShape struct {
	name    string
	tA, tB  bool
	m, n, k int
}

// cnnGemms are the matrix products of one cnn training step at batch 64.
var cnnGemms = []gemmShape{
	{"conv1 fwd", false, false, 32, 43264, 9},
	{"conv1 dW", false, true, 32, 9, 43264},
	{"conv2 fwd", false, false, 64, 7744, 288},
	{"conv2 dW", false, true, 64, 288, 7744},
	{"conv2 dX", true, false, 288, 7744, 64},
	{"dense1 fwd", false, false, 64, 512, 1600},
	{"dense1 dW", true, false, 1600, 512, 64},
	{"dense1 dX", false, true, 64, 1600, 512},
}

// The matrix products of one cnn training step at batch 64.
func BenchmarkCNNGemms(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, c := range cnnGemms {
		lda, ldb := c.k, c.n
		if c.tA {
			lda = c.m
		}
		if c.tB {
			ldb = c.k
		}
		a, bb, cc := to32(randSlice(r, c.m*c.k)), to32(randSlice(r, c.k*c.n)), make([]float32, c.m*c.n)
		b.Run(fmt.Sprintf("%s/%dx%dx%d", c.name, c.m, c.n, c.k), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				ParallelGemm(c.tA, c.tB, c.m, c.n, c.k, a, lda, bb, ldb, false, cc, c.n)
			}
			b.ReportMetric(float64(2*c.m*c.n*c.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
