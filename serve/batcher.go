package serve

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// maxPadSizes is the most batch sizes below the model's that a batcher
// pads its batches to: train.Model keeps a graph for each of 8 sizes
// below its batch size, and building one takes milliseconds, as long as
// running a full batch of a small model.
const maxPadSizes = 7

// A batcher owns a model: its one goroutine makes every call into it, so
// the model, which is not safe for concurrent use, never sees two at once.
// Requests to predict (predict) are gathered into batches: the first
// waits up to wait from its arrival for others to join, up to max rows in
// all, and the batch runs as one forward call whose rows are split back to
// each request. It waits only while other requests are on their way (their
// handlers announced them with expect, and the batcher has not yet taken
// them): a lone client's request runs at once. A request of more than max rows runs on its own. Other
// work on the model (do) runs between batches.
type batcher struct {
	// forward runs the model on rows one after another, rowLen values
	// each, giving outPer rows of output per row of input.
	forward func(x []float32) ([][]float64, error)
	rowLen  int
	outPer  int
	max     int
	wait    time.Duration
	// sizes are the row counts a batch of fewer than max rows is padded
	// to with zeros, ascending; none for a model whose forward call runs
	// every batch at its full size (a rating model).
	sizes []int
	// observe records each forward call: the rows of the requests it
	// served (padding left out) and how many requests they were.
	observe func(rows, requests int)

	// coming counts the requests announced by expect that the batcher has
	// not yet taken (nor have they given up): one still being read, or one
	// on its way through jobs, so that a gathering batch never mistakes a
	// request in flight for none; waiting, those in predict waiting to be
	// taken into a batch or answered.
	coming, waiting atomic.Int64

	jobs  chan *job
	tasks chan func()
	quit  chan struct{}
	done  chan struct{}
	next  *job // taken from jobs, but did not fit the last batch
}

// job is one request to predict.
type job struct {
	ctx     context.Context
	x       []float32
	rows    int
	arrived time.Time
	taken   func()      // expect's function, called when the batcher takes the job; not nil
	res     chan result // buffered: the batcher never waits on it
}

type result struct {
	out [][]float64
	err error
}

// start starts the batcher's goroutine.
func (b *batcher) start() {
	b.jobs = make(chan *job)
	b.tasks = make(chan func())
	b.quit = make(chan struct{})
	b.done = make(chan struct{})
	go b.loop()
}

// stop stops the batcher once it has answered the requests it took, and
// waits for it: after stop returns, the model is free to close.
func (b *batcher) stop() {
	close(b.quit)
	<-b.done
}

// padSizes returns the batch sizes that batches of fewer than max rows are
// padded to: max halved up to maxPadSizes times, rounded up (for 64: 1, 2,
// 4, 8, 16 and 32).
func padSizes(max int) []int {
	var sizes []int
	for k := maxPadSizes; k >= 1; k-- {
		s := (max + 1<<k - 1) >> k
		if s < max && (len(sizes) == 0 || s > sizes[len(sizes)-1]) {
			sizes = append(sizes, s)
		}
	}
	return sizes
}

// padTo returns the rows a batch of rows rows runs as.
func (b *batcher) padTo(rows int) int {
	if b.sizes == nil || rows >= b.max {
		return rows
	}
	for _, s := range b.sizes {
		if s >= rows {
			return s
		}
	}
	return b.max
}

// expect announces a request that is being read and will call predict,
// so that a batch already gathering waits for it. The returned function
// says it was taken into a batch or gave up; predict hands it to the
// batcher, and the handler must call it (deferred) in case it never gets
// there; calls after the first do nothing.
func (b *batcher) expect() (arrived func()) {
	b.coming.Add(1)
	var once sync.Once
	return func() { once.Do(func() { b.coming.Add(-1) }) }
}

