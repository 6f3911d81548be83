package run_test

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/datasets"
	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/runner"
	"github.com/dlrun/dlrun/train"
)

// trainTinyLM trains the charrnn for one epoch on a short text file and
// returns the run folder, its summary and the text file.
func trainTinyLM(t *testing.T) (string, *run.Summary, string) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "tiny.txt")
	if err := os.WriteFile(file, []byte(strings.Repeat("the cat sat on the mat. the dog ate the hat. ", 40)), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "lm")
	cfg := run.Config{Model: "charrnn", Dataset: file, SeqLen: 16}
	cfg.Epochs, cfg.BatchSize = 1, 4
	sum, err := runner.Train(cfg, runner.Options{Out: dir})
	if err != nil {
		t.Fatal(err)
	}
	return dir, sum, file
}

// A language model evaluates on its own held-out text to the run's last
// test loss and bits per character, and on another text of its
// characters; a text with other characters, or a model of another task,
// is refused with one line.
func TestLanguageReport(t *testing.T) {
	dir, sum, file := trainTinyLM(t)
	m, err := run.Open(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	rep, err := m.Evaluate(run.EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r := rep.(*run.LanguageReport)
	if r.Loss != sum.TestLoss || r.BitsPerChar != sum.Derived["bits_per_char"] || r.Accuracy != sum.TestAccuracy {
		t.Errorf("report %+v; the run ended with loss %v, bits per char %v, accuracy %v", r, sum.TestLoss, sum.Derived["bits_per_char"], sum.TestAccuracy)
	}
	if r.Characters == 0 || math.Abs(r.Perplexity-math.Exp(r.Loss)) > 1e-12 {
		t.Errorf("report %+v", r)
	}

	// Another text with only the run's characters, whose own vocabulary
	// (sorted characters) differs: it is read with the run's ids, as
	// encoding it with the run's vocabulary does.
	other := filepath.Join(t.TempDir(), "other.txt")
	text := strings.Repeat("the hat sat on the cat. ", 40)
	os.WriteFile(other, []byte(text), 0o644)
	orep, err := m.Evaluate(run.EvalOptions{Data: other})
	if err != nil {
		t.Fatal(err)
	}
	ids, err := datasets.Encode(m.Config.Vocab, text)
	if err != nil {
		t.Fatal(err)
	}
	held := train.Tokens(ids[len(ids)-len(ids)/10:])
	ev, err := m.Model.Evaluate(held)
	if err != nil {
		t.Fatal(err)
	}
	if o := orep.(*run.LanguageReport); o.Loss != ev.Loss || o.Characters != len(held) {
		t.Errorf("report on another text %+v; its held-out tokens in the run's ids give loss %v over %d", o, ev.Loss, len(held))
	}

	for _, c := range []struct {
		text string
		want []string
	}{
		{filepath.Join("..", "testdata", "cli", "zebra.txt"), []string{"zebra.txt", "is not in the run's vocabulary"}},
		{filepath.Join(t.TempDir(), "absent.txt"), []string{"absent.txt"}},
	} {
		_, err := m.Evaluate(run.EvalOptions{Data: c.text})
		if err == nil {
			t.Errorf("%s: no error", c.text)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) || strings.Contains(err.Error(), "\n") {
				t.Errorf("%s: error %q, want one line with %q", c.text, err, w)
			}
		}
	}
	// The run's own text, changed since.
	os.WriteFile(file, []byte(strings.Repeat("the cat sat on the hat. ", 40)), 0o644)
	if _, err := m.Evaluate(run.EvalOptions{}); err == nil || !strings.Contains(err.Error(), "the data changed since the run began") {
		t.Errorf("changed text: %v", err)
	}
	// Text from a classifier: a one-line refusal naming its kind.
	xor := filepath.Join(t.TempDir(), "xor")
	xc := run.Config{Model: "xor"}
	xc.Epochs = 1
	if _, err := runner.Train(xc, runner.Options{Out: xor}); err != nil {
		t.Fatal(err)
	}
	cm, err := run.Open(xor, false)
	if err != nil {
		t.Fatal(err)
	}
	defer cm.Close()
	if _, err := cm.Generate(run.GenerateOptions{Length: 3}); !errors.Is(err, run.ErrDoesNotApply) || !strings.Contains(err.Error(), "classify run") {
		t.Errorf("Generate from a classifier: %v", err)
	}
}
