package graph_test

import (
	"slices"
	"testing"

	"github.com/dlrun/dlrun/graph"
)

// rowsModel is a small two-tower rating model: user and movie tables
// looked up by ids, their row dot product against a target, an L2 penalty
// on the user rows, and a table "mixed" used through MatMul as well as a
// lookup, whose gradient is therefore dense.
type rowsModel struct {
	g                  *graph.Graph
	users, movies, y   *graph.Node
	one                *graph.Node
	prog               *graph.Program
	user, movie, mixed int // parameter indices
}

func newRowsModel(t *testing.T, dt graph.DType) *rowsModel {
	t.Helper()
	g := graph.New(graph.WithDType(dt), graph.WithSeed(3))
	must := func(n *graph.Node, err error) *graph.Node {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	param := func(name string, shape ...int) *graph.Param {
		p, err := g.Param(name, shape, graph.Uniform(0.5))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	m := &rowsModel{g: g}
	m.users = must(g.Input("users", 4))
	m.movies = must(g.Input("movies", 4))
	m.y = must(g.Input("y", 4, 1))
	m.one = must(g.Input("one", 3))
	user, movie, mixed := param("user", 10, 3), param("movie", 8, 3), param("mixed", 3, 3)
	eu := must(graph.Embedding(m.users, user.Node))
	em := must(graph.Embedding(m.movies, movie.Node))
	w := must(graph.Add(mixed.Node, must(graph.Embedding(m.one, mixed.Node)))) // mixed looked up and used whole
	dense := must(graph.MatMul(em, w))
	pred := must(graph.Add(must(graph.RowDot(eu, em)), must(graph.RowDot(dense, eu))))
	if err := g.AddPenalty(must(graph.Scale(must(graph.RowsSquaredNorm(m.users, user.Node)), 0.1))); err != nil {
		t.Fatal(err)
	}
	loss := must(g.PenalisedLoss(must(graph.Loss(graph.SquaredError, pred, m.y, nil))))
	prog, err := g.Compile(loss)
	if err != nil {
		t.Fatal(err)
	}
	m.prog, m.user, m.movie, m.mixed = prog, 0, 1, 2
	return m
}

func (m *rowsModel) run(t *testing.T, training bool, users, movies []float64) {
	t.Helper()
	for _, in := range []struct {
		n *graph.Node
		v []float64
	}{{m.users, users}, {m.movies, movies}, {m.y, []float64{1, -1, 2, 0.5}}, {m.one, []float64{0, 1, 2}}} {
		if err := m.g.SetInput(in.n, in.v); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := m.prog.Run(training); err != nil {
		t.Fatal(err)
	}
}

// GradientRows lists the rows a batch's ids touch for tables used only
// through Embedding and RowsSquaredNorm, the gradient is zero in every
// other row, and a table also used densely is not row-sparse.
func TestGradientRows(t *testing.T) {
	for _, dt := range []graph.DType{graph.Float32, graph.Float64} {
		m := newRowsModel(t, dt)
		if _, _, err := m.prog.GradientRows(m.user); err == nil {
			t.Fatal("GradientRows before any training pass: no error")
		}
		check := func(users, movies []float64) {
			t.Helper()
			for _, c := range []struct {
				i   int
				ids []float64
			}{{m.user, users}, {m.movie, movies}} {
				rows, ok, err := m.prog.GradientRows(c.i)
				if err != nil || !ok {
					t.Fatalf("%v: parameter %d: ok %v, err %v", dt, c.i, ok, err)
				}
				var want []int
				for _, v := range c.ids {
					want = append(want, int(v))
				}
				slices.Sort(want)
				want = slices.Compact(want)
				if !slices.Equal(rows, want) {
					t.Fatalf("%v: parameter %d: rows %v, want %v", dt, c.i, rows, want)
				}
				grad := make([]float64, m.prog.Params()[c.i].Size())
				if err := m.prog.Gradient(c.i, grad); err != nil {
					t.Fatal(err)
				}
				for r := 0; r < len(grad)/3; r++ {
					nonzero := grad[3*r] != 0 || grad[3*r+1] != 0 || grad[3*r+2] != 0
					if nonzero != slices.Contains(rows, r) {
						t.Fatalf("%v: parameter %d: row %d gradient %v, listed %v", dt, c.i, r, grad[3*r:3*r+3], slices.Contains(rows, r))
					}
				}
			}
			if rows, ok, err := m.prog.GradientRows(m.mixed); err != nil || ok || rows != nil {
				t.Fatalf("%v: a table also used by MatMul: rows %v, ok %v, err %v", dt, rows, ok, err)
			}
		}
		m.run(t, true, []float64{7, 2, 7, 0}, []float64{3, 3, 5, 1})
		check([]float64{7, 2, 7, 0}, []float64{3, 3, 5, 1})
		// An evaluation pass in between adds no rows to the next training pass.
		m.run(t, false, []float64{9, 8, 6, 5}, []float64{7, 6, 4, 0})
		m.run(t, true, []float64{4, 4, 4, 4}, []float64{2, 6, 2, 6})
		check([]float64{4, 4, 4, 4}, []float64{2, 6, 2, 6})
		if _, _, err := m.prog.GradientRows(3); err == nil {
			t.Fatal("GradientRows(3) of 3 parameters: no error")
		}
	}
}
