package graph_test

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/internal/gradcheck"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// floatsOf returns a copy of a value's data as float64.
func floatsOf(t *testing.T, v gorgonia.Value) []float64 {
	t.Helper()
	switch d := v.Data().(type) {
	case []float64:
		return append([]float64(nil), d...)
	case []float32:
		out := make([]float64, len(d))
		for i, x := range d {
			out[i] = float64(x)
		}
		return out
	}
	t.Fatalf("value %v is %T, want floats", v, v.Data())
	return nil
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

// bnParts is a batch norm with its parameters and buffers.
type bnParts struct {
	w, b       *graph.Param
	rm, rv, nb *graph.Buffer
	y          *gorgonia.Node
}

// newBatchNorm declares the parameters and buffers of a batch norm named
// bn.* over x's channels and applies it to x.
func newBatchNorm(t *testing.T, g *graph.Graph, x *gorgonia.Node, momentum, eps float64) *bnParts {
	t.Helper()
	c := x.Shape()[1]
	p := &bnParts{}
	var err error
	if p.w, err = g.Param("bn.weight", []int{c}, graph.Normal(1)); err != nil {
		t.Fatal(err)
	}
	if p.b, err = g.Param("bn.bias", []int{c}, graph.Normal(1)); err != nil {
		t.Fatal(err)
	}
	if p.rm, err = g.Buffer("bn.running_mean", []int{c}, graph.Zeros); err != nil {
		t.Fatal(err)
	}
	if p.rv, err = g.Buffer("bn.running_var", []int{c}, graph.Constant(1)); err != nil {
		t.Fatal(err)
	}
	if p.nb, err = g.Counter("bn.num_batches_tracked"); err != nil {
		t.Fatal(err)
	}
	if p.y, err = graph.BatchNorm(x, p.w.Node, p.b.Node, p.rm, p.rv, p.nb, momentum, eps); err != nil {
		t.Fatal(err)
	}
	return p
}

// probed returns Σ y⊙probe, a scalar with a non-trivial gradient.
func probed(t *testing.T, g *graph.Graph, y *gorgonia.Node) *gorgonia.Node {
	t.Helper()
	p := input(t, g, "probe", 1, y.Shape()...)
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

// setStats gives the running statistics of c channels non-trivial values.
func setStats(t *testing.T, p *bnParts, c int) {
	t.Helper()
	m, v := make([]float64, c), make([]float64, c)
	for i := range m {
		m[i] = 0.4*math.Sin(float64(i+1)) - 0.1
		v[i] = 0.5 + 0.3*float64(i)
	}
	if err := p.rm.SetValues(m); err != nil {
		t.Fatal(err)
	}
	if err := p.rv.SetValues(v); err != nil {
		t.Fatal(err)
	}
}

func TestNormGradients(t *testing.T) {
	cases := []struct {
		name     string
		layer    string // "batch" or "layer"
		shape    []int
		training bool
		active   int
	}{
		{"BatchNorm1dTraining", "batch", []int{5, 3}, true, 0},
		{"BatchNorm2dTraining", "batch", []int{3, 2, 3, 2}, true, 0},
		{"BatchNorm1dEvaluation", "batch", []int{5, 3}, false, 0},
		{"BatchNorm2dEvaluation", "batch", []int{3, 2, 3, 2}, false, 0},
		{"BatchNorm1dPadded", "batch", []int{6, 3}, true, 4},
		{"BatchNorm2dPadded", "batch", []int{3, 2, 2, 3}, true, 2},
		{"BatchNorm1dEvaluationPadded", "batch", []int{5, 3}, false, 2},
		{"LayerNorm2d", "layer", []int{3, 5}, true, 0},
		{"LayerNorm3dEvaluation", "layer", []int{2, 3, 4}, false, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := graph.New(graph.WithDType(graph.Float64), graph.WithSeed(5))
			x := input(t, g, "x", 2, c.shape...)
			var y *gorgonia.Node
			var wrt gorgonia.Nodes
			var bn *bnParts
			if c.layer == "batch" {
				bn = newBatchNorm(t, g, x, 0.1, 1e-5)
				if !c.training {
					setStats(t, bn, c.shape[1])
				}
				y, wrt = bn.y, gorgonia.Nodes{x, bn.w.Node, bn.b.Node}
			} else {
				d := c.shape[len(c.shape)-1]
				w, err := g.Param("ln.weight", []int{d}, graph.Normal(1))
				if err != nil {
					t.Fatal(err)
				}
				b, err := g.Param("ln.bias", []int{d}, graph.Normal(1))
				if err != nil {
					t.Fatal(err)
				}
				if y, err = graph.LayerNorm(x, w.Node, b.Node, 1e-5); err != nil {
					t.Fatal(err)
				}
				wrt = gorgonia.Nodes{x, w.Node, b.Node}
			}
			g.SetTraining(c.training)
			g.SetActiveRows(c.active)
			var before []float64
			if bn != nil {
				before = append(bn.rm.Values(), bn.rv.Values()...)
			}
			n, err := gradcheck.Check(g.Expr(), probed(t, g, y), wrt, 1e-6, 1e-6)
			if err != nil {
				t.Fatal(err)
			}
			if want := x.Shape().TotalSize(); n < want {
				t.Fatalf("%d elements checked, want at least %d", n, want)
			}
			if bn != nil && !c.training {
				near(t, "running statistics after evaluation runs", append(bn.rm.Values(), bn.rv.Values()...), before, 0)
				if v := bn.nb.Values()[0]; v != 0 {
					t.Fatalf("num_batches_tracked %g after evaluation runs, want 0", v)
				}
			}
		})
	}
}

// A batch padded from 3 to 5 rows gives the active rows the outputs,
// statistics and gradients of the 3-row batch; the padded rows get zero
// output and zero gradient.
func TestBatchNormPaddedBatch(t *testing.T) {
	type result struct {
		y, dx, dw, db, stats []float64
	}
	run := func(batch, active int, pad float64) result {
		g := graph.New(graph.WithDType(graph.Float64), graph.WithSeed(2))
		vals := make([]float64, batch*2*2)
		for i := range vals {
			vals[i] = math.Sin(float64(i)) * 3
			if active > 0 && i >= active*4 {
				vals[i] = pad
			}
		}
		x, err := g.Input("x", batch, 2, 1, 2)
		if err != nil {
			t.Fatal(err)
		}
		if err := gorgonia.Let(x, tensor.New(tensor.WithShape(batch, 2, 1, 2), tensor.WithBacking(vals))); err != nil {
			t.Fatal(err)
		}
		bn := newBatchNorm(t, g, x, 0.25, 1e-5)
		pv := make([]float64, batch*4)
		for i := range pv {
			pv[i] = math.Cos(float64(2 * i))
		}
		probe, _ := g.Constant("probe", pv, batch, 2, 1, 2)
		h, _ := gorgonia.HadamardProd(bn.y, probe)
		loss, _ := gorgonia.Sum(h)
		grads, err := gorgonia.Grad(loss, x, bn.w.Node, bn.b.Node)
		if err != nil {
			t.Fatal(err)
		}
		var yv, dxv, dwv, dbv gorgonia.Value
		gorgonia.Read(bn.y, &yv)
		gorgonia.Read(grads[0], &dxv)
		gorgonia.Read(grads[1], &dwv)
		gorgonia.Read(grads[2], &dbv)
		g.SetTraining(true)
		vm := gorgonia.NewTapeMachine(g.Expr())
		defer vm.Close()
		// A first run over every row leaves values in the op's buffers
		// that the padded run must not keep.
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		if err := errors.Join(bn.rm.SetValues([]float64{0, 0}), bn.rv.SetValues([]float64{1, 1}), bn.nb.SetValues([]float64{0})); err != nil {
			t.Fatal(err)
		}
		g.SetActiveRows(active)
		vm.Reset()
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		return result{floatsOf(t, yv), floatsOf(t, dxv), floatsOf(t, dwv), floatsOf(t, dbv), append(bn.rm.Values(), bn.rv.Values()...)}
	}
	whole := run(3, 0, 0)
	for _, pad := range []float64{0, 7, -100} {
		padded := run(5, 3, pad)
		near(t, "active outputs", padded.y[:12], whole.y, 1e-12)
		near(t, "padded outputs", padded.y[12:], make([]float64, 8), 0)
		near(t, "active input gradient", padded.dx[:12], whole.dx, 1e-12)
		near(t, "padded input gradient", padded.dx[12:], make([]float64, 8), 0)
		near(t, "weight gradient", padded.dw, whole.dw, 1e-12)
		near(t, "bias gradient", padded.db, whole.db, 1e-12)
		near(t, "running statistics", padded.stats, whole.stats, 1e-12)
	}
	// ActiveRows at or above the batch size means every row.
	near(t, "ActiveRows ≥ batch", run(3, 3, 0).y, whole.y, 0)
	near(t, "ActiveRows > batch", run(3, 8, 0).y, whole.y, 0)
}

// The example of the forward tests: 4 values per channel, eps 1.5 so that
// var+eps is a square.
//
//	channel 0: 0, 1, 3, 4    mean 2,  deviations -2 -1 1 2, Σd² 10: var 2.5,  unbiased 10/3; var+eps 4, x̂ = -1 -0.5 0.5 1
//	channel 1: 15, 5, 12, 8  mean 10, deviations 5 -5 2 -2, Σd² 58: var 14.5, unbiased 58/3; var+eps 16, x̂ = 1.25 -1.25 0.5 -0.5
//
// weight [2 3], bias [1 -1]: y0 = 2x̂+1 = -1 0 2 3, y1 = 3x̂-1 = 2.75 -4.75 0.5 -2.5.
// With running statistics mean [2 6], var [2.5 14.5] (evaluation):
// y0 = (x-2)·0.5·2+1 = x-1, y1 = (x-6)·0.25·3-1 = 0.75x-5.5.
func TestBatchNormForwardValues(t *testing.T) {
	layouts := []struct {
		name              string
		shape             []int
		x, yTrain, yEval  []float64
		wantMean, wantVar []float64
	}{
		{"1d", []int{4, 2},
			[]float64{0, 15, 1, 5, 3, 12, 4, 8},
			[]float64{-1, 2.75, 0, -4.75, 2, 0.5, 3, -2.5},
			[]float64{-1, 5.75, 0, -1.75, 2, 3.5, 3, 0.5},
			nil, nil},
		{"2d", []int{2, 2, 1, 2},
			[]float64{0, 1, 15, 5, 3, 4, 12, 8},
			[]float64{-1, 0, 2.75, -4.75, 2, 3, 0.5, -2.5},
			[]float64{-1, 0, 5.75, -1.75, 2, 3, 3.5, 0.5},
			nil, nil},
	}
	// Running statistics with momentum 0.1 from mean 0, var 1:
	// one step:  mean 0.1·[2 10] = [0.2 1], var 0.9 + 0.1·[10/3 58/3]
	// two steps: mean 0.9·[0.2 1] + [0.2 1] = [0.38 1.9], var 0.9·(step one) + 0.1·[10/3 58/3]
	step1Mean, step1Var := []float64{0.2, 1}, []float64{0.9 + 1.0/3, 0.9 + 5.8/3}
	step2Mean, step2Var := []float64{0.38, 1.9}, []float64{0.9*(0.9+1.0/3) + 1.0/3, 0.9*(0.9+5.8/3) + 5.8/3}
	for _, dt := range []graph.DType{graph.Float32, graph.Float64} {
		for _, l := range layouts {
			t.Run(string(dt)+"/"+l.name, func(t *testing.T) {
				tol := 1e-12
				if dt == graph.Float32 {
					tol = 1e-6
				}
				g := graph.New(graph.WithDType(dt))
				x, _ := g.Constant("x", l.x, l.shape...)
				w, _ := g.Constant("w", []float64{2, 3}, 2)
				b, _ := g.Constant("b", []float64{1, -1}, 2)
				rm, _ := g.Buffer("rm", []int{2}, graph.Zeros)
				rv, _ := g.Buffer("rv", []int{2}, graph.Constant(1))
				nb, _ := g.Counter("nb")
				y, err := graph.BatchNorm(x, w, b, rm, rv, nb, 0.1, 1.5)
				if err != nil {
					t.Fatal(err)
				}
				var yv gorgonia.Value
				gorgonia.Read(y, &yv)
				vm := gorgonia.NewTapeMachine(g.Expr())
				defer vm.Close()
				step := func() {
					t.Helper()
					vm.Reset()
					if err := vm.RunAll(); err != nil {
						t.Fatal(err)
					}
				}
				g.SetTraining(true)
				step()
				near(t, "training output", floatsOf(t, yv), l.yTrain, tol)
				near(t, "running_mean after one step", rm.Values(), step1Mean, tol)
				near(t, "running_var after one step", rv.Values(), step1Var, tol)
				near(t, "num_batches_tracked after one step", nb.Values(), []float64{1}, 0)
				step()
				near(t, "training output, second step", floatsOf(t, yv), l.yTrain, tol)
				near(t, "running_mean after two steps", rm.Values(), step2Mean, tol)
				near(t, "running_var after two steps", rv.Values(), step2Var, tol)
				near(t, "num_batches_tracked after two steps", nb.Values(), []float64{2}, 0)

				g.SetTraining(false)
				if err := rm.SetValues([]float64{2, 6}); err != nil {
					t.Fatal(err)
				}
				if err := rv.SetValues([]float64{2.5, 14.5}); err != nil {
					t.Fatal(err)
				}
				step()
				near(t, "evaluation output", floatsOf(t, yv), l.yEval, tol)
				near(t, "running_mean after evaluation", rm.Values(), []float64{2, 6}, 0)
				near(t, "running_var after evaluation", rv.Values(), []float64{2.5, 14.5}, 0)
				near(t, "num_batches_tracked after evaluation", nb.Values(), []float64{2}, 0)
			})
		}
	}
}

// Rows [1 2 3 4] (mean 2.5, var 1.25) and [3.5 -3.5 0.5 -0.5] (mean 0, var
// 6.25) with eps 2.75: invstd 1/2 and 1/3, x̂ = [-0.75 -0.25 0.25 0.75] and
// [7/6 -7/6 1/6 -1/6]; weight [1 2 -1 0.5], bias [0 1 0 -1].
func TestLayerNormForwardValues(t *testing.T) {
	want := []float64{-0.75, 0.5, -0.25, -0.625, 7.0 / 6, -4.0 / 3, -1.0 / 6, -13.0 / 12}
	for _, dt := range []graph.DType{graph.Float32, graph.Float64} {
		for _, training := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/training=%v", dt, training), func(t *testing.T) {
				tol := 1e-12
				if dt == graph.Float32 {
					tol = 1e-6
				}
				g := graph.New(graph.WithDType(dt))
				x, _ := g.Constant("x", []float64{1, 2, 3, 4, 3.5, -3.5, 0.5, -0.5}, 2, 4)
				w, _ := g.Constant("w", []float64{1, 2, -1, 0.5}, 4)
				b, _ := g.Constant("b", []float64{0, 1, 0, -1}, 4)
				y, err := graph.LayerNorm(x, w, b, 2.75)
				if err != nil {
					t.Fatal(err)
				}
				var yv gorgonia.Value
				gorgonia.Read(y, &yv)
				g.SetTraining(training)
				vm := gorgonia.NewTapeMachine(g.Expr())
				defer vm.Close()
				if err := vm.RunAll(); err != nil {
					t.Fatal(err)
				}
				near(t, "output", floatsOf(t, yv), want, tol)
			})
		}
	}
}

