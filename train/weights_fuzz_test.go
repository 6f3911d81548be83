package train

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/internal/allocs"
)

// allocBound is the most a read of an input of n bytes may allocate: the
// tiny model's own size and the decoder's work on the input, a small
// multiple of it; never what the input declares.
func allocBound(n int) uint64 { return 4<<20 + 64*uint64(n) }

// addFixtures adds to f's seed corpus every file of testdata/models whose
// name begins with one of prefixes.
func addFixtures(f *testing.F, prefixes ...string) {
	entries, err := os.ReadDir(fixtures)
	if err != nil {
		f.Fatal(err)
	}
	added := 0
	for _, e := range entries {
		for _, p := range prefixes {
			if strings.HasPrefix(e.Name(), p) {
				b, err := os.ReadFile(filepath.Join(fixtures, e.Name()))
				if err != nil {
					f.Fatal(err)
				}
				f.Add(b)
				added++
				break
			}
		}
	}
	if added == 0 {
		f.Fatalf("no fixtures %v in %s", prefixes, fixtures)
	}
}

// checkError fails t unless err is nil or one line.
func checkError(t *testing.T, err error) {
	if err != nil && strings.Contains(err.Error(), "\n") {
		t.Fatalf("error on more than one line: %q", err)
	}
}

// FuzzLoadWeights reads arbitrary bytes as the weights of the tiny model:
// no panic, a one-line error, the model unchanged on error, and bounded
// allocation whatever sizes the input declares.
func FuzzLoadWeights(f *testing.F) {
	addFixtures(f, "weights-", "checkpoint-valid")
	g := tinyTrainer(f, "").g
	f.Fuzz(func(t *testing.T, b []byte) {
		before := graphState(g)
		var err error
		n := allocs.Bytes(func() {
			var st *stFile
			if st, err = readHeader(bytes.NewReader(b), int64(len(b)), names(weightSlots(g))); err == nil {
				err = st.loadWeights(g)
			}
		})
		if n > allocBound(len(b)) {
			t.Fatalf("reading %d bytes allocated %d", len(b), n)
		}
		checkError(t, err)
		if err != nil {
			if d := sameState(before, graphState(g)); d != "" {
				t.Fatalf("a failed load (%v) changed %s", err, d)
			}
		}
	})
}
