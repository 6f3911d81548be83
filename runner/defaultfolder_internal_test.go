package runner

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Runs started in the same second without --out each get a folder of
// their own, however many start at once: runs/<model>-<time>, then -2, -3
// and so on; a model file's folder is named after the file. Once every
// run has given up its folder, the run that made runs/ removes it too.
func TestDefaultFoldersNeverCollide(t *testing.T) {
	t.Chdir(t.TempDir())
	start := time.Date(2025, 3, 1, 12, 0, 5, 0, time.UTC)
	base := filepath.Join("runs", "mlp-20250301-120005")
	var folders []*folder
	for i, want := range []string{base, base + "-2", base + "-3"} {
		f, err := newFolder("", "mlp", start, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if f.dir != want || !f.created {
			t.Errorf("run %d: folder %s (created %v), want %s", i+1, f.dir, f.created, want)
		}
		folders = append(folders, f)
	}
	const n = 16
	got := make([]*folder, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = newFolder("", "small.yaml", start, io.Discard)
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if seen[got[i].dir] {
			t.Errorf("two runs got folder %s", got[i].dir)
		}
		seen[got[i].dir] = true
	}
	for i := 1; i <= n; i++ {
		name := filepath.Join("runs", "small-20250301-120005")
		if i > 1 {
			name += fmt.Sprintf("-%d", i)
		}
		if !seen[name] {
			t.Errorf("no run got %s", name)
		}
	}
	all := append(folders, got...)
	for i := len(all) - 1; i >= 0; i-- { // the first, which made runs/, last
		all[i].abandon()
		all[i].close()
	}
	if _, err := os.Stat("runs"); !os.IsNotExist(err) {
		t.Errorf("runs/ is left after every run gave up its folder: %v", err)
	}
}