func TestBuffers(t *testing.T) {
	for _, c := range []struct {
		dt   graph.DType
		want any
	}{{graph.Float32, []float32(nil)}, {graph.Float64, []float64(nil)}} {
		t.Run(string(c.dt), func(t *testing.T) {
			g := graph.New(graph.WithDType(c.dt))
			if _, err := g.Param("bn.weight", []int{3}, graph.Constant(1)); err != nil {
				t.Fatal(err)
			}
			rm, err := g.Buffer("bn.running_mean", []int{3}, graph.Zeros)
			if err != nil {
				t.Fatal(err)
			}
			rv, err := g.Buffer("bn.running_var", []int{3}, graph.Constant(1))
			if err != nil {
				t.Fatal(err)
			}
			nb, err := g.Counter("bn.num_batches_tracked")
			if err != nil {
				t.Fatal(err)
			}
			if ps := g.Params(); len(ps) != 1 || ps[0].Name != "bn.weight" || g.NumParams() != 3 || len(g.Nodes()) != 1 {
				t.Fatalf("Params() = %v, NumParams %d: buffers must not be parameters", ps, g.NumParams())
			}
			bs := g.Buffers()
			if len(bs) != 3 || bs[0] != rm || bs[1] != rv || bs[2] != nb {
				t.Fatalf("Buffers() = %v, want running_mean, running_var, num_batches_tracked", bs)
			}
			if g.BufferByName("bn.running_var") != rv || g.BufferByName("bn.weight") != nil || g.BufferByName("nope") != nil {
				t.Fatal("BufferByName finds the wrong buffer")
			}
			if !equalInts(rm.Shape(), []int{3}) || rm.Size() != 3 || rm.Int() {
				t.Fatalf("running_mean: shape %v size %d int %v", rm.Shape(), rm.Size(), rm.Int())
			}
			switch c.want.(type) {
			case []float32:
				if _, ok := rv.Data().([]float32); !ok {
					t.Fatalf("float32 graph: buffer data %T", rv.Data())
				}
			case []float64:
				if _, ok := rv.Data().([]float64); !ok {
					t.Fatalf("float64 graph: buffer data %T", rv.Data())
				}
			}
			near(t, "running_var initialised", rv.Values(), []float64{1, 1, 1}, 0)
			if err := rm.SetValues([]float64{0.5, -1.25, 3}); err != nil {
				t.Fatal(err)
			}
			near(t, "running_mean round trip", rm.Values(), []float64{0.5, -1.25, 3}, 0)
			v := rm.Values()
			v[0] = 99
			near(t, "Values is a copy", rm.Values(), []float64{0.5, -1.25, 3}, 0)
			if err := rm.SetValues([]float64{1, 2}); err == nil || !strings.Contains(err.Error(), "bn.running_mean") {
				t.Fatalf("SetValues with 2 values for 3: error %v, want one naming the buffer", err)
			}

			if s := nb.Shape(); s == nil || len(s) != 0 || nb.Size() != 1 || !nb.Int() {
				t.Fatalf("counter: shape %v size %d int %v, want [] 1 true", s, nb.Size(), nb.Int())
			}
			if d, ok := nb.Data().([]int64); !ok || len(d) != 1 || d[0] != 0 {
				t.Fatalf("counter data %v (%T), want []int64{0}", nb.Data(), nb.Data())
			}
			if err := nb.SetValues([]float64{41}); err != nil {
				t.Fatal(err)
			}
			nb.Data().([]int64)[0]++
			near(t, "counter", nb.Values(), []float64{42}, 0)
			if err := nb.SetValues([]float64{1.5}); err == nil {
				t.Fatal("a counter accepted 1.5")
			}
			if err := nb.SetValues([]float64{1, 2}); err == nil || !strings.Contains(err.Error(), "bn.num_batches_tracked") {
				t.Fatalf("counter SetValues with 2 values: error %v", err)
			}

			for _, name := range []string{"bn.weight", "bn.running_mean", "bn.num_batches_tracked"} {
				if _, err := g.Buffer(name, []int{3}, graph.Zeros); err == nil {
					t.Errorf("a second %s was accepted as a buffer", name)
				}
				if _, err := g.Counter(name); err == nil {
					t.Errorf("a second %s was accepted as a counter", name)
				}
				if _, err := g.Param(name, []int{3}, graph.Zeros); err == nil {
					t.Errorf("a second %s was accepted as a parameter", name)
				}
			}
			if _, err := g.Buffer("b", []int{3}, nil); err == nil {
				t.Error("a buffer without an initialiser was accepted")
			}
			if _, err := g.Buffer("c", []int{0}, graph.Zeros); err == nil {
				t.Error("a buffer with a zero dimension was accepted")
			}
			if _, err := g.Buffer("", []int{2}, graph.Zeros); err == nil {
				t.Error("a buffer without a name was accepted")
			}
			if len(g.Buffers()) != 3 {
				t.Fatalf("failed declarations added buffers: %v", g.Buffers())
			}
		})
	}
	var nilGraph *graph.Graph
	if _, err := nilGraph.Buffer("x", []int{1}, graph.Zeros); err == nil {
		t.Error("Buffer on a nil graph succeeded")
	}
	if _, err := nilGraph.Counter("x"); err == nil {
		t.Error("Counter on a nil graph succeeded")
	}
	if nilGraph.Buffers() != nil || nilGraph.BufferByName("x") != nil || nilGraph.Training() || nilGraph.ActiveRows() != 0 {
		t.Error("a nil graph reports buffers or a mode")
	}
	if err := nilGraph.Feed(); err == nil {
		t.Error("Feed on a nil graph succeeded")
	}
	var nilBuf *graph.Buffer
	if err := nilBuf.SetValues(nil); err == nil || nilBuf.Size() != 0 || nilBuf.Data() != nil {
		t.Error("a nil buffer accepted values or reported data")
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestModeAndActiveRows(t *testing.T) {
	g := graph.New()
	if g.Training() || g.ActiveRows() != 0 {
		t.Fatalf("new graph: training %v, active rows %d; want evaluation, 0", g.Training(), g.ActiveRows())
	}
	var seen []bool
	g.AddFeed("probe", func(training bool) error {
		seen = append(seen, training)
		return nil
	})
	for _, on := range []bool{true, false, true} {
		g.SetTraining(on)
		if g.Training() != on {
			t.Fatalf("SetTraining(%v): Training() = %v", on, g.Training())
		}
		if err := g.Feed(); err != nil {
			t.Fatal(err)
		}
	}
	if len(seen) != 3 || !seen[0] || seen[1] || !seen[2] {
		t.Fatalf("feeds saw %v, want [true false true]", seen)
	}
	g.SetActiveRows(7)
	if g.ActiveRows() != 7 {
		t.Fatalf("ActiveRows() = %d, want 7", g.ActiveRows())
	}
	g.SetActiveRows(-2)
	if g.ActiveRows() != 0 {
		t.Fatalf("SetActiveRows(-2): ActiveRows() = %d, want 0", g.ActiveRows())
	}
}

func TestNormErrors(t *testing.T) {
	g := graph.New()
	x, _ := g.Input("x", 8, 4)
	img, _ := g.Input("img", 2, 3, 5, 5)
	vec, _ := g.Input("vec", 4)
	w4p, _ := g.Param("bn.weight", []int{4}, graph.Constant(1))
	b4p, _ := g.Param("bn.bias", []int{4}, graph.Zeros)
	w3p, _ := g.Param("other.weight", []int{3}, graph.Constant(1))
	w4, b4, w3 := w4p.Node, b4p.Node, w3p.Node
	rm, _ := g.Buffer("bn.running_mean", []int{4}, graph.Zeros)
	rv, _ := g.Buffer("bn.running_var", []int{4}, graph.Constant(1))
	rv3, _ := g.Buffer("other.running_var", []int{3}, graph.Constant(1))
	nb, _ := g.Counter("bn.num_batches_tracked")
	other := graph.New()
	orm, _ := other.Buffer("bn.running_mean", []int{4}, graph.Zeros)

	shapeErrs := []struct {
		name  string
		err   error
		names []string
	}{
		{"weight", bnErr(x, w3, b4, rm, rv, nb), []string{"other.weight", "(8, 4)", "(3)"}},
		{"channels", bnErr(img, w4, b4, rm, rv, nb), []string{"bn.weight", "(2, 3, 5, 5)", "(4)"}},
		{"vector input", bnErr(vec, w4, b4, rm, rv, nb), []string{"vec", "(4)"}},
		{"running var", bnErr(x, w4, b4, rm, rv3, nb), []string{"other.running_var", "(8, 4)", "(3)"}},
		{"layernorm weight", lnErr(x, w3, b4), []string{"other.weight", "(8, 4)", "(3)"}},
		{"layernorm bias", lnErr(img, b4, w3), []string{"bn.bias", "(2, 3, 5, 5)", "(4)"}},
	}
	for _, c := range shapeErrs {
		var se *graph.ShapeError
		if !errors.As(c.err, &se) {
			t.Errorf("%s: error %v is not a *ShapeError", c.name, c.err)
			continue
		}
		for _, want := range c.names {
			if !strings.Contains(c.err.Error(), want) {
				t.Errorf("%s: error %q does not mention %q", c.name, c.err, want)
			}
		}
	}
	for _, c := range []struct {
		name string
		err  error
	}{
		{"nil input", bnErr(nil, w4, b4, rm, rv, nb)},
		{"nil weight", bnErr(x, nil, b4, rm, rv, nb)},
		{"nil running mean", bnErr(x, w4, b4, nil, rv, nb)},
		{"nil counter", bnErr(x, w4, b4, rm, rv, nil)},
		{"counter as running mean", bnErr(x, w4, b4, nb, rv, nb)},
		{"float buffer as counter", bnErr(x, w4, b4, rm, rv, rm)},
		{"buffer of another graph", bnErr(x, w4, b4, orm, rv, nb)},
		{"buffer not declared", bnErr(x, w4, b4, &graph.Buffer{Name: "loose"}, rv, nb)},
		{"layernorm nil bias", lnErr(x, w4, nil)},
	} {
		if c.err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
	for _, c := range []struct{ momentum, eps float64 }{{-0.1, 1e-5}, {1.5, 1e-5}, {math.NaN(), 1e-5}, {0.1, 0}, {0.1, -1}, {0.1, math.Inf(1)}} {
		if _, err := graph.BatchNorm(x, w4, b4, rm, rv, nb, c.momentum, c.eps); err == nil || !strings.Contains(err.Error(), "bn.weight") {
			t.Errorf("momentum %g eps %g: error %v, want one naming bn.weight", c.momentum, c.eps, err)
		}
	}
	if _, err := graph.LayerNorm(x, w4, b4, 0); err == nil {
		t.Error("LayerNorm with eps 0 was accepted")
	}
}

func bnErr(x, w, b *gorgonia.Node, rm, rv, nb *graph.Buffer) error {
	_, err := graph.BatchNorm(x, w, b, rm, rv, nb, 0.1, 1e-5)
	return err
}

func lnErr(x, w, b *gorgonia.Node) error {
	_, err := graph.LayerNorm(x, w, b, 1e-5)
	return err
}

// Training needs more than one value per channel, as in PyTorch;
// evaluation of a single example is fine.
func TestBatchNormSingleValueTraining(t *testing.T) {
	g := graph.New(graph.WithDType(graph.Float64))
	x := input(t, g, "x", 1, 1, 3)
	bn := newBatchNorm(t, g, x, 0.1, 1e-5)
	vm := gorgonia.NewTapeMachine(g.Expr())
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatalf("evaluation of one example: %v", err)
	}
	g.SetTraining(true)
	vm.Reset()
	if err := vm.RunAll(); err == nil || !strings.Contains(err.Error(), "more than one value") {
		t.Fatalf("training on one example: error %v", err)
	}
	if v := bn.nb.Values()[0]; v != 0 {
		t.Fatalf("a failed step counted a batch: %g", v)
	}
	// Two rows of which one is padding leave one value per channel too.
	g2 := graph.New(graph.WithDType(graph.Float64))
	x2 := input(t, g2, "x", 1, 2, 3)
	newBatchNorm(t, g2, x2, 0.1, 1e-5)
	g2.SetTraining(true)
	g2.SetActiveRows(1)
	vm2 := gorgonia.NewTapeMachine(g2.Expr())
	defer vm2.Close()
	if err := vm2.RunAll(); err == nil {
		t.Fatal("training on one active row succeeded")
	}
}
