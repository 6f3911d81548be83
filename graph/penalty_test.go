package graph_test

import (
	"math"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/internal/gradcheck"
	"gorgonia.org/gorgonia"
)

func TestPenaltyGradients(t *testing.T) {
	type build func(t *testing.T, g *graph.Graph) (loss *graph.Node, wrt gorgonia.Nodes)
	ok := combineOK(t)
	cases := []struct {
		name  string
		build build
	}{
		{"RowsSquaredNorm", func(t *testing.T, g *graph.Graph) (*graph.Node, gorgonia.Nodes) {
			table := input(t, g, "table", 1, 4, 3)
			ids := idsInput(t, g, "ids", []float64{2, 0, 2, 3, 2}, 5)
			return ok(graph.RowsSquaredNorm(ids, table)), gorgonia.Nodes{table}
		}},
		{"RowsSquaredNorm2D", func(t *testing.T, g *graph.Graph) (*graph.Node, gorgonia.Nodes) {
			table := input(t, g, "table", 1, 5, 2)
			ids := idsInput(t, g, "ids", []float64{4, 1, 1, 0, 4, 4}, 2, 3)
			return ok(graph.RowsSquaredNorm(ids, table)), gorgonia.Nodes{table}
		}},
		{"Scale", func(t *testing.T, g *graph.Graph) (*graph.Node, gorgonia.Nodes) {
			x := input(t, g, "x", 1, 3, 4)
			return combineProbe(t, g, ok(graph.Scale(x, -0.37))), gorgonia.Nodes{x}
		}},
		{"ScaledPenaltyPlusLoss", func(t *testing.T, g *graph.Graph) (*graph.Node, gorgonia.Nodes) {
			// A loss through Embedding plus 0.3·Σ||table[id]||²: the
			// penalty's gradient adds to the lookup's in the same rows.
			table := input(t, g, "table", 1, 4, 3)
			ids := idsInput(t, g, "ids", []float64{1, 3, 1}, 3)
			e := ok(graph.Embedding(ids, table))
			p := ok(graph.Scale(ok(graph.RowsSquaredNorm(ids, table)), 0.3))
			if err := g.AddPenalty(p); err != nil {
				t.Fatal(err)
			}
			loss := ok(g.PenalisedLoss(combineProbe(t, g, e)))
			return loss, gorgonia.Nodes{table}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := graph.New(graph.WithDType(graph.Float64))
			loss, wrt := c.build(t, g)
			n, err := gradcheck.Check(g.Expr(), loss, wrt, 1e-6, 1e-6)
			if err != nil {
				t.Fatal(err)
			}
			if n != wrt[0].Shape().TotalSize() {
				t.Fatalf("%d elements checked", n)
			}
		})
	}
}

// scalarRun runs g once and returns the values of the scalar nodes ys.
func scalarRun(t *testing.T, g *graph.Graph, ys ...*graph.Node) []float64 {
	t.Helper()
	vals := make([]gorgonia.Value, len(ys))
	for i, y := range ys {
		gorgonia.Read(y, &vals[i])
	}
	vm := gorgonia.NewTapeMachine(g.Expr())
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	out := make([]float64, len(ys))
	for i, v := range vals {
		switch d := v.Data().(type) {
		case float64:
			out[i] = d
		case float32:
			out[i] = float64(d)
		default:
			t.Fatalf("%s is %v (%T), not a scalar", ys[i].Name(), v, v.Data())
		}
	}
	return out
}

// idsInput returns an input holding the given ids.
func idsInput(t *testing.T, g *graph.Graph, name string, ids []float64, shape ...int) *graph.Node {
	t.Helper()
	n, err := g.Input(name, shape...)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.SetInput(n, ids); err != nil {
		t.Fatal(err)
	}
	return n
}

