// Package mpi is dlrun's binding of the few MPI calls data-parallel
// training needs, built with the mpi build tag only (mpi.go, cgo against
// Open MPI); without the tag the package is empty and dlrun pure Go.
package mpi
