package run_test

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/run"
)

// The bundled shot detector is the run docs/results.md records for
// experiments/shots.yaml: its weights' SHA-256 is the one published there.
func TestBundledShotsIsThePublishedRun(t *testing.T) {
	b, err := fs.ReadFile(run.BundledShotsFiles(), "model.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	results, err := os.ReadFile(filepath.Join("..", "docs", "results.md"))
	if err != nil {
		t.Fatal(err)
	}
	want := "| shots | 1 | `" + hex.EncodeToString(sum[:]) + "` |"
	if !strings.Contains(string(results), want) {
		t.Errorf("docs/results.md lacks the bundled detector's row %s", want)
	}
	r, err := run.OpenBundledShots()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Kind != run.Shots || r.Config.Model != "shots" || r.Dir != "bundled" {
		t.Errorf("bundled run: kind %s, model %s, dir %s", r.Kind.Name(), r.Config.Model, r.Dir)
	}
}
