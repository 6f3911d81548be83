package run_test

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/dlrun/dlrun/datasets"
	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/runner"
	"github.com/dlrun/dlrun/train"
)

// Data that a run cannot train on (a NaN or infinite input value or
// rating, more classes than train.MaxClasses) is refused by runner.Train in
// one line naming the dataset, the split and the example, before the run
// folder is made.
func TestTrainRefusesBadDataBeforeTheFolder(t *testing.T) {
	xor := datasets.XOR()
	withValue := func(v float32) *run.Data {
		s := xor.Train
		x := append([]float32(nil), s.X...)
		x[2*1+1] = v // example 1, position 1
		bad, err := datasets.NewSplit(x, s.Labels, s.Shape(), s.NumClasses())
		if err != nil {
			t.Fatal(err)
		}
		d := *xor
		d.Test = bad
		return run.FromDataset(&d)
	}
	many := *xor
	many.Classes = make([]string, train.MaxClasses+1)
	for i := range many.Classes {
		many.Classes[i] = "c"
	}
	rating := &run.Data{Name: "stars", Users: 2, Movies: 2, Mean: 3,
		Train: stars{3, 4, 5}, Test: stars{3, float32(math.Inf(1)), 5}}
	for _, c := range []struct {
		model string
		data  *run.Data
		want  string
	}{
		{"xor", withValue(float32(math.NaN())), "dataset xor: test data: example 1 has value NaN at position 1: inputs must be finite"},
		{"xor", withValue(float32(math.Inf(1))), "dataset xor: test data: example 1 has value +Inf at position 1"},
		{"xor", run.FromDataset(&many), "dataset xor: classes: 4097 names, more than the 4096 allowed"},
		{"mf", rating, "dataset stars: test data: rating 1 has value +Inf: ratings must be finite"},
	} {
		out := filepath.Join(t.TempDir(), "run")
		_, err := runner.Train(run.Config{Model: c.model, Config: train.Config{Epochs: 1}}, runner.Options{Data: c.data, Out: out})
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %v, want one line containing %q", c.model, err, c.want)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("%s: the run folder was made (%v)", c.model, err)
		}
	}
	if _, err := runner.Train(run.Config{Model: "xor", Config: train.Config{Epochs: 1}}, runner.Options{Data: run.FromDataset(xor), Out: t.TempDir()}); err != nil {
		t.Errorf("good data: %v", err)
	}
}

// stars are ratings by user i%2 of movie i%2.
type stars []float32

func (s stars) Len() int { return len(s) }
func (s stars) Rating(i int) (int, int, float32) {
	return i % 2, i % 2, s[i]
}

// A text for next-token prediction is read as safeio reads: a FIFO is
// refused without blocking; a regular UTF-8 file is read.
func TestLoadTextReadsOnlyRegularFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.txt")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	if _, err := run.LoadText(fifo); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("FIFO: %v", err)
	}
	path := filepath.Join(dir, "t.txt")
	if err := os.WriteFile(path, []byte(strings.Repeat("abc ", 100)), 0o644); err != nil {
		t.Fatal(err)
	}
	if text, err := run.LoadText(path); err != nil || len(text.Vocab) != 4 {
		t.Errorf("text file: %v", err)
	}
}
