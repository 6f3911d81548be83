package train

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"github.com/pkg/errors"
)

// prefetcher reads the batches of one pass over a Source ahead of the
// task that fills them: a producer hands each example of each batch, in
// order, to a pool of workers, which read it into its row of one of a
// ring of batch slots; the task takes the slots in order. A slot is
// reused only once the task has taken its batch, so memory holds at most
// len(slots) batches whatever the speed of either side, and each example
// lands in its own row whichever worker reads it.
type prefetcher struct {
	src     Source
	size    int     // values per example
	batches [][]int // the examples of each batch, in order
	places  []int   // the place in the pass of each batch's first example
	augment bool
	seed    uint64 // of the pass's augmentation
	slots   []*batchSlot
	next    int // the batch the task takes next
	stop    chan struct{}
	stopped sync.Once
	wg      sync.WaitGroup
}

// batchSlot is one batch being read, or read and waiting.
type batchSlot struct {
	x       []float32
	labels  []int
	errs    []error
	pending atomic.Int64  // examples left to read
	ready   chan struct{} // a value when the batch is read
	free    chan struct{} // a value when the slot may take a batch
}

// readJob is one example to read into row row of slot.
type readJob struct {
	slot              *batchSlot
	row, index, place int
}

// startPrefetch starts reading batches (each at most rows examples) of
// src with workers goroutines, prefetch slots ahead. With augment, the
// example at place p of the pass reads with a generator seeded by (seed,
// p).
func startPrefetch(src Source, batches [][]int, places []int, rows, workers, prefetch int, augment bool, seed uint64) *prefetcher {
	size := 1
	for _, d := range src.Shape() {
		size *= d
	}
	p := &prefetcher{src: src, size: size, batches: batches, places: places, augment: augment, seed: seed, stop: make(chan struct{})}
	for range min(prefetch, max(len(batches), 1)) {
		s := &batchSlot{
			x: make([]float32, rows*size), labels: make([]int, rows), errs: make([]error, rows),
			ready: make(chan struct{}, 1), free: make(chan struct{}, 1),
		}
		s.free <- struct{}{}
		p.slots = append(p.slots, s)
	}
	jobs := make(chan readJob, workers)
	p.wg.Add(1 + workers)
	go p.produce(jobs)
	for range workers {
		go p.work(jobs)
	}
	return p
}

// produce hands out the examples of every batch in order, each batch
// once a slot is free for it.
func (p *prefetcher) produce(jobs chan<- readJob) {
	defer p.wg.Done()
	defer close(jobs)
	for j, idx := range p.batches {
		s := p.slots[j%len(p.slots)]
		select {
		case <-s.free:
		case <-p.stop:
			return
		}
		clear(s.errs)
		if len(idx) == 0 { // a data-parallel process's share of the last batch may be empty
			s.ready <- struct{}{}
			continue
		}
		s.pending.Store(int64(len(idx)))
		for r, i := range idx {
			select {
			case jobs <- readJob{slot: s, row: r, index: i, place: p.places[j] + r}:
			case <-p.stop:
				return
			}
		}
	}
}

// work reads the examples it is handed until there are none.
func (p *prefetcher) work(jobs <-chan readJob) {
	defer p.wg.Done()
	var pcg rand.PCG
	rng := rand.New(&pcg)
	for j := range jobs {
		select {
		case <-p.stop:
			continue // drain
		default:
		}
		var r *rand.Rand
		if p.augment {
			pcg.Seed(p.seed, uint64(j.place))
			r = rng
		}
		s := j.slot
		s.labels[j.row], s.errs[j.row] = p.src.Read(j.index, s.x[j.row*p.size:(j.row+1)*p.size], r)
		if s.pending.Add(-1) == 0 {
			s.ready <- struct{}{}
		}
	}
}

// take waits for batch i, which must be the next, and returns its slot;
// release gives the slot back once its batch is copied out.
func (p *prefetcher) take(i int) (*batchSlot, error) {
	if i != p.next {
		return nil, errors.Errorf("batch %d asked for, but a streamed pass reads its batches in order and batch %d is next", i+1, p.next+1)
	}
	s := p.slots[i%len(p.slots)]
	<-s.ready
	p.next++
	return s, nil
}

// release gives slot s back for a later batch.
func (p *prefetcher) release(s *batchSlot) { s.free <- struct{}{} }

// close stops the producer and the workers and waits for them: a worker
// in the middle of a read finishes it.
func (p *prefetcher) close() {
	if p == nil {
		return
	}
	p.stopped.Do(func() { close(p.stop) })
	p.wg.Wait()
}
