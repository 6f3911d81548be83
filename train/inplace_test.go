package train_test

import (
	"math"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/train"
)

// towers builds a small rating model: user and movie embedding tables
// (row-sparse gradients) and a dense [3, 3] mixing matrix, with an L2
// penalty on the user rows, and returns it with a function that feeds
// batch k.
func towers(t *testing.T, dt graph.DType) (*graph.Graph, *graph.Node, func(k int)) {
	t.Helper()
	g := graph.New(graph.WithDType(dt), graph.WithSeed(5))
	must := func(n *graph.Node, err error) *graph.Node {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	param := func(name string, shape ...int) *graph.Node {
		p, err := g.Param(name, shape, graph.Uniform(0.5))
		if err != nil {
			t.Fatal(err)
		}
		return p.Node
	}
	users, movies, y := must(g.Input("users", 4)), must(g.Input("movies", 4)), must(g.Input("y", 4, 1))
	user, movie, mix := param("user", 50, 3), param("movie", 40, 3), param("mix", 3, 3)
	eu := must(graph.Embedding(users, user))
	em := must(graph.MatMul(must(graph.Embedding(movies, movie)), mix))
	if err := g.AddPenalty(must(graph.Scale(must(graph.RowsSquaredNorm(users, user)), 0.05))); err != nil {
		t.Fatal(err)
	}
	loss := must(g.PenalisedLoss(must(graph.Loss(graph.SquaredError, must(graph.RowDot(eu, em)), y, nil))))
	feed := func(k int) {
		u, m, r := make([]float64, 4), make([]float64, 4), make([]float64, 4)
		for i := range u {
			u[i] = float64((7*k + 3*i*i) % 50)
			m[i] = float64((5*k + i) % 40)
			r[i] = math.Sin(float64(k + i))
		}
		for _, in := range []struct {
			n *graph.Node
			v []float64
		}{{users, u}, {movies, m}, {y, r}} {
			if err := g.SetInput(in.n, in.v); err != nil {
				t.Fatal(err)
			}
		}
	}
	return g, loss, feed
}

// The in-place steps (with SGD and AdaGrad updating only the rows a batch
// touched) leave every parameter with the bits of the float64 Step path,
// which a no-op clipping option selects.
func TestInPlaceStepsMatchStep(t *testing.T) {
	for _, dt := range []graph.DType{graph.Float32, graph.Float64} {
		for _, name := range []string{"sgd", "adagrad", "adam", "adamw", "adam+clip", "adamw+clip"} {
			var got [2][][]float64
			for path := range 2 {
				base, clip, _ := strings.Cut(name, "+")
				opt, err := train.OptimizerByName(base, 0.05)
				if err != nil {
					t.Fatal(err)
				}
				if clip != "" {
					opt.Options().ClipNorm = 0.3 // clips some steps: the scale enters the update
				}
				if path == 1 {
					opt.Options().ClipValue = 1e300 // changes no gradient; rules out the in-place step
				}
				g, loss, feed := towers(t, dt)
				m, err := train.NewMinimizer(g, loss, opt)
				if err != nil {
					t.Fatal(err)
				}
				for k := range 6 {
					feed(k)
					if _, err := m.Step(); err != nil {
						t.Fatal(err)
					}
				}
				for _, p := range g.Params() {
					got[path] = append(got[path], p.Values())
				}
			}
			for i := range got[0] {
				for j := range got[0][i] {
					if math.Float64bits(got[0][i][j]) != math.Float64bits(got[1][i][j]) {
						t.Fatalf("%v %s: parameter %d element %d: in place %v, Step %v", dt, name, i, j, got[0][i][j], got[1][i][j])
					}
				}
			}
		}
	}
}
