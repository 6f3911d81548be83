package train_test

import (
	"fmt"

	"github.com/dlrun/dlrun/nn"
	"github.com/dlrun/dlrun/train"
)

// Estimate the memory a training takes before building anything: here a
// million-unit layer, whose parameters, gradients, Adam's moments and a
// checkpoint dwarf its batch.
func ExampleEstimateMemory() {
	model := nn.NewSequential("wide", nn.NewFlatten(), nn.NewDense(1_000_000), nn.ReLU(), nn.NewDense(10))
	task := &train.Classify{Shape: []int{1, 28, 28}, Outputs: 10}
	m, err := train.EstimateMemory(model, task, train.Config{BatchSize: 64})
	if err != nil {
		fmt.Println(err)
		return
	}
	gib := func(n int64) float64 { return float64(n) / (1 << 30) }
	fmt.Printf("parameters and gradients %.1f GiB, Adam's state %.1f GiB, a checkpoint %.1f GiB, a batch %.2f GiB\n",
		gib(m.Params), gib(m.State), gib(m.Checkpoint), gib(m.Batch))
	// Output: parameters and gradients 5.9 GiB, Adam's state 11.8 GiB, a checkpoint 29.6 GiB, a batch 1.19 GiB
}
