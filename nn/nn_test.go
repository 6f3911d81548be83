package nn_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/internal/gradcheck"
	"github.com/dlrun/dlrun/nn"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func boundInput(t *testing.T, g *graph.Graph, shape ...int) *gorgonia.Node {
	t.Helper()
	x, err := g.Input("x", shape...)
	if err != nil {
		t.Fatal(err)
	}
	vals := make([]float64, tensor.Shape(shape).TotalSize())
	for i := range vals {
		vals[i] = math.Cos(float64(7 * i))
	}
	if err := gorgonia.Let(x, tensor.New(tensor.WithShape(shape...), tensor.WithBacking(vals))); err != nil {
		t.Fatal(err)
	}
	return x
}

// scalarise reduces y to a scalar with a fixed random projection.
func scalarise(t *testing.T, g *graph.Graph, y *gorgonia.Node) *gorgonia.Node {
	t.Helper()
	vals := make([]float64, y.Shape().TotalSize())
	for i := range vals {
		vals[i] = math.Sin(float64(5*i + 1))
	}
	p, err := g.Constant("probe", vals, y.Shape()...)
	if err != nil {
		t.Fatal(err)
	}
	h, err := gorgonia.HadamardProd(y, p)
	if err != nil {
		t.Fatal(err)
	}
	s, err := gorgonia.Sum(h)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestLayerGradients(t *testing.T) {
	cases := []struct {
		name  string
		in    []int
		layer nn.Layer
	}{
		{"Dense", []int{3, 5}, nn.NewDense(4)},
		{"DenseNoBias", []int{3, 5}, &nn.Dense{Units: 2, NoBias: true}},
		{"ReLU", []int{3, 5}, nn.ReLU()},
		{"Sigmoid", []int{3, 5}, nn.Sigmoid()},
		{"Tanh", []int{3, 5}, nn.Tanh()},
		{"Softmax", []int{3, 5}, nn.Softmax()},
		{"Flatten", []int{2, 2, 3, 2}, nn.NewFlatten()},
		{"MLP", []int{2, 1, 3, 3}, nn.NewSequential("m", nn.NewFlatten(), nn.NewDense(4), nn.ReLU(), nn.NewDense(3), nn.Tanh(), nn.NewDense(2))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := graph.New(graph.WithDType(graph.Float64), graph.WithSeed(11))
			x := boundInput(t, g, c.in...)
			seq := nn.NewSequential("model", c.layer)
			y, err := seq.Build(g, x)
			if err != nil {
				t.Fatal(err)
			}
			want, err := seq.OutputShape(c.in[1:])
			if err != nil {
				t.Fatal(err)
			}
			if got := []int(y.Shape()[1:]); !equal(got, want) {
				t.Fatalf("built shape %v, OutputShape says %v", got, want)
			}
			if got, want := g.NumParams(), seq.NumParams(c.in[1:]); got != want {
				t.Fatalf("graph has %d parameters, NumParams says %d", got, want)
			}
			wrt := append(gorgonia.Nodes{x}, g.Nodes()...)
			n, err := gradcheck.Check(g.Expr(), scalarise(t, g, y), wrt, 1e-6, 1e-6)
			if err != nil {
				t.Fatal(err)
			}
			if n < x.Shape().TotalSize() {
				t.Fatalf("only %d elements checked", n)
			}
		})
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestShapeErrorNamesLayer(t *testing.T) {
	m := nn.NewSequential("m", nn.NewDense(4), nn.NewDense(2))
	_, err := m.OutputShape([]int{1, 28, 28})
	if err == nil || !strings.Contains(err.Error(), "dense1") || !strings.Contains(err.Error(), "[1 28 28]") {
		t.Fatalf("error %v does not name dense1 and the shape", err)
	}
}

func TestReferenceParamCounts(t *testing.T) {
	for _, c := range []struct {
		name    string
		in      []int
		classes int
		want    int
	}{
		{"xor", []int{2}, 1, 2*8 + 8 + 8 + 1},
		{"mlp", []int{1, 28, 28}, 10, 784*256 + 256 + 256*128 + 128 + 128*10 + 10},
	} {
		r, err := nn.ReferenceByName(c.name)
		if err != nil {
			t.Fatal(err)
		}
		m, err := r.New(c.in, c.classes)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.NumParams(c.in); got != c.want {
			t.Errorf("%s: %d params, want %d", c.name, got, c.want)
		}
	}
	if _, err := nn.ReferenceByName("nope"); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("unknown model: error %v", err)
	}
}

func ExampleSequential_Summary() {
	m := nn.NewSequential("mlp", nn.NewFlatten(), nn.NewDense(256), nn.ReLU(), nn.NewDense(10))
	rows, err := m.Summary([]int{1, 28, 28})
	if err != nil {
		panic(err)
	}
	fmt.Print(nn.FormatSummary(rows))
	// Output:
	// Layer            Type         Output shape           Params
	// flatten1         Flatten      [784]                       0
	// dense1           Dense        [256]                  200960
	// relu1            ReLU         [256]                       0
	// dense2           Dense        [10]                     2570
	// Total params: 203530
}
