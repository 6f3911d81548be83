//go:build !mpi

package main

import "github.com/dlrun/dlrun/train"

// startCollective is the default build's: no MPI, training alone.
func startCollective() (train.Collective, func(error) error, error) {
	return nil, func(err error) error { return err }, nil
}
