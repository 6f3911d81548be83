package train

import (
	"testing"

	"github.com/dlrun/dlrun/internal/allocs"
)

// FuzzModelInfo reads arbitrary bytes as a model.json: no panic, a
// one-line error, bounded allocation, and a description that passes
// Check gives a task and a parameter count within MaxParams.
func FuzzModelInfo(f *testing.F) {
	addFixtures(f, "model-")
	f.Fuzz(func(t *testing.T, b []byte) {
		var info *ModelInfo
		var err error
		n := allocs.Bytes(func() { info, err = ParseInfo(b) })
		if n > 4<<20+512*uint64(len(b)) {
			t.Fatalf("reading %d bytes allocated %d", len(b), n)
		}
		checkError(t, err)
		if err != nil {
			return
		}
		if _, err := info.NewTask(); err != nil {
			t.Fatalf("%s passes Check, but: %v", b, err)
		}
		if p, err := info.NumParams(); err != nil || p > MaxParams {
			t.Fatalf("%s passes Check, but has %d parameters: %v", b, p, err)
		}
	})
}
