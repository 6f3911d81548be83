package main

import (
	"fmt"
	"os"

	"github.com/dlrun/dlrun/runner"
)

// parallel makes opts train data-parallel when dlrun was built with MPI
// (-tags mpi, mpi.go) and started by mpirun with more than one process:
// it sets opts.Collective and, on ranks other than 0, silences the log. It
// returns the function to call with the command's result: it shuts MPI
// down after a success, and after a failure on any rank prints the error
// with the rank and stops every process (MPI_Abort), so that none waits
// for the failed one. The default build trains alone: finish returns err.
func parallel(opts *runner.Options) (finish func(error) error, err error) {
	c, finish, err := startCollective()
	if err != nil || c == nil {
		return finish, err
	}
	opts.Collective = c
	if opts.Follower() {
		opts.Log, opts.Progress = nil, false
	}
	return finish, nil
}

// rankError prints err naming the rank, for a process of several.
func rankError(rank, size int, err error) {
	fmt.Fprintf(os.Stderr, "dlrun: rank %d of %d: %v\n", rank, size, err)
}
