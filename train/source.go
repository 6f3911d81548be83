package train

import (
	"math/rand/v2"
)

// A Source is labelled examples of a fixed shape that are read from
// storage as a pass needs them instead of being held in memory: image
// files decoded one by one (datasets.ImageFiles). Classify trains on a
// Source as it trains on Examples, with the same order of examples for
// the same seed; a pool of Config.Workers goroutines reads the examples
// of the next Config.Prefetch batches while the current batch trains, so
// memory holds a few batches, not the dataset.
//
// The batches, and so the trained weights, do not depend on the number
// of workers: each example is read into its place in its batch, and the
// random augmentation of each comes from a generator of its own, seeded
// from the trainer's seed, the pass and the example's place in the pass.
type Source interface {
	Data
	// Shape returns the per-example input shape.
	Shape() []int
	// NumClasses returns the number of classes of the labels.
	NumClasses() int
	// Augments reports whether Read varies the examples of training
	// passes at random (crops, flips).
	Augments() bool
	// Read reads example i into dst (prod(Shape) values) and returns its
	// label. rng is nil in evaluation and for a source that does not
	// augment; in a training pass of one that does, it is the example's
	// own generator. Read is called from several goroutines at once. An
	// error names the example (its file) and what is wrong; it stops the
	// pass.
	Read(i int, dst []float32, rng *rand.Rand) (label int, err error)
}

// The defaults of Config's Workers and Prefetch, and their limits.
const (
	// DefaultPrefetch is the number of batches read ahead by default.
	DefaultPrefetch = 2
	// MaxWorkers is the most goroutines that read a Source (workers).
	MaxWorkers = 256
	// MaxPrefetch is the most batches read ahead (prefetch).
	MaxPrefetch = 64
)

// sourceTask is a task that can read a Source (Classify). The trainer
// tells it how many workers and batches ahead to read with, seeds the
// augmentation of each training pass that augments (drawing the seed
// from its shuffling stream, after the previous pass's shuffle, and only
// for data that augments, so that other data keeps the stream of a run
// without augmentation), and closes it with itself.
type sourceTask interface {
	// readers sets the workers and the batches read ahead (0: their
	// defaults).
	readers(workers, prefetch int)
	// augments reports whether a training pass over d is augmented.
	augments(d Data) bool
	// augmentNext seeds the augmentation of the next pass.
	augmentNext(seed uint64)
	// close stops the reading of a pass left unfinished.
	close()
}
