//go:build mpi

package mpi

/*
#cgo pkg-config: ompi-c
#include <mpi.h>
#include <stdlib.h>

static int dl_init(int *rank, int *size) {
	int provided, rc, flag;
	rc = MPI_Initialized(&flag);
	if (rc != MPI_SUCCESS) return rc;
	if (!flag) {
		rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_SERIALIZED, &provided);
		if (rc != MPI_SUCCESS) return rc;
	}
	rc = MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
	if (rc != MPI_SUCCESS) return rc;
	rc = MPI_Comm_rank(MPI_COMM_WORLD, rank);
	if (rc != MPI_SUCCESS) return rc;
	return MPI_Comm_size(MPI_COMM_WORLD, size);
}

static int dl_allgather(void *send, int n, void *recv) {
	return MPI_Allgather(send, n, MPI_BYTE, recv, n, MPI_BYTE, MPI_COMM_WORLD);
}

static int dl_alltoall(void *send, int n, void *recv) {
	return MPI_Alltoall(send, n, MPI_BYTE, recv, n, MPI_BYTE, MPI_COMM_WORLD);
}

static int dl_bcast(void *buf, int n, int root) {
	return MPI_Bcast(buf, n, MPI_BYTE, root, MPI_COMM_WORLD);
}

static int dl_barrier(void) { return MPI_Barrier(MPI_COMM_WORLD); }
static int dl_abort(int code) { return MPI_Abort(MPI_COMM_WORLD, code); }
static int dl_finalize(void) { return MPI_Finalize(); }

static int dl_error_string(int code, char *buf) {
	int len = 0;
	MPI_Error_string(code, buf, &len);
	return len;
}
*/
import "C"

import (
	"fmt"
	"runtime"
	"sync"
	"unsafe"
)

// maxChunk is the most bytes one MPI call moves: MPI counts are C ints.
const maxChunk = 1 << 30

// World is MPI_COMM_WORLD, after Init.
type World struct {
	mu         sync.Mutex
	rank, size int
	finalized  bool
}

// Init initialises MPI (once; a process started without mpirun is a world
// of one) and returns the world.
func Init() (*World, error) {
	var rank, size C.int
	if rc := C.dl_init(&rank, &size); rc != C.MPI_SUCCESS {
		return nil, mpiError("MPI_Init_thread", rc)
	}
	return &World{rank: int(rank), size: int(size)}, nil
}

// Rank returns this process's rank, 0 to Size()-1.
func (w *World) Rank() int { return w.rank }

// Size returns the number of processes.
func (w *World) Size() int { return w.size }

// Allgather gathers every process's send (the same length on each) into
// recv, rank after rank: recv[r·len(send):(r+1)·len(send)] is rank r's.
func (w *World) Allgather(send, recv []byte) error {
	n := len(send)
	if len(recv) != n*w.size {
		return fmt.Errorf("mpi: Allgather of %d bytes into %d, want %d", n, len(recv), n*w.size)
	}
	if n == 0 {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if n <= maxChunk {
		defer runtime.KeepAlive(send)
		defer runtime.KeepAlive(recv)
		if rc := C.dl_allgather(unsafe.Pointer(&send[0]), C.int(n), unsafe.Pointer(&recv[0])); rc != C.MPI_SUCCESS {
			return mpiError("MPI_Allgather", rc)
		}
		return nil
	}
	// In chunks, each gathered into a buffer and spread to its place.
	tmp := make([]byte, maxChunk*w.size)
	for lo := 0; lo < n; lo += maxChunk {
		hi := min(lo+maxChunk, n)
		part := tmp[:(hi-lo)*w.size]
		if rc := C.dl_allgather(unsafe.Pointer(&send[lo]), C.int(hi-lo), unsafe.Pointer(&part[0])); rc != C.MPI_SUCCESS {
			return mpiError("MPI_Allgather", rc)
		}
		for r := 0; r < w.size; r++ {
			copy(recv[r*n+lo:r*n+hi], part[r*(hi-lo):(r+1)*(hi-lo)])
		}
	}
	runtime.KeepAlive(send)
	return nil
}

// Alltoall sends block q of send (len(send)/Size() bytes) to rank q and
// receives into block p of recv what rank p sent this process: recv is
// the blocks for this rank, rank after rank. send and recv have the same
// length on every process.
func (w *World) Alltoall(send, recv []byte) error {
	if len(send)%w.size != 0 || len(recv) != len(send) {
		return fmt.Errorf("mpi: Alltoall of %d bytes into %d among %d processes", len(send), len(recv), w.size)
	}
	blk := len(send) / w.size
	if blk == 0 {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if blk <= maxChunk {
		defer runtime.KeepAlive(send)
		defer runtime.KeepAlive(recv)
		if rc := C.dl_alltoall(unsafe.Pointer(&send[0]), C.int(blk), unsafe.Pointer(&recv[0])); rc != C.MPI_SUCCESS {
			return mpiError("MPI_Alltoall", rc)
		}
		return nil
	}
	// In parts of each block, gathered into buffers and spread out.
	sp := make([]byte, maxChunk*w.size)
	rp := make([]byte, maxChunk*w.size)
	for lo := 0; lo < blk; lo += maxChunk {
		hi := min(lo+maxChunk, blk)
		m := hi - lo
		for q := 0; q < w.size; q++ {
			copy(sp[q*m:(q+1)*m], send[q*blk+lo:q*blk+hi])
		}
		if rc := C.dl_alltoall(unsafe.Pointer(&sp[0]), C.int(m), unsafe.Pointer(&rp[0])); rc != C.MPI_SUCCESS {
			return mpiError("MPI_Alltoall", rc)
		}
		for p := 0; p < w.size; p++ {
			copy(recv[p*blk+lo:p*blk+hi], rp[p*m:(p+1)*m])
		}
	}
	return nil
}

// Broadcast copies root's buf into buf on every other process (the same
// length on each).
func (w *World) Broadcast(buf []byte, root int) error {
	if root < 0 || root >= w.size {
		return fmt.Errorf("mpi: Broadcast from rank %d of %d", root, w.size)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for lo := 0; lo < len(buf); lo += maxChunk {
		hi := min(lo+maxChunk, len(buf))
		if rc := C.dl_bcast(unsafe.Pointer(&buf[lo]), C.int(hi-lo), C.int(root)); rc != C.MPI_SUCCESS {
			return mpiError("MPI_Bcast", rc)
		}
	}
	runtime.KeepAlive(buf)
	return nil
}

// Barrier returns once every process has called it.
func (w *World) Barrier() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if rc := C.dl_barrier(); rc != C.MPI_SUCCESS {
		return mpiError("MPI_Barrier", rc)
	}
	return nil
}

// Abort ends every process of the world with status code (MPI_Abort):
// what a process that fails does, so that none waits for it forever. It
// does not take the lock, so it works while another call is blocked.
func (w *World) Abort(code int) {
	C.dl_abort(C.int(code))
}

// Finalize shuts MPI down; the world is unusable after it.
func (w *World) Finalize() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.finalized {
		return nil
	}
	w.finalized = true
	if rc := C.dl_finalize(); rc != C.MPI_SUCCESS {
		return mpiError("MPI_Finalize", rc)
	}
	return nil
}

// mpiError turns an MPI error code into an error naming the call.
func mpiError(call string, rc C.int) error {
	buf := (*C.char)(C.malloc(C.MPI_MAX_ERROR_STRING))
	defer C.free(unsafe.Pointer(buf))
	n := C.dl_error_string(rc, buf)
	return fmt.Errorf("mpi: %s: %s (error %d)", call, C.GoStringN(buf, n), int(rc))
}
