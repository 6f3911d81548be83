package graph_test

import (
	"strings"
	"testing"

	"github.com/dlrun/dlrun/graph"
)

// noPanic runs f and fails the test if it panics.
func noPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: panic: %v", what, r)
		}
	}()
	f()
}

// errCase is a call that must return an error, not panic; the error must
// mention want.
type errCase struct {
	what string
	f    func() error
	want string
}

func runErrCases(t *testing.T, cases []errCase) {
	t.Helper()
	for _, c := range cases {
		var err error
		noPanic(t, c.what, func() { err = c.f() })
		if err == nil {
			t.Errorf("%s: no error", c.what)
		} else if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q does not mention %q", c.what, err, c.want)
		}
	}
}

// A nil *Graph and a zero Graph (not made by New) return errors from every
// method that declares or compiles, and zero values from accessors.
func TestNilAndZeroGraph(t *testing.T) {
	other := graph.New()
	x, _ := other.Input("x", 2, 3)
	for _, c := range []struct {
		name string
		g    *graph.Graph
	}{{"nil", nil}, {"zero", &graph.Graph{}}} {
		g := c.g
		runErrCases(t, []errCase{
			{c.name + " Input", func() error { _, err := g.Input("x", 2); return err }, "graph.New"},
			{c.name + " Param", func() error { _, err := g.Param("w", []int{2}, graph.Zeros); return err }, "graph.New"},
			{c.name + " Constant", func() error { _, err := g.Constant("c", []float64{1}, 1); return err }, "graph.New"},
			{c.name + " Buffer", func() error { _, err := g.Buffer("b", []int{2}, graph.Zeros); return err }, "graph.New"},
			{c.name + " Counter", func() error { _, err := g.Counter("n"); return err }, "graph.New"},
			{c.name + " AddFeed", func() error { return g.AddFeed("f", func(bool) error { return nil }) }, "graph.New"},
			{c.name + " RNGState", func() error { _, err := g.RNGState(); return err }, "graph.New"},
			{c.name + " SetRNGState", func() error { return g.SetRNGState([]byte("x")) }, "graph.New"},
			{c.name + " SetInput", func() error { return g.SetInput(x, make([]float64, 6)) }, "graph.New"},
			{c.name + " InputData", func() error { _, err := g.InputData(x); return err }, "graph.New"},
			{c.name + " Compile", func() error { _, err := g.Compile(x); return err }, "graph.New"},
			{c.name + " CompileForward", func() error { _, err := g.CompileForward(x); return err }, "graph.New"},
			{c.name + " CompileGradients", func() error { _, err := g.CompileGradients(x, x); return err }, "graph.New"},
			{c.name + " TapEmbeddings", func() error { _, err := g.TapEmbeddings(func() error { return nil }); return err }, "graph.New"},
		})
		noPanic(t, c.name+" accessors", func() {
			if g.Params() != nil || g.ParamByName("w") != nil || len(g.Nodes()) != 0 || g.NumParams() != 0 ||
				len(g.ParamNames()) != 0 || g.Buffers() != nil || g.BufferByName("b") != nil {
				t.Errorf("%s graph: accessors are not empty", c.name)
			}
			if g.RNG() != nil || g.Seed() != 0 || g.DType() != "" || g.Expr() != nil {
				t.Errorf("%s graph: RNG, Seed, DType or Expr is not the zero value", c.name)
			}
			g.SetTraining(true)
			g.SetActiveRows(3)
			_ = g.Training()
			_ = g.ActiveRows()
			_ = g.String()
			if g == nil && g.Scalar(1) != nil {
				t.Error("nil graph: Scalar is not nil")
			}
		})
	}
	var nilGraph *graph.Graph
	runErrCases(t, []errCase{{"nil Feed", nilGraph.Feed, "nil graph"}})
	noPanic(t, "zero Feed", func() {
		if err := (&graph.Graph{}).Feed(); err != nil {
			t.Errorf("zero graph: Feed: %v", err)
		}
	})
}

