package graph_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/graph"
)

func setParam(t *testing.T, p *graph.Param, err error, v []float64) *graph.Param {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.SetValues(v); err != nil {
		t.Fatal(err)
	}
	return p
}

// runGradients sets x and the seed, runs gr and returns y and the first
// gradient.
func runGradients(t *testing.T, g *graph.Graph, gr *graph.Gradients, x *graph.Node, xv, seed []float64) (y, grad []float64) {
	t.Helper()
	if err := g.SetInput(x, xv); err != nil {
		t.Fatal(err)
	}
	if err := gr.SetSeed(seed); err != nil {
		t.Fatal(err)
	}
	if err := gr.Run(); err != nil {
		t.Fatal(err)
	}
	y, err := gr.Output()
	if err != nil {
		t.Fatal(err)
	}
	if grad, err = gr.Gradient(0); err != nil {
		t.Fatal(err)
	}
	return y, grad
}

// y = x·W: with a one-hot seed per row, row r of the gradient with respect
// to x is the column of W the seed picks.
func TestGradientsOfALinearMapByHand(t *testing.T) {
	ok := combineOK(t)
	g := graph.New(graph.WithDType(graph.Float64))
	x := ok(g.Input("x", 2, 3))
	wp, err := g.Param("w", []int{3, 2}, graph.Zeros)
	setParam(t, wp, err, []float64{1, 2, 3, 4, 5, 6})
	y := ok(graph.MatMul(x, wp.Node))
	gr, err := g.CompileGradients(y, x)
	if err != nil {
		t.Fatal(err)
	}
	defer gr.Close()
	out, grad := runGradients(t, g, gr, x, []float64{1, 0, -1, 2, 1, 0}, []float64{1, 0, 0, 1})
	// rows of x·W: [1 0 -1]·W = [1-5, 2-6]; [2 1 0]·W = [2+3, 4+4]
	if want := []float64{-4, -4, 5, 8}; !slices.Equal(out, want) {
		t.Errorf("output %v, want %v", out, want)
	}
	// row 0 picks output 0: W's column 0 (1 3 5); row 1 output 1: (2 4 6)
	if want := []float64{1, 3, 5, 2, 4, 6}; !slices.Equal(grad, want) {
		t.Errorf("gradient %v, want %v", grad, want)
	}
}

// setParamValues is a helper for param constructors returning an error.
func setParamValues(t *testing.T, g *graph.Graph, name string, shape []int, rng *rand.Rand) *graph.Param {
	t.Helper()
	p, err := g.Param(name, shape, graph.Zeros)
	if err != nil {
		t.Fatal(err)
	}
	v := make([]float64, p.Size())
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	return setParam(t, p, nil, v)
}

// checkAgainstDifferences compares grad with central differences of
// Σ seed⊙y as xv moves, y read from gr's forward pass.
func checkAgainstDifferences(t *testing.T, g *graph.Graph, gr *graph.Gradients, x *graph.Node, xv, seed, grad []float64) {
	t.Helper()
	objective := func(v []float64) float64 {
		y, _ := runGradients(t, g, gr, x, v, seed)
		s := 0.0
		for i := range y {
			s += seed[i] * y[i]
		}
		return s
	}
	const eps = 1e-6
	for i := range xv {
		v := slices.Clone(xv)
		v[i] += eps
		up := objective(v)
		v[i] -= 2 * eps
		down := objective(v)
		num := (up - down) / (2 * eps)
		if math.Abs(num-grad[i]) > 1e-6*math.Max(1, math.Abs(num)) {
			t.Fatalf("gradient %d: %g, central differences %g", i, grad[i], num)
		}
	}
}

// A small network, batch-normalised in evaluation mode: every row's
// gradient agrees with central differences, for any seed.
func TestGradientsAgreeWithDifferences(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	ok := combineOK(t)
	g := graph.New(graph.WithDType(graph.Float64))
	x := ok(g.Input("x", 3, 4))
	w := setParamValues(t, g, "w", []int{4, 5}, rng)
	b := setParamValues(t, g, "b", []int{5}, rng)
	gamma := setParamValues(t, g, "gamma", []int{5}, rng)
	beta := setParamValues(t, g, "beta", []int{5}, rng)
	mean, err := g.Buffer("mean", []int{5}, graph.Constant(0.3))
	if err != nil {
		t.Fatal(err)
	}
	variance, err := g.Buffer("var", []int{5}, graph.Constant(2))
	if err != nil {
		t.Fatal(err)
	}
	count, err := g.Counter("count")
	if err != nil {
		t.Fatal(err)
	}
	h := ok(graph.AddBias(ok(graph.MatMul(x, w.Node)), b.Node))
	h = ok(graph.BatchNorm(h, gamma.Node, beta.Node, mean, variance, count, 0.1, 1e-5))
	y := ok(graph.Tanh(h))
	gr, err := g.CompileGradients(y, x)
	if err != nil {
		t.Fatal(err)
	}
	xv, seed := make([]float64, 12), make([]float64, 15)
	for i := range xv {
		xv[i] = rng.NormFloat64()
	}
	for i := range seed {
		seed[i] = rng.NormFloat64()
	}
	_, grad := runGradients(t, g, gr, x, xv, seed)
	checkAgainstDifferences(t, g, gr, x, xv, seed, grad)
	if v := mean.Values(); v[0] != 0.3 {
		t.Errorf("the running mean moved to %v: the pass is not in evaluation mode", v[0])
	}
}

