package train

import (
	"bytes"
	"fmt"
	"math"
	"sync"
	"testing"

	"github.com/dlrun/dlrun/nn"
)

// localWorld is a Collective of size goroutines in one process, for the
// tests: what MPI does between processes, done through shared memory.
type localWorld struct {
	size  int
	mu    sync.Mutex
	cond  *sync.Cond
	gen   int
	n     int
	slots [][]byte
}

func newLocalWorld(size int) *localWorld {
	w := &localWorld{size: size, slots: make([][]byte, size)}
	w.cond = sync.NewCond(&w.mu)
	return w
}

// barrier waits for every member; the last to arrive runs f first.
func (w *localWorld) barrier(f func()) {
	w.mu.Lock()
	defer w.mu.Unlock()
	gen := w.gen
	w.n++
	if w.n == w.size {
		if f != nil {
			f()
		}
		w.n = 0
		w.gen++
		w.cond.Broadcast()
		return
	}
	for gen == w.gen {
		w.cond.Wait()
	}
}

// member is one process of a localWorld.
type member struct {
	w    *localWorld
	rank int
}

func (m member) Rank() int { return m.rank }
func (m member) Size() int { return m.w.size }

func (m member) Allgather(send, recv []byte) error {
	m.w.mu.Lock()
	m.w.slots[m.rank] = send
	m.w.mu.Unlock()
	m.w.barrier(nil)
	for r, s := range m.w.slots {
		if len(s) != len(send) {
			return fmt.Errorf("rank %d sent %d bytes, rank %d %d", r, len(s), m.rank, len(send))
		}
		copy(recv[r*len(send):], s)
	}
	m.w.barrier(nil)
	return nil
}

func (m member) Alltoall(send, recv []byte) error {
	m.w.mu.Lock()
	m.w.slots[m.rank] = send
	m.w.mu.Unlock()
	m.w.barrier(nil)
	blk := len(send) / m.w.size
	for p, s := range m.w.slots {
		if len(s) != len(send) {
			return fmt.Errorf("rank %d sent %d bytes, rank %d %d", p, len(s), m.rank, len(send))
		}
		copy(recv[p*blk:(p+1)*blk], s[m.rank*blk:(m.rank+1)*blk])
	}
	m.w.barrier(nil)
	return nil
}

func (m member) Broadcast(buf []byte, root int) error {
	if m.rank == root {
		m.w.mu.Lock()
		m.w.slots[root] = buf
		m.w.mu.Unlock()
	}
	m.w.barrier(nil)
	if m.rank != root {
		copy(buf, m.w.slots[root])
	}
	m.w.barrier(nil)
	return nil
}

// parallelData is 100 labelled examples of 6 values: enough for several
// global batches and a short last one.
type parallelData struct{ n int }

func (d parallelData) Len() int        { return d.n }
func (d parallelData) Shape() []int    { return []int{6} }
func (d parallelData) NumClasses() int { return 3 }
func (d parallelData) Example(i int, dst []float32) int {
	for j := range dst {
		dst[j] = float32((i*13+j*7)%17)/8 - 1
	}
	return (i*5 + i/7) % 3
}

// parallelMLP has no batch norm: the processes' gradients sum to one
// process's, up to rounding.
const parallelMLP = `name: par
layers:
  - dense: {units: 8}
  - tanh: {}
  - dense: {units: 3}
`

const parallelSpec = `name: par
layers:
  - dense: {units: 8}
  - batch_norm: {}
  - relu: {}
  - dense: {units: 3}
`

// trainParallel trains the parallel model on size processes of a
// localWorld (none for size 0: a Trainer alone), with a global batch of
// batch, for epochs, and returns each process's weights (checkpoint
// bytes) and history.
func trainParallel(t *testing.T, spec string, size, batch, epochs int) ([][]byte, [][]EpochStats) {
	t.Helper()
	return trainTask(t, spec, func() Task { return &Classify{Shape: []int{6}, Outputs: 3} }, parallelData{100}, parallelData{30}, size, batch, epochs)
}

