package train_test

import (
	"testing"

	"github.com/dlrun/dlrun/datasets"
	"github.com/dlrun/dlrun/nn"
	"github.com/dlrun/dlrun/train"
)

// benchEpoch measures training throughput of a reference model on the
// first 1,280 bundled examples (20 batches of 64), float32.
func benchEpoch(b *testing.B, model string) {
	d, err := datasets.FashionMNIST()
	if err != nil {
		b.Fatal(err)
	}
	data := d.Train.Subset(1280)
	ref, err := nn.ReferenceByName(model)
	if err != nil {
		b.Fatal(err)
	}
	if model == "rnn" { // reads each image as the sequence of its rows
		if d, err = datasets.AsSequence(d); err != nil {
			b.Fatal(err)
		}
		data = d.Train.Subset(1280)
	}
	m, err := ref.New(d.Shape, 10)
	if err != nil {
		b.Fatal(err)
	}
	t, err := train.New(m, &train.Classify{Shape: d.Shape, Outputs: 10}, train.Config{BatchSize: 64, Epochs: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	defer t.Close()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := t.TrainEpoch(data); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(data.Len()*b.N)/b.Elapsed().Seconds(), "samples/s")
}

func BenchmarkTrainMLP(b *testing.B) { benchEpoch(b, "mlp") }
func BenchmarkTrainCNN(b *testing.B) { benchEpoch(b, "cnn") }
func BenchmarkTrainRNN(b *testing.B) { benchEpoch(b, "rnn") }
