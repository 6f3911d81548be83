package run_test

import (
	"fmt"
	"os"

	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/train"
)

// Train a reference model by name and record the run in a folder, as
// `dlrun train` does.
func ExampleTrain() {
	dir, err := os.MkdirTemp("", "dlrun-run-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	cfg := run.Config{Model: "xor", Config: train.Config{Seed: 2}}
	summary, err := run.Train(cfg, run.Options{Out: dir})
	if err != nil {
		panic(err)
	}
	fmt.Println(summary.Model, summary.Epochs, summary.TestAccuracy)
	// Output: xor 300 1
}

// Train a run, then load it back, as a new process would, and predict:
// the folder's model.json rebuilds the model without the code that built it.
func ExampleLoad() {
	dir, err := os.MkdirTemp("", "dlrun-load-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	if _, err := run.Train(run.Config{Model: "xor"}, run.Options{Out: dir}); err != nil {
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