// Mismatched arguments to a graph's methods are errors.
func TestGraphMismatchedArguments(t *testing.T) {
	g, other := graph.New(), graph.New(graph.WithDType(graph.Float64))
	x, _ := g.Input("x", 2, 3)
	ox, _ := other.Input("ox", 2, 3)
	w, _ := g.Param("w", []int{3, 2}, graph.GlorotUniform)
	y, _ := graph.MatMul(x, w.Node)
	runErrCases(t, []errCase{
		{"Input empty name", func() error { _, err := g.Input("", 2); return err }, "empty node name"},
		{"Input no shape", func() error { _, err := g.Input("e"); return err }, "empty shape"},
		{"Input taken name", func() error { _, err := g.Input("x", 2); return err }, "already exists"},
		{"Param nil init", func() error { _, err := g.Param("p", []int{2}, nil); return err }, "no initialiser"},
		{"Param zero dimension", func() error { _, err := g.Param("p", []int{0}, graph.Zeros); return err }, "non-positive"},
		{"Constant values", func() error { _, err := g.Constant("c", []float64{1, 2}, 3); return err }, "2 values"},
		{"Buffer nil init", func() error { _, err := g.Buffer("b", []int{2}, nil); return err }, "no initialiser"},
		{"Counter taken name", func() error { _, err := g.Counter("w"); return err }, "already exists"},
		{"AddFeed nil", func() error { return g.AddFeed("f", nil) }, "nil function"},
		{"SetRNGState garbage", func() error { return g.SetRNGState([]byte("garbage")) }, "RNG state"},
		{"SetRNGState nil", func() error { return g.SetRNGState(nil) }, "RNG state"},
		{"SetInput nil node", func() error { return g.SetInput(nil, nil) }, "nil node"},
		{"SetInput other graph", func() error { return g.SetInput(ox, make([]float64, 6)) }, "another graph"},
		{"SetInput op node", func() error { return g.SetInput(y, make([]float64, 4)) }, "not a tensor input"},
		{"SetInput length", func() error { return g.SetInput(x, make([]float64, 5)) }, "6 values"},
		{"InputData nil node", func() error { _, err := g.InputData(nil); return err }, "nil node"},
		{"InputData other graph", func() error { _, err := g.InputData(ox); return err }, "another graph"},
		{"InputData op node", func() error { _, err := g.InputData(y); return err }, "not a tensor input"},
		{"Compile nil loss", func() error { _, err := g.Compile(nil); return err }, "nil loss"},
		{"Compile other graph", func() error { _, err := g.Compile(ox); return err }, "another graph"},
		{"Compile matrix loss", func() error { _, err := g.Compile(y); return err }, "scalar"},
		{"CompileForward nothing", func() error { _, err := g.CompileForward(); return err }, "no output"},
		{"CompileForward nil", func() error { _, err := g.CompileForward(nil); return err }, "nil"},
		{"CompileForward other graph", func() error { _, err := g.CompileForward(ox); return err }, "another graph"},
		{"ReadInto length", func() error { return w.ReadInto(make([]float64, 5)) }, "6 values"},
		{"SetValues length", func() error { return w.SetValues(make([]float64, 7)) }, "6 values"},
	})
}