// The penalty 0.1·Σ||table[id]||² of ids [2 0 2 1] in
//
//	table = [[1 2] [3 -1] [0.5 0]]
//
// is 0.1·(0.25 + 5 + 0.25 + 10) = 1.55; its gradient is 0.2·count·row:
// [[0.2 0.4] [0.6 -0.2] [0.2 0]] (row 2 twice). Added to a data loss of
// 2·x for x = 3 (a stand-in for a model's loss), the penalised loss is 7.55.
func TestPenaltyValues(t *testing.T) {
	combineDTypes(t, func(t *testing.T, dt graph.DType, tol float64) {
		ok := combineOK(t)
		g := graph.New(graph.WithDType(dt))
		table, err := g.Param("table", []int{3, 2}, graph.Zeros)
		if err != nil {
			t.Fatal(err)
		}
		if err := table.SetValues([]float64{1, 2, 3, -1, 0.5, 0}); err != nil {
			t.Fatal(err)
		}
		ids := idsInput(t, g, "ids", []float64{2, 0, 2, 1}, 4)
		norm := ok(graph.RowsSquaredNorm(ids, table.Node))
		if !norm.IsScalar() {
			t.Fatalf("RowsSquaredNorm has shape %v, want a scalar", norm.Shape())
		}
		p := ok(graph.Scale(norm, 0.1))
		if err := g.AddPenalty(p); err != nil {
			t.Fatal(err)
		}
		if ps := g.Penalties(); len(ps) != 1 || ps[0] != p {
			t.Fatalf("penalties %v, want [%v]", ps, p)
		}
		x, err := g.Param("x", []int{1}, graph.Constant(3))
		if err != nil {
			t.Fatal(err)
		}
		data := ok(gorgonia.Sum(ok(graph.Scale(x.Node, 2))))
		loss := ok(g.PenalisedLoss(data))
		got := scalarRun(t, g, norm, p, loss)
		near(t, "norm, penalty, penalised loss", got, []float64{15.5, 1.55, 7.55}, tol)

		prog, err := g.Compile(loss)
		if err != nil {
			t.Fatal(err)
		}
		defer prog.Close()
		l, err := prog.Run(true)
		if err != nil {
			t.Fatal(err)
		}
		near(t, "loss", []float64{l}, []float64{7.55}, tol)
		grad := make([]float64, 6)
		if err := prog.Gradient(0, grad); err != nil {
			t.Fatal(err)
		}
		near(t, "dtable", grad, []float64{0.2, 0.4, 0.6, -0.2, 0.2, 0}, tol)
		dx := make([]float64, 1)
		if err := prog.Gradient(1, dx); err != nil {
			t.Fatal(err)
		}
		near(t, "dx", dx, []float64{2}, tol)
	})
}

// Without penalties the penalised loss is the loss itself; penalties add
// up in registration order.
func TestPenalisedLoss(t *testing.T) {
	ok := combineOK(t)
	g := graph.New(graph.WithDType(graph.Float64))
	x := input(t, g, "x", 1, 3)
	loss := ok(gorgonia.Sum(x))
	if got := ok(g.PenalisedLoss(loss)); got != loss {
		t.Fatalf("penalised loss %v without penalties, want the loss %v", got, loss)
	}
	a, b := ok(gorgonia.Sum(ok(graph.Scale(x, 2)))), ok(gorgonia.Sum(ok(graph.Scale(x, 0.5))))
	for _, p := range []*graph.Node{a, b} {
		if err := g.AddPenalty(p); err != nil {
			t.Fatal(err)
		}
	}
	total := ok(g.PenalisedLoss(loss))
	got := scalarRun(t, g, loss, total)
	near(t, "total", got[1:], []float64{3.5 * got[0]}, 1e-14)
	if ps := g.Penalties(); len(ps) != 2 || ps[0] != a || ps[1] != b {
		t.Fatalf("penalties %v, want [%v %v]", ps, a, b)
	}
	// Penalties returns a copy.
	g.Penalties()[0] = nil
	if g.Penalties()[0] != a {
		t.Fatal("Penalties exposes the graph's own list")
	}
	if (*graph.Graph)(nil).Penalties() != nil {
		t.Fatal("a nil graph has penalties")
	}
}

// Scale's constant is part of its node's identity, as AddScalar's is.
func TestScaleNodesAreDistinct(t *testing.T) {
	g := graph.New(graph.WithDType(graph.Float64))
	x := input(t, g, "x", 1, 2)
	lo := 0.1
	hi := math.Nextafter(lo, 1)
	s1, s2 := combineOK(t)(graph.Scale(x, lo)), combineOK(t)(graph.Scale(x, hi))
	if s1 == s2 {
		t.Fatalf("Scale(%v) and Scale(%v) are one node", lo, hi)
	}
	if !strings.Contains(s1.Op().(interface{ String() string }).String(), "Scale(0.1)") {
		t.Errorf("op %v does not hold its constant", s1.Op())
	}
	got := combineRun(t, g, s1, s2)
	xs := x.Value().Data().([]float64)
	for i := range xs {
		if got[0][i] != xs[i]*lo || got[1][i] != xs[i]*hi {
			t.Errorf("%v·%v = %v and %v·%v = %v", xs[i], lo, got[0][i], xs[i], hi, got[1][i])
		}
	}
}

