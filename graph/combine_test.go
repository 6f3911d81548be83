package graph_test

import (
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/internal/gradcheck"
	"gorgonia.org/gorgonia"
)

// combineProbe reduces y to a scalar with a fixed projection: Σ y⊙p.
func combineProbe(t *testing.T, g *graph.Graph, y *graph.Node) *graph.Node {
	t.Helper()
	vals := make([]float64, y.Shape().TotalSize())
	for i := range vals {
		vals[i] = math.Sin(float64(5*i + 1))
	}
	p, err := g.Constant("combine.probe", vals, y.Shape()...)
	if err != nil {
		t.Fatal(err)
	}
	h, err := gorgonia.HadamardProd(y, p)
	if err != nil {
		t.Fatal(err)
	}
	s, err := gorgonia.Sum(h)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// combineOK returns a function that passes on a built node and fails the
// test on an error: combineOK(t)(graph.Add(a, b)).
func combineOK(t *testing.T) func(*graph.Node, error) *graph.Node {
	t.Helper()
	return func(n *graph.Node, err error) *graph.Node {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
}

func TestCombineGradients(t *testing.T) {
	// Each case builds y from inputs and returns the inputs to check.
	type build func(t *testing.T, g *graph.Graph) (y *graph.Node, wrt gorgonia.Nodes)
	cases := []struct {
		name  string
		build build
	}{
		{"Add", func(t *testing.T, g *graph.Graph) (*graph.Node, gorgonia.Nodes) {
			a, b := input(t, g, "a", 1, 3, 4), input(t, g, "b", 2, 3, 4)
			return combineOK(t)(graph.Add(a, b)), gorgonia.Nodes{a, b}
		}},
		{"AddSelf", func(t *testing.T, g *graph.Graph) (*graph.Node, gorgonia.Nodes) {
			a := input(t, g, "a", 1, 2, 3)
			return combineOK(t)(graph.Add(a, a)), gorgonia.Nodes{a}
		}},
		{"AddScalar", func(t *testing.T, g *graph.Graph) (*graph.Node, gorgonia.Nodes) {
			x := input(t, g, "x", 1, 3, 4)
			return combineOK(t)(graph.AddScalar(x, 3.53)), gorgonia.Nodes{x}
		}},
		{"RowDot", func(t *testing.T, g *graph.Graph) (*graph.Node, gorgonia.Nodes) {
			a, b := input(t, g, "a", 1, 4, 3), input(t, g, "b", 2, 4, 3)
			return combineOK(t)(graph.RowDot(a, b)), gorgonia.Nodes{a, b}
		}},
		{"RowDotSelf", func(t *testing.T, g *graph.Graph) (*graph.Node, gorgonia.Nodes) {
			a := input(t, g, "a", 1, 4, 3)
			return combineOK(t)(graph.RowDot(a, a)), gorgonia.Nodes{a}
		}},
		{"RowDot3D", func(t *testing.T, g *graph.Graph) (*graph.Node, gorgonia.Nodes) {
			a, b := input(t, g, "a", 1, 2, 3, 4), input(t, g, "b", 2, 2, 3, 4)
			return combineOK(t)(graph.RowDot(a, b)), gorgonia.Nodes{a, b}
		}},
		{"Concat", func(t *testing.T, g *graph.Graph) (*graph.Node, gorgonia.Nodes) {
			a, b := input(t, g, "a", 1, 3, 2), input(t, g, "b", 2, 3, 4)
			return combineOK(t)(graph.Concat(a, b)), gorgonia.Nodes{a, b}
		}},
		{"ConcatThree3D", func(t *testing.T, g *graph.Graph) (*graph.Node, gorgonia.Nodes) {
			a, b, c := input(t, g, "a", 1, 2, 2, 1), input(t, g, "b", 2, 2, 2, 3), input(t, g, "c", 1, 2, 2, 2)
			return combineOK(t)(graph.Concat(a, b, c)), gorgonia.Nodes{a, b, c}
		}},
		{"ConcatRepeated", func(t *testing.T, g *graph.Graph) (*graph.Node, gorgonia.Nodes) {
			a, b := input(t, g, "a", 1, 3, 2), input(t, g, "b", 2, 3, 1)
			return combineOK(t)(graph.Concat(a, b, a)), gorgonia.Nodes{a, b}
		}},
		{"Column", func(t *testing.T, g *graph.Graph) (*graph.Node, gorgonia.Nodes) {
			x := input(t, g, "x", 1, 4, 3)
			return combineOK(t)(graph.Column(x, 1)), gorgonia.Nodes{x}
		}},
		{"TwoColumns", func(t *testing.T, g *graph.Graph) (*graph.Node, gorgonia.Nodes) {
			x := input(t, g, "x", 1, 4, 3)
			c0 := combineOK(t)(graph.Column(x, 0))
			c2 := combineOK(t)(graph.Column(x, 2))
			c2 = combineOK(t)(graph.AddScalar(c2, -1))
			r := combineOK(t)(graph.Reshape(c0, 4, 1))
			// Column 0 twice (directly and through RowDot with column 2)
			// and column 2: the gradients into x accumulate.
			d := combineOK(t)(graph.RowDot(r, combineOK(t)(graph.Reshape(c2, 4, 1))))
			return combineOK(t)(graph.Add(combineOK(t)(graph.Reshape(d, 4)), c0)), gorgonia.Nodes{x}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := graph.New(graph.WithDType(graph.Float64))
			y, wrt := c.build(t, g)
			n, err := gradcheck.Check(g.Expr(), combineProbe(t, g, y), wrt, 1e-6, 1e-6)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				t.Fatal("no gradient element was checked")
			}
		})
	}
}

// combineRun runs g once and returns the values of ys as float64.
func combineRun(t *testing.T, g *graph.Graph, ys ...*graph.Node) [][]float64 {
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
	out := make([][]float64, len(ys))
	for i, v := range vals {
		out[i] = floatsOf(t, v)
	}
	return out
}

func combineDTypes(t *testing.T, f func(t *testing.T, dt graph.DType, tol float64)) {
	for _, dt := range []graph.DType{graph.Float32, graph.Float64} {
		t.Run(string(dt), func(t *testing.T) {
			tol := 1e-14
			if dt == graph.Float32 {
				tol = 1e-6
			}
			f(t, dt, tol)
		})
	}
}

// a = [[1 2 3] [4 5 6]], b = [[0.5 -1 2] [-2 0.25 1]], c = [[7] [8]].
var (
	combineA = []float64{1, 2, 3, 4, 5, 6}
	combineB = []float64{0.5, -1, 2, -2, 0.25, 1}
	combineC = []float64{7, 8}
)

func TestCombineForwardValues(t *testing.T) {
	combineDTypes(t, func(t *testing.T, dt graph.DType, tol float64) {
		g := graph.New(graph.WithDType(dt))
		a, _ := g.Constant("a", combineA, 2, 3)
		b, _ := g.Constant("b", combineB, 2, 3)
		c, _ := g.Constant("c", combineC, 2, 1)
		ys := []*graph.Node{
			combineOK(t)(graph.Add(a, b)),
			combineOK(t)(graph.AddScalar(a, 3.53)),
			combineOK(t)(graph.RowDot(a, b)),
			combineOK(t)(graph.Concat(a, b)),
			combineOK(t)(graph.Concat(c, a, c)),
			combineOK(t)(graph.Concat(a)),
			combineOK(t)(graph.Column(a, 0)),
			combineOK(t)(graph.Column(a, 2)),
		}
		shapes := []string{"(2, 3)", "(2, 3)", "(2, 1)", "(2, 6)", "(2, 5)", "(2, 3)", "(2)", "(2)"}
		want := [][]float64{
			{1.5, 1, 5, 2, 5.25, 7},
			{4.53, 5.53, 6.53, 7.53, 8.53, 9.53},
			{1*0.5 + 2*-1 + 3*2, 4*-2 + 5*0.25 + 6*1}, // 4.5, -0.75
			{1, 2, 3, 0.5, -1, 2, 4, 5, 6, -2, 0.25, 1},
			{7, 1, 2, 3, 7, 8, 4, 5, 6, 8},
			combineA,
			{1, 4},
			{3, 6},
		}
		got := combineRun(t, g, ys...)
		for i, y := range ys {
			if s := fmt.Sprint(y.Shape()); s != shapes[i] {
				t.Errorf("%s: shape %s, want %s", y.Op(), s, shapes[i])
			}
			near(t, fmt.Sprint(y.Op()), got[i], want[i], tol)
		}
	})
}

// The gradients of Σ y⊙p for a fixed p, worked out by hand, in both
// dtypes (the float64 gradient checks do not reach the float32 loops).
func TestCombineGradientValues(t *testing.T) {
	p23 := []float64{1, -1, 2, 0.5, 3, -2}
	cases := []struct {
		name  string
		y     func(a, b *graph.Node) (*graph.Node, error)
		p     []float64
		da    []float64
		db    []float64 // nil: b is not an operand
		pDims []int
	}{
		{"Add", graph.Add, p23, p23, p23, []int{2, 3}},
		{"AddScalar", func(a, _ *graph.Node) (*graph.Node, error) { return graph.AddScalar(a, -2.5) }, p23, p23, nil, []int{2, 3}},
		// da = p·b, db = p·a, row by row, p = [2, -1].
		{"RowDot", graph.RowDot, []float64{2, -1}, []float64{1, -2, 4, 2, -0.25, -1}, []float64{2, 4, 6, -4, -5, -6}, []int{2, 1}},
		{"Concat", func(a, b *graph.Node) (*graph.Node, error) { return graph.Concat(a, b) },
			[]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, []float64{1, 2, 3, 7, 8, 9}, []float64{4, 5, 6, 10, 11, 12}, []int{2, 6}},
		{"Column", func(a, _ *graph.Node) (*graph.Node, error) { return graph.Column(a, 1) }, []float64{3, -4}, []float64{0, 3, 0, 0, -4, 0}, nil, []int{2}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			combineDTypes(t, func(t *testing.T, dt graph.DType, tol float64) {
				g := graph.New(graph.WithDType(dt))
				a, _ := g.Input("a", 2, 3)
				b, _ := g.Input("b", 2, 3)
				if err := g.SetInput(a, combineA); err != nil {
					t.Fatal(err)
				}
				if err := g.SetInput(b, combineB); err != nil {
					t.Fatal(err)
				}
				y := combineOK(t)(c.y(a, b))
				p, err := g.Constant("p", c.p, c.pDims...)
				if err != nil {
					t.Fatal(err)
				}
				s := combineOK(t)(gorgonia.Sum(combineOK(t)(gorgonia.HadamardProd(y, p))))
				wrt := gorgonia.Nodes{a}
				if c.db != nil {
					wrt = append(wrt, b)
				}
				grads, err := gorgonia.Grad(s, wrt...)
				if err != nil {
					t.Fatal(err)
				}
				got := combineRun(t, g, grads...)
				near(t, "da", got[0], c.da, tol)
				if c.db != nil {
					near(t, "db", got[1], c.db, tol)
				}
			})
		})
	}
}