// predict runs x, rows rows of the model's input, with whatever other
// requests join it, and returns its rows of output. It returns ctx's
// error if ctx ends first, and ErrStopped if the batcher stops first.
// arrived, if not nil, is expect's function for this request.
func (b *batcher) predict(ctx context.Context, x []float32, rows int, arrived func()) ([][]float64, error) {
	if arrived == nil {
		arrived = func() {}
	}
	// arrived is called by the batcher as it takes the job, not here: a
	// request between here and the batcher still counts as coming.
	j := &job{ctx: ctx, x: x, rows: rows, arrived: time.Now(), taken: arrived, res: make(chan result, 1)}
	b.waiting.Add(1)
	defer b.waiting.Add(-1)
	select {
	case b.jobs <- j:
	case <-ctx.Done():
		arrived()
		return nil, ctx.Err()
	case <-b.quit:
		arrived()
		return nil, ErrStopped
	}
	select {
	case r := <-j.res:
		return r.out, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// do runs f on the batcher's goroutine, between batches, and returns its
// error (a panic in f is an error too), or ctx's if ctx ends first, or
// ErrStopped.
func (b *batcher) do(ctx context.Context, f func() error) error {
	res := make(chan error, 1)
	task := func() {
		defer func() {
			if p := recover(); p != nil {
				res <- fmt.Errorf("panic: %v", p)
			}
		}()
		res <- f()
	}
	select {
	case b.tasks <- task:
	case <-ctx.Done():
		return ctx.Err()
	case <-b.quit:
		return ErrStopped
	}
	select {
	case err := <-res:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (b *batcher) loop() {
	defer close(b.done)
	for {
		first := b.next
		b.next = nil
		if first == nil {
			select {
			case first = <-b.jobs:
				first.taken()
			case task := <-b.tasks:
				task()
				continue
			case <-b.quit:
				return
			}
		}
		b.run(b.gather(first))
	}
}

// gather returns first with the requests that join it: those that arrive
// before first has waited b.wait, while the rows stay within b.max and
// other requests are on their way (b.coming); then those already sent. A
// request that would pass b.max is kept for the next batch.
func (b *batcher) gather(first *job) []*job {
	batch, rows := []*job{first}, first.rows
	var timeout <-chan time.Time
	if d := time.Until(first.arrived.Add(b.wait)); d > 0 && rows < b.max {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	for rows < b.max {
		if b.coming.Load() == 0 {
			timeout = nil // no one else is on the way
		}
		var j *job
		if timeout == nil { // take what has arrived, without waiting
			select {
			case j = <-b.jobs:
			default:
				return batch
			}
		} else {
			select {
			case j = <-b.jobs:
			case <-timeout:
				return batch
			case <-b.quit:
				return batch
			}
		}
		j.taken()
		if rows+j.rows > b.max {
			b.next = j
			return batch
		}
		batch, rows = append(batch, j), rows+j.rows
	}
	return batch
}

// run runs the batch of requests as one forward call and answers each. A
// request whose context has ended is left out: its answer was given.
func (b *batcher) run(batch []*job) {
	live, rows := batch[:0], 0
	for _, j := range batch {
		if err := j.ctx.Err(); err != nil {
			j.res <- result{err: err}
			continue
		}
		live, rows = append(live, j), rows+j.rows
	}
	if len(live) == 0 {
		return
	}
	x := live[0].x
	if n := b.padTo(rows); len(live) > 1 || n != rows {
		x = make([]float32, n*b.rowLen)
		off := 0
		for _, j := range live {
			off += copy(x[off:], j.x)
		}
	}
	out, err := b.call(x)
	if want := len(x) / b.rowLen * b.outPer; err == nil && len(out) != want {
		err = fmt.Errorf("%d rows of output for %d of input, want %d", len(out), len(x)/b.rowLen, want)
	}
	if b.observe != nil {
		b.observe(rows, len(live))
	}
	off := 0
	for _, j := range live {
		n := j.rows * b.outPer
		if err != nil {
			j.res <- result{err: err}
		} else {
			j.res <- result{out: out[off : off+n : off+n]}
		}
		off += n
	}
}

// call runs the forward call, a panic in it becoming an error.
func (b *batcher) call(x []float32) (out [][]float64, err error) {
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, fmt.Errorf("panic: %v", p)
		}
	}()
	return b.forward(x)
}
