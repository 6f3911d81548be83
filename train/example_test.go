package train_test

import (
	"fmt"
	"os"

	"github.com/dlrun/dlrun/datasets"
	"github.com/dlrun/dlrun/nn"
	"github.com/dlrun/dlrun/train"
)

// Build a small network, train it on the XOR points and evaluate it.
func Example() {
	data := datasets.XOR()
	model := nn.NewSequential("xor", nn.NewDense(8), nn.Tanh(), nn.NewDense(1))
	trainer, err := train.New(model, data.Shape, 1, train.Config{
		Epochs:    300,
		BatchSize: 4,
		Seed:      1,
		Loss:      train.BinaryCrossEntropy,
		Optimizer: &train.Adam{LR: 0.05},
	})
	if err != nil {
		panic(err)
	}
	defer trainer.Close()
	if _, err := trainer.Fit(data.Train, data.Test, nil); err != nil {
		panic(err)
	}
	ev, err := trainer.Evaluate(data.Test)
	if err != nil {
		panic(err)
	}
	fmt.Printf("accuracy %.2f, predictions %v\n", ev.Accuracy, ev.Predictions)
	// Output: accuracy 1.00, predictions [0 1 1 0]
}

// Train a reference model by name and record the run in a folder, as
// `dlrun train` does.
func ExampleRun() {
	data := datasets.XOR()
	cfg := train.RunConfig{Model: "xor", Dataset: data.Name, InputShape: data.Shape, Classes: data.Classes, Seed: 2}
	dir, err := os.MkdirTemp("", "dlrun-run-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	summary, err := train.Run(cfg, data.Train, data.Test, train.RunOptions{Out: dir})
	if err != nil {
		panic(err)
	}
	fmt.Println(summary.Model, summary.Epochs, summary.TestAccuracy)
	// Output: xor 300 1
}

// Train a run, then load it back, as a new process would, and predict.
func ExampleLoad() {
	dir, err := os.MkdirTemp("", "dlrun-load-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	data := datasets.XOR()
	cfg := train.RunConfig{Model: "xor", Dataset: data.Name, InputShape: data.Shape, Classes: data.Classes}
	if _, err := train.Run(cfg, data.Train, data.Test, train.RunOptions{Out: dir}); err != nil {
		panic(err)
	}

	model, err := train.Load(dir, false)
	if err != nil {
		panic(err)
	}
	defer model.Close()
	probs, err := model.Predict([]float32{0, 1, 1, 1})
	if err != nil {
		panic(err)
	}
	for _, p := range probs {
		fmt.Printf("P(1) > 0.9: %v\n", p[1] > 0.9)
	}
	// Output:
	// P(1) > 0.9: true
	// P(1) > 0.9: false
}