// trainTask is trainParallel for any task and data.
func trainTask(t *testing.T, spec string, task func() Task, train, test Data, size, batch, epochs int) ([][]byte, [][]EpochStats) {
	t.Helper()
	procs := max(size, 1)
	var w *localWorld
	if size > 0 {
		w = newLocalWorld(size)
	}
	weights := make([][]byte, procs)
	hists := make([][]EpochStats, procs)
	errs := make([]error, procs)
	var wg sync.WaitGroup
	for r := 0; r < procs; r++ {
		wg.Go(func() {
			spec, err := nn.ParseSpec([]byte(spec), "par.yaml")
			if err != nil {
				errs[r] = err
				return
			}
			m, err := spec.Build()
			if err != nil {
				errs[r] = err
				return
			}
			cfg := Config{Epochs: epochs, BatchSize: batch, Seed: 5, Optimizer: "adam", LearningRate: 0.01}
			if _, ok := task().(*Rating); ok {
				cfg.Loss = "mse"
			}
			if w != nil {
				cfg.Collective = member{w, r}
			}
			tr, err := New(m, task(), cfg)
			if err != nil {
				errs[r] = err
				return
			}
			defer tr.Close()
			if hists[r], err = tr.Fit(train, test, nil); err != nil {
				errs[r] = err
				return
			}
			weights[r], errs[r] = checkpointBytes(resumable{tr.g, tr.parts.opt, new(int), new([]EpochStats), tr.pcg, nil})
		})
	}
	wg.Wait()
	for r, err := range errs {
		if err != nil {
			t.Fatalf("process %d of %d: %v", r, procs, err)
		}
	}
	return weights, hists
}

// Data-parallel training is reproducible and consistent: every process
// ends with the same weights and metrics, two runs with the same number
// of processes give the same bits, one process under a Collective gives
// the bits of no Collective, and 2 or 3 processes follow the loss curve
// of one closely (the gradient sums are the same, in another order).
func TestDataParallelTraining(t *testing.T) {
	const batch, epochs = 16, 6
	for _, c := range []struct {
		name, spec string
		tol        float64
	}{
		// BatchNorm normalises each process's share with the share's own
		// statistics (as PyTorch's DistributedDataParallel does without
		// SyncBatchNorm), so its curves differ by more than rounding.
		{"mlp", parallelMLP, 1e-5},
		{"batch-norm", parallelSpec, 0.05},
	} {
		t.Run(c.name, func(t *testing.T) {
			alone, aloneHist := trainParallel(t, c.spec, 0, batch, epochs)
			one, _ := trainParallel(t, c.spec, 1, batch, epochs)
			if !bytes.Equal(one[0], alone[0]) {
				t.Error("one process under a Collective: other weights than alone")
			}
			for _, size := range []int{2, 3} {
				w1, h1 := trainParallel(t, c.spec, size, batch, epochs)
				w2, _ := trainParallel(t, c.spec, size, batch, epochs)
				for r := 1; r < size; r++ {
					if !bytes.Equal(w1[r], w1[0]) {
						t.Errorf("%d processes: rank %d's weights differ from rank 0's", size, r)
					}
					if fmt.Sprint(untimed(h1[r])) != fmt.Sprint(untimed(h1[0])) {
						t.Errorf("%d processes: rank %d's metrics differ from rank 0's", size, r)
					}
				}
				if !bytes.Equal(w1[0], w2[0]) {
					t.Errorf("%d processes: two runs gave other weights", size)
				}
				worst := 0.0
				for e := range aloneHist[0] {
					for _, pair := range [][2]float64{{h1[0][e].TrainLoss, aloneHist[0][e].TrainLoss}, {h1[0][e].TestLoss, aloneHist[0][e].TestLoss}} {
						worst = math.Max(worst, math.Abs(pair[0]-pair[1])/pair[1])
					}
				}
				if worst > c.tol {
					t.Errorf("%d processes: losses differ from one process's by up to %.3g (relative), more than %g", size, worst, c.tol)
				}
				t.Logf("%d processes: largest relative difference of the train and test losses from one process's over %d epochs: %.3g", size, epochs, worst)
			}
		})
	}
}