func TestPenaltyErrors(t *testing.T) {
	g, other := graph.New(), graph.New()
	in := func(g *graph.Graph, name string, shape ...int) *graph.Node {
		n, err := g.Input(name, shape...)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	table, ids, m := in(g, "table", 4, 3), in(g, "ids", 5), in(g, "m", 2, 2)
	vec := in(g, "vec", 4)
	o := in(other, "other.ids", 5)
	f64 := gorgonia.NewMatrix(g.Expr(), graph.Float64.Tensor(), gorgonia.WithShape(4, 3), gorgonia.WithName("t64"))
	s := g.Scalar(2)
	scalar := combineOK(t)(gorgonia.Sum(vec))
	otherScalar := combineOK(t)(gorgonia.Sum(o))
	f64Scalar := combineOK(t)(gorgonia.Sum(f64))
	var n *graph.Node
	for _, c := range []struct {
		what string
		f    func() error
		want []string
	}{
		{"RowsSquaredNorm 1-d table", node(func() (*graph.Node, error) { return graph.RowsSquaredNorm(ids, vec) }), []string{"rows squared norm", "vec", "(5)", "(4)"}},
		{"RowsSquaredNorm scalar ids", node(func() (*graph.Node, error) { return graph.RowsSquaredNorm(s, table) }), []string{"rows squared norm", "table"}},
		{"RowsSquaredNorm nil", node(func() (*graph.Node, error) { return graph.RowsSquaredNorm(n, table) }), []string{"rows squared norm", "operand 1 is nil"}},
		{"RowsSquaredNorm graphs", node(func() (*graph.Node, error) { return graph.RowsSquaredNorm(o, table) }), []string{"rows squared norm", "other.ids", "different graphs"}},
		{"RowsSquaredNorm dtypes", node(func() (*graph.Node, error) { return graph.RowsSquaredNorm(ids, f64) }), []string{"rows squared norm", "float32", "t64", "float64"}},
		{"Scale NaN", node(func() (*graph.Node, error) { return graph.Scale(m, math.NaN()) }), []string{"scale", "m", "NaN", "not finite"}},
		{"Scale Inf", node(func() (*graph.Node, error) { return graph.Scale(m, math.Inf(1)) }), []string{"scale", "+Inf"}},
		{"Scale nil", node(func() (*graph.Node, error) { return graph.Scale(n, 1) }), []string{"scale", "nil"}},
		{"AddPenalty nil node", func() error { return g.AddPenalty(n) }, []string{"add penalty", "nil node"}},
		{"AddPenalty other graph", func() error { return g.AddPenalty(otherScalar) }, []string{"add penalty", "another graph"}},
		{"AddPenalty matrix", func() error { return g.AddPenalty(m) }, []string{"add penalty", "m", "(2, 2)", "scalar"}},
		{"AddPenalty dtype", func() error { return g.AddPenalty(f64Scalar) }, []string{"add penalty", "float64", "float32"}},
		{"AddPenalty lone constant", func() error { return g.AddPenalty(s) }, []string{"add penalty", "another graph"}},
		{"AddPenalty nil graph", func() error { return (*graph.Graph)(nil).AddPenalty(scalar) }, []string{"graph.New"}},
		{"AddPenalty zero graph", func() error { return (&graph.Graph{}).AddPenalty(scalar) }, []string{"graph.New"}},
		{"PenalisedLoss nil", node(func() (*graph.Node, error) { return g.PenalisedLoss(n) }), []string{"penalised loss", "nil"}},
		{"PenalisedLoss matrix", node(func() (*graph.Node, error) { return g.PenalisedLoss(m) }), []string{"penalised loss", "(2, 2)", "scalar"}},
		{"PenalisedLoss other graph", node(func() (*graph.Node, error) { return g.PenalisedLoss(otherScalar) }), []string{"penalised loss", "another graph"}},
		{"PenalisedLoss nil graph", node(func() (*graph.Node, error) { return (*graph.Graph)(nil).PenalisedLoss(scalar) }), []string{"graph.New"}},
	} {
		mustErr(t, c.what, c.f, c.want...)
	}
	if err := g.AddPenalty(scalar); err != nil {
		t.Fatal(err)
	}
	mustErr(t, "AddPenalty twice", func() error { return g.AddPenalty(scalar) }, "add penalty", "registered already")
	if len(g.Penalties()) != 1 {
		t.Fatalf("%d penalties after a failed AddPenalty", len(g.Penalties()))
	}
}

// An id outside the table is an error when the op runs.
func TestRowsSquaredNormBadID(t *testing.T) {
	for _, bad := range []float64{3, -1, 1.5} {
		g := graph.New(graph.WithDType(graph.Float64))
		table, err := g.Constant("table", []float64{1, 2, 3, 4, 5, 6}, 3, 2)
		if err != nil {
			t.Fatal(err)
		}
		ids := idsInput(t, g, "ids", []float64{0, bad}, 2)
		norm := combineOK(t)(graph.RowsSquaredNorm(ids, table))
		_, err = gradcheck.Forward(g.Expr(), norm)
		if err == nil || !strings.Contains(err.Error(), "not in [0, 3)") || !strings.Contains(err.Error(), "position 1") {
			t.Errorf("id %v: error %v", bad, err)
		}
	}
}
