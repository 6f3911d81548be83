package train_test

import (
	"runtime"
	"slices"
	"testing"

	"github.com/dlrun/dlrun/datasets"
	"github.com/dlrun/dlrun/nn"
	"github.com/dlrun/dlrun/train"
)

// allocBatch is the batch size of the allocation test.
const allocBatch = 64

// stepAllocs trains the reference model name on 320 bundled examples (5
// batches of allocBatch) for one epoch to warm up, then two more, and
// returns the median of what each of their steps allocated, from the end
// of one step to the end of the next (runtime.MemStats.TotalAlloc; the
// first step of each epoch, after the epoch's own set-up, is not
// counted). The median, not the mean, because a garbage collection
// empties the sync.Pools of the kernels and the step after it refills
// them: on a loaded machine that happened within a measured epoch and
// made the test flaky. extra, if not 0, is a number of float32s the test
// allocates itself at every step, to show that the measure sees them.
func stepAllocs(t *testing.T, name string, extra int) (perStep uint64, batchBytes int) {
	t.Helper()
	d := smallFashion(t, 320)
	if name == "rnn" { // reads each image as the sequence of its rows
		var err error
		if d, err = datasets.AsSequence(d); err != nil {
			t.Fatal(err)
		}
		d.Train = d.Train.Subset(320)
	}
	ref, err := nn.ReferenceByName(name)
	if err != nil {
		t.Fatal(err)
	}
	m, err := ref.New(d.Shape, 10)
	if err != nil {
		t.Fatal(err)
	}
	var (
		steps     []uint64
		last      runtime.MemStats
		measuring bool
	)
	onBatch := func(done, _ int, _ float64) {
		if extra > 0 {
			sink = make([]float32, extra)
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		if measuring && done > 1 {
			steps = append(steps, ms.TotalAlloc-last.TotalAlloc)
		}
		last = ms
	}
	tr, err := train.New(m, &train.Classify{Shape: d.Shape, Outputs: 10}, train.Config{BatchSize: allocBatch, Epochs: 100, OnBatch: onBatch})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	for epoch := 0; epoch < 3; epoch++ {
		measuring = epoch > 0
		if _, _, err := tr.TrainEpoch(d.Train); err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(steps)
	batchBytes = 4 * allocBatch
	for _, n := range d.Shape {
		batchBytes *= n
	}
	return steps[(len(steps)-1)/2], batchBytes
}

// sink keeps the test's own per-step allocation on the heap.
var sink []float32

// A training step must reuse its buffers: once warm, each reference model
// may leave a little garbage per step (Gorgonia's bookkeeping), not
// tensors. Each bound is a little above what a step of the model
// allocates now (measured on amd64, Go 1.26: cnn 15.5 KB, mlp 9.7 KB,
// rnn 43.5 KB, cnn-bn 21.6 KB), and well below one float32 tensor of
// the batch's size (64·784·4 = 200,704 bytes), which a step that
// allocated its input, or any layer's output, would add.
func TestTrainingStepsReuseTheirBuffers(t *testing.T) {
	for _, c := range []struct {
		model string
		bound uint64
	}{
		{"mlp", 12 << 10},
		{"cnn", 20 << 10},
		{"cnn-bn", 26 << 10},
		{"rnn", 52 << 10},
	} {
		t.Run(c.model, func(t *testing.T) {
			perStep, batchBytes := stepAllocs(t, c.model, 0)
			t.Logf("%d bytes allocated per step, bound %d", perStep, c.bound)
			if perStep > c.bound {
				t.Errorf("%d bytes allocated per step, want at most %d", perStep, c.bound)
			}
			if uint64(batchBytes) <= c.bound {
				t.Errorf("bound %d: a tensor of the batch's size (%d bytes) per step would pass it", c.bound, batchBytes)
			}
		})
	}
}

// The measure of TestTrainingStepsReuseTheirBuffers sees one tensor of the
// batch's size allocated at every step, and it exceeds the bound.
func TestStepAllocsSeesAPerStepTensor(t *testing.T) {
	perStep, batchBytes := stepAllocs(t, "mlp", allocBatch*28*28)
	if perStep < uint64(batchBytes) || perStep <= 12<<10 {
		t.Errorf("with a %d-byte tensor allocated per step, %d bytes measured per step", batchBytes, perStep)
	}
}

// A transformer's training step, attention and residual blocks included,
// reuses its buffers as the other models' do: a small gpt (2 blocks of
// width 32, context 32, 8 streams) allocates a little garbage per step,
// far below one activation of the batch (8·32·128·4 = 131,072 bytes for
// the MLP's hidden layer).
func TestTransformerStepsReuseTheirBuffers(t *testing.T) {
	const B, T, V = 8, 32, 40
	tokens := make(train.Tokens, 6*B*T+1)
	for i := range tokens {
		tokens[i] = (i*i + 3*i) % V
	}
	var (
		steps     []uint64
		last      runtime.MemStats
		measuring bool
	)
	onBatch := func(done, _ int, _ float64) {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		if measuring && done > 1 {
			steps = append(steps, ms.TotalAlloc-last.TotalAlloc)
		}
		last = ms
	}
	tr, err := train.New(nn.GPT(V, T, 2, 4, 32), &train.NextToken{Vocab: V, SeqLen: T},
		train.Config{BatchSize: B, Epochs: 100, Optimizer: "adamw", ClipNorm: 1, Schedule: "warmup_cosine", WarmupSteps: 2, OnBatch: onBatch})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	for epoch := 0; epoch < 3; epoch++ {
		measuring = epoch > 0
		if _, _, err := tr.TrainEpoch(tokens); err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(steps)
	perStep := steps[(len(steps)-1)/2]
	t.Logf("%d bytes allocated per step", perStep)
	if perStep > 40<<10 {
		t.Errorf("%d bytes allocated per step, want at most %d", perStep, 40<<10)
	}
}
