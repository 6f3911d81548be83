package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// The workers that parallelWorkers hands ranges to. Starting a goroutine
// per range made every split wait for the runtime to wake a parked thread
// (tens of microseconds), often more than the work itself at batch 1 or for
// a small layer. These workers stay: after a range each spins for a short
// while (spinFor) watching for the next, then parks. A split made while
// the workers are busy (another goroutine's split, or a split inside a
// range) starts goroutines as before. Which worker runs which range never
// changes the result: ranges are the same as ParallelFor's.

// spinFor is how long an idle worker watches for more work before parking.
const spinFor = 200 * time.Microsecond

type crew struct {
	mu      sync.Mutex // held by the goroutine whose split the crew runs
	members []*member
	pending atomic.Int32 // ranges handed out and not yet finished
}

type member struct {
	job  atomic.Pointer[job]
	slot job           // the job job points to: rewritten only once it is done
	wake chan struct{} // a parked member waits here
	idle atomic.Bool   // parked (or about to park) on wake
}

type job struct {
	fn     func(worker, lo, hi int)
	worker int
	lo, hi int
}

var standing crew

// run hands ranges [1, len(ranges)) to members and runs range 0 itself,
// returning when all are done; ok is false (and nothing ran) when the
// crew is busy.
func (c *crew) run(fn func(worker, lo, hi int), ranges [][2]int) (ok bool) {
	if !c.mu.TryLock() {
		return false
	}
	defer c.mu.Unlock()
	for len(c.members) < len(ranges)-1 {
		m := &member{wake: make(chan struct{}, 1)}
		c.members = append(c.members, m)
		go m.loop(c)
	}
	c.pending.Store(int32(len(ranges) - 1))
	for i := 1; i < len(ranges); i++ {
		m := c.members[i-1]
		m.slot = job{fn: fn, worker: i, lo: ranges[i][0], hi: ranges[i][1]}
		m.job.Store(&m.slot)
		if m.idle.Load() {
			select {
			case m.wake <- struct{}{}:
			default:
			}
		}
	}
	fn(0, ranges[0][0], ranges[0][1])
	for spins := 0; c.pending.Load() > 0; spins++ {
		if spins%64 == 63 {
			runtime.Gosched()
		}
	}
	return true
}

// loop runs the member's jobs: spinning for spinFor after each, then
// parking until woken.
func (m *member) loop(c *crew) {
	for {
		deadline := time.Now().Add(spinFor)
		for spins := 0; ; spins++ {
			if j := m.job.Swap(nil); j != nil {
				j.fn(j.worker, j.lo, j.hi)
				*j = job{} // drop the closure
				c.pending.Add(-1)
				deadline = time.Now().Add(spinFor)
				continue
			}
			if spins%64 == 63 {
				if time.Now().After(deadline) {
					break
				}
				runtime.Gosched()
			}
		}
		m.idle.Store(true)
		if j := m.job.Load(); j == nil { // no job slipped in before idle was set
			<-m.wake
		}
		m.idle.Store(false)
		select { // drop a wake-up that raced with a job seen above
		case <-m.wake:
		default:
		}
	}
}
