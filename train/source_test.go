package train_test

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dlrun/dlrun/datasets"
	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/nn"
	"github.com/dlrun/dlrun/train"
	"github.com/pkg/errors"
)

// splitSource presents a split in memory as a Source, read one example
// at a time, slowly at random if jitter is set, so that workers finish
// out of order; failAt, if not negative, is an example whose read fails.
type splitSource struct {
	s      *datasets.Split
	jitter bool
	failAt int
	reads  atomic.Int64
}

func (s *splitSource) Len() int        { return s.s.Len() }
func (s *splitSource) Shape() []int    { return s.s.Shape() }
func (s *splitSource) NumClasses() int { return s.s.NumClasses() }
func (s *splitSource) Augments() bool  { return false }
func (s *splitSource) Read(i int, dst []float32, rng *rand.Rand) (int, error) {
	s.reads.Add(1)
	if rng != nil {
		return 0, errors.New("a source that does not augment was handed a generator")
	}
	if i == s.failAt {
		return 0, errors.Errorf("example-%d.png: not a readable PNG image", i)
	}
	if s.jitter && i%7 == 0 {
		time.Sleep(time.Duration(i%3) * time.Millisecond)
	}
	return s.s.Example(i, dst), nil
}

var _ train.Source = (*splitSource)(nil)

// paramValues returns a copy of every parameter of g, in order.
func paramValues(g *graph.Graph) [][]float32 {
	var out [][]float32
	for _, p := range g.Params() {
		out = append(out, append([]float32(nil), p.Value().Data().([]float32)...))
	}
	return out
}

func sameParams(a, b [][]float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for j := range a[i] {
			if a[i][j] != b[i][j] {
				return false
			}
		}
	}
	return true
}

// fitMLP trains the mlp for two epochs on train, evaluating on test, and
// returns its weights, the losses of its steps and the final evaluation.
func fitMLP(t *testing.T, trainData, test train.Data, shape []int, cfg train.Config) ([][]float32, []float64, *train.Evaluation) {
	t.Helper()
	ref, err := nn.ReferenceByName("mlp")
	if err != nil {
		t.Fatal(err)
	}
	m, err := ref.New(shape, 10)
	if err != nil {
		t.Fatal(err)
	}
	var losses []float64
	cfg.Epochs, cfg.BatchSize, cfg.Seed = 2, 32, 7
	cfg.OnBatch = func(_, _ int, l float64) { losses = append(losses, l) }
	tr, err := train.New(m, &train.Classify{Shape: shape, Outputs: 10}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if _, err := tr.Fit(trainData, test, nil); err != nil {
		t.Fatal(err)
	}
	ev, err := tr.Evaluate(test)
	if err != nil {
		t.Fatal(err)
	}
	return paramValues(tr.Graph()), losses, ev
}

// A Source trains exactly as the same examples in memory: the same order,
// the same batches, the same weights, whatever the number of workers and
// batches read ahead; the last batch of a pass is padded alike.
func TestSourceTrainsAsExamples(t *testing.T) {
	d := smallFashion(t, 200) // 7 batches of 32, the last of 8
	want, wantLosses, wantEv := fitMLP(t, d.Train, d.Test, d.Shape, train.Config{})
	for _, c := range []struct{ workers, prefetch int }{{1, 1}, {4, 3}, {3, 0}, {0, 0}} {
		src := &splitSource{s: d.Train, jitter: true, failAt: -1}
		test := &splitSource{s: d.Test, failAt: -1}
		got, losses, ev := fitMLP(t, src, test, d.Shape, train.Config{Workers: c.workers, Prefetch: c.prefetch})
		if !sameParams(got, want) {
			t.Fatalf("workers %d, prefetch %d: weights differ from training in memory", c.workers, c.prefetch)
		}
		if fmt.Sprint(losses) != fmt.Sprint(wantLosses) || ev.Loss != wantEv.Loss || fmt.Sprint(ev.Predictions) != fmt.Sprint(wantEv.Predictions) {
			t.Fatalf("workers %d: losses or evaluation differ", c.workers)
		}
		// Two epochs and three evaluations (two in Fit, one after), each
		// reading every example once: nothing read twice or skipped.
		if n := src.reads.Load(); n != 2*int64(d.Train.Len()) {
			t.Fatalf("workers %d: %d reads of the training examples, want %d", c.workers, n, 2*d.Train.Len())
		}
		if n := test.reads.Load(); n != 3*int64(d.Test.Len()) {
			t.Fatalf("workers %d: %d reads of the test examples, want %d", c.workers, n, 3*d.Test.Len())
		}
	}
}

// An example that cannot be read stops training with its error, naming
// the epoch and batch, and leaves no goroutine behind.
func TestSourceReadError(t *testing.T) {
	d := smallFashion(t, 200)
	before := runtime.NumGoroutine()
	src := &splitSource{s: d.Train, failAt: d.Train.Len() - 3}
	ref, _ := nn.ReferenceByName("mlp")
	m, _ := ref.New(d.Shape, 10)
	tr, err := train.New(m, &train.Classify{Shape: d.Shape, Outputs: 10}, train.Config{Epochs: 1, BatchSize: 32, Workers: 4, NoShuffle: true})
	if err != nil {
		t.Fatal(err)
	}
	_, err = tr.Fit(src, d.Test, nil)
	if err == nil || err.Error() != "epoch 1, batch 7: example-197.png: not a readable PNG image" {
		t.Fatalf("error %v", err)
	}
	// The pass ended early: Close stops its readers.
	tr.Close()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Fatalf("%d goroutines after Close, %d before", n, before)
	}
}

