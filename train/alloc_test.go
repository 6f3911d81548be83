package train_test

import (
	"runtime"
	"testing"

	"github.com/dlrun/dlrun/nn"
	"github.com/dlrun/dlrun/train"
)

// A training step must reuse its buffers: once warm, the cnn may leave at
// most a little garbage per batch (Gorgonia's bookkeeping), not tensors.
func TestTrainingStepsReuseTheirBuffers(t *testing.T) {
	d := smallFashion(t, 640)
	ref, _ := nn.ReferenceByName("cnn")
	m, err := ref.New(d.Shape, 10)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := train.New(m, &train.Classify{Shape: d.Shape, Outputs: 10}, train.Config{BatchSize: 64, Epochs: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if _, _, err := tr.TrainEpoch(d.Train); err != nil {
		t.Fatal(err)
	}
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	if _, _, err := tr.TrainEpoch(d.Train); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&b)
	perBatch := (b.TotalAlloc - a.TotalAlloc) / 10
	t.Logf("%d bytes allocated per batch", perBatch)
	if perBatch > 64<<10 {
		t.Errorf("%d bytes allocated per batch, want at most 64 KiB", perBatch)
	}
}
