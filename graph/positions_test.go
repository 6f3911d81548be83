package graph_test

import (
	"math"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/internal/gradcheck"
	"gorgonia.org/gorgonia"
)

func TestAddPositionsValues(t *testing.T) {
	combineDTypes(t, func(t *testing.T, dt graph.DType, tol float64) {
		g := graph.New(graph.WithDType(dt))
		x, _ := g.Constant("x", []float64{1, 2, 3, 4, 5, 6, 7, 8}, 2, 2, 2)
		table, _ := g.Constant("table", []float64{10, 20, 30, 40, 50, 60}, 3, 2)
		y := combineOK(t)(graph.AddPositions(x, table, nil))
		near(t, "y", combineRun(t, g, y)[0], []float64{11, 22, 33, 44, 15, 26, 37, 48}, tol)
	})
	// Hand-computed sinusoids: row 1 of width 4 is sin 1, cos 1,
	// sin(1/100), cos(1/100).
	s := graph.SinusoidalTable(3, 4)
	near(t, "sinusoids", s[4:8], []float64{math.Sin(1), math.Cos(1), math.Sin(0.01), math.Cos(0.01)}, 1e-15)
	near(t, "row 0", s[:4], []float64{0, 1, 0, 1}, 0)
}

func TestAddPositionsGradients(t *testing.T) {
	g := graph.New(graph.WithDType(graph.Float64))
	x, table := input(t, g, "x", 1, 2, 3, 4), input(t, g, "table", 1, 5, 4)
	y := combineOK(t)(graph.AddPositions(x, table, nil))
	n, err := gradcheck.Check(g.Expr(), combineProbe(t, g, y), gorgonia.Nodes{x, table}, 1e-6, 1e-6)
	if err != nil {
		t.Fatal(err)
	}
	if n != 24+20 {
		t.Fatalf("%d elements checked", n)
	}
}

// With a cursor each pass adds the next rows, until the table ends.
func TestAddPositionsCursor(t *testing.T) {
	g := graph.New(graph.WithDType(graph.Float64))
	x, _ := g.Input("x", 1, 1, 2)
	table, _ := g.Constant("table", []float64{1, 2, 3, 4, 5, 6}, 3, 2)
	var cur graph.Cursor
	y := combineOK(t)(graph.AddPositions(x, table, &cur))
	prog, err := g.CompileForward(y)
	if err != nil {
		t.Fatal(err)
	}
	for step := 0; step < 3; step++ {
		if _, err := prog.Run(false); err != nil {
			t.Fatal(err)
		}
		out, _ := prog.Output(0)
		near(t, "row", out, []float64{float64(2*step + 1), float64(2*step + 2)}, 0)
	}
	if _, err := prog.Run(false); err == nil || !strings.Contains(err.Error(), "past the 3 rows") {
		t.Errorf("a fourth step: %v", err)
	}
	cur.Reset()
	if _, err := prog.Run(false); err != nil || cur.Len() != 1 {
		t.Errorf("after Reset: %v, cursor at %d", err, cur.Len())
	}
}

func TestAddPositionsErrors(t *testing.T) {
	g := graph.New()
	x, _ := g.Input("x", 2, 3, 4)
	flat, _ := g.Input("flat", 2, 4)
	short, _ := g.Input("short", 2, 4)
	wide, _ := g.Input("wide", 5, 3)
	for _, c := range []struct {
		f    func() (*graph.Node, error)
		want string
	}{
		{func() (*graph.Node, error) { return graph.AddPositions(flat, wide, nil) }, "[batch, steps, width]"},
		{func() (*graph.Node, error) { return graph.AddPositions(x, short, nil) }, "at least the 3 steps"},
		{func() (*graph.Node, error) { return graph.AddPositions(x, wide, nil) }, "[n, 4]"},
	} {
		if _, err := c.f(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want one mentioning %q", err, c.want)
		}
	}
}