// A Source of another shape, or of more classes than the model outputs,
// is refused before training.
func TestSourceChecked(t *testing.T) {
	d := smallFashion(t, 64)
	ref, _ := nn.ReferenceByName("mlp")
	m, _ := ref.New([]int{1, 28, 28}, 5)
	tr, err := train.New(m, &train.Classify{Shape: []int{1, 28, 28}, Outputs: 5}, train.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	_, err = tr.Fit(&splitSource{s: d.Train, failAt: -1}, d.Test, nil)
	if err == nil || err.Error() != "training data has 10 classes, the model has 5 outputs" {
		t.Fatalf("error %v", err)
	}
	for _, c := range []struct {
		cfg  train.Config
		want string
	}{
		{train.Config{Workers: -1}, "workers -1: must be 0 (one per CPU) to 256"},
		{train.Config{Workers: 1000}, "workers 1000"},
		{train.Config{Prefetch: 65}, "prefetch 65: must be 0 (2 batches) to 64"},
	} {
		if err := c.cfg.Check(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.cfg, err, c.want)
		}
	}
}

// imageFolder writes a folder of 8×8 gray PNGs, n per class, whose
// pixels differ by class and image, and opens it with augmentation.
func imageFolder(t *testing.T, n int, aug datasets.Augmentation) *datasets.ImageFolder {
	t.Helper()
	dir := t.TempDir()
	for c := range 10 {
		for i := range n {
			img := image.NewGray(image.Rect(0, 0, 8, 8))
			for j := range img.Pix {
				img.Pix[j] = uint8(c*23 + i*5 + j*(c+1))
			}
			var b bytes.Buffer
			png.Encode(&b, img)
			path := filepath.Join(dir, fmt.Sprintf("class%d", c), fmt.Sprintf("%d.png", i))
			os.MkdirAll(filepath.Dir(path), 0o755)
			if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	f, err := datasets.OpenImageFolder(dir, datasets.ImageFolderOptions{Augment: aug})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// With augmentation (random crops and flips), the batches and the
// trained weights depend on the seed only, not on the number of workers;
// another seed gives other weights, and so does no augmentation.
func TestSourceAugmentationIndependentOfWorkers(t *testing.T) {
	f := imageFolder(t, 10, datasets.Augmentation{CropPadding: 2, Flip: true})
	cfg := train.Config{Workers: 1, Prefetch: 1}
	one, oneLosses, oneEv := fitMLP(t, f.Train, f.Test, f.Shape, cfg)
	cfg.Workers, cfg.Prefetch = 4, 3
	four, fourLosses, fourEv := fitMLP(t, f.Train, f.Test, f.Shape, cfg)
	if !sameParams(one, four) || fmt.Sprint(oneLosses) != fmt.Sprint(fourLosses) || oneEv.Loss != fourEv.Loss {
		t.Fatal("1 and 4 workers trained different weights")
	}
	plain := imageFolder(t, 10, datasets.Augmentation{})
	none, _, _ := fitMLP(t, plain.Train, plain.Test, plain.Shape, cfg)
	if sameParams(one, none) {
		t.Fatal("augmentation changed nothing")
	}
}

// Training on an augmented Source resumes bit for bit from a checkpoint:
// the augmentation of each pass is seeded from the trainer's shuffling
// stream, which the checkpoint keeps.
func TestSourceResumes(t *testing.T) {
	f := imageFolder(t, 10, datasets.Augmentation{CropPadding: 1, Flip: true})
	newTrainer := func(epochs int) *train.Trainer {
		ref, _ := nn.ReferenceByName("mlp")
		m, _ := ref.New(f.Shape, 10)
		tr, err := train.New(m, &train.Classify{Shape: f.Shape, Outputs: 10}, train.Config{Epochs: epochs, BatchSize: 16, Workers: 3})
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	straight := newTrainer(3)
	defer straight.Close()
	if _, err := straight.Fit(f.Train, f.Test, nil); err != nil {
		t.Fatal(err)
	}
	first := newTrainer(1)
	defer first.Close()
	if _, err := first.Fit(f.Train, f.Test, nil); err != nil {
		t.Fatal(err)
	}
	ck := filepath.Join(t.TempDir(), "checkpoint.safetensors")
	if err := first.SaveCheckpoint(ck); err != nil {
		t.Fatal(err)
	}
	resumed := newTrainer(3)
	defer resumed.Close()
	if err := resumed.Restore(ck); err != nil {
		t.Fatal(err)
	}
	if _, err := resumed.Fit(f.Train, f.Test, nil); err != nil {
		t.Fatal(err)
	}
	if !sameParams(paramValues(straight.Graph()), paramValues(resumed.Graph())) {
		t.Fatal("the resumed training differs from the straight one")
	}
}
