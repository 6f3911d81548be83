package run_test

import (
	"fmt"
	"os"

	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/runner"
)

// Train a run, then open it back, as a new process would, evaluate it and
// predict: the folder's model.json rebuilds the model without the code
// that built it, and its kind says how it is evaluated and served.
func ExampleOpen() {
	dir, err := os.MkdirTemp("", "dlrun-open-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	if _, err := runner.Train(run.Config{Model: "xor"}, runner.Options{Out: dir}); err != nil {
		panic(err)
	}

	r, err := run.Open(dir, false)
	if err != nil {
		panic(err)
	}
	defer r.Close()
	rep, err := r.Evaluate(run.EvalOptions{})
	if err != nil {
		panic(err)
	}
	fmt.Println(r.Kind.Name(), rep.(*run.ClassifierReport).Accuracy)
	probs, err := r.Model.Predict([]float32{0, 1, 1, 1})
	if err != nil {
		panic(err)
	}
	for _, p := range probs {
		fmt.Printf("P(1) > 0.9: %v\n", p[1] > 0.9)
	}
	// Output:
	// classify 1
	// P(1) > 0.9: true
	// P(1) > 0.9: false
}

// A kind says which settings its runs take: an agent's budget is its
// environment steps, a classifier's its epochs.
func ExampleConfig_Applies() {
	for _, c := range []run.Config{{Model: "cnn"}, {Model: "ppo"}} {
		epochs, _, _ := c.Applies("epochs")
		steps, _, _ := c.Applies("steps")
		fmt.Printf("%s: epochs %v, steps %v\n", c.Model, epochs, steps)
	}
	// Output:
	// cnn: epochs true, steps false
	// ppo: epochs false, steps true
}
