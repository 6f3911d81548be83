package kernels

import (
	"math/rand/v2"
	"testing"
)

func BenchmarkMaxPool2x2(b *testing.B) {
	g := NewConvGeom(64, 32, 26, 26, 2, 2, 2, 2, 0, 0, 0, 0)
	x := make([]float32, 64*32*26*26)
	r := rand.New(rand.NewPCG(1, 1))
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	y := make([]float32, 64*32*13*13)
	arg := make([]int32, len(y))
	b.SetBytes(int64(4 * len(x)))
	for i := 0; i < b.N; i++ {
		MaxPool(g, x, y, arg)
	}
}
