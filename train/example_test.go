package train_test

import (
	"fmt"

	"github.com/dlrun/dlrun/datasets"
	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/nn"
	"github.com/dlrun/dlrun/train"
)

// Build a small network, train it on the XOR points and evaluate it.
func Example() {
	data := datasets.XOR()
	model := nn.NewSequential("xor", nn.NewDense(8), nn.Tanh(), nn.NewDense(1))
	task := &train.Classify{Shape: data.Shape, Outputs: 1}
	trainer, err := train.New(model, task, train.Config{
		Epochs:       300,
		BatchSize:    4,
		Seed:         1,
		Loss:         "bce",
		Optimizer:    "adam",
		LearningRate: 0.05,
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

// Fit y = 2x + 1 with a graph built by hand: an input, two parameters, a
// loss, and train's optimizer. No Gorgonia or tensor import is needed.
func ExampleMinimizer() {
	g := graph.New(graph.WithDType(graph.Float64))
	x, _ := g.Input("x", 4, 1)
	y, _ := g.Input("y", 4, 1)
	w, _ := g.Param("w", []int{1, 1}, graph.Zeros)
	b, _ := g.Param("b", []int{1}, graph.Zeros)
	z, err := graph.MatMul(x, w.Node)
	if err != nil {
		panic(err)
	}
	if z, err = graph.AddBias(z, b.Node); err != nil {
		panic(err)
	}
	loss, err := graph.Loss(graph.SquaredError, z, y, nil) // nil: every row weighs 1
	if err != nil {
		panic(err)
	}
	if err := g.SetInput(x, []float64{0, 1, 2, 3}); err != nil {
		panic(err)
	}
	if err := g.SetInput(y, []float64{1, 3, 5, 7}); err != nil {
		panic(err)
	}
	m, err := train.NewMinimizer(g, loss, &train.Adam{LR: 0.1})
	if err != nil {
		panic(err)
	}
	defer m.Close()
	for i := 0; i < 1000; i++ {
		if _, err := m.Step(); err != nil {
			panic(err)
		}
	}
	fmt.Printf("w %.3f, b %.3f\n", w.Values()[0], b.Values()[0])
	// Output: w 2.000, b 1.000
}