// tapModel builds ids [2, 3] → embedding [5, 4] → reshape [2, 12] → ·W
// [12, 2] on g, tapped if tap is set.
func tapModel(t *testing.T, tap bool) (g *graph.Graph, ids, y *graph.Node, taps []graph.Tap) {
	t.Helper()
	rng := rand.New(rand.NewPCG(3, 4))
	ok := combineOK(t)
	g = graph.New(graph.WithDType(graph.Float64))
	ids = ok(g.Input("ids", 2, 3))
	build := func() error {
		table := setParamValues(t, g, "table", []int{5, 4}, rng)
		w := setParamValues(t, g, "w", []int{12, 2}, rng)
		rows, err := graph.Embedding(ids, table.Node)
		if err != nil {
			return err
		}
		flat, err := graph.Reshape(rows, 2, 12)
		if err != nil {
			return err
		}
		y, err = graph.MatMul(flat, w.Node)
		return err
	}
	if !tap {
		if err := build(); err != nil {
			t.Fatal(err)
		}
		return g, ids, y, nil
	}
	taps, err := g.TapEmbeddings(build)
	if err != nil {
		t.Fatal(err)
	}
	return g, ids, y, taps
}

// A tapped embedding gives the model the same output with a zero shift,
// the output of the shifted rows with another, and the gradient with
// respect to the rows.
func TestTapEmbeddings(t *testing.T) {
	idv := []float64{0, 4, 2, 2, 1, 3}
	plainG, plainIDs, plainY, none := tapModel(t, false)
	if none != nil {
		t.Fatal("taps outside TapEmbeddings")
	}
	plain, err := plainG.CompileForward(plainY)
	if err != nil {
		t.Fatal(err)
	}
	if err := plainG.SetInput(plainIDs, idv); err != nil {
		t.Fatal(err)
	}
	if _, err := plain.Run(false); err != nil {
		t.Fatal(err)
	}
	want, _ := plain.Output(0)

	g, ids, y, taps := tapModel(t, true)
	if len(taps) != 1 || taps[0].Table.Name() != "table" || taps[0].IDs != ids || !slices.Equal([]int(taps[0].Shift.Shape()), []int{2, 3, 4}) {
		t.Fatalf("taps %+v, want one of table, shift [2 3 4]", taps)
	}
	if err := g.SetInput(ids, idv); err != nil {
		t.Fatal(err)
	}
	gr, err := g.CompileGradients(y, taps[0].Shift)
	if err != nil {
		t.Fatal(err)
	}
	seed := []float64{1, 0, 0.5, -2}
	shift := make([]float64, 24)
	out, grad := runGradients(t, g, gr, taps[0].Shift, shift, seed)
	if !slices.Equal(out, want) {
		t.Errorf("tapped output %v, untapped %v", out, want)
	}
	checkAgainstDifferences(t, g, gr, taps[0].Shift, shift, seed, grad)

	// Shifted to rows r, the output is reshape(r)·W.
	table, w := g.ParamByName("table").Values(), g.ParamByName("w").Values()
	rows := make([]float64, 24)
	for i := range rows {
		rows[i] = float64(i%7) - 3
		shift[i] = rows[i] - table[int(idv[i/4])*4+i%4]
	}
	out, _ = runGradients(t, g, gr, taps[0].Shift, shift, seed)
	for b := range 2 {
		for j := range 2 {
			s := 0.0
			for k := range 12 {
				s += rows[b*12+k] * w[k*2+j]
			}
			if math.Abs(out[b*2+j]-s) > 1e-12 {
				t.Errorf("shifted output [%d %d] %g, want %g", b, j, out[b*2+j], s)
			}
		}
	}
}

func TestTapEmbeddingsErrors(t *testing.T) {
	g := graph.New()
	if _, err := g.TapEmbeddings(nil); err == nil {
		t.Error("a nil build function was accepted")
	}
	_, err := g.TapEmbeddings(func() error {
		_, err := g.TapEmbeddings(func() error { return nil })
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "already tapping") {
		t.Errorf("tapping within tapping: %v", err)
	}
	if _, err := (*graph.Graph)(nil).TapEmbeddings(func() error { return nil }); err == nil {
		t.Error("a nil graph was accepted")
	}
}

func TestCompileGradientsErrors(t *testing.T) {
	ok := combineOK(t)
	g := graph.New()
	x := ok(g.Input("x", 2, 3))
	other := ok(g.Input("other", 2, 3))
	w, err := g.Param("w", []int{3, 2}, graph.Zeros)
	if err != nil {
		t.Fatal(err)
	}
	y := ok(graph.MatMul(x, w.Node))
	for _, c := range []struct {
		name string
		y    *graph.Node
		wrt  []*graph.Node
		want string
	}{
		{"nil output", nil, []*graph.Node{x}, "nil output"},
		{"nothing to differentiate", y, nil, "no node"},
		{"unrelated input", y, []*graph.Node{other}, "other"},
		{"twice", y, []*graph.Node{x, x}, "twice"},
		{"nil node", y, []*graph.Node{nil}, "nil"},
	} {
		if _, err := g.CompileGradients(c.y, c.wrt...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error mentioning %q", c.name, err, c.want)
		}
	}
	gr, err := g.CompileGradients(y, x)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gr.Gradient(0); err == nil {
		t.Error("a gradient before the first run")
	}
	if err := gr.SetSeed([]float64{1}); err == nil {
		t.Error("a seed of the wrong size was accepted")
	}
	gr.Close()
	if err := gr.Run(); err != graph.ErrClosed {
		t.Errorf("run after close: %v", err)
	}
}
