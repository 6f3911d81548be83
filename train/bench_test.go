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
	t, err := train.New(m, &train.Classify{Shape: d.Shape, Outputs: 10}, train.Config{BatchSize: 64, Epochs: train.MaxEpochs})
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

// ratingSplit presents a split of datasets.Ratings as train.Ratings.
type ratingSplit []datasets.Rating

func (r ratingSplit) Len() int { return len(r) }
func (r ratingSplit) Rating(i int) (int, int, float32) {
	return r[i].User, r[i].Movie, r[i].Value
}

// BenchmarkTrainMF measures mf's training throughput (ratings/s) on the
// bundled MovieLens training split, with its recipe (batch 256, Adam,
// L2 0.1 on each batch's rows, 32 dimensions).
func BenchmarkTrainMF(b *testing.B) {
	r, err := datasets.MovieLens()
	if err != nil {
		b.Fatal(err)
	}
	data := ratingSplit(r.Train)
	users, movies := len(r.UserIDs), len(r.MovieIDs)
	// adam: mf's recipe (every row updated, as Adam's moments require);
	// sgd and adagrad: only the rows each batch touches.
	for _, opt := range []string{"adam", "sgd", "adagrad"} {
		b.Run(opt, func(b *testing.B) {
			model := nn.NewSequential("mf", &nn.MF{Users: users, Movies: movies, Mean: r.Mean(), L2: 0.1})
			t, err := train.New(model, &train.Rating{Users: users, Movies: movies}, train.Config{BatchSize: 256, Loss: "mse", Optimizer: opt, Epochs: train.MaxEpochs})
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
			b.ReportMetric(float64(data.Len()*b.N)/b.Elapsed().Seconds(), "ratings/s")
		})
	}
}
