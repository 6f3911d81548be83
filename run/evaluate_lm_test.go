package run_test

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/datasets"
	"github.com/dlrun/dlrun/run"
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
	sum, err := run.Train(cfg, run.Options{Out: dir})
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
	m, err := run.Load(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	d, err := m.LanguageData("")
	if err != nil {
		t.Fatal(err)
	}
	r, err := m.LanguageReport(d)
	if err != nil {
		t.Fatal(err)
	}
	if r.Loss != sum.TestLoss || r.BitsPerChar != sum.Derived["bits_per_char"] || r.Accuracy != sum.TestAccuracy {
		t.Errorf("report %+v; the run ended with loss %v, bits per char %v, accuracy %v", r, sum.TestLoss, sum.Derived["bits_per_char"], sum.TestAccuracy)
	}
	if r.Characters != d.Test.Len() || r.Characters == 0 || math.Abs(r.Perplexity-math.Exp(r.Loss)) > 1e-12 {
		t.Errorf("report %+v over %d held-out characters", r, d.Test.Len())
	}

	// Another text with only the run's characters, whose own vocabulary
	// (sorted characters) differs: ids are the run's.
	other := filepath.Join(t.TempDir(), "other.txt")
	os.WriteFile(other, []byte(strings.Repeat("the hat sat on the cat. ", 40)), 0o644)
	od, err := m.LanguageData(other)
	if err != nil {
		t.Fatal(err)
	}
	want, err := datasets.Encode(m.Config.Vocab, strings.Repeat("the hat sat on the cat. ", 40))
	if err != nil {
		t.Fatal(err)
	}
	got, ok := od.Test.(train.Tokens)
	if !ok || len(got) == 0 || fmt.Sprint([]int(got)) != fmt.Sprint(want[len(want)-len(got):]) {
		t.Fatalf("held-out tokens %v, want the run's ids %v", got, want[len(want)-len(got):])
	}
	if _, err := m.LanguageReport(od); err != nil {
		t.Errorf("report on another text: %v", err)
	}

	for _, c := range []struct {
		text string
		want []string
	}{
		{filepath.Join("..", "testdata", "cli", "zebra.txt"), []string{"zebra.txt", "is not in the run's vocabulary"}},
		{filepath.Join(t.TempDir(), "absent.txt"), []string{"absent.txt"}},
	} {
		_, err := m.LanguageData(c.text)
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
	if _, err := m.LanguageData(""); err == nil || !strings.Contains(err.Error(), "has changed") {
		t.Errorf("changed text: %v", err)
	}

	// A classifier has no language-model report.
	xor := filepath.Join(t.TempDir(), "xor")
	xc := run.Config{Model: "xor"}
	xc.Epochs = 1
	if _, err := run.Train(xc, run.Options{Out: xor}); err != nil {
		t.Fatal(err)
	}
	cm, err := run.Load(xor, false)
	if err != nil {
		t.Fatal(err)
	}
	defer cm.Close()
	if _, err := cm.LanguageData(""); err == nil || !strings.Contains(err.Error(), "next-token") {
		t.Errorf("LanguageData of a classifier: %v", err)
	}
}
