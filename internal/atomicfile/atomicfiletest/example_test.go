//go:build unix

package atomicfiletest_test

import (
	"errors"
	"fmt"
	"os"

	"github.com/dlrun/dlrun/internal/atomicfile"
	"github.com/dlrun/dlrun/internal/atomicfile/atomicfiletest"
)

// Try a writer on every hostile destination and check that each was
// refused and left as it was.
func Example() {
	dir, err := os.MkdirTemp("", "nodes")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	for _, n := range atomicfiletest.Make(dir) {
		if n.Reason != "" {
			continue // mknod needs root
		}
		err := atomicfile.WriteFile(n.Path, []byte("weights"), 0o644)
		if errors.Is(err, atomicfile.ErrNotRegular) && n.Unchanged() == nil {
			continue
		}
		fmt.Println(n.Name, "was not refused:", err)
	}
	fmt.Println("every destination refused and kept")
	// Output: every destination refused and kept
}
