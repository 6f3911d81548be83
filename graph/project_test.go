package graph_test

import (
	"strings"
	"testing"

	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/internal/gradcheck"
	"gorgonia.org/gorgonia"
)

func TestProjectValues(t *testing.T) {
	combineDTypes(t, func(t *testing.T, dt graph.DType, tol float64) {
		g := graph.New(graph.WithDType(dt))
		x, _ := g.Constant("x", []float64{1, 2, -1, 3}, 2, 1, 2)
		w, _ := g.Constant("w", []float64{1, 0, 0, 1, 1, 1}, 3, 2)
		b, _ := g.Constant("b", []float64{0.5, 0, -1}, 3)
		ok := combineOK(t)
		y := ok(graph.Project(x, w, b))
		if s := y.Shape(); s.Dims() != 3 || s[2] != 3 {
			t.Fatalf("shape %v", s)
		}
		got := combineRun(t, g, y, ok(graph.Project(x, w, nil)))
		near(t, "with bias", got[0], []float64{1.5, 2, 2, -0.5, 3, 1}, tol)
		near(t, "without", got[1], []float64{1, 2, 3, -1, 3, 2}, tol)
	})
}

func TestProjectGradients(t *testing.T) {
	g := graph.New(graph.WithDType(graph.Float64))
	x, w, b := input(t, g, "x", 1, 2, 3, 4), input(t, g, "w", 1, 5, 4), input(t, g, "b", 1, 5)
	y := combineOK(t)(graph.Project(x, w, b))
	if _, err := gradcheck.Check(g.Expr(), combineProbe(t, g, y), gorgonia.Nodes{x, w, b}, 1e-6, 1e-6); err != nil {
		t.Fatal(err)
	}
}

func TestProjectErrors(t *testing.T) {
	g := graph.New()
	x, _ := g.Input("x", 2, 4)
	w, _ := g.Input("w", 3, 5)
	b, _ := g.Input("b", 4)
	w2, _ := g.Input("w2", 3, 4)
	if _, err := graph.Project(x, w, nil); err == nil || !strings.Contains(err.Error(), "[out, 4]") {
		t.Errorf("weight: %v", err)
	}
	if _, err := graph.Project(x, w2, b); err == nil || !strings.Contains(err.Error(), "vector of 3") {
		t.Errorf("bias: %v", err)
	}
}
