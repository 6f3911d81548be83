package nn_test

import (
	"strings"
	"testing"

	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/internal/gradcheck"
	"github.com/dlrun/dlrun/nn"
	"gorgonia.org/gorgonia"
)

// ColumnEmbedding passes a row's other values through in order and puts
// each index column's vector after them; its gradient (float64) checks,
// its spec round-trips, and bad settings are errors naming the layer.
func TestColumnEmbedding(t *testing.T) {
	g := graph.New(graph.WithDType(graph.Float64), graph.WithSeed(4))
	// Two rows of 4 values; columns 1 and 3 hold indices.
	x, err := g.Constant("x", []float64{0.5, 2, -1, 0, 1.5, 1, 3, 2}, 2, 4)
	if err != nil {
		t.Fatal(err)
	}
	e := &nn.ColumnEmbedding{Columns: []int{1, 3}, Sizes: []int{3, 3}, Dim: 2}
	e.SetName("emb")
	y, err := e.Build(g, x)
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := e.OutputShape([]int{4}); len(s) != 1 || s[0] != 6 || y.Shape()[1] != 6 || e.NumParams([]int{4}) != 12 || g.NumParams() != 12 {
		t.Fatalf("output shape %v (graph %v), params %d (graph %d)", s, y.Shape(), e.NumParams([]int{4}), g.NumParams())
	}
	var out gorgonia.Value
	gorgonia.Read(y, &out)
	if err := gorgonia.NewTapeMachine(g.Expr()).RunAll(); err != nil {
		t.Fatal(err)
	}
	got := out.Data().([]float64)
	w0, w1 := g.ParamByName("emb.weight0").Values(), g.ParamByName("emb.weight1").Values()
	want := []float64{
		0.5, -1, w0[2*2], w0[2*2+1], w1[0], w1[1], // row 0: index 2 of column 1, 0 of column 3
		1.5, 3, w0[1*2], w0[1*2+1], w1[2*2], w1[2*2+1], // row 1: 1 and 2
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("output %v, want %v", got, want)
		}
	}

	g2 := graph.New(graph.WithDType(graph.Float64), graph.WithSeed(4))
	x2, _ := g2.Constant("x", []float64{0.5, 2, -1, 0, 1.5, 1, 3, 2}, 2, 4)
	m := nn.NewSequential("m", &nn.ColumnEmbedding{Columns: []int{1, 3}, Sizes: []int{3, 3}, Dim: 2}, nn.NewDense(3))
	y2, err := m.Build(g2, x2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gradcheck.Check(g2.Expr(), scalarise(t, g2, y2), g2.Nodes(), 1e-6, 1e-6); err != nil {
		t.Fatal(err)
	}

	spec, err := nn.Describe(m)
	if err != nil {
		t.Fatal(err)
	}
	again, err := spec.Build()
	if err != nil {
		t.Fatal(err)
	}
	if s, err := again.OutputShape([]int{4}); err != nil || s[0] != 3 || again.NumParams([]int{4}) != m.NumParams([]int{4}) {
		t.Errorf("rebuilt from its spec: %v, %v", s, err)
	}

	for _, c := range []struct {
		e    *nn.ColumnEmbedding
		want string
	}{
		{&nn.ColumnEmbedding{Columns: []int{4}, Sizes: []int{3}}, "want increasing positions in the row of 4"},
		{&nn.ColumnEmbedding{Columns: []int{2, 1}, Sizes: []int{3, 3}}, "want increasing positions"},
		{&nn.ColumnEmbedding{Columns: []int{1}, Sizes: []int{3, 3}}, "want one size per column"},
		{&nn.ColumnEmbedding{Columns: []int{1}, Sizes: []int{0}}, "size 0 of column 1 must be positive"},
	} {
		if _, err := c.e.OutputShape([]int{4}); err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "ColumnEmbedding") {
			t.Errorf("%+v: %v, want %q", c.e, err, c.want)
		}
	}
}