// InputData shares its values with the input: writing them sets the input.
func TestInputData(t *testing.T) {
	for _, dt := range []graph.DType{graph.Float32, graph.Float64} {
		g := graph.New(graph.WithDType(dt))
		x, _ := g.Input("x", 2, 2)
		d, err := g.InputData(x)
		if err != nil {
			t.Fatal(err)
		}
		if d.Len() != 4 || (d.Float32s() == nil) != (dt == graph.Float64) || (d.Float64s() == nil) != (dt == graph.Float32) {
			t.Fatalf("%s: Data of %d values, float32s %v, float64s %v", dt, d.Len(), d.Float32s(), d.Float64s())
		}
		if err := g.SetInput(x, []float64{1, 2, 3, 4}); err != nil {
			t.Fatal(err)
		}
		if f := d.Float32s(); f != nil && f[3] != 4 {
			t.Errorf("%s: SetInput is not seen through InputData: %v", dt, f)
		}
		if f := d.Float64s(); f != nil && f[3] != 4 {
			t.Errorf("%s: SetInput is not seen through InputData: %v", dt, f)
		}
		y, _ := graph.ReLU(x)
		p, err := g.CompileForward(y)
		if err != nil {
			t.Fatal(err)
		}
		d.Zero()
		if f := d.Float32s(); f != nil {
			f[1] = 5
		} else {
			d.Float64s()[1] = 5
		}
		if _, err := p.Run(false); err != nil {
			t.Fatal(err)
		}
		out, _ := p.Output(0)
		if want := []float64{0, 5, 0, 0}; !equal(out, want) {
			t.Errorf("%s: output %v, want %v", dt, out, want)
		}
		p.Close()
	}
	var d graph.Data
	noPanic(t, "zero Data", func() {
		d.Zero()
		if d.Len() != 0 || d.Float32s() != nil || d.Float64s() != nil {
			t.Error("the zero Data holds values")
		}
	})
}

