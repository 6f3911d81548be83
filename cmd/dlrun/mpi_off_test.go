//go:build !mpi

package main

import (
	"os"
	"path/filepath"
	"testing"
)

// The default build started by mpirun as one of several processes says
// it was built without MPI, rather than that another process holds the
// run folder.
func TestPlainBuildUnderMPIRunSaysSo(t *testing.T) {
	t.Setenv("OMPI_COMM_WORLD_SIZE", "2")
	t.Setenv("OMPI_COMM_WORLD_RANK", "1")
	dir := filepath.Join(t.TempDir(), "run")
	_, err := dlrun(t, "train", "--model", "xor", "--epochs", "1", "--out", dir)
	oneLineError(t, "plain build under mpirun", err, "started by mpirun as one of 2 processes (OMPI_COMM_WORLD_SIZE=2), but this dlrun was built without MPI: build it with 'go build -tags mpi ./cmd/dlrun'")
	if _, err := os.Stat(dir); err == nil {
		t.Error("the run folder was made")
	}
	t.Setenv("OMPI_COMM_WORLD_SIZE", "1")
	if _, err := dlrun(t, "train", "--model", "xor", "--epochs", "1", "--out", dir); err != nil {
		t.Errorf("one process under mpirun: %v", err)
	}
}
