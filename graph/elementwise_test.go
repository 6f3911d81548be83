package graph_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/internal/gradcheck"
	"gorgonia.org/gorgonia"
)

// a = [[1 2 3] [4 5 6]], b = [[0.5 -1 2] [-2 0.25 1]], c = [[7] [8]],
// r = [[10 20 30]], as in combine_test.go.
func TestElementwiseForwardValues(t *testing.T) {
	combineDTypes(t, func(t *testing.T, dt graph.DType, tol float64) {
		g := graph.New(graph.WithDType(dt))
		a, _ := g.Constant("a", combineA, 2, 3)
		b, _ := g.Constant("b", combineB, 2, 3)
		c, _ := g.Constant("c", combineC, 2, 1)
		r, _ := g.Constant("r", []float64{10, 20, 30}, 1, 3)
		ok := combineOK(t)
		ys := []*graph.Node{
			ok(graph.Sub(a, b)),
			ok(graph.Mul(a, b)),
			ok(graph.Div(a, b)),
			ok(graph.Add(a, c)),
			ok(graph.Sub(c, a)),
			ok(graph.Mul(c, r)),
			ok(graph.Div(a, g.Scalar(2))),
			ok(graph.Exp(b)),
			ok(graph.Log(a)),
			ok(graph.Sum(a, 0)),
			ok(graph.Sum(a, -1)),
			ok(graph.Mean(a, 1)),
			ok(graph.Reshape(ok(graph.Mean(a)), 1)),
			ok(graph.Reshape(ok(graph.Sum(a, 0, 1)), 1)),
		}
		shapes := []string{"(2, 3)", "(2, 3)", "(2, 3)", "(2, 3)", "(2, 3)", "(2, 3)", "(2, 3)", "(2, 3)", "(2, 3)", "(3)", "(2)", "(2)", "(1)", "(1)"}
		want := [][]float64{
			{0.5, 3, 1, 6, 4.75, 5},
			{0.5, -2, 6, -8, 1.25, 6},
			{2, -2, 1.5, -2, 20, 6},
			{8, 9, 10, 12, 13, 14},
			{6, 5, 4, 4, 3, 2},
			{70, 140, 210, 80, 160, 240},
			{0.5, 1, 1.5, 2, 2.5, 3},
			{math.Exp(0.5), math.Exp(-1), math.Exp(2), math.Exp(-2), math.Exp(0.25), math.Exp(1)},
			{0, math.Log(2), math.Log(3), math.Log(4), math.Log(5), math.Log(6)},
			{5, 7, 9},
			{6, 15},
			{2, 5},
			{3.5},
			{21},
		}
		got := combineRun(t, g, ys...)
		for i, y := range ys {
			if s := fmt.Sprint(y.Shape()); s != shapes[i] {
				t.Errorf("%s: shape %s, want %s", y.Op(), s, shapes[i])
			}
			near(t, fmt.Sprint(y.Op()), got[i], want[i], tol)
		}
	})
}

