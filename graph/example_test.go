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
