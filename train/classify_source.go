package train

import (
	"math/rand/v2"
	"runtime"

	"github.com/pkg/errors"
)

// streamed is the state of a Classify that reads a Source: the readers'
// settings, the seed of the next training pass's augmentation, and the
// pass being read.
type streamed struct {
	workers, prefetch int
	augSeed           uint64
	augSet            bool
	src               Source
	stream            *prefetcher
	slot              *batchSlot // the batch being filled
}

var _ sourceTask = (*Classify)(nil)

// readers implements sourceTask.
func (c *Classify) readers(workers, prefetch int) { c.workers, c.prefetch = workers, prefetch }

// augments implements sourceTask: a Source that augments (Examples in
// memory are read as they are).
func (c *Classify) augments(d Data) bool {
	if _, ok := d.(Examples); ok {
		return false
	}
	src, ok := d.(Source)
	return ok && src.Augments()
}

// augmentNext implements sourceTask.
func (c *Classify) augmentNext(seed uint64) { c.augSeed, c.augSet = seed, true }

// close implements sourceTask.
func (c *Classify) close() { c.endStream() }

// endStream stops the reading of the current pass, if any.
func (c *Classify) endStream() {
	c.stream.close()
	c.stream, c.slot = nil, nil
}

// passSource starts a pass over src: the order as for Examples, its
// batches read ahead by the workers, augmented if the trainer seeded the
// pass's augmentation.
func (c *Classify) passSource(src Source, rng *rand.Rand) int {
	n := c.start(src.Len(), rng)
	batches, places := make([][]int, n), make([]int, n)
	for i := range n {
		batches[i], _ = c.indices(i, "classify") // within the pass
		places[i] = c.place(i)
	}
	augment := c.augSet && src.Augments()
	c.augSet = false
	workers, prefetch := c.workers, c.prefetch
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if prefetch == 0 {
		prefetch = DefaultPrefetch
	}
	c.src = src
	c.stream = startPrefetch(src, batches, places, c.batch, workers, prefetch, augment, c.augSeed)
	return n
}

// fillSource fills the inputs with batch i of a streamed pass, which the
// workers have read (or are reading). An example that could not be read,
// or whose label or values are out of range, ends the pass with an error.
func (c *Classify) fillSource(i int) (int, error) {
	s, err := c.stream.take(i)
	if err != nil {
		c.endStream()
		return 0, err
	}
	idx := c.stream.batches[i]
	size, k := c.stream.size, c.src.NumClasses()
	for r, index := range idx {
		if err := s.errs[r]; err != nil {
			c.endStream()
			return 0, err
		}
		if l := s.labels[r]; l < 0 || l >= k {
			c.endStream()
			return 0, errors.Errorf("example %d has label %d, outside its %d classes", index, l, k)
		}
		if j := nonFinite(s.x[r*size : (r+1)*size]); j >= 0 {
			c.endStream()
			return 0, errors.Errorf("example %d has value %v at position %d: inputs must be finite", index, s.x[r*size+j], j)
		}
	}
	c.idx, c.slot = idx, s
	if c.xT.Float32s() != nil {
		c.labels = fillBatch(c, c.labels[:0], c.xT.Float32s(), c.yT.Float32s(), c.wT.Float32s())
	} else {
		c.labels = fillBatch(c, c.labels[:0], c.xT.Float64s(), c.yT.Float64s(), c.wT.Float64s())
	}
	c.slot = nil
	c.stream.release(s)
	if i == len(c.stream.batches)-1 {
		c.endStream() // the pass is read: its goroutines end
	}
	c.g.SetActiveRows(len(idx))
	return len(idx), nil
}
