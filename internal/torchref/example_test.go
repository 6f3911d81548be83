//go:build unix

package torchref_test

import (
	"errors"
	"fmt"

	"github.com/dlrun/dlrun/internal/torchref"
)

// A reference run that fails says how it ended and the last line it
// wrote on stderr.
func ExampleRun() {
	_, err := torchref.Run("/bin/sh", []string{"-c", "echo 'No module named torch' >&2; exit 1"}, 1, nil)
	var re *torchref.RunError
	fmt.Println(errors.As(err, &re), err)
	// Output: true exited with status 1: No module named torch
}
