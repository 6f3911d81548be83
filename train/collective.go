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
	// Alltoall sends block q of send (len(send)/Size() bytes) to process
	// q and receives into block p of recv the block process p sent to
	// this one; send and recv have the same length on every process.
	Alltoall(send, recv []byte) error
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
	send   []byte    // this process's gradients, padded to Size chunks
	recv   []byte    // every process's values of this process's chunk
	mine   []byte    // this process's chunk, summed
	summed []byte    // every chunk, summed
	acc    []float64 // the sums of a block of the chunk
}

// sumBlock is how many sums sumInto keeps at once: 16 KiB of float64,
// in the L1 cache with the block of each process's values.
const sumBlock = 2048

// reduceGradients replaces each gradient of prog with the gradient of
// the global batch: Σ_r (k_r / Σk)·g_r over the processes r in rank order,
// g_r being process r's gradient of the mean loss over its k_r examples,
// each sum taken in float64 and rounded once to the gradient's type.
//
// The gradients, all parameters' one after another, are cut into Size
// chunks; process q sums chunk q (an all-to-all brings it every process's
// values of that chunk, which it adds in rank order), then every process
// gathers every sum: a reduce-scatter and an allgather, so each process
// sends and receives 2·(N−1)/N of the gradients' bytes, as in a ring
// all-reduce, and sums 1/N of them; but the order of every sum is fixed,
// whatever algorithm MPI picks, so the bits are the same on every process
// and in every run with the same N.
func (r *reducer) reduceGradients(prog *graph.Program, k int) error {
	size := r.c.Size()
	var grads []graph.Data
	elem, n := 0, 0 // bytes per value; values in all
	for i := range prog.Params() {
		d, err := prog.GradientData(i)
		if err != nil {
			return err
		}
		grads = append(grads, d)
		e := 8
		if d.Float32s() != nil {
			e = 4
		}
		if elem != 0 && e != elem {
			return errors.New("gradients of two element types")
		}
		elem, n = e, n+d.Len()
	}
	chunk := (n + size - 1) / size // values per chunk, the last padded
	r.send = grow(r.send, chunk*size*elem)
	off := 0
	for _, d := range grads {
		off += copy(r.send[off:], dataBytes(d))
	}
	clear(r.send[off:])
	r.recv = grow(r.recv, len(r.send))
	if err := r.c.Alltoall(r.send, r.recv); err != nil {
		return errors.Wrap(err, "exchanging the gradients")
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
	weights := make([]float64, size) // k_r / Σk, 0 for a process with no examples
	for p, c := range counts {
		weights[p] = float64(c[0]) / total
	}
	if r.acc == nil {
		r.acc = make([]float64, sumBlock)
	}
	r.mine = grow(r.mine, chunk*elem)
	if elem == 4 {
		sumInto(viewAs[float32](r.mine), r.acc, r.recv, chunk*elem, weights)
	} else {
		sumInto(viewAs[float64](r.mine), r.acc, r.recv, chunk*elem, weights)
	}
	r.summed = grow(r.summed, len(r.send))
	if err := r.c.Allgather(r.mine, r.summed); err != nil {
		return errors.Wrap(err, "gathering the summed gradients")
	}
	off = 0
	for _, d := range grads {
		off += copy(dataBytes(d), r.summed[off:])
	}
	return nil
}

// sumInto sets g to Σ_p weights[p]·(process p's values), in rank order
// and in float64: process p's values are block p of recv, blk bytes
// each, in g's type. A process of weight 0 adds nothing. It works through
// g in blocks whose sums (acc, scratch) stay in cache.
func sumInto[T float32 | float64](g []T, acc []float64, recv []byte, blk int, weights []float64) {
	parts := make([][]T, 0, len(weights))
	ws := make([]float64, 0, len(weights))
	for p, w := range weights {
		if w == 0 {
			continue
		}
		parts = append(parts, viewAs[T](recv[p*blk:(p+1)*blk]))
		ws = append(ws, w)
	}
	for lo := 0; lo < len(g); lo += len(acc) {
		hi := min(lo+len(acc), len(g))
		a := acc[:hi-lo]
		clear(a)
		for p, part := range parts {
			w := ws[p]
			for j, v := range part[lo:hi] {
				a[j] += w * float64(v)
			}
		}
		for j, v := range a {
			g[lo+j] = T(v)
		}
	}
}

// viewAs returns b's bytes as values of T, without a copy (little-endian
// machines, as every process must be).
func viewAs[T float32 | float64](b []byte) []T {
	var z T
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/int(unsafe.Sizeof(z)))
}

// grow returns b resized to n bytes, reallocated if it is too small.
func grow(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
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
			raw = asBytes(v)
		case []float64:
			raw = asBytes(v)
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
		return asBytes(v)
	}
	return asBytes(d.Float64s())
}

// asBytes returns v's memory as bytes, without a copy; viewAs is its
// inverse.
func asBytes[T float32 | float64](v []T) []byte {
	var z T
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(v))), len(v)*int(unsafe.Sizeof(z)))
}
