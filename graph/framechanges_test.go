package graph_test

import (
	"math"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/internal/kernels"
)

// Each op computes each sequence's signals as its kernel does, and a loss
// that reads them beside a parameter compiles and trains: the signals pass
// no gradient back to the data.
func TestFrameChangeSignals(t *testing.T) {
	for _, c := range []struct {
		name    string
		op      func(*graph.Node) (*graph.Node, error)
		signals int
		kernel  func(x []float64, t, h, w int, out []float64, s *kernels.FrameChangeScratch)
	}{
		{"changes", graph.FrameChangeSignals, graph.FrameChanges, kernels.FrameChangeSignals[float64]},
		{"structure", graph.FrameStructureSignals, graph.FrameStructureChanges, kernels.FrameStructureSignals[float64]},
	} {
		t.Run(c.name, func(t *testing.T) {
			const n, steps, h, w = 2, 4, 3, 4
			g := graph.New(graph.WithDType(graph.Float64))
			x := input(t, g, "x", 1, n, steps, 3, h, w)
			y, err := c.op(x)
			if err != nil {
				t.Fatal(err)
			}
			if got := y.Shape(); len(got) != 3 || got[0] != n || got[1] != steps || got[2] != c.signals {
				t.Fatalf("shape %v, want [%d %d %d]", got, n, steps, c.signals)
			}
			p, err := g.Param("p", []int{c.signals, 1}, graph.Constant(0.5))
			if err != nil {
				t.Fatal(err)
			}
			flat, err := graph.Reshape(y, n*steps, c.signals)
			if err != nil {
				t.Fatal(err)
			}
			prod, err := graph.MatMul(flat, p.Node)
			if err != nil {
				t.Fatal(err)
			}
			prog, err := g.Compile(combineProbe(t, g, prod), y)
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
				want := make([]float64, steps*c.signals)
				c.kernel(xv[i*seq:(i+1)*seq], steps, h, w, want, &kernels.FrameChangeScratch{})
				for j, v := range want {
					if g := got[i*len(want)+j]; math.Abs(g-v) > 1e-12 {
						t.Fatalf("sequence %d, value %d: %v, want %v", i, j, g, v)
					}
				}
			}
			grad := make([]float64, c.signals)
			if err := prog.Gradient(0, grad); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestFrameChangeSignalsShapes(t *testing.T) {
	for _, shape := range [][]int{{2, 4, 3, 5}, {2, 4, 1, 3, 5}, {2, 4, 3, 3, 5, 1}} {
		for _, op := range []func(*graph.Node) (*graph.Node, error){graph.FrameChangeSignals, graph.FrameStructureSignals} {
			x := input(t, graph.New(graph.WithDType(graph.Float64)), "x", 1, shape...)
			if _, err := op(x); err == nil || !strings.Contains(err.Error(), "[batch, frames, 3, height, width]") {
				t.Errorf("input %v: error %v, want one naming the shape it takes", shape, err)
			}
		}
	}
}

func TestFrameChangeSignalsNil(t *testing.T) {
	runErrCases(t, []errCase{
		{"FrameChangeSignals(nil)", func() error { _, err := graph.FrameChangeSignals(nil); return err }, "frame changes"},
		{"FrameStructureSignals(nil)", func() error { _, err := graph.FrameStructureSignals(nil); return err }, "frame structure"},
	})
}
