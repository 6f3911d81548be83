package train

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"unsafe"

	"github.com/dlrun/dlrun/graph"
	"github.com/pkg/errors"
)

// A Collective joins the processes of data-parallel training: every
// process builds the same model with the same Config (and this
// Collective), takes its share of every global batch of Config.BatchSize
// examples, and after each step all hold the same gradient, the sum over
// the processes' shares, so they all make the same update. dlrun's MPI
// binding (build tag mpi, cmd/dlrun) implements it; a Collective of one
// process changes nothing, bit for bit.
//
// Sums are taken in rank order by every process from the gathered
// values, never by a reduction algorithm's own order, so that a run with
// the same number of processes gives the same bits every time.
type Collective interface {
	// Rank returns this process's rank, 0 to Size()-1.
	Rank() int
	// Size returns the number of processes.
	Size() int
	// Allgather gathers every process's send, the same length on each,
	// into recv, rank after rank.
	Allgather(send, recv []byte) error
	// Broadcast copies root's buf into every other process's buf, the
	// same length on each.
	Broadcast(buf []byte, root int) error
}

// ErrDiverged is the error of processes of data-parallel training whose
// weights differ after an epoch: a bug or a faulty machine, never a
// result to save.
var ErrDiverged = errors.New("the processes' weights differ")

// share returns the rows [lo, hi) of each global batch of batch examples
// that process rank of size takes: consecutive runs, as even as can be.
func share(batch, rank, size int) (lo, hi int) {
	return rank * batch / size, (rank + 1) * batch / size
}

// distributed reports whether t trains data-parallel over more than one
// process.
func (t *Trainer) distributed() bool {
	return t.cfg.Collective != nil && t.cfg.Collective.Size() > 1
}

// sharded is a task that can take one process's share of each global
// batch: Classify, Rating (shuffledPass) and NextToken. Build has been
// given the share's size, hi-lo.
type sharded interface {
	shard(global, lo, hi int)
}

// reducer sums the gradients of the processes' shares of a batch.
type reducer struct {
	c      Collective
	send   []byte
	recv   []byte
	counts []byte
}

// reduceGradients replaces each gradient of prog with the gradient of
// the global batch: Σ_r (k_r / Σk)·g_r over the processes r in rank order,
// g_r being process r's gradient of the mean loss over its k_r examples,
// computed in float64 from the gathered values, identically everywhere.
func (r *reducer) reduceGradients(prog *graph.Program, k int) error {
	size := r.c.Size()
	var grads []graph.Data
	n := 0
	for i := range prog.Params() {
		d, err := prog.GradientData(i)
		if err != nil {
			return err
		}
		grads = append(grads, d)
		n += len(dataBytes(d))
	}
	r.send = r.send[:0]
	for _, d := range grads {
		r.send = append(r.send, dataBytes(d)...)
	}
	if cap(r.recv) < n*size {
		r.recv = make([]byte, n*size)
	}
	r.recv = r.recv[:n*size]
	if err := r.c.Allgather(r.send, r.recv); err != nil {
		return errors.Wrap(err, "gathering the gradients")
	}
	counts, err := r.gatherInts([]int64{int64(k)})
	if err != nil {
		return err
	}
	total := 0.0
	for _, c := range counts {
		total += float64(c[0])
	}
	if total == 0 {
		return nil
	}
	off := 0
	for _, d := range grads {
		switch {
		case d.Float32s() != nil:
			g := d.Float32s()
			for j := range g {
				s := 0.0
				for p := 0; p < size; p++ {
					if w := float64(counts[p][0]); w != 0 {
						s += w / total * float64(math.Float32frombits(binary.LittleEndian.Uint32(r.recv[p*n+off+4*j:])))
					}
				}
				g[j] = float32(s)
			}
			off += 4 * len(g)
		default:
			g := d.Float64s()
			for j := range g {
				s := 0.0
				for p := 0; p < size; p++ {
					if w := float64(counts[p][0]); w != 0 {
						s += w / total * math.Float64frombits(binary.LittleEndian.Uint64(r.recv[p*n+off+8*j:]))
					}
				}
				g[j] = s
			}
			off += 8 * len(g)
		}
	}
	return nil
}

