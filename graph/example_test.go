package graph_test

import (
	"fmt"

	"github.com/dlrun/dlrun/graph"
)

// Declare an input and seeded parameters, build y = relu(x·W + b), compile
// it for inference and run it on one batch of two examples.
func Example() {
	g := graph.New(graph.WithSeed(42))
	x, _ := g.Input("x", 2, 3)
	w, _ := g.Param("w", []int{3, 4}, graph.GlorotUniform)
	b, _ := g.Param("b", []int{4}, graph.Zeros)
	xw, err := graph.MatMul(x, w.Node)
	if err != nil {
		panic(err)
	}
	z, _ := graph.AddBias(xw, b.Node)
	y, _ := graph.ReLU(z)

	if err := g.SetInput(x, []float64{1, 2, 3, 4, 5, 6}); err != nil {
		panic(err)
	}
	p, err := g.CompileForward(y)
	if err != nil {
		panic(err)
	}
	defer p.Close()
	if _, err := p.Run(false); err != nil {
		panic(err)
	}
	out, err := p.Output(0)
	if err != nil {
		panic(err)
	}
	fmt.Println(y.Shape(), g.NumParams())
	fmt.Printf("%.4f\n", out)

	// A shape error names the node and both shapes.
	_, err = graph.MatMul(w.Node, w.Node)
	fmt.Println(err)
	// Output:
	// (2, 4) 16
	// [0.0000 1.2341 0.0000 0.0000 0.0000 2.7111 0.0000 0.0000]
	// graph: matmul w: shapes (3, 4) and (3, 4): inner dimensions 4 and 3 differ
}

// A loss of one's own from the elementwise ops: the mean over a batch of
// squared errors weighted per example, mean(w·(p − y)²), and its gradient
// with respect to a parameter p (2(p − y)·w / 4 for four values): here
// (1 + 4 + (9 + 16)/2)/4 = 4.375.
func ExampleMean_customLoss() {
	g := graph.New(graph.WithDType(graph.Float64))
	p, _ := g.Param("p", []int{2, 2}, graph.Zeros)
	y, _ := g.Input("y", 2, 2)
	w, _ := g.Input("w", 2, 1) // one weight per row, broadcast over it
	_ = g.SetInput(y, []float64{1, 2, 3, 4})
	_ = g.SetInput(w, []float64{1, 0.5})

	d, _ := graph.Sub(p.Node, y)
	sq, _ := graph.Mul(d, d)
	weighted, _ := graph.Mul(sq, w)
	loss, err := graph.Mean(weighted)
	if err != nil {
		panic(err)
	}
	prog, err := g.Compile(loss)
	if err != nil {
		panic(err)
	}
	defer prog.Close()
	l, _ := prog.Run(true)
	grad := make([]float64, 4)
	_ = prog.Gradient(0, grad)
	fmt.Println(l, grad)
	// Output:
	// 4.375 [-0.5 -1 -0.75 -1]
}