// Column's and AddScalar's parameters are part of their nodes' identity:
// two columns of one matrix, even 256 apart (Gorgonia's Slice hashes
// bounds as bytes), or two constants one ulp apart, are different nodes
// with their own values.
func TestColumnAndAddScalarNodesAreDistinct(t *testing.T) {
	g := graph.New(graph.WithDType(graph.Float64))
	x := input(t, g, "x", 1, 2, 300)
	c1, c257 := combineOK(t)(graph.Column(x, 1)), combineOK(t)(graph.Column(x, 257))
	if c1 == c257 {
		t.Fatal("Column 1 and Column 257 of x are one node")
	}
	lo := 0.1
	hi := math.Nextafter(lo, 1)
	s1, s2 := combineOK(t)(graph.AddScalar(c1, lo)), combineOK(t)(graph.AddScalar(c1, hi))
	if s1 == s2 {
		t.Fatalf("AddScalar(%v) and AddScalar(%v) are one node", lo, hi)
	}
	got := combineRun(t, g, c1, c257, s1, s2)
	xs := x.Value().Data().([]float64)
	for r := 0; r < 2; r++ {
		if got[0][r] != xs[r*300+1] || got[1][r] != xs[r*300+257] {
			t.Errorf("row %d: columns %v and %v, want %v and %v", r, got[0][r], got[1][r], xs[r*300+1], xs[r*300+257])
		}
		if got[2][r] != xs[r*300+1]+lo || got[3][r] != xs[r*300+1]+hi {
			t.Errorf("row %d: %v + %v = %v and %v + %v = %v", r, xs[r*300+1], lo, got[2][r], xs[r*300+1], hi, got[3][r])
		}
	}
}

