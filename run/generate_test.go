package run_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/datasets"
	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/runner"
)

// A transformer writes text a token at a time over its key/value caches:
// its first tokens are what the whole-sequence model predicts for the
// prime, it writes past its window of seq_len steps (starting again on the
// last half), the same seed writes the same text, and a cancelled context
// stops it.
func TestTransformerGeneratesPastItsWindow(t *testing.T) {
	file := filepath.Join(t.TempDir(), "tiny.txt")
	if err := os.WriteFile(file, []byte(strings.Repeat("the cat sat on the mat. the dog ate the hat. ", 40)), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "gpt")
	cfg := run.Config{Model: "gpt", Dataset: file, SeqLen: 16}
	cfg.Epochs, cfg.BatchSize = 1, 4
	if _, err := runner.Train(cfg, runner.Options{Out: dir}); err != nil {
		t.Fatal(err)
	}
	r, err := run.Open(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	// The prime fills the window: the first token written is the greedy
	// choice of the whole-sequence model after its last step.
	prime := "the dog ate the "
	text, err := r.Continue(context.Background(), run.GenerateOptions{Prime: prime, Length: 40})
	if err != nil {
		t.Fatal(err)
	}
	if n := len([]rune(text)); n != 40 {
		t.Fatalf("wrote %d characters, want 40: %q", n, text)
	}
	ids, err := datasets.Encode(r.Config.Vocab, prime)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, len(ids))
	for i, id := range ids {
		x[i] = float32(id)
	}
	rows, err := r.Model.Outputs(x)
	if err != nil {
		t.Fatal(err)
	}
	if want := r.Config.Vocab[run.Sample(rows[len(rows)-1], 0, nil)]; !strings.HasPrefix(text, want) {
		t.Errorf("first token %q, the whole-sequence model's %q", text[:1], want)
	}

	// Sampling: the same seed, the same text; past the window more than
	// once.
	o := run.GenerateOptions{Prime: "the", Length: 50, Temperature: 0.8, Seed: 9}
	a, err := r.Generate(o)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := r.Generate(o)
	if a != b || !strings.HasPrefix(a, "the") || len([]rune(a)) != 53 {
		t.Errorf("seed 9 wrote %q, then %q", a, b)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.Continue(ctx, o); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}
