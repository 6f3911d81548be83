//go:build mpi

package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"time"

	"github.com/dlrun/dlrun/internal/mpi"
	"github.com/dlrun/dlrun/train"
)

// DefaultMPITimeout is how long a process waits in one collective call
// (DLRUN_MPI_TIMEOUT, a Go duration) before it concludes that another
// process has died or hangs and stops them all.
const DefaultMPITimeout = 5 * time.Minute

// startCollective initialises MPI and returns its world as the training's
// Collective (one of a single process, started without mpirun or with
// -np 1, trains exactly as the default build). Each process of a host
// gets its share of the host's cores (GOMAXPROCS, unless set).
func startCollective() (train.Collective, func(error) error, error) {
	timeout := DefaultMPITimeout
	if s := os.Getenv("DLRUN_MPI_TIMEOUT"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			return nil, func(err error) error { return err }, fmt.Errorf("DLRUN_MPI_TIMEOUT=%q: want a positive duration such as 300s", s)
		}
		timeout = d
	}
	w, err := mpi.Init()
	if err != nil {
		return nil, func(err error) error { return err }, err
	}
	if os.Getenv("GOMAXPROCS") == "" {
		if local, err := strconv.Atoi(os.Getenv("OMPI_COMM_WORLD_LOCAL_SIZE")); err == nil && local > 1 {
			runtime.GOMAXPROCS(max(1, runtime.NumCPU()/local))
		}
	}
	c := &watched{w: w, timeout: timeout}
	finish := func(err error) error {
		if err != nil && w.Size() > 1 {
			rankError(w.Rank(), w.Size(), err)
			w.Abort(1)
		}
		if ferr := w.Finalize(); err == nil {
			err = ferr
		}
		return err
	}
	return c, finish, nil
}

// watched is an MPI world whose collective calls stop every process if
// they take longer than timeout: a process that died or hangs never
// leaves the others waiting forever.
type watched struct {
	w       *mpi.World
	timeout time.Duration
}

func (c *watched) Rank() int { return c.w.Rank() }
func (c *watched) Size() int { return c.w.Size() }

func (c *watched) Allgather(send, recv []byte) error {
	defer c.watch("gathering")()
	return c.w.Allgather(send, recv)
}

func (c *watched) Alltoall(send, recv []byte) error {
	defer c.watch("exchanging")()
	return c.w.Alltoall(send, recv)
}

func (c *watched) Broadcast(buf []byte, root int) error {
	defer c.watch("a broadcast from rank " + strconv.Itoa(root))()
	return c.w.Broadcast(buf, root)
}

// watch starts the timer of a call and returns the function that stops it.
func (c *watched) watch(what string) func() {
	t := time.AfterFunc(c.timeout, func() {
		rankError(c.w.Rank(), c.w.Size(), fmt.Errorf("no answer from the other processes within %v (%s): one has died or hangs; stopping every process (DLRUN_MPI_TIMEOUT)", c.timeout, what))
		c.w.Abort(1)
	})
	return func() { t.Stop() }
}
