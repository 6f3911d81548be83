package train

import (
	"testing"

	"github.com/dlrun/dlrun/graph"
)

// rowsStep runs one in-place step of opt on a [3, 2] parameter of ones
// whose gradient is 0.5 everywhere, listing row 1 alone as nonzero, and
// returns the parameter's values.
func rowsStep(t *testing.T, opt inPlaceStepper, dt graph.DType) []float64 {
	t.Helper()
	g := graph.New(graph.WithDType(dt))
	w, err := g.Param("w", []int{3, 2}, graph.Constant(1))
	if err != nil {
		t.Fatal(err)
	}
	grad, err := g.Param("grad", []int{3, 2}, graph.Constant(0.5))
	if err != nil {
		t.Fatal(err)
	}
	p := stepParam{name: "w", w: w.Data(), g: grad.Data(), rows: []int{1}, width: 2}
	if err := opt.stepData([]stepParam{p}); err != nil {
		t.Fatal(err)
	}
	return w.Values()
}

// SGD and AdaGrad visit only the listed rows (the gradient given here is
// deliberately nonzero elsewhere, which a dense update would apply); Adam,
// whose moments decay everywhere, updates every row.
func TestSparseStepsTouchOnlyTheListedRows(t *testing.T) {
	for _, dt := range []graph.DType{graph.Float32, graph.Float64} {
		for _, c := range []struct {
			opt        inPlaceStepper
			onlyListed bool
		}{{&SGD{LR: 0.1}, true}, {&AdaGrad{LR: 0.1}, true}, {&Adam{LR: 0.1}, false}} {
			got := rowsStep(t, c.opt, dt)
			for i, v := range got {
				listed := i/2 == 1
				if changed := v != 1; changed != (listed || !c.onlyListed) {
					t.Errorf("%v %s: element %d = %v after the step (row listed: %v)", dt, c.opt.Name(), i, v, listed)
				}
			}
			if a, ok := c.opt.(*AdaGrad); ok {
				if s := a.m["sum/w"]; s[0] != 0 || s[2] != 0.25 || s[4] != 0 {
					t.Errorf("%v adagrad: sums %v: only row 1's may grow", dt, s)
				}
			}
		}
	}
}

// A listed row outside the parameter is an error, and nothing changes.
func TestSparseStepRejectsBadRows(t *testing.T) {
	g := graph.New()
	w, _ := g.Param("w", []int{3, 2}, graph.Constant(1))
	grad, _ := g.Param("grad", []int{3, 2}, graph.Constant(0.5))
	for _, rows := range [][]int{{3}, {-1}, {0, 5}} {
		opt := &SGD{}
		err := opt.stepData([]stepParam{{name: "w", w: w.Data(), g: grad.Data(), rows: rows, width: 2}})
		if err == nil {
			t.Fatalf("rows %v: no error", rows)
		}
		if v := w.Values(); v[0] != 1 || v[5] != 1 || opt.step != 0 {
			t.Fatalf("rows %v: %v, step %v after a refused step", rows, v, opt.step)
		}
	}
}
