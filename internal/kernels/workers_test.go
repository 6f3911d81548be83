package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// ParallelFor covers every index exactly once, with the same split, when
// its workers are spinning, parked, busy with another goroutine's split,
// or asked for a split from inside a range; for any GOMAXPROCS.
func TestParallelForWorkers(t *testing.T) {
	check := func(n, grain int) {
		hits := make([]atomic.Int32, n)
		ParallelFor(n, grain, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				hits[i].Add(1)
			}
			if hi-lo > 100 { // a split inside a range
				inner := make([]atomic.Int32, 50)
				ParallelFor(50, 1, func(a, b int) {
					for i := a; i < b; i++ {
						inner[i].Add(1)
					}
				})
				for i := range inner {
					if inner[i].Load() != 1 {
						t.Errorf("nested split: index %d ran %d times", i, inner[i].Load())
					}
				}
			}
		})
		for i := range hits {
			if hits[i].Load() != 1 {
				t.Errorf("n %d grain %d: index %d ran %d times", n, grain, i, hits[i].Load())
			}
		}
	}
	for _, procs := range []int{1, 2, 3, 4} {
		old := runtime.GOMAXPROCS(procs)
		var wg sync.WaitGroup
		for g := 0; g < 4; g++ { // splits from several goroutines at once
			wg.Add(1)
			go func() {
				defer wg.Done()
				for _, n := range []int{1, 2, 3, 17, 1000} {
					check(n, 1)
				}
			}()
		}
		wg.Wait()
		check(1000, 1)
		time.Sleep(2 * spinFor) // the workers park
		check(1000, 1)
		runtime.GOMAXPROCS(old)
	}
}

// Each worker number is given to one range at a time, so scratch indexed
// by it is never shared.
func TestParallelWorkersNumbers(t *testing.T) {
	old := runtime.GOMAXPROCS(3)
	defer runtime.GOMAXPROCS(old)
	var busy [3]atomic.Int32
	for rep := 0; rep < 100; rep++ {
		parallelWorkers(3, 1, func(w, lo, hi int) {
			if busy[w].Add(1) != 1 {
				t.Errorf("worker %d given two ranges at once", w)
			}
			busy[w].Add(-1)
		})
	}
}
