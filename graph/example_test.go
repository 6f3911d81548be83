package graph_test

import (
	"fmt"

	"github.com/dlrun/dlrun/graph"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Declare an input and seeded parameters, build y = relu(x·W + b) and run it.
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

	if err := gorgonia.Let(x, tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float32{1, 2, 3, 4, 5, 6}))); err != nil {
		panic(err)
	}
	var out gorgonia.Value
	gorgonia.Read(y, &out)
	vm := gorgonia.NewTapeMachine(g.Expr())
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		panic(err)
	}
	fmt.Println(out.Shape(), g.NumParams())

	// A shape error names the node and both shapes.
	_, err = graph.MatMul(w.Node, w.Node)
	fmt.Println(err)
	// Output:
	// (2, 4) 16
	// graph: matmul w: shapes (3, 4) and (3, 4): inner dimensions 4 and 3 differ
}
