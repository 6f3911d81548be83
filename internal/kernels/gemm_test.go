package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

func naive(transA, transB bool, m, n, k int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int, acc bool) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			s := 0.0
			for p := 0; p < k; p++ {
				var av, bv float64
				if transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if transB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += av * bv
			}
			if acc {
				c[i*ldc+j] += s
			} else {
				c[i*ldc+j] = s
			}
		}
	}
}

func randSlice(r *rand.Rand, n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = r.Float64()*2 - 1
	}
	return s
}

func to32(s []float64) []float32 {
	o := make([]float32, len(s))
	for i, v := range s {
		o[i] = float32(v)
	}
	return o
}

func TestGemmMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, sz := range [][3]int{{1, 1, 1}, {6, 16, 4}, {7, 17, 3}, {13, 40, 300}, {64, 512, 1600 / 4}, {100, 3, 9}, {2, 1100, 5}} {
		m, n, k := sz[0], sz[1], sz[2]
		for _, tA := range []bool{false, true} {
			for _, tB := range []bool{false, true} {
				for _, acc := range []bool{false, true} {
					name := fmt.Sprintf("%dx%dx%d/tA=%v/tB=%v/acc=%v", m, n, k, tA, tB, acc)
					lda, ldb := k, n
					if tA {
						lda = m
					}
					if tB {
						ldb = k
					}
					a, b := randSlice(r, m*k), randSlice(r, k*n)
					c0 := randSlice(r, m*n)
					want := append([]float64(nil), c0...)
					naive(tA, tB, m, n, k, a, lda, b, ldb, want, n, acc)
					got := append([]float64(nil), c0...)
					Gemm(tA, tB, m, n, k, a, lda, b, ldb, acc, got, n)
					got32 := to32(c0)
					ParallelGemm(tA, tB, m, n, k, to32(a), lda, to32(b), ldb, acc, got32, n)
					for i := range want {
						if math.Abs(got[i]-want[i]) > 1e-9*float64(k+1) {
							t.Fatalf("%s float64: c[%d] = %g, want %g", name, i, got[i], want[i])
						}
						if math.Abs(float64(got32[i])-want[i]) > 1e-5*float64(k+1) {
							t.Fatalf("%s float32: c[%d] = %g, want %g", name, i, got32[i], want[i])
						}
					}
				}
			}
		}
	}
}

// The parallel split must not change a single bit.
func TestParallelGemmIsDeterministic(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, sz := range [][3]int{{64, 512, 1600}, {512, 64, 300}, {288, 121, 64}} {
		m, n, k := sz[0], sz[1], sz[2]
		a, b := to32(randSlice(r, m*k)), to32(randSlice(r, k*n))
		var ref []float32
		for _, procs := range []int{1, 2, 3, 7} {
			old := runtime.GOMAXPROCS(procs)
			c := make([]float32, m*n)
			ParallelGemm(false, false, m, n, k, a, k, b, n, false, c, n)
			runtime.GOMAXPROCS(old)
			if ref == nil {
				ref = c
				continue
			}
			for i := range c {
				if math.Float32bits(c[i]) != math.Float32bits(ref[i]) {
					t.Fatalf("%v with GOMAXPROCS=%d differs at %d", sz, procs, i)
				}
			}
		}
	}
}

func BenchmarkSgemm(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, sz := range [][3]int{{64, 512, 1600}, {64, 121, 288}, {256, 256, 256}} {
		m, n, k := sz[0], sz[1], sz[2]
		a, bb, c := to32(randSlice(r, m*k)), to32(randSlice(r, k*n)), make([]float32, m*n)
		b.Run(fmt.Sprintf("%dx%dx%d", m, n, k), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				Gemm(false, false, m, n, k, a, k, bb, n, false, c, n)
			}
			b.ReportMetric(float64(2*m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkSgemmPeak measures the machine's matrix-product peak as dlrun
// reaches it: a 1024³ float32 product on one core (Gemm) and on every core
// (ParallelGemm). docs/performance.md rates each model's throughput
// against the second.
func BenchmarkSgemmPeak(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	const n = 1024
	a, bb, c := to32(randSlice(r, n*n)), to32(randSlice(r, n*n)), make([]float32, n*n)
	for _, par := range []bool{false, true} {
		name := "1core"
		if par {
			name = "allcores"
		}
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if par {
					ParallelGemm(false, false, n, n, n, a, n, bb, n, false, c, n)
				} else {
					Gemm(false, false, n, n, n, a, n, bb, n, false, c, n)
				}
			}
			b.ReportMetric(2*n*n*n*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
