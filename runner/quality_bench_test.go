package runner_test

import (
	"math"
	"testing"

	"github.com/dlrun/dlrun/datasets"
	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/runner"
	"github.com/dlrun/dlrun/train"
)

// The quality targets of the reference models: up to minutes of training
// each, so benchmarks, not tests, run by .ci/run's quality step and by
// hand:
//
//	go test ./runner -run '^$' -bench Quality -benchtime 1x
//
// Each reports its figure, and fails below its target. docs/results.md
// holds the published figures of longer runs (experiments/*.yaml).

// The rnn (LSTM) and the cnn reach their test accuracies in 10 epochs on
// the bundled Fashion-MNIST subset: 0.78 and 0.87.
func BenchmarkQualityOnBundledFashionMNIST(b *testing.B) {
	d, err := datasets.FashionMNIST()
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		model string
		want  float64
	}{{"rnn", 0.78}, {"cnn", 0.87}} {
		b.Run(c.model, func(b *testing.B) {
			for range b.N {
				s, err := runner.Train(runConfig(c.model, d), runner.Options{Data: run.FromDataset(d), Out: b.TempDir()})
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(s.TestAccuracy, "test_accuracy")
				if s.TestAccuracy < c.want {
					b.Errorf("test accuracy %.4f after 10 epochs, want >= %g", s.TestAccuracy, c.want)
				}
			}
		})
	}
}

// The charrnn reaches below 2.5 bits per character on the held-out tail of
// Pride and Prejudice in 2 epochs.
func BenchmarkQualityCharRNNBelow2Point5BitsPerChar(b *testing.B) {
	txt, err := datasets.PrideAndPrejudice()
	if err != nil {
		b.Fatal(err)
	}
	for range b.N {
		cfg := run.Config{Model: "charrnn", Dataset: txt.Name, Config: train.Config{Epochs: 2}}
		s, err := runner.Train(cfg, runner.Options{Data: run.FromText(txt), Out: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		bpc := s.TestLoss / math.Ln2
		b.ReportMetric(bpc, "bits/char")
		if bpc >= 2.5 {
			b.Errorf("%.3f bits per character after 2 epochs, want < 2.5", bpc)
		}
	}
}

// xor reaches full accuracy for seeds 1 to 5.
func BenchmarkQualityXORSeeds1To5(b *testing.B) {
	d := datasets.XOR()
	for range b.N {
		for seed := uint64(1); seed <= 5; seed++ {
			cfg := runConfig("xor", d)
			cfg.Seed = seed
			s, err := runner.Train(cfg, runner.Options{Data: run.FromDataset(d), Out: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			if s.TestAccuracy != 1 {
				b.Errorf("seed %d: accuracy %g", seed, s.TestAccuracy)
			}
		}
	}
}

// mf with its default recipe (20 epochs) reaches a test RMSE of at most
// 0.893 on the bundled MovieLens split (a global mean scores 1.070, ridge
// user and movie biases 0.897).
func BenchmarkQualityMFOnMovieLens(b *testing.B) {
	for range b.N {
		s, err := runner.Train(run.Config{Model: "mf"}, runner.Options{Out: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		rmse := s.Derived["rmse"]
		b.ReportMetric(rmse, "test_rmse")
		if !(rmse > 0 && rmse <= 0.893) {
			b.Errorf("test RMSE %.4f, want <= 0.893", rmse)
		}
	}
}
