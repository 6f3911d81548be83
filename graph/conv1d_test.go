package graph_test

import (
	"strings"
	"testing"

	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/internal/gradcheck"
	"gorgonia.org/gorgonia"
)

func TestConv1DValues(t *testing.T) {
	combineDTypes(t, func(t *testing.T, dt graph.DType, tol float64) {
		g := graph.New(graph.WithDType(dt))
		// One sequence of 4 steps of 2 channels: (1, 10), (2, 20), (3, 30), (4, 40).
		x, _ := g.Constant("x", []float64{1, 10, 2, 20, 3, 30, 4, 40}, 1, 4, 2)
		// Filter 0: channel 0 taps (1, -1); filter 1: channel 1 taps (0, 0.5).
		w, _ := g.Constant("w", []float64{1, -1, 0, 0, 0, 0, 0, 0.5}, 2, 2, 2)
		b, _ := g.Constant("b", []float64{0.5, 1}, 2)
		ok := combineOK(t)
		got := combineRun(t, g,
			ok(graph.Conv1D(x, w, b, 1, 1, 0, 0)),
			ok(graph.Conv1D(x, w, nil, 2, 1, 0, 0)),
			ok(graph.Conv1D(x, w, nil, 1, 1, 1, 0)),
			ok(graph.Conv1D(x, w, b, 1, 2, 0, 0)),
			ok(graph.Conv1D(x, w, nil, 1, 3, 1, 1)))
		near(t, "valid", got[0], []float64{-0.5, 11, -0.5, 16, -0.5, 21}, tol)
		near(t, "stride 2", got[1], []float64{-1, 10, -1, 20}, tol)
		near(t, "padded left", got[2], []float64{-1, 5, -1, 10, -1, 15, -1, 20}, tol)
		// Taps 2 steps apart: step t reads steps t and t+2.
		near(t, "dilation 2", got[3], []float64{1 - 3 + 0.5, 0.5*30 + 1, 2 - 4 + 0.5, 0.5*40 + 1}, tol)
		// Taps 3 steps apart over (0, x, 0): step t reads padded steps t and t+3.
		near(t, "dilation 3, padded", got[4], []float64{0 - 3, 0.5 * 30, 1 - 4, 0.5 * 40, 2 - 0, 0}, tol)
	})
}

func TestConv1DGradients(t *testing.T) {
	for _, c := range []struct {
		name                 string
		stride, d, pl, pr, k int
	}{{"Valid", 1, 1, 0, 0, 3}, {"Stride2", 2, 1, 0, 0, 2}, {"Same", 1, 1, 1, 1, 3}, {"PadStride", 2, 1, 2, 1, 3},
		{"Dilated", 1, 2, 0, 0, 3}, {"DilatedSame", 1, 3, 3, 3, 3}, {"DilatedPadStride", 2, 2, 2, 1, 2}} {
		t.Run(c.name, func(t *testing.T) {
			g := graph.New(graph.WithDType(graph.Float64))
			x, w, b := input(t, g, "x", 1, 2, 7, 3), input(t, g, "w", 1, 4, 3, c.k), input(t, g, "b", 1, 4)
			y := combineOK(t)(graph.Conv1D(x, w, b, c.stride, c.d, c.pl, c.pr))
			if _, err := gradcheck.Check(g.Expr(), combineProbe(t, g, y), gorgonia.Nodes{x, w, b}, 1e-6, 1e-6); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestConv1DErrors(t *testing.T) {
	g := graph.New()
	x, _ := g.Input("x", 2, 5, 3)
	w, _ := g.Input("w", 4, 2, 3)
	long, _ := g.Input("long", 4, 3, 9)
	w3, _ := g.Input("w3", 4, 3, 3)
	for _, c := range []struct {
		f    func() (*graph.Node, error)
		want string
	}{
		{func() (*graph.Node, error) { return graph.Conv1D(x, w, nil, 1, 1, 0, 0) }, "the input's channels"},
		{func() (*graph.Node, error) { return graph.Conv1D(x, long, nil, 1, 1, 0, 0) }, "9 steps is longer than the 5"},
		{func() (*graph.Node, error) { return graph.Conv1D(x, w3, nil, 0, 1, 0, 0) }, "stride 0"},
		{func() (*graph.Node, error) { return graph.Conv1D(x, w3, nil, 1, 0, 0, 0) }, "dilation 0"},
		{func() (*graph.Node, error) { return graph.Conv1D(x, w3, nil, 1, 3, 0, 0) }, "7 steps is longer than the 5"},
	} {
		if _, err := c.f(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want one mentioning %q", err, c.want)
		}
	}
}
