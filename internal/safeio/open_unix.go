//go:build unix

package safeio

import (
	"os"
	"syscall"
)

// openNonBlocking opens path without blocking on a FIFO that has no
// writer.
func openNonBlocking(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}

// setBlocking clears O_NONBLOCK (which changes nothing for a regular file
// on Linux, but is cleared for the record).
func setBlocking(f *os.File) error {
	return syscall.SetNonblock(int(f.Fd()), false)
}
