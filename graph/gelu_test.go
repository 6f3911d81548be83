package graph_test

import (
	"math"
	"testing"

	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/internal/gradcheck"
	"gorgonia.org/gorgonia"
)

func TestGELUValues(t *testing.T) {
	// Φ(1) = 0.841344746068543, Φ(−1) = 0.158655253931457, Φ(2) = 0.977249868051821;
	// the tanh form: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715x³))).
	tanhForm := func(x float64) float64 {
		return 0.5 * x * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*x*x*x)))
	}
	combineDTypes(t, func(t *testing.T, dt graph.DType, tol float64) {
		g := graph.New(graph.WithDType(dt))
		x, _ := g.Constant("x", []float64{1, -1, 2, 0}, 4)
		got := combineRun(t, g, combineOK(t)(graph.GELU(x)), combineOK(t)(graph.GELUTanh(x)))
		near(t, "exact", got[0], []float64{0.841344746068543, -0.158655253931457, 2 * 0.977249868051821, 0}, math.Max(tol, 3e-7))
		near(t, "tanh", got[1], []float64{tanhForm(1), tanhForm(-1), tanhForm(2), 0}, math.Max(tol, 3e-7))
	})
}

func TestGELUGradients(t *testing.T) {
	for _, f := range []func(*graph.Node) (*graph.Node, error){graph.GELU, graph.GELUTanh} {
		g := graph.New(graph.WithDType(graph.Float64))
		x := input(t, g, "x", 3, 4, 5)
		y := combineOK(t)(f(x))
		if _, err := gradcheck.Check(g.Expr(), combineProbe(t, g, y), gorgonia.Nodes{x}, 1e-6, 1e-6); err != nil {
			t.Fatal(err)
		}
	}
}
