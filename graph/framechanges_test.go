package graph_test

import (
	"math"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/internal/kernels"
)

// The op computes each sequence's signals as the kernel does, and a loss
// that reads them beside a parameter compiles and trains: the signals pass
// no gradient back to the data.
func TestFrameChangeSignals(t *testing.T) {
	const n, steps, h, w = 2, 4, 3, 4
	g := graph.New(graph.WithDType(graph.Float64))
	x := input(t, g, "x", 1, n, steps, 3, h, w)
	y, err := graph.FrameChangeSignals(x)
	if err != nil {
		t.Fatal(err)
	}
	if got := y.Shape(); len(got) != 3 || got[0] != n || got[1] != steps || got[2] != graph.FrameChanges {
		t.Fatalf("shape %v, want [%d %d %d]", got, n, steps, graph.FrameChanges)
	}
	p, err := g.Param("p", []int{graph.FrameChanges, 1}, graph.Constant(0.5))
	if err != nil {
		t.Fatal(err)
	}
	flat, err := graph.Reshape(y, n*steps, graph.FrameChanges)
	if err != nil {
		t.Fatal(err)
	}
	prod, err := graph.MatMul(flat, p.Node)
	if err != nil {
		t.Fatal(err)
	}
	loss := combineProbe(t, g, prod)
	prog, err := g.Compile(loss, y)
	if err != nil {
		t.Fatal(err)
	}
	defer prog.Close()
	if _, err := prog.Run(true); err != nil {
		t.Fatal(err)
	}
	got, err := prog.Output(0)
	if err != nil {
		t.Fatal(err)
	}
	xv := x.Value().Data().([]float64)
	seq := steps * 3 * h * w
	for i := range n {
		want := make([]float64, steps*graph.FrameChanges)
		kernels.FrameChangeSignals(xv[i*seq:(i+1)*seq], steps, h, w, want, &kernels.FrameChangeScratch{})
		for j, v := range want {
			if g := got[i*len(want)+j]; math.Abs(g-v) > 1e-12 {
				t.Fatalf("sequence %d, value %d: %v, want %v", i, j, g, v)
			}
		}
	}
	grad := make([]float64, graph.FrameChanges)
	if err := prog.Gradient(0, grad); err != nil {
		t.Fatal(err)
	}
}

func TestFrameChangeSignalsShapes(t *testing.T) {
	for _, shape := range [][]int{{2, 4, 3, 5}, {2, 4, 1, 3, 5}, {2, 4, 3, 3, 5, 1}} {
		x := input(t, graph.New(graph.WithDType(graph.Float64)), "x", 1, shape...)
		if _, err := graph.FrameChangeSignals(x); err == nil || !strings.Contains(err.Error(), "[batch, frames, 3, height, width]") {
			t.Errorf("input %v: error %v, want one naming the shape it takes", shape, err)
		}
	}
}

func TestFrameChangeSignalsNil(t *testing.T) {
	runErrCases(t, []errCase{{"FrameChangeSignals(nil)", func() error { _, err := graph.FrameChangeSignals(nil); return err }, "frame changes"}})
}