func equal(a, b []float64) bool {
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

// Param.Data shares the parameter's values.
func TestParamData(t *testing.T) {
	for _, dt := range []graph.DType{graph.Float32, graph.Float64} {
		g := graph.New(graph.WithDType(dt))
		w, _ := g.Param("w", []int{2, 3}, graph.GlorotUniform)
		d := w.Data()
		if d.Len() != 6 {
			t.Fatalf("%s: %d values", dt, d.Len())
		}
		d.Zero()
		if f := d.Float32s(); f != nil {
			f[2] = 3
		} else {
			d.Float64s()[2] = 3
		}
		if v := w.Values(); !equal(v, []float64{0, 0, 3, 0, 0, 0}) {
			t.Errorf("%s: values %v after writing Data", dt, v)
		}
	}
}

// A nil or node-less Param, a nil or zero Buffer and a nil or zero
// Program return errors or zero values.
func TestNilParamBufferProgram(t *testing.T) {
	for _, c := range []struct {
		name string
		p    *graph.Param
	}{{"nil", nil}, {"zero", &graph.Param{Name: "p"}}} {
		p := c.p
		noPanic(t, c.name+" Param accessors", func() {
			if p.Shape() != nil || p.Size() != 0 || p.Value() != nil || p.Values() != nil || p.Data().Len() != 0 {
				t.Errorf("%s Param: accessors are not zero", c.name)
			}
		})
		runErrCases(t, []errCase{
			{c.name + " Param ReadInto", func() error { return p.ReadInto(nil) }, "parameter"},
			{c.name + " Param SetValues", func() error { return p.SetValues(nil) }, "parameter"},
		})
	}
	for _, c := range []struct {
		name string
		b    *graph.Buffer
	}{{"nil", nil}, {"zero", &graph.Buffer{Name: "b"}}} {
		b := c.b
		noPanic(t, c.name+" Buffer", func() {
			if len(b.Shape()) != 0 || b.Size() != 0 || b.Int() || len(b.Values()) != 0 {
				t.Errorf("%s Buffer: accessors are not zero", c.name)
			}
			_ = b.Data()
		})
	}
	runErrCases(t, []errCase{
		{"nil Buffer SetValues", func() error { return (*graph.Buffer)(nil).SetValues([]float64{1}) }, "nil buffer"},
		{"zero Buffer SetValues", func() error { return (&graph.Buffer{Name: "b"}).SetValues([]float64{1}) }, "1 values"},
	})
	for _, c := range []struct {
		name string
		p    *graph.Program
	}{{"nil", nil}, {"zero", &graph.Program{}}} {
		p := c.p
		noPanic(t, c.name+" Program accessors", func() {
			if p.Graph() != nil || p.Params() != nil {
				t.Errorf("%s Program: Graph or Params is not nil", c.name)
			}
		})
		runErrCases(t, []errCase{
			{c.name + " Program Run(false)", func() error { _, err := p.Run(false); return err }, "program"},
			{c.name + " Program Run(true)", func() error { _, err := p.Run(true); return err }, "program"},
			{c.name + " Program Gradient", func() error { return p.Gradient(0, nil) }, "graph: "},
			{c.name + " Program OutputRow", func() error { return p.OutputRow(0, 0, nil) }, "graph: "},
			{c.name + " Program Output", func() error { _, err := p.Output(0); return err }, "graph: "},
		})
		noPanic(t, c.name+" Program Close", func() {
			if err := p.Close(); err != nil {
				t.Errorf("%s Program: Close: %v", c.name, err)
			}
		})
	}
	for _, c := range []struct {
		name string
		gr   *graph.Gradients
	}{{"nil", nil}, {"zero", &graph.Gradients{}}} {
		gr := c.gr
		runErrCases(t, []errCase{
			{c.name + " Gradients SetSeed", func() error { return gr.SetSeed([]float64{1}) }, "graph: "},
			{c.name + " Gradients Run", func() error { return gr.Run() }, "graph: "},
			{c.name + " Gradients Output", func() error { _, err := gr.Output(); return err }, "graph: "},
			{c.name + " Gradients Gradient", func() error { _, err := gr.Gradient(0); return err }, "graph: "},
		})
		noPanic(t, c.name+" Gradients Close", func() { _ = gr.Close() })
	}
	noPanic(t, "nil ShapeError", func() { _ = (*graph.ShapeError)(nil).Error() })
}

// A compiled program's methods reject indices and sizes that do not fit.
func TestProgramMismatchedArguments(t *testing.T) {
	g := graph.New()
	x, _ := g.Input("x", 2, 3)
	w, _ := g.Param("w", []int{3, 1}, graph.GlorotUniform)
	y, _ := graph.MatMul(x, w.Node)
	tg, _ := g.Input("t", 2, 1)
	loss, err := graph.Loss(graph.SquaredError, y, tg, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := g.Compile(loss, y)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	runErrCases(t, []errCase{
		{"Gradient before a training pass", func() error { return p.Gradient(0, make([]float64, 3)) }, "run a training pass"},
		{"Output before a pass", func() error { _, err := p.Output(0); return err }, "run a pass"},
	})
	if _, err := p.Run(true); err != nil {
		t.Fatal(err)
	}
	runErrCases(t, []errCase{
		{"Gradient -1", func() error { return p.Gradient(-1, nil) }, "gradient -1"},
		{"Gradient 1", func() error { return p.Gradient(1, nil) }, "gradient 1"},
		{"Gradient size", func() error { return p.Gradient(0, make([]float64, 2)) }, "3 values"},
		{"Output 1", func() error { _, err := p.Output(1); return err }, "output 1"},
		{"Output -1", func() error { _, err := p.Output(-1); return err }, "output -1"},
		{"OutputRow -1", func() error { return p.OutputRow(0, -1, make([]float64, 1)) }, "no row"},
		{"OutputRow 2", func() error { return p.OutputRow(0, 2, make([]float64, 1)) }, "no row"},
		{"OutputRow wide", func() error { return p.OutputRow(0, 0, make([]float64, 3)) }, "no row"},
	})
	p.Close()
	runErrCases(t, []errCase{{"Run after Close", func() error { _, err := p.Run(false); return err }, "closed"}})
	fp, err := g.CompileForward(y)
	if err != nil {
		t.Fatal(err)
	}
	defer fp.Close()
	runErrCases(t, []errCase{{"forward program Run(true)", func() error { _, err := fp.Run(true); return err }, "inference only"}})
}

// RNNFinalState rejects a missing recurrent node.
func TestRNNFinalStateNil(t *testing.T) {
	runErrCases(t, []errCase{
		{"RNNFinalState nil", func() error { return graph.RNNFinalState(nil, graph.Data{}, graph.Data{}) }, "nil"},
	})
}