func TestCombineErrors(t *testing.T) {
	g, other := graph.New(), graph.New()
	in := func(g *graph.Graph, name string, shape ...int) *graph.Node {
		n, err := g.Input(name, shape...)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	a, b, wide, col := in(g, "a", 2, 3), in(g, "b", 3, 2), in(g, "wide", 2, 4), in(g, "col", 3, 1)
	v, cube := in(g, "v", 3), in(g, "cube", 2, 3, 1)
	o := in(other, "other.x", 2, 3)
	f64 := gorgonia.NewMatrix(g.Expr(), graph.Float64.Tensor(), gorgonia.WithShape(2, 3), gorgonia.WithName("w64"))
	s := g.Scalar(2)
	var n *graph.Node
	for _, c := range []struct {
		what string
		f    func() (*graph.Node, error)
		want []string
	}{
		{"Add shapes", func() (*graph.Node, error) { return graph.Add(a, b) }, []string{"add", "a", "b", "(2, 3)", "(3, 2)", "differ"}},
		{"Add [3] and [3, 1]", func() (*graph.Node, error) { return graph.Add(v, col) }, []string{"add", "v", "col", "(3)", "(3, 1)"}},
		{"Add nil", func() (*graph.Node, error) { return graph.Add(a, n) }, []string{"add", "operand 2 is nil", "a"}},
		{"Add graphs", func() (*graph.Node, error) { return graph.Add(a, o) }, []string{"add", "a", "other.x", "different graphs"}},
		{"Add dtypes", func() (*graph.Node, error) { return graph.Add(a, f64) }, []string{"add", "a", "float32", "w64", "float64"}},
		{"RowDot shapes", func() (*graph.Node, error) { return graph.RowDot(a, wide) }, []string{"row dot", "a", "wide", "(2, 3)", "(2, 4)"}},
		{"RowDot [3] and [3, 1]", func() (*graph.Node, error) { return graph.RowDot(v, col) }, []string{"row dot", "(3)", "(3, 1)"}},
		{"RowDot nil", func() (*graph.Node, error) { return graph.RowDot(n, a) }, []string{"row dot", "operand 1 is nil", "a"}},
		{"RowDot graphs", func() (*graph.Node, error) { return graph.RowDot(o, a) }, []string{"row dot", "other.x", "different graphs"}},
		{"RowDot scalar", func() (*graph.Node, error) { return graph.RowDot(s, a) }, []string{"row dot", "(2, 3)"}},
		{"Concat none", func() (*graph.Node, error) { return graph.Concat() }, []string{"concat", "no operands"}},
		{"Concat rows", func() (*graph.Node, error) { return graph.Concat(a, wide, b) }, []string{"concat", "a", "b", "(2, 3)", "(3, 2)", "last"}},
		{"Concat ranks", func() (*graph.Node, error) { return graph.Concat(a, cube) }, []string{"concat", "cube", "(2, 3)", "(2, 3, 1)"}},
		{"Concat scalar first", func() (*graph.Node, error) { return graph.Concat(s, a) }, []string{"concat", "axis"}},
		{"Concat scalar later", func() (*graph.Node, error) { return graph.Concat(a, s) }, []string{"concat", "(2, 3)"}},
		{"Concat nil", func() (*graph.Node, error) { return graph.Concat(a, wide, n) }, []string{"concat", "operand 3 is nil", "wide"}},
		{"Concat graphs", func() (*graph.Node, error) { return graph.Concat(a, o) }, []string{"concat", "other.x", "different graphs"}},
		{"Concat dtypes", func() (*graph.Node, error) { return graph.Concat(f64, a) }, []string{"concat", "w64", "float32"}},
		{"Column vector", func() (*graph.Node, error) { return graph.Column(v, 0) }, []string{"column", "v", "(3)", "matrix"}},
		{"Column 3-d", func() (*graph.Node, error) { return graph.Column(cube, 0) }, []string{"column", "cube", "(2, 3, 1)"}},
		{"Column past the end", func() (*graph.Node, error) { return graph.Column(a, 3) }, []string{"column", "a", "(2, 3)", "column 3 is outside [0, 3)"}},
		{"Column negative", func() (*graph.Node, error) { return graph.Column(a, -1) }, []string{"column", "a", "column -1"}},
		{"Column nil", func() (*graph.Node, error) { return graph.Column(n, 0) }, []string{"column", "nil"}},
		{"Column of a lone constant", func() (*graph.Node, error) { return graph.Column(s, 0) }, []string{"column", "belongs to a graph"}},
		{"AddScalar NaN", func() (*graph.Node, error) { return graph.AddScalar(a, math.NaN()) }, []string{"add scalar", "a", "NaN", "not finite"}},
		{"AddScalar Inf", func() (*graph.Node, error) { return graph.AddScalar(a, math.Inf(-1)) }, []string{"add scalar", "a", "-Inf"}},
		{"AddScalar nil", func() (*graph.Node, error) { return graph.AddScalar(n, 1) }, []string{"add scalar", "nil"}},
	} {
		mustErr(t, c.what, node(c.f), c.want...)
	}
	var se *graph.ShapeError
	_, err := graph.RowDot(a, wide)
	if !errors.As(err, &se) || se.Op != "row dot" {
		t.Errorf("RowDot shape mismatch: %v (%T), want a *graph.ShapeError", err, err)
	}
}

// mfEmbed looks up the rows of table [rows, d] for the ids in column j of
// ids [n, 2]: Column → [n] → Reshape [n, 1] → Embedding [n, 1, d] →
// Reshape [n, d].
func mfEmbed(t *testing.T, ids *graph.Node, j int, table *graph.Node) *graph.Node {
	t.Helper()
	n, d := ids.Shape()[0], table.Shape()[1]
	c := combineOK(t)(graph.Column(ids, j))
	c = combineOK(t)(graph.Reshape(c, n, 1))
	e := combineOK(t)(graph.Embedding(c, table))
	return combineOK(t)(graph.Reshape(e, n, d))
}

// The biased matrix factorisation, built from these ops and
// Embedding: mean + b_user + b_movie + ⟨p_user, q_movie⟩.
//
//	P  = [[0.1 0.2] [0.3 -0.4] [-0.5 0.6]]          (3 users, d = 2)
//	Q  = [[1 2] [-1 0.5] [0.25 -0.75] [2 -1]]       (4 movies)
//	BU = [0.1 -0.2 0.3], BM = [0.5 -0.5 0.25 -0.25], mean 3.5
//
// For (user, movie) = (0,1), (2,3), (0,0), (1,3):
//
//	⟨p, q⟩ = 0, -1.6, 0.5, 1    prediction = 3.1, 1.95, 4.6, 4.05
//
// Against targets 3, 2.5, 4, 5 the squared error (mean over the batch)
// has dL/dpred = (pred - t)/2 = 0.05, -0.275, 0.3, -0.475, so
// dBU = [0.05+0.3, -0.475, -0.275] and dBM = [0.3, 0.05, 0, -0.275-0.475];
// dP[u] = Σ dpred·q and dQ[m] = Σ dpred·p over the batch rows of u or m.
func TestBiasedMFPrediction(t *testing.T) {
	const mean = 3.5
	ids := []float64{0, 1, 2, 3, 0, 0, 1, 3}
	targets := []float64{3, 2.5, 4, 5}
	tables := []struct {
		name  string
		shape []int
		vals  []float64
	}{
		{"user.embedding", []int{3, 2}, []float64{0.1, 0.2, 0.3, -0.4, -0.5, 0.6}},
		{"movie.embedding", []int{4, 2}, []float64{1, 2, -1, 0.5, 0.25, -0.75, 2, -1}},
		{"user.bias", []int{3, 1}, []float64{0.1, -0.2, 0.3}},
		{"movie.bias", []int{4, 1}, []float64{0.5, -0.5, 0.25, -0.25}},
	}
	build := func(t *testing.T, dt graph.DType) (g *graph.Graph, pred, loss *graph.Node, params []*graph.Param) {
		g = graph.New(graph.WithDType(dt))
		x, err := g.Input("ids", 4, 2)
		if err != nil {
			t.Fatal(err)
		}
		if err := g.SetInput(x, ids); err != nil {
			t.Fatal(err)
		}
		for _, tb := range tables {
			p, err := g.Param(tb.name, tb.shape, graph.Zeros)
			if err != nil {
				t.Fatal(err)
			}
			if err := p.SetValues(tb.vals); err != nil {
				t.Fatal(err)
			}
			params = append(params, p)
		}
		pu, qm := mfEmbed(t, x, 0, params[0].Node), mfEmbed(t, x, 1, params[1].Node)
		bu, bm := mfEmbed(t, x, 0, params[2].Node), mfEmbed(t, x, 1, params[3].Node)
		pred = combineOK(t)(graph.RowDot(pu, qm))
		pred = combineOK(t)(graph.Add(pred, bu))
		pred = combineOK(t)(graph.Add(pred, bm))
		pred = combineOK(t)(graph.AddScalar(pred, mean))
		tt, err := g.Constant("targets", targets, 4, 1)
		if err != nil {
			t.Fatal(err)
		}
		loss = combineOK(t)(graph.Loss(graph.SquaredError, pred, tt, nil))
		return g, pred, loss, params
	}
	dpred := []float64{0.05, -0.275, 0.3, -0.475}
	wantGrads := [][]float64{
		// dP[0] = 0.05·q1 + 0.3·q0, dP[1] = -0.475·q3, dP[2] = -0.275·q3.
		{0.05*-1 + 0.3*1, 0.05*0.5 + 0.3*2, -0.475 * 2, -0.475 * -1, -0.275 * 2, -0.275 * -1},
		// dQ[0] = 0.3·p0, dQ[1] = 0.05·p0, dQ[2] = 0, dQ[3] = -0.275·p2 - 0.475·p1.
		{0.3 * 0.1, 0.3 * 0.2, 0.05 * 0.1, 0.05 * 0.2, 0, 0, -0.275*-0.5 - 0.475*0.3, -0.275*0.6 - 0.475*-0.4},
		{dpred[0] + dpred[2], dpred[3], dpred[1]},
		{dpred[2], dpred[0], 0, dpred[1] + dpred[3]},
	}
	combineDTypes(t, func(t *testing.T, dt graph.DType, tol float64) {
		g, pred, loss, params := build(t, dt)
		if s := fmt.Sprint(pred.Shape()); s != "(4, 1)" {
			t.Fatalf("prediction shape %s, want (4, 1)", s)
		}
		prog, err := g.Compile(loss, pred)
		if err != nil {
			t.Fatal(err)
		}
		defer prog.Close()
		l, err := prog.Run(true)
		if err != nil {
			t.Fatal(err)
		}
		out, err := prog.Output(0)
		if err != nil {
			t.Fatal(err)
		}
		near(t, "prediction", out, []float64{3.1, 1.95, 4.6, 4.05}, tol)
		// (0.1² + 0.55² + 0.6² + 0.95²)/4
		near(t, "loss", []float64{l}, []float64{(0.01 + 0.3025 + 0.36 + 0.9025) / 4}, tol)
		for i, p := range params {
			if p != prog.Params()[i] {
				t.Fatalf("parameter %d of the program is %s, want %s", i, prog.Params()[i].Name, p.Name)
			}
			got := make([]float64, p.Size())
			if err := prog.Gradient(i, got); err != nil {
				t.Fatal(err)
			}
			near(t, "d"+p.Name, got, wantGrads[i], tol)
		}
	})
	t.Run("gradcheck", func(t *testing.T) {
		g, _, loss, params := build(t, graph.Float64)
		wrt := gorgonia.Nodes{}
		for _, p := range params {
			wrt = append(wrt, p.Node)
		}
		n, err := gradcheck.Check(g.Expr(), loss, wrt, 1e-6, 1e-6)
		if err != nil {
			t.Fatal(err)
		}
		if n != 6+8+3+4 {
			t.Fatalf("%d gradient elements checked, want 21", n)
		}
	})
}

// Embedding takes ids of any shape, as PyTorch's does: ids [n] give [n, dim].
func TestEmbeddingOfAnIDVector(t *testing.T) {
	g := graph.New(graph.WithDType(graph.Float64))
	ids, err := g.Input("ids", 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.SetInput(ids, []float64{2, 0, 2}); err != nil {
		t.Fatal(err)
	}
	table, err := g.Constant("table", []float64{1, 2, 3, 4, 5, 6}, 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	e, err := graph.Embedding(ids, table)
	if err != nil {
		t.Fatal(err)
	}
	if s := e.Shape(); len(s) != 2 || s[0] != 3 || s[1] != 2 {
		t.Fatalf("shape %v, want [3 2]", s)
	}
	got, err := gradcheck.Forward(g.Expr(), e)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{5, 6, 1, 2, 5, 6}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("rows %v, want %v", got, want)
		}
	}
}
