//go:build mpi

package main

import "syscall"

// stopSignal stops a process without ending it: a rank that hangs.
var stopSignal = syscall.SIGSTOP
