package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// microKernelGo sums each element in step order, rounding each product
// and each sum (no fused multiply-add, whatever the architecture), and
// touches only the rows and columns it is given: the pure-Go path's bits
// rest on it.
func TestMicroKernelGoRounding(t *testing.T) {
	testMicroKernelGoRounding[float32](t)
	testMicroKernelGoRounding[float64](t)
}

func testMicroKernelGoRounding[T Float](t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for _, k := range []int{1, 3, 7, 8, 9, 16, 17, 63, 256} {
		ap, bp := make([]T, k*mr), make([]T, k*nr)
		for i := range ap {
			ap[i] = T(r.NormFloat64())
		}
		for i := range bp {
			bp[i] = T(r.NormFloat64())
		}
		for _, rc := range [][2]int{{mr, nr}, {1, 1}, {1, nr}, {mr, 1}, {5, 15}, {4, 9}, {3, 2}, {2, 3}} {
			rows, cols := rc[0], rc[1]
			for _, load := range []bool{false, true} {
				const ldc = nr + 3
				c := make([]T, mr*ldc)
				for i := range c {
					c[i] = T(r.NormFloat64())
				}
				want := append([]T(nil), c...)
				for i := 0; i < rows; i++ {
					for j := 0; j < cols; j++ {
						var s T
						for p := 0; p < k; p++ {
							prod := T(ap[p*mr+i] * bp[p*nr+j])
							s = T(s + prod)
						}
						if load {
							s += want[i*ldc+j]
						}
						want[i*ldc+j] = s
					}
				}
				microKernelGo(k, ap, bp, c, ldc, rows, cols, load)
				name := fmt.Sprintf("%T k %d rows %d cols %d load %v", c[0], k, rows, cols, load)
				for i := range c {
					if c[i] != want[i] {
						t.Fatalf("%s: c[%d] = %v, want %v", name, i, c[i], want[i])
					}
				}
			}
		}
	}
}