// ratingData is n ratings of 20 users and 30 movies.
type ratingData struct{ n, salt int }

func (d ratingData) Len() int { return d.n }
func (d ratingData) Rating(i int) (int, int, float32) {
	u, m := (i*7+d.salt)%20, (i*11+3*d.salt)%30
	return u, m, float32(1 + (u*m+i)%5)
}

// The language model (stateful recurrent layers, streams shared out) and
// the recommender (embedding rows, a penalty per batch) train
// data-parallel too: reproducible, the same on every process, and close
// to one process.
func TestDataParallelTasks(t *testing.T) {
	tokens := make(Tokens, 700)
	for i := range tokens {
		tokens[i] = (i*i + i/3) % 9
	}
	for _, c := range []struct {
		name, spec  string
		task        func() Task
		train, test Data
		batch       int
	}{
		{"next-token", "name: lm\nlayers:\n  - embedding: {vocab: 9, dim: 5}\n  - lstm: {hidden: 7, return_sequences: true, stateful: true}\n  - dense: {units: 9}\n",
			func() Task { return &NextToken{Vocab: 9, SeqLen: 10} }, tokens[:600], tokens[600:], 6},
		{"rating", "name: rec\nlayers:\n  - mf: {users: 20, movies: 30, dim: 4, mean: 3, l2: 0.05}\n",
			// 320 ratings: whole batches. In a short last batch the padding
			// rows enter the L2 penalty of each share (nn.MF), which
			// differs from one process's by 2.7e-4 relative with 300.
			func() Task { return &Rating{Users: 20, Movies: 30} }, ratingData{320, 0}, ratingData{64, 1}, 32},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, alone := trainTask(t, c.spec, c.task, c.train, c.test, 0, c.batch, 3)
			w1, h1 := trainTask(t, c.spec, c.task, c.train, c.test, 2, c.batch, 3)
			w2, _ := trainTask(t, c.spec, c.task, c.train, c.test, 2, c.batch, 3)
			if !bytes.Equal(w1[0], w1[1]) || !bytes.Equal(w1[0], w2[0]) {
				t.Error("2 processes: weights differ between ranks or runs")
			}
			worst := 0.0
			for e := range alone[0] {
				worst = math.Max(worst, math.Abs(h1[0][e].TrainLoss-alone[0][e].TrainLoss)/alone[0][e].TrainLoss)
				worst = math.Max(worst, math.Abs(h1[0][e].TestLoss-alone[0][e].TestLoss)/alone[0][e].TestLoss)
			}
			if worst > 1e-4 {
				t.Errorf("2 processes: losses differ from one process's by up to %.3g (relative)", worst)
			}
			t.Logf("2 processes vs 1 over 3 epochs: largest relative difference of the losses %.3g", worst)
		})
	}
}

// untimed returns h without its wall times.
func untimed(h []EpochStats) []EpochStats {
	out := append([]EpochStats(nil), h...)
	for i := range out {
		out[i].Seconds, out[i].TrainSeconds = 0, 0
	}
	return out
}

// A global batch smaller than the number of processes is refused.
func TestDataParallelNeedsABatchPerProcess(t *testing.T) {
	spec, _ := nn.ParseSpec([]byte(parallelSpec), "par.yaml")
	m, _ := spec.Build()
	_, err := New(m, &Classify{Shape: []int{6}, Outputs: 3}, Config{BatchSize: 2, Collective: member{newLocalWorld(3), 0}})
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("smaller than the 3 processes")) {
		t.Fatalf("error %v", err)
	}
}
