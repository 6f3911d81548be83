package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

// pathShapes covers full and edge tiles of every kernel (6×16, 6×32,
// 12×32), partial A and B panels, and the kc, mc and nc block edges.
func pathShapes() [][3]int {
	shapes := [][3]int{
		{1, 1, 1}, {6, 16, 1}, {6, 32, 5}, {12, 32, 7}, {12, 48, 3}, {18, 64, 9},
		{5, 31, 4}, {7, 33, 17}, {11, 47, 8}, {13, 65, 2}, {23, 95, 31}, {24, 96, 256},
		{30, 100, 257}, {96, 128, 40}, {97, 129, 513}, {100, 1024 + 48, 20}, {190, 2100, 3},
		{32, 43264 / 16, 9}, {64, 288, 300}, {288, 200, 64}, {2, 1100, 5},
	}
	r := rand.New(rand.NewPCG(7, 8))
	for i := 0; i < 20; i++ {
		shapes = append(shapes, [3]int{1 + r.IntN(130), 1 + r.IntN(200), 1 + r.IntN(300)})
	}
	return shapes
}

func sameBits(a, b []float32) int {
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return i
		}
	}
	return -1
}

// Every float32 path the machine supports must agree with the pure-Go
// reference within rounding, and the vector paths (AVX2 and AVX-512, each
// with its own packing loops) must agree with each other bit for bit, so
// that the published weight hashes do not depend on which of them a
// machine runs.
func TestGemmPathsAgree(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, sz := range pathShapes() {
		m, n, k := sz[0], sz[1], sz[2]
		for _, tA := range []bool{false, true} {
			for _, tB := range []bool{false, true} {
				for _, acc := range []bool{false, true} {
					name := fmt.Sprintf("%dx%dx%d/tA=%v/tB=%v/acc=%v", m, n, k, tA, tB, acc)
					// Strides larger than the matrices, to catch stride mix-ups.
					lda, ldb, ldc := k+3, n+5, n+2
					if tA {
						lda = m + 3
					}
					if tB {
						ldb = k + 5
					}
					rowsA, rowsB := m, k
					if tA {
						rowsA = k
					}
					if tB {
						rowsB = n
					}
					a, b := to32(randSlice(r, rowsA*lda)), to32(randSlice(r, rowsB*ldb))
					c0 := to32(randSlice(r, m*ldc))
					got := map[path][]float32{}
					eachPath(t, func(p path) {
						c := append([]float32(nil), c0...)
						Gemm(tA, tB, m, n, k, a, lda, b, ldb, acc, c, ldc)
						got[p] = c
					})
					ref := got[pathGo]
					for i := 0; i < m; i++ {
						for j := ldc - 2; j < ldc; j++ { // padding columns must stay untouched
							for p, c := range got {
								if c[i*ldc+j] != c0[i*ldc+j] {
									t.Fatalf("%s %s: wrote outside C at row %d column %d", name, p, i, j)
								}
							}
						}
					}
					for p, c := range got {
						for i := range c {
							if d := math.Abs(float64(c[i]) - float64(ref[i])); d > 1e-5*float64(k+1) {
								t.Fatalf("%s %s: c[%d] = %g, go reference %g", name, p, i, c[i], ref[i])
							}
						}
					}
					var first path
					for _, p := range allPaths[1:] {
						c := got[p]
						if c == nil {
							continue
						}
						if first == pathGo {
							first = p
							continue
						}
						if i := sameBits(got[first], c); i >= 0 {
							t.Fatalf("%s: %s c[%d] = %g (%#x), %s %g (%#x): the bits must match",
								name, p, i, c[i], math.Float32bits(c[i]), first, got[first][i], math.Float32bits(got[first][i]))
						}
					}
				}
			}
		}
	}
}

// On each path, ParallelGemm gives Gemm's bits for any GOMAXPROCS.
func TestGemmPathsDeterministic(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	eachPath(t, func(p path) {
		for _, sz := range [][3]int{{64, 512, 1600}, {512, 64, 300}, {288, 121, 64}, {100, 1100, 40}, {30, 2000, 50}} {
			m, n, k := sz[0], sz[1], sz[2]
			a, b := to32(randSlice(r, m*k)), to32(randSlice(r, k*n))
			ref := make([]float32, m*n)
			Gemm(false, false, m, n, k, a, k, b, n, false, ref, n)
			for _, procs := range []int{1, 2, 3, 7} {
				old := runtime.GOMAXPROCS(procs)
				c := make([]float32, m*n)
				ParallelGemm(false, false, m, n, k, a, k, b, n, false, c, n)
				runtime.GOMAXPROCS(old)
				if i := sameBits(c, ref); i >= 0 {
					t.Fatalf("%s %v with GOMAXPROCS=%d differs from Gemm at %d", p, sz, procs, i)
				}
			}
		}
	})
}

// BenchmarkGemmPaths times the cnn's products (as BenchmarkCNNGemms) and
// BenchmarkSgemm's shapes on every path the machine supports.
func BenchmarkGemmPaths(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	shapes := append(cnnGemms[:len(cnnGemms):len(cnnGemms)],
		gemmShape{"sgemm", false, false, 64, 121, 288}, gemmShape{"sgemm", false, false, 256, 256, 256})
	for _, c := range shapes {
		lda, ldb := c.k, c.n
		if c.tA {
			lda = c.m
		}
		if c.tB {
			ldb = c.k
		}
		a, bb, cc := to32(randSlice(r, c.m*c.k)), to32(randSlice(r, c.k*c.n)), make([]float32, c.m*c.n)
		for _, p := range allPaths {
			b.Run(fmt.Sprintf("%s/%dx%dx%d/%s", c.name, c.m, c.n, c.k, p), func(b *testing.B) {
				if !withPath(b, p, func() {
					for i := 0; i < b.N; i++ {
						ParallelGemm(c.tA, c.tB, c.m, c.n, c.k, a, lda, bb, ldb, false, cc, c.n)
					}
				}) {
					b.SkipNow()
				}
				b.ReportMetric(float64(2*c.m*c.n*c.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