func TestElementwiseGradients(t *testing.T) {
	type build func(t *testing.T, g *graph.Graph) (y *graph.Node, wrt gorgonia.Nodes)
	ok := combineOK(t)
	cases := []struct {
		name  string
		build build
	}{
		{"Sub", func(t *testing.T, g *graph.Graph) (*graph.Node, gorgonia.Nodes) {
			a, b := input(t, g, "a", 1, 3, 4), input(t, g, "b", 2, 3, 4)
			return ok(graph.Sub(a, b)), gorgonia.Nodes{a, b}
		}},
		{"MulBroadcastBoth", func(t *testing.T, g *graph.Graph) (*graph.Node, gorgonia.Nodes) {
			a, b := input(t, g, "a", 1, 3, 1, 4), input(t, g, "b", 2, 1, 2, 4)
			return ok(graph.Mul(a, b)), gorgonia.Nodes{a, b}
		}},
		{"DivRows", func(t *testing.T, g *graph.Graph) (*graph.Node, gorgonia.Nodes) {
			a, b := input(t, g, "a", 1, 3, 4), input(t, g, "b", 2, 3, 1)
			return ok(graph.Div(a, ok(graph.AddScalar(ok(graph.Mul(b, b)), 0.5)))), gorgonia.Nodes{a, b}
		}},
		{"AddColumns", func(t *testing.T, g *graph.Graph) (*graph.Node, gorgonia.Nodes) {
			a, b := input(t, g, "a", 1, 3, 4), input(t, g, "b", 2, 1, 4)
			return ok(graph.Add(b, a)), gorgonia.Nodes{a, b}
		}},
		{"SubScalarConstant", func(t *testing.T, g *graph.Graph) (*graph.Node, gorgonia.Nodes) {
			a := input(t, g, "a", 1, 2, 3)
			return ok(graph.Sub(g.Scalar(1.5), a)), gorgonia.Nodes{a}
		}},
		{"Exp", func(t *testing.T, g *graph.Graph) (*graph.Node, gorgonia.Nodes) {
			a := input(t, g, "a", 1, 3, 4)
			return ok(graph.Exp(a)), gorgonia.Nodes{a}
		}},
		{"Log", func(t *testing.T, g *graph.Graph) (*graph.Node, gorgonia.Nodes) {
			a := input(t, g, "a", 1, 3, 4)
			return ok(graph.Log(ok(graph.AddScalar(ok(graph.Mul(a, a)), 0.5)))), gorgonia.Nodes{a}
		}},
		{"SumAxis", func(t *testing.T, g *graph.Graph) (*graph.Node, gorgonia.Nodes) {
			a := input(t, g, "a", 1, 2, 3, 4)
			return ok(graph.Sum(a, 1)), gorgonia.Nodes{a}
		}},
		{"MeanAxes", func(t *testing.T, g *graph.Graph) (*graph.Node, gorgonia.Nodes) {
			a := input(t, g, "a", 1, 2, 3, 4)
			return ok(graph.Mean(a, 0, -1)), gorgonia.Nodes{a}
		}},
		{"MeanAllAsLoss", func(t *testing.T, g *graph.Graph) (*graph.Node, gorgonia.Nodes) {
			// A custom loss: mean((p - y)² · w) with per-row weights.
			p, y, w := input(t, g, "p", 1, 4, 3), input(t, g, "y", 2, 4, 3), input(t, g, "w", 3, 4, 1)
			d := ok(graph.Sub(p, y))
			l := ok(graph.Mean(ok(graph.Mul(ok(graph.Mul(d, d)), w))))
			return ok(graph.Reshape(l, 1)), gorgonia.Nodes{p, y, w}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := graph.New(graph.WithDType(graph.Float64))
			y, wrt := c.build(t, g)
			n, err := gradcheck.Check(g.Expr(), combineProbe(t, g, y), wrt, 1e-6, 1e-6)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				t.Fatal("no gradient element was checked")
			}
		})
	}
}

// The gradients of broadcast operands are summed over the repeated axes,
// in float32 as in float64: d(Σ a·c)/dc for a [2, 3] and c [2, 1] is the
// row sums of a.
func TestElementwiseBroadcastGradientValues(t *testing.T) {
	combineDTypes(t, func(t *testing.T, dt graph.DType, tol float64) {
		g := graph.New(graph.WithDType(dt))
		a, _ := g.Constant("a", combineA, 2, 3)
		c, _ := g.Input("c", 2, 1)
		if err := g.SetInput(c, combineC); err != nil {
			t.Fatal(err)
		}
		ok := combineOK(t)
		loss := ok(graph.Sum(ok(graph.Div(ok(graph.Mul(a, c)), g.Scalar(2)))))
		grads, err := gorgonia.Grad(loss, c)
		if err != nil {
			t.Fatal(err)
		}
		got := combineRun(t, g, grads[0])
		near(t, "dc", got[0], []float64{3, 7.5}, tol)
	})
}

func TestElementwiseErrors(t *testing.T) {
	g, other := graph.New(), graph.New()
	a, _ := g.Input("a", 2, 3)
	b, _ := g.Input("b", 3, 2)
	v, _ := g.Input("v", 3)
	col, _ := g.Input("col", 3, 1)
	o, _ := other.Input("o", 2, 3)
	var n *graph.Node
	for _, c := range []struct {
		what string
		f    func() (*graph.Node, error)
		want []string
	}{
		{"Sub shapes", func() (*graph.Node, error) { return graph.Sub(a, b) }, []string{"sub", "a", "b", "(2, 3)", "(3, 2)", "do not broadcast"}},
		{"Mul ranks", func() (*graph.Node, error) { return graph.Mul(v, col) }, []string{"mul", "(3)", "(3, 1)"}},
		{"Div nil", func() (*graph.Node, error) { return graph.Div(a, n) }, []string{"div", "nil"}},
		{"Add graphs", func() (*graph.Node, error) { return graph.Add(a, o) }, []string{"add", "different graphs"}},
		{"Exp nil", func() (*graph.Node, error) { return graph.Exp(n) }, []string{"exp", "nil"}},
		{"Sum axis", func() (*graph.Node, error) { return graph.Sum(a, 2) }, []string{"sum", "a", "(2, 3)", "axes [2]"}},
		{"Mean axis twice", func() (*graph.Node, error) { return graph.Mean(a, 1, -1) }, []string{"mean", "axes [1 -1]"}},
		{"Mean nil", func() (*graph.Node, error) { return graph.Mean(n) }, []string{"mean", "nil"}},
	} {
		_, err := c.f()
		if err == nil {
			t.Errorf("%s: no error", c.what)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %q", c.what, err, w)
			}
		}
	}
}
