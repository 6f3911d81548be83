//go:build !mpi

package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/dlrun/dlrun/train"
)

// startCollective is the default build's: no MPI, training alone. Started
// by mpirun with more than one process (Open MPI's OMPI_COMM_WORLD_SIZE,
// MPICH's PMI_SIZE say how many), every process would train alone into
// the same folder, so it refuses, saying how to build dlrun with MPI.
func startCollective() (train.Collective, func(error) error, error) {
	finish := func(err error) error { return err }
	for _, v := range []string{"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"} {
		if n, err := strconv.Atoi(os.Getenv(v)); err == nil && n > 1 {
			return nil, finish, fmt.Errorf("started by mpirun as one of %d processes (%s=%d), but this dlrun was built without MPI: build it with 'go build -tags mpi ./cmd/dlrun' (docs/distributed.md), or run it alone", n, v, n)
		}
	}
	return nil, finish, nil
}