// gatherInts gathers v from every process: out[r] is rank r's.
func (r *reducer) gatherInts(v []int64) ([][]int64, error) {
	send := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(send[8*i:], uint64(x))
	}
	recv := make([]byte, len(send)*r.c.Size())
	if err := r.c.Allgather(send, recv); err != nil {
		return nil, err
	}
	out := make([][]int64, r.c.Size())
	for p := range out {
		out[p] = make([]int64, len(v))
		for i := range v {
			out[p][i] = int64(binary.LittleEndian.Uint64(recv[(p*len(v)+i)*8:]))
		}
	}
	return out, nil
}

// sumFloats returns Σ_r v_r over the processes, in rank order.
func (r *reducer) sumFloats(v []float64) ([]float64, error) {
	send := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(send[8*i:], math.Float64bits(x))
	}
	recv := make([]byte, len(send)*r.c.Size())
	if err := r.c.Allgather(send, recv); err != nil {
		return nil, err
	}
	out := make([]float64, len(v))
	for p := 0; p < r.c.Size(); p++ {
		for i := range out {
			out[i] += math.Float64frombits(binary.LittleEndian.Uint64(recv[(p*len(v)+i)*8:]))
		}
	}
	return out, nil
}

// broadcastBuffers gives every process rank 0's buffers (batch norm's
// running statistics, which each process updated from its own share), as
// PyTorch's DistributedDataParallel broadcasts buffers from rank 0.
func (r *reducer) broadcastBuffers(g *graph.Graph) error {
	for _, b := range g.Buffers() {
		if b.Int() {
			continue // counters: the same on every process
		}
		d := b.Data()
		var raw []byte
		switch v := d.(type) {
		case []float32:
			raw = unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(v))), 4*len(v))
		case []float64:
			raw = unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(v))), 8*len(v))
		default:
			return errors.Errorf("buffer %s: %T values", b.Name, d)
		}
		if len(raw) == 0 {
			continue
		}
		if err := r.c.Broadcast(raw, 0); err != nil {
			return errors.Wrapf(err, "broadcasting buffer %s", b.Name)
		}
	}
	return nil
}

// syncState gives every process rank 0's whole training state (weights,
// buffers, optimizer state, RNGs, epoch and history: a checkpoint, sent
// as its bytes), so that all start alike, from scratch or resumed.
func (t *Trainer) syncState(r *reducer) error {
	var b []byte
	if r.c.Rank() == 0 {
		var err error
		if b, err = checkpointBytes(t.resumable()); err != nil {
			return err
		}
	}
	n := []byte{0, 0, 0, 0, 0, 0, 0, 0}
	binary.LittleEndian.PutUint64(n, uint64(len(b)))
	if err := r.c.Broadcast(n, 0); err != nil {
		return errors.Wrap(err, "broadcasting the training state")
	}
	if r.c.Rank() != 0 {
		b = make([]byte, binary.LittleEndian.Uint64(n))
	}
	if err := r.c.Broadcast(b, 0); err != nil {
		return errors.Wrap(err, "broadcasting the training state")
	}
	if r.c.Rank() != 0 {
		return restoreBytes(b, "rank 0's training state", t.resumable())
	}
	return nil
}

// checkSameWeights fails with ErrDiverged, naming the ranks, unless every
// process holds the same parameters and buffers, bit for bit (compared by
// their SHA-256).
func (t *Trainer) checkSameWeights(r *reducer) error {
	h := sha256.New()
	for _, p := range t.g.Params() {
		h.Write(dataBytes(p.Data()))
	}
	for _, b := range t.g.Buffers() {
		fmt.Fprint(h, b.Values())
	}
	sum := h.Sum(nil)
	recv := make([]byte, len(sum)*r.c.Size())
	if err := r.c.Allgather(sum, recv); err != nil {
		return errors.Wrap(err, "gathering the weights' hashes")
	}
	var differ []int
	for p := 1; p < r.c.Size(); p++ {
		if string(recv[p*len(sum):(p+1)*len(sum)]) != string(recv[:len(sum)]) {
			differ = append(differ, p)
		}
	}
	if len(differ) > 0 {
		return fmt.Errorf("after epoch %d: %w: ranks %v hold other weights than rank 0", t.epoch, ErrDiverged, differ)
	}
	return nil
}

// dataBytes returns the bytes of d's values, without a copy.
func dataBytes(d graph.Data) []byte {
	if v := d.Float32s(); v != nil {
		return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(v))), 4*len(v))
	}
	v := d.Float64s()
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(v))), 8*len(v))
}
