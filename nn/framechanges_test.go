package nn_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/nn"
)

// frame_changes gives 12 signals a frame, 16 with the structure signals;
// the setting is described and read back, and the signals are the ops'.
func TestFrameChangesStructure(t *testing.T) {
	for _, c := range []struct {
		yaml    string
		signals int
	}{
		{"name: m\nlayers:\n  - frame_changes: {}\n", graph.FrameChanges},
		{"name: m\nlayers:\n  - frame_changes: {structure: true}\n", graph.FrameChanges + graph.FrameStructureChanges},
	} {
		m, js, again := described(t, c.yaml)
		if got := strings.Contains(js, `"structure":true`); got != (c.signals > graph.FrameChanges) {
			t.Errorf("%q described as %s", c.yaml, js)
		}
		for _, mm := range []*nn.Sequential{m, again} {
			if out, err := mm.OutputShape([]int{5, 3, 4, 6}); err != nil || !slices.Equal(out, []int{5, c.signals}) {
				t.Errorf("%q: output %v, %v; want [5 %d]", c.yaml, out, err, c.signals)
			}
		}
		g := graph.New(graph.WithDType(graph.Float64))
		x, _ := g.Input("x", 2, 5, 3, 4, 6)
		y, err := m.Build(g, x)
		if err != nil {
			t.Fatal(err)
		}
		if s := y.Shape(); !slices.Equal([]int(s), []int{2, 5, c.signals}) {
			t.Errorf("%q: built shape %v", c.yaml, s)
		}
	}
}
