package nn_test

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/internal/gradcheck"
	"github.com/dlrun/dlrun/nn"
	"gorgonia.org/gorgonia"
)

// recIDs declares the [batch, 2] input x holding (user, movie) pairs.
func recIDs(t *testing.T, g *graph.Graph, ids []float64) *graph.Node {
	t.Helper()
	x, err := g.Input("x", len(ids)/2, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.SetInput(x, ids); err != nil {
		t.Fatal(err)
	}
	return x
}

// recLoss returns the mean squared error of pred [batch, 1] against
// targets, plus g's penalties.
func recLoss(t *testing.T, g *graph.Graph, pred *graph.Node, targets []float64) *graph.Node {
	t.Helper()
	y, err := g.Constant("targets", targets, len(targets), 1)
	if err != nil {
		t.Fatal(err)
	}
	loss, err := graph.Loss(graph.SquaredError, pred, y, nil)
	if err != nil {
		t.Fatal(err)
	}
	total, err := g.PenalisedLoss(loss)
	if err != nil {
		t.Fatal(err)
	}
	return total
}

// setParams gives every parameter of g non-trivial values.
func setParams(t *testing.T, g *graph.Graph) {
	t.Helper()
	for k, p := range g.Params() {
		v := make([]float64, p.Size())
		for i := range v {
			v[i] = 0.5 * math.Sin(float64(3*i+7*k+1))
		}
		if err := p.SetValues(v); err != nil {
			t.Fatal(err)
		}
	}
}

// Each recommender, with and without its penalty, differentiated through
// the squared error plus the penalty, against finite differences. The ids
// repeat users and movies, and leave some out.
func TestRecommenderGradients(t *testing.T) {
	ids := []float64{0, 1, 2, 3, 0, 0, 1, 3, 2, 1}
	targets := []float64{3, 2.5, 4, 5, 1}
	for _, c := range []struct {
		name  string
		layer nn.Layer
	}{
		{"MF", &nn.MF{Users: 3, Movies: 4, Dim: 3, Mean: 3.5}},
		{"MFPenalised", &nn.MF{Users: 3, Movies: 4, Dim: 3, Mean: 3.5, L2: 0.3}},
		{"Biases", &nn.Biases{Users: 3, Movies: 4, Mean: 3.5}},
		{"BiasesPenalised", &nn.Biases{Users: 3, Movies: 4, Mean: 3.5, L2: 0.3}},
		{"NCF", &nn.NCF{Users: 3, Movies: 4, Dim: 2, Hidden: []int{5, 3}, Mean: 3.5}},
		{"NCFPenalised", &nn.NCF{Users: 3, Movies: 4, Dim: 2, Hidden: []int{5, 3}, Mean: 3.5, L2: 0.3}},
		{"NCFOneHidden", &nn.NCF{Users: 3, Movies: 4, Dim: 3, Hidden: []int{4}, L2: 0.1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := graph.New(graph.WithDType(graph.Float64), graph.WithSeed(3))
			x := recIDs(t, g, ids)
			m := nn.NewSequential("m", c.layer)
			pred, err := m.Build(g, x)
			if err != nil {
				t.Fatal(err)
			}
			if s := pred.Shape(); len(s) != 2 || s[0] != 5 || s[1] != 1 {
				t.Fatalf("prediction shape %v, want (5, 1)", s)
			}
			if got, want := g.NumParams(), m.NumParams([]int{2}); got != want {
				t.Fatalf("graph has %d parameters, NumParams says %d", got, want)
			}
			wantPenalties := 0
			if strings.Contains(c.name, "Penalised") || strings.Contains(c.name, "OneHidden") {
				wantPenalties = 1
			}
			if n := len(g.Penalties()); n != wantPenalties {
				t.Fatalf("%d penalties, want %d", n, wantPenalties)
			}
			setParams(t, g)
			n, err := gradcheck.Check(g.Expr(), recLoss(t, g, pred, targets), g.Nodes(), 1e-6, 1e-6)
			if err != nil {
				t.Fatal(err)
			}
			if n != g.NumParams() {
				t.Fatalf("%d gradient elements checked, want %d", n, g.NumParams())
			}
		})
	}
}

// A tiny MF worked out by hand: 2 users, 3 movies, dim 2, mean 3.5,
//
//	P  = [[1 2] [-1 0.5]]            BU = [0.1 -0.2]
//	Q  = [[0.5 1] [2 -1] [0 3]]      BM = [0.3 0 -0.4]
//
// For (user, movie) = (0,0), (0,2), (1,1), (1,0):
//
//	⟨p, q⟩ = 2.5, 6, -2.5, 0    prediction = 6.4, 9.2, 0.8, 3.6
//
// Against targets 5, 4, 3, 3.5 the squared errors are 1.96, 27.04, 4.84,
// 0.01, mean 8.4625. With L2 = 0.1 over the batch of 4 the penalty is
// 0.1/4·(Σ||p_u||² + Σ||q_i||² + Σb_u² + Σb_i²) over the rows
// = 0.025·((5+5+1.25+1.25) + (1.25+9+5+1.25) + (0.01+0.01+0.04+0.04) +
// (0.09+0.16+0+0.09)) = 0.025·(12.5 + 16.5 + 0.1 + 0.34) = 0.736.
//
// The gradients: dL/dpred = (pred - t)/2 = 0.7, 2.6, -1.1, 0.05, and the
// penalty adds 2·0.1/4 = 0.05 times each row per occurrence:
//
//	dP[0] = 0.7·q0 + 2.6·q2 + 0.05·2·p0      = [0.45 8.7]
//	dP[1] = -1.1·q1 + 0.05·q0 + 0.05·2·p1    = [-2.275 1.2]
//	dQ[0] = 0.7·p0 + 0.05·p1 + 0.05·2·q0     = [0.7 1.525]
//	dQ[1] = -1.1·p1 + 0.05·q1                = [1.2 -0.6]
//	dQ[2] = 2.6·p0 + 0.05·q2                 = [2.6 5.35]
//	dBU   = [0.7+2.6 + 0.1·0.1, -1.1+0.05 + 0.1·-0.2] = [3.31 -1.07]
//	dBM   = [0.7+0.05 + 0.1·0.3, -1.1, 2.6 + 0.05·-0.4] = [0.78 -1.1 2.58]
func TestMFByHand(t *testing.T) {
	ids := []float64{0, 0, 0, 2, 1, 1, 1, 0}
	targets := []float64{5, 4, 3, 3.5}
	values := map[string][]float64{
		"mf1.user_embedding":  {1, 2, -1, 0.5},
		"mf1.movie_embedding": {0.5, 1, 2, -1, 0, 3},
		"mf1.user_bias":       {0.1, -0.2},
		"mf1.movie_bias":      {0.3, 0, -0.4},
	}
	wantGrads := map[string][]float64{
		"mf1.user_embedding":  {0.45, 8.7, -2.275, 1.2},
		"mf1.movie_embedding": {0.7, 1.525, 1.2, -0.6, 2.6, 5.35},
		"mf1.user_bias":       {3.31, -1.07},
		"mf1.movie_bias":      {0.78, -1.1, 2.58},
	}
	for _, dt := range []graph.DType{graph.Float32, graph.Float64} {
		t.Run(string(dt), func(t *testing.T) {
			tol := 1e-12
			if dt == graph.Float32 {
				tol = 1e-6
			}
			for _, l2 := range []float64{0, 0.1} {
				g := graph.New(graph.WithDType(dt))
				x := recIDs(t, g, ids)
				m := nn.NewSequential("m", &nn.MF{Users: 2, Movies: 3, Dim: 2, Mean: 3.5, L2: l2})
				pred, err := m.Build(g, x)
				if err != nil {
					t.Fatal(err)
				}
				for name, v := range values {
					if err := g.ParamByName(name).SetValues(v); err != nil {
						t.Fatal(err)
					}
				}
				loss := recLoss(t, g, pred, targets)
				prog, err := g.Compile(loss, pred)
				if err != nil {
					t.Fatal(err)
				}
				l, err := prog.Run(true)
				if err != nil {
					t.Fatal(err)
				}
				out, err := prog.Output(0)
				if err != nil {
					t.Fatal(err)
				}
				near(t, "prediction", out, []float64{6.4, 9.2, 0.8, 3.6}, tol)
				if l2 == 0 {
					if len(g.Penalties()) != 0 {
						t.Fatalf("%d penalties without L2", len(g.Penalties()))
					}
					near(t, "loss", []float64{l}, []float64{8.4625}, tol)
					prog.Close()
					continue
				}
				near(t, "penalised loss", []float64{l}, []float64{8.4625 + 0.736}, tol)
				for i, p := range prog.Params() {
					got := make([]float64, p.Size())
					if err := prog.Gradient(i, got); err != nil {
						t.Fatal(err)
					}
					near(t, "d"+p.Name, got, wantGrads[p.Name], tol)
				}
				prog.Close()
				// The penalty alone.
				if len(g.Penalties()) != 1 {
					t.Fatalf("%d penalties, want 1", len(g.Penalties()))
				}
				pp, err := g.Compile(g.Penalties()[0])
				if err != nil {
					t.Fatal(err)
				}
				pv, err := pp.Run(false)
				if err != nil {
					t.Fatal(err)
				}
				near(t, "penalty", []float64{pv}, []float64{0.736}, tol)
				pp.Close()
			}
		})
	}
}

// Biases and NCF by hand: Biases predicts mean + b_u + b_i; NCF with every
// MLP weight and bias zero but the last bias predicts the same plus that
// bias; their penalties cover the biases (and NCF's embeddings).
func TestBiasesAndNCFByHand(t *testing.T) {
	ids := []float64{0, 0, 0, 2, 1, 1, 1, 0}
	for _, dt := range []graph.DType{graph.Float32, graph.Float64} {
		t.Run(string(dt), func(t *testing.T) {
			tol := 1e-12
			if dt == graph.Float32 {
				tol = 1e-6
			}
			g := graph.New(graph.WithDType(dt))
			x := recIDs(t, g, ids)
			b := &nn.Biases{Users: 2, Movies: 3, Mean: 3.5, L2: 0.2}
			n := &nn.NCF{Users: 2, Movies: 3, Dim: 2, Hidden: []int{3}, Mean: -1, L2: 0.4}
			nn.NewSequential("m", b, n)
			yb, err := b.Build(g, x)
			if err != nil {
				t.Fatal(err)
			}
			yn, err := n.Build(g, x)
			if err != nil {
				t.Fatal(err)
			}
			for name, v := range map[string][]float64{
				"biases1.user_bias":    {0.1, -0.2},
				"biases1.movie_bias":   {0.3, 0, -0.4},
				"ncf1.user_embedding":  {1, 2, -1, 0.5},
				"ncf1.movie_embedding": {0.5, 1, 2, -1, 0, 3},
				"ncf1.user_bias":       {1, 2},
				"ncf1.movie_bias":      {0.5, 0.25, 0},
				"ncf1.mlp1.weight":     make([]float64, 12),
				"ncf1.mlp1.bias":       {0, 0, 0},
				"ncf1.mlp2.weight":     {0, 0, 0},
				"ncf1.mlp2.bias":       {0.125},
			} {
				p := g.ParamByName(name)
				if p == nil {
					t.Fatalf("no parameter %s", name)
				}
				if err := p.SetValues(v); err != nil {
					t.Fatal(err)
				}
			}
			prog, err := g.CompileForward(yb, yn)
			if err != nil {
				t.Fatal(err)
			}
			defer prog.Close()
			if _, err := prog.Run(false); err != nil {
				t.Fatal(err)
			}
			ob, _ := prog.Output(0)
			on, _ := prog.Output(1)
			near(t, "biases", ob, []float64{3.5 + 0.1 + 0.3, 3.5 + 0.1 - 0.4, 3.5 - 0.2 + 0, 3.5 - 0.2 + 0.3}, tol)
			near(t, "ncf", on, []float64{-1 + 1 + 0.5 + 0.125, -1 + 1 + 0 + 0.125, -1 + 2 + 0.25 + 0.125, -1 + 2 + 0.5 + 0.125}, tol)
			ps := g.Penalties()
			if len(ps) != 2 {
				t.Fatalf("%d penalties, want 2", len(ps))
			}
			// Biases: 0.2/4·(0.01+0.01+0.04+0.04 + 0.09+0.16+0+0.09) = 0.022.
			// NCF: 0.4/4·(12.5 + 16.5 + (1+1+4+4) + (0.25+0+0.0625+0.25)) = 0.1·39.5625 = 3.95625.
			near(t, "penalties", scalarRun(t, g, ps...), []float64{0.022, 3.95625}, tol)
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

func near(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Abs(got[i]-want[i]) > tol*math.Max(1, math.Abs(want[i])) {
			t.Fatalf("%s[%d] = %.9g, want %.9g (all: %v)", what, i, got[i], want[i], got)
		}
	}
}

func TestRecommenderParams(t *testing.T) {
	for _, c := range []struct {
		layer  nn.Layer
		params string
		count  int
	}{
		{&nn.MF{Users: 5, Movies: 7, Dim: 3},
			"mf1.user_embedding[5 3] mf1.movie_embedding[7 3] mf1.user_bias[5 1] mf1.movie_bias[7 1]", 12 * 4},
		{&nn.MF{Users: 5, Movies: 7},
			"mf1.user_embedding[5 32] mf1.movie_embedding[7 32] mf1.user_bias[5 1] mf1.movie_bias[7 1]", 12 * 33},
		{&nn.Biases{Users: 5, Movies: 7}, "biases1.user_bias[5 1] biases1.movie_bias[7 1]", 12},
		{&nn.NCF{Users: 5, Movies: 7, Dim: 3, Hidden: []int{4, 2}},
			"ncf1.user_embedding[5 3] ncf1.movie_embedding[7 3] ncf1.user_bias[5 1] ncf1.movie_bias[7 1] " +
				"ncf1.mlp1.weight[6 4] ncf1.mlp1.bias[4] ncf1.mlp2.weight[4 2] ncf1.mlp2.bias[2] ncf1.mlp3.weight[2 1] ncf1.mlp3.bias[1]",
			12*4 + 6*4 + 4 + 4*2 + 2 + 2 + 1},
		{&nn.NCF{Users: 5, Movies: 7},
			"ncf1.user_embedding[5 32] ncf1.movie_embedding[7 32] ncf1.user_bias[5 1] ncf1.movie_bias[7 1] " +
				"ncf1.mlp1.weight[64 64] ncf1.mlp1.bias[64] ncf1.mlp2.weight[64 32] ncf1.mlp2.bias[32] ncf1.mlp3.weight[32 1] ncf1.mlp3.bias[1]",
			12*33 + 64*64 + 64 + 64*32 + 32 + 32 + 1},
	} {
		for _, dt := range []graph.DType{graph.Float32, graph.Float64} {
			m := nn.NewSequential("m", c.layer)
			g := graph.New(graph.WithDType(dt))
			x, err := g.Input("x", 4, 2)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := m.Build(g, x); err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, p := range g.Params() {
				names = append(names, fmt.Sprintf("%s%v", p.Name, p.Shape()))
			}
			if got := strings.Join(names, " "); got != c.params {
				t.Errorf("%s parameters\n%s\nwant\n%s", c.layer.Kind(), got, c.params)
			}
			if got := c.layer.NumParams([]int{2}); got != c.count || g.NumParams() != c.count {
				t.Errorf("%s: NumParams %d, graph %d, want %d", c.layer.Kind(), got, g.NumParams(), c.count)
			}
			if len(g.Penalties()) != 0 {
				t.Errorf("%s: a penalty without L2", c.layer.Kind())
			}
			// Initial values: biases zero, embeddings N(0, 0.01²), MLP
			// weights Glorot uniform, MLP biases zero.
			for _, p := range g.Params() {
				v := p.Values()
				var sq, maxAbs float64
				for _, x := range v {
					sq += x * x
					maxAbs = math.Max(maxAbs, math.Abs(x))
				}
				switch {
				case strings.HasSuffix(p.Name, "bias"):
					if maxAbs != 0 {
						t.Errorf("%s is not zero", p.Name)
					}
				case strings.HasSuffix(p.Name, "embedding"):
					if std := math.Sqrt(sq / float64(len(v))); std < 0.005 || std > 0.02 || maxAbs > 0.06 {
						t.Errorf("%s: std %g, max %g; want N(0, 0.01²)", p.Name, std, maxAbs)
					}
				default:
					s := p.Shape()
					if bound := math.Sqrt(6 / float64(s[0]+s[1])); maxAbs > bound || maxAbs == 0 {
						t.Errorf("%s: max %g outside Glorot's bound %g", p.Name, maxAbs, bound)
					}
				}
			}
		}
	}
}

func TestRecommenderReferences(t *testing.T) {
	const users, movies = nn.MovieLensUsers, nn.MovieLensMovies
	for _, c := range []struct {
		name string
		opt  nn.Options
		want int
		kind string
	}{
		{"mf", nn.Options{}, (users + movies) * 33, "MF"},
		{"biases", nn.Options{}, users + movies, "Biases"},
		{"ncf", nn.Options{}, (users+movies)*33 + 64*64 + 64 + 64*32 + 32 + 32 + 1, "NCF"},
		{"mf", nn.Options{Users: 10, Movies: 20, Dim: 4, Mean: 3.5, L2: 0.05}, 30 * 5, "MF"},
		{"biases", nn.Options{Users: 10, Movies: 20, Mean: 3.5}, 30, "Biases"},
		{"ncf", nn.Options{Users: 10, Movies: 20, Dim: 4}, 30*5 + 8*64 + 64 + 64*32 + 32 + 32 + 1, "NCF"},
	} {
		r, err := nn.ReferenceByName(c.name)
		if err != nil {
			t.Fatal(err)
		}
		if r.Description == "" {
			t.Errorf("%s has no description", c.name)
		}
		m, err := r.Build([]int{2}, 1, c.opt)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := m.Summary([]int{2})
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 || rows[0].Kind != c.kind || !equal(rows[0].OutputShape, []int{1}) || rows[0].Params != c.want {
			t.Errorf("%s %+v: summary %+v, want one %s layer of %d parameters with output [1]", c.name, c.opt, rows, c.kind, c.want)
		}
		g := graph.New()
		x, _ := g.Input("x", 8, 2)
		if _, err := m.Build(g, x); err != nil {
			t.Fatal(err)
		}
		if got := len(g.Penalties()); (c.opt.L2 > 0) != (got == 1) {
			t.Errorf("%s %+v: %d penalties", c.name, c.opt, got)
		}
		spec, err := nn.Describe(m)
		if err != nil {
			t.Fatal(err)
		}
		s := spec.Layers[0].Settings
		if s["users"] != c.opt.Users && !(c.opt.Users == 0 && s["users"] == users) {
			t.Errorf("%s: users %v", c.name, s["users"])
		}
		if c.opt.Mean != 0 && s["mean"] != c.opt.Mean {
			t.Errorf("%s: mean %v, want %v", c.name, s["mean"], c.opt.Mean)
		}
	}
}

// Describe → JSON and YAML → ParseSpec → Build gives the same layers,
// parameter names and, with the same seed, initial values (roundTrip).
func TestRecommenderSpecRoundTrip(t *testing.T) {
	for _, m := range []*nn.Sequential{
		nn.NewSequential("mf", &nn.MF{Users: 5, Movies: 7, Dim: 3, Mean: 3.25, L2: 0.02}),
		nn.NewSequential("mf", nn.NewMF(5, 7, 0, 0)),
		nn.NewSequential("mf", &nn.MF{Users: 5, Movies: 7, Dim: 32, Init: graph.HeNormal}),
		nn.NewSequential("biases", &nn.Biases{Users: 5, Movies: 7, Mean: 3.543, L2: 1e-3}),
		nn.NewSequential("biases", nn.NewBiases(1, 1, 0)),
		nn.NewSequential("ncf", nn.NewNCF(5, 7, 4, 3)),
		nn.NewSequential("ncf", &nn.NCF{Users: 5, Movies: 7, Hidden: []int{6, 5, 4}, Mean: -0.5, L2: 0.5}),
		nn.NewSequential("ncf", &nn.NCF{Users: 5, Movies: 7, Hidden: []int{64, 32}}),
		nn.NewSequential("two", &nn.Biases{Users: 5, Movies: 7}, nn.NewDense(1)),
	} {
		t.Run(m.Name(), func(t *testing.T) { roundTrip(t, m, []int{2}) })
	}
}

func TestRecommenderSpecs(t *testing.T) {
	for _, c := range []struct {
		layer nn.Layer
		want  string
	}{
		{&nn.MF{Users: 5, Movies: 7, Dim: 3, Mean: 3.25, L2: 0.02}, `{"mf":{"dim":3,"l2":0.02,"mean":3.25,"movies":7,"users":5}}`},
		{&nn.MF{Users: 5, Movies: 7, Dim: 32, Init: graph.HeNormal}, `{"mf":{"init":"he_normal","movies":7,"users":5}}`},
		{&nn.Biases{Users: 5, Movies: 7, Mean: 3.5}, `{"biases":{"mean":3.5,"movies":7,"users":5}}`},
		{&nn.NCF{Users: 5, Movies: 7, Hidden: []int{64, 32}}, `{"ncf":{"movies":7,"users":5}}`},
		{&nn.NCF{Users: 5, Movies: 7, Dim: 8, Hidden: []int{16}, L2: 0.1}, `{"ncf":{"dim":8,"hidden":[16],"l2":0.1,"movies":7,"users":5}}`},
	} {
		spec, err := nn.Describe(nn.NewSequential("m", c.layer))
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(spec.Layers[0])
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != c.want {
			t.Errorf("%s describes as %s, want %s", c.layer.Kind(), b, c.want)
		}
	}
	// A model file builds the layer it says.
	spec, err := nn.ParseSpec([]byte("name: rec\nlayers:\n  - ncf: {users: 3, movies: 4, dim: 2, hidden: [5, 6], mean: 3.5, l2: 0.01}\n"), "rec.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m, err := spec.Build()
	if err != nil {
		t.Fatal(err)
	}
	n, ok := m.Layers[0].(*nn.NCF)
	if !ok || n.Users != 3 || n.Movies != 4 || n.Dim != 2 || !equal(n.Hidden, []int{5, 6}) || n.Mean != 3.5 || n.L2 != 0.01 {
		t.Fatalf("built %#v", m.Layers[0])
	}
}

func TestRecommenderSpecErrors(t *testing.T) {
	for _, c := range []struct{ spec, want string }{
		{"mf: {movies: 3}", `layer 1 (mf): missing required setting "users"`},
		{"mf: {users: 0, movies: 3}", `layer 1 (mf): setting "users" must be a positive integer, not 0`},
		{"mf: {users: 2, movies: 3, l2: -1}", `layer 1 (mf): setting "l2" must be at least 0, not -1`},
		{"mf: {users: 2, movies: 3, mean: high}", `layer 1 (mf): setting "mean" must be a number, not "high"`},
		{"mf: {users: 2, movies: 3, factors: 8}", `layer 1 (mf): unknown setting "factors" (known: dim, init, inputs, l2, mean, movies, name, users)`},
		{"biases: {users: 2, movies: 3, dim: 8}", `layer 1 (biases): unknown setting "dim" (known: inputs, l2, mean, movies, name, users)`},
		{"ncf: {users: 2, movies: 3, hidden: [4, 0]}", `layer 1 (ncf): setting "hidden" must be a list of positive integers, as in [64, 32], not [4, 0]`},
		{"ncf: {users: 2, movies: 3, hidden: 4}", `setting "hidden" must be a list of positive integers`},
		{"ncf: {users: 2, movies: 3, hidden: []}", `setting "hidden" must be a list of positive integers`},
		{"ncf: {users: 2, movies: 3, init: normal}", `setting "init" must be an initialiser name`},
	} {
		_, err := nn.ParseSpec([]byte("name: m\nlayers:\n  - "+c.spec+"\n"), "")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.spec, err, c.want)
		}
	}
}

func TestRecommenderShapeErrors(t *testing.T) {
	for _, c := range []struct {
		layer nn.Layer
		in    []int
		want  string
	}{
		{&nn.MF{Users: 2, Movies: 3}, []int{3}, "mf1 (MF): input shape [3]: want [2] per example"},
		{&nn.MF{Users: 2, Movies: 3}, []int{2, 2}, "mf1 (MF): input shape [2 2]: want [2]"},
		{&nn.Biases{Users: 2, Movies: 3}, []int{1}, "biases1 (Biases): input shape [1]: want [2]"},
		{&nn.NCF{Users: 2, Movies: 3}, []int{784}, "ncf1 (NCF): input shape [784]: want [2]"},
		{&nn.MF{Movies: 3}, []int{2}, "mf1 (MF): input shape [2]: the numbers of users 0 and movies 3 must be positive"},
		{&nn.Biases{Users: 2}, []int{2}, "the numbers of users 2 and movies 0"},
		{&nn.MF{Users: 2, Movies: 3, Dim: -1}, []int{2}, "embedding size -1"},
		{&nn.MF{Users: 2, Movies: 3, Mean: math.NaN()}, []int{2}, "mean NaN must be finite"},
		{&nn.Biases{Users: 2, Movies: 3, L2: -0.5}, []int{2}, "l2 -0.5 must be finite and at least 0"},
		{&nn.NCF{Users: 2, Movies: 3, L2: math.Inf(1)}, []int{2}, "l2 +Inf"},
		{&nn.NCF{Users: 2, Movies: 3, Hidden: []int{4, 0}}, []int{2}, "ncf1 (NCF): input shape [2]: hidden sizes [4 0] must be positive"},
	} {
		m := nn.NewSequential("m", c.layer)
		mustFail(t, c.layer.Kind()+" OutputShape", func() error { _, err := c.layer.OutputShape(c.in); return err }, c.want)
		g := graph.New()
		x, _ := g.Input("x", append([]int{4}, c.in...)...)
		mustFail(t, c.layer.Kind()+" Build", func() error { _, err := m.Build(g, x); return err }, c.want)
		if len(g.Params()) != 0 {
			t.Errorf("%s: a failed Build declared %d parameters", c.layer.Kind(), len(g.Params()))
		}
	}
}

// Build on a nil or zero graph, with a nil input, an input of another
// graph or one with no batch axis, is an error naming the layer; a nil
// layer's methods return errors or zero values.
func TestRecommenderBadArguments(t *testing.T) {
	for _, l := range []nn.Layer{nn.NewMF(3, 4, 2, 0), nn.NewBiases(3, 4, 0), nn.NewNCF(3, 4, 2, 0)} {
		nn.NewSequential("m", l)
		name := l.Name()
		other := graph.New()
		ox, _ := other.Input("x", 2, 2)
		g := graph.New()
		flat, _ := g.Input("flat", 2)
		mustFail(t, name+" nil graph", func() error { _, err := l.Build(nil, ox); return err }, name)
		mustFail(t, name+" zero graph", func() error { _, err := l.Build(&graph.Graph{}, ox); return err }, name)
		mustFail(t, name+" nil input", func() error { _, err := l.Build(g, nil); return err }, name)
		mustFail(t, name+" other graph", func() error { _, err := l.Build(g, ox); return err }, "another graph")
		mustFail(t, name+" no batch axis", func() error { _, err := l.Build(g, flat); return err }, "batch axis")
		x, _ := g.Input("x", 2, 2)
		if _, err := l.Build(g, x); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		// A second Build on the same graph is an error (the names are taken).
		mustFail(t, name+" built twice", func() error { _, err := l.Build(g, x); return err }, "already exists")
	}
	g := graph.New()
	x, _ := g.Input("x", 2, 2)
	for _, l := range []nn.Layer{(*nn.MF)(nil), (*nn.Biases)(nil), (*nn.NCF)(nil)} {
		kind := l.Kind()
		mustFail(t, kind+" OutputShape", func() error { _, err := l.OutputShape([]int{2}); return err }, "nil "+kind)
		mustFail(t, kind+" Build", func() error { _, err := l.Build(g, x); return err }, "nil "+kind)
		if n := l.NumParams([]int{2}); n != 0 {
			t.Errorf("nil %s: %d parameters", kind, n)
		}
	}
}

// An id outside the users or movies is an error when the model runs.
func TestRecommenderBadIDs(t *testing.T) {
	for _, ids := range [][]float64{{0, 0, 3, 1}, {0, 4, 1, 1}, {-1, 0, 0, 0}, {0.5, 0, 0, 0}} {
		g := graph.New()
		x := recIDs(t, g, ids)
		m := nn.NewSequential("m", &nn.MF{Users: 3, Movies: 4, Dim: 2, L2: 0.1})
		pred, err := m.Build(g, x)
		if err != nil {
			t.Fatal(err)
		}
		prog, err := g.Compile(recLoss(t, g, pred, []float64{1, 2}), pred)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := prog.Run(true); err == nil || !strings.Contains(err.Error(), "not in [0, ") {
			t.Errorf("ids %v: error %v", ids, err)
		}
		prog.Close()
	}
}
