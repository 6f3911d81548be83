package graph_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/graph"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// mustErr runs f, which must return an error (and not panic) whose one-line
// message mentions every string of want.
func mustErr(t *testing.T, what string, f func() error, want ...string) {
	t.Helper()
	var err error
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Errorf("%s: panic: %v", what, r)
			}
		}()
		err = f()
	}()
	if err == nil {
		t.Errorf("%s: no error", what)
		return
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") {
		t.Errorf("%s: error %q spans lines", what, msg)
	}
	for _, w := range append([]string{"graph: "}, want...) {
		if !strings.Contains(msg, w) {
			t.Errorf("%s: error %q does not mention %q", what, msg, w)
		}
	}
}

// node adapts a builder that returns a node to mustErr.
func node(f func() (*gorgonia.Node, error)) func() error {
	return func() error { _, err := f(); return err }
}

func TestNilOperandsAreErrors(t *testing.T) {
	g := graph.New()
	x, _ := g.Input("x", 2, 3)
	w, _ := g.Input("w", 3, 4)
	b, _ := g.Input("b", 3)
	img, _ := g.Input("img", 1, 1, 4, 4)
	filt, _ := g.Input("filt", 2, 1, 3, 3)
	seq, _ := g.Input("seq", 2, 5, 3)
	wih, _ := g.Input("wih", 16, 3)
	whh, _ := g.Input("whh", 16, 4)
	ids, _ := g.Input("ids", 2, 5)
	table, _ := g.Input("table", 10, 3)
	var n *gorgonia.Node
	for _, c := range []struct {
		what string
		f    func() error
		want []string
	}{
		{"MatMul(nil, w)", node(func() (*gorgonia.Node, error) { return graph.MatMul(n, w) }), []string{"matmul", "operand 1 is nil", "w"}},
		{"MatMul(x, nil)", node(func() (*gorgonia.Node, error) { return graph.MatMul(x, n) }), []string{"matmul", "operand 2 is nil", "x"}},
		{"AddBias(x, nil)", node(func() (*gorgonia.Node, error) { return graph.AddBias(x, n) }), []string{"add bias", "x"}},
		{"AddBias(nil, b)", node(func() (*gorgonia.Node, error) { return graph.AddBias(n, b) }), []string{"add bias", "b"}},
		{"ReLU(nil)", node(func() (*gorgonia.Node, error) { return graph.ReLU(n) }), []string{"relu"}},
		{"Sigmoid(nil)", node(func() (*gorgonia.Node, error) { return graph.Sigmoid(n) }), []string{"sigmoid"}},
		{"Tanh(nil)", node(func() (*gorgonia.Node, error) { return graph.Tanh(n) }), []string{"tanh"}},
		{"Softmax(nil)", node(func() (*gorgonia.Node, error) { return graph.Softmax(n) }), []string{"softmax"}},
		{"LogSoftmax(nil)", node(func() (*gorgonia.Node, error) { return graph.LogSoftmax(n) }), []string{"log softmax"}},
		{"Reshape(nil)", node(func() (*gorgonia.Node, error) { return graph.Reshape(n, 6) }), []string{"reshape"}},
		{"Conv2D(nil, w)", node(func() (*gorgonia.Node, error) { return graph.Conv2D(n, filt, nil, 1, 1, graph.Padding{}) }), []string{"conv2d", "filt"}},
		{"Conv2D(x, nil)", node(func() (*gorgonia.Node, error) { return graph.Conv2D(img, n, nil, 1, 1, graph.Padding{}) }), []string{"conv2d", "img"}},
		{"Conv2DReLU(nil, w)", node(func() (*gorgonia.Node, error) { return graph.Conv2DReLU(n, filt, nil, 1, 1, graph.Padding{}) }), []string{"conv2d relu", "filt"}},
		{"Conv2DReLU(x, nil)", node(func() (*gorgonia.Node, error) { return graph.Conv2DReLU(img, n, nil, 1, 1, graph.Padding{}) }), []string{"conv2d relu", "img"}},
		{"MaxPool2D(nil)", node(func() (*gorgonia.Node, error) { return graph.MaxPool2D(n, 2, 2, 2, 2) }), []string{"maxpool2d"}},
		{"Mask(nil, m)", node(func() (*gorgonia.Node, error) { return graph.Mask(n, x) }), []string{"mask", "x"}},
		{"Mask(x, nil)", node(func() (*gorgonia.Node, error) { return graph.Mask(x, n) }), []string{"mask", "x"}},
		{"RNN(nil x)", node(func() (*gorgonia.Node, error) { return graph.RNN(graph.LSTMCell, n, wih, whh, nil, nil, nil, nil) }), []string{"rnn", "wih"}},
		{"RNN(nil wih)", node(func() (*gorgonia.Node, error) { return graph.RNN(graph.LSTMCell, seq, n, whh, nil, nil, nil, nil) }), []string{"rnn", "seq"}},
		{"RNN(nil whh)", node(func() (*gorgonia.Node, error) { return graph.RNN(graph.LSTMCell, seq, wih, n, nil, nil, nil, nil) }), []string{"rnn", "wih"}},
		{"LastStep(nil)", node(func() (*gorgonia.Node, error) { return graph.LastStep(n) }), []string{"last step"}},
		{"Embedding(nil, table)", node(func() (*gorgonia.Node, error) { return graph.Embedding(n, table) }), []string{"embedding", "table"}},
		{"Embedding(ids, nil)", node(func() (*gorgonia.Node, error) { return graph.Embedding(ids, n) }), []string{"embedding", "ids"}},
		{"Loss(nil z)", node(func() (*gorgonia.Node, error) { return graph.Loss(graph.SquaredError, n, x, nil) }), []string{"loss SquaredError", "x"}},
		{"Loss(nil t)", node(func() (*gorgonia.Node, error) { return graph.Loss(graph.SoftmaxCrossEntropy, x, n, nil) }), []string{"loss SoftmaxCrossEntropy", "x"}},
		{"RNNFinalState(nil)", func() error {
			return graph.RNNFinalState(n, graph.Data{}, graph.Data{})
		}, []string{"final state"}},
		{"GELU(nil)", node(func() (*gorgonia.Node, error) { return graph.GELU(n) }), []string{"gelu"}},
		{"GELUTanh(nil)", node(func() (*gorgonia.Node, error) { return graph.GELUTanh(n) }), []string{"gelu tanh"}},
		{"Project(nil, w)", node(func() (*gorgonia.Node, error) { return graph.Project(n, w, nil) }), []string{"project", "operand 1 is nil", "w"}},
		{"Project(x, nil)", node(func() (*gorgonia.Node, error) { return graph.Project(x, n, nil) }), []string{"project", "operand 2 is nil", "x"}},
		{"Attention(nil)", node(func() (*gorgonia.Node, error) { return graph.Attention(n, 1, true, nil) }), []string{"attention", "nil"}},
		{"CachedAttention(nil)", node(func() (*gorgonia.Node, error) { return graph.CachedAttention(n, 1, graph.NewKVCache(2)) }), []string{"cached attention", "nil"}},
		{"AddPositions(nil, t)", node(func() (*gorgonia.Node, error) { return graph.AddPositions(n, table, nil) }), []string{"add positions", "table"}},
		{"Conv1D(nil, w)", node(func() (*gorgonia.Node, error) { return graph.Conv1D(n, filt, nil, 1, 1, 0, 0) }), []string{"conv1d", "filt"}},
		{"Sub(nil, x)", node(func() (*gorgonia.Node, error) { return graph.Sub(n, x) }), []string{"sub", "operand 1 is nil"}},
		{"Log(nil)", node(func() (*gorgonia.Node, error) { return graph.Log(n) }), []string{"log"}},
		{"Sum(nil)", node(func() (*gorgonia.Node, error) { return graph.Sum(n) }), []string{"sum"}},
	} {
		mustErr(t, c.what, c.f, c.want...)
	}
	// The optional operands may be nil.
	if _, err := graph.Conv2D(img, filt, nil, 1, 1, graph.Padding{}); err != nil {
		t.Error("Conv2D without a bias:", err)
	}
	if _, err := graph.RNN(graph.LSTMCell, seq, wih, whh, nil, nil, nil, nil); err != nil {
		t.Error("RNN without biases or initial states:", err)
	}
}

func TestOperandsFromTwoGraphsAreErrors(t *testing.T) {
	g1, g2 := graph.New(), graph.New()
	in := func(g *graph.Graph, name string, shape ...int) *gorgonia.Node {
		n, err := g.Input(name, shape...)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	a, w := in(g1, "a", 2, 3), in(g2, "other.w", 3, 4)
	b := in(g2, "other.b", 3)
	m := in(g2, "other.m", 2, 3)
	img, filt, bias := in(g1, "img", 1, 1, 4, 4), in(g1, "filt", 2, 1, 3, 3), in(g2, "other.bias", 2)
	seq, wih, whh := in(g1, "seq", 2, 5, 3), in(g1, "wih", 16, 3), in(g1, "whh", 16, 4)
	bih, bhh, h0 := in(g1, "bih", 16), in(g2, "other.bhh", 16), in(g2, "other.h0", 2, 4)
	ids, table := in(g1, "ids", 2, 5), in(g2, "other.table", 10, 3)
	wt := in(g2, "other.weights", 2)
	for _, c := range []struct {
		what string
		f    func() (*gorgonia.Node, error)
		want []string
	}{
		{"MatMul", func() (*gorgonia.Node, error) { return graph.MatMul(a, w) }, []string{"matmul", "a", "other.w", "different graphs"}},
		{"AddBias", func() (*gorgonia.Node, error) { return graph.AddBias(a, b) }, []string{"add bias", "other.b"}},
		{"Mask", func() (*gorgonia.Node, error) { return graph.Mask(a, m) }, []string{"mask", "other.m"}},
		{"Conv2D bias", func() (*gorgonia.Node, error) { return graph.Conv2D(img, filt, bias, 1, 1, graph.Padding{}) }, []string{"conv2d", "other.bias"}},
		{"RNN biases", func() (*gorgonia.Node, error) { return graph.RNN(graph.LSTMCell, seq, wih, whh, bih, bhh, nil, nil) }, []string{"rnn", "other.bhh"}},
		{"RNN h0", func() (*gorgonia.Node, error) { return graph.RNN(graph.LSTMCell, seq, wih, whh, nil, nil, h0, nil) }, []string{"rnn", "other.h0"}},
		{"Embedding", func() (*gorgonia.Node, error) { return graph.Embedding(ids, table) }, []string{"embedding", "ids", "other.table"}},
		{"Loss targets", func() (*gorgonia.Node, error) { return graph.Loss(graph.SquaredError, a, m, nil) }, []string{"loss", "other.m"}},
		{"Loss weights", func() (*gorgonia.Node, error) { return graph.Loss(graph.SquaredError, a, a, wt) }, []string{"loss", "other.weights"}},
	} {
		mustErr(t, c.what, node(c.f), c.want...)
	}
}

func TestMismatchedOperandsAreErrors(t *testing.T) {
	g := graph.New()
	x, _ := g.Input("x", 2, 3)
	v, _ := g.Input("v", 3)
	s := g.Scalar(2)
	f64 := gorgonia.NewMatrix(g.Expr(), tensor.Float64, gorgonia.WithShape(3, 4), gorgonia.WithName("w64"))
	seq, _ := g.Input("seq", 2, 5, 3)
	wih, _ := g.Input("wih", 16, 3)
	whh, _ := g.Input("whh", 16, 4)
	img, _ := g.Input("img", 1, 1, 4, 4)
	for _, c := range []struct {
		what string
		f    func() (*gorgonia.Node, error)
		want []string
	}{
		{"MatMul float32 by float64", func() (*gorgonia.Node, error) { return graph.MatMul(x, f64) }, []string{"matmul", "x", "float32", "w64", "float64"}},
		{"MatMul scalar", func() (*gorgonia.Node, error) { return graph.MatMul(s, x) }, []string{"matmul", "x"}},
		{"AddBias scalar bias", func() (*gorgonia.Node, error) { return graph.AddBias(x, s) }, []string{"add bias"}},
		{"AddBias scalar input", func() (*gorgonia.Node, error) { return graph.AddBias(s, v) }, []string{"add bias", "v"}},
		{"Mask scalar", func() (*gorgonia.Node, error) { return graph.Mask(x, s) }, []string{"mask"}},
		{"Mask vector", func() (*gorgonia.Node, error) { return graph.Mask(x, v) }, []string{"mask", "v"}},
		{"Reshape to 0", func() (*gorgonia.Node, error) { return graph.Reshape(x, 0, 6) }, []string{"reshape", "x", "positive"}},
		{"Reshape to negative", func() (*gorgonia.Node, error) { return graph.Reshape(x, -2, -3) }, []string{"reshape", "x", "positive"}},
		{"Reshape to another size", func() (*gorgonia.Node, error) { return graph.Reshape(x, 4) }, []string{"reshape", "x", "(2, 3)"}},
		{"Reshape to scalar", func() (*gorgonia.Node, error) { return graph.Reshape(x) }, []string{"reshape", "x"}},
		{"ReLU of a lone constant", func() (*gorgonia.Node, error) { return graph.ReLU(s) }, []string{"relu", "belongs to a graph"}},
		{"Loss scalar logits", func() (*gorgonia.Node, error) { return graph.Loss(graph.SquaredError, s, x, nil) }, []string{"loss"}},
		{"Loss scalar weights", func() (*gorgonia.Node, error) { return graph.Loss(graph.SquaredError, x, x, s) }, []string{"loss", "weights"}},
		{"Loss short weights", func() (*gorgonia.Node, error) { return graph.Loss(graph.SquaredError, x, x, v) }, []string{"loss", "(3)"}},
		{"Loss unknown kind", func() (*gorgonia.Node, error) { return graph.Loss(graph.LossKind(9), x, x, nil) }, []string{"LossKind(9)", "unknown", "x"}},
		{"Loss negative kind", func() (*gorgonia.Node, error) { return graph.Loss(graph.LossKind(-1), x, x, nil) }, []string{"LossKind(-1)"}},
		{"RNN unknown cell", func() (*gorgonia.Node, error) { return graph.RNN(graph.Cell(7), seq, wih, whh, nil, nil, nil, nil) }, []string{"rnn", "Cell(7)"}},
		{"RNN one bias", func() (*gorgonia.Node, error) { return graph.RNN(graph.LSTMCell, seq, wih, whh, v, nil, nil, nil) }, []string{"rnn", "both biases"}},
		{"LastStep matrix", func() (*gorgonia.Node, error) { return graph.LastStep(x) }, []string{"last step", "x"}},
		{"Embedding 3-d table", func() (*gorgonia.Node, error) { return graph.Embedding(v, seq) }, []string{"embedding", "seq"}},
		{"MaxPool2D zero stride", func() (*gorgonia.Node, error) { return graph.MaxPool2D(img, 1, 1, 0, 1) }, []string{"maxpool2d", "img", "stride"}},
		{"MaxPool2D 3-d input", func() (*gorgonia.Node, error) { return graph.MaxPool2D(seq, 1, 1, 1, 1) }, []string{"maxpool2d", "seq", "NCHW"}},
	} {
		mustErr(t, c.what, node(c.f), c.want...)
	}
	if _, err := graph.Reshape(v, 1, 3); err != nil {
		t.Error("Reshape [3] to [1, 3]:", err)
	}
	for _, k := range []graph.LossKind{-1, graph.Linear + 1, 1 << 30} {
		if s := k.String(); !strings.HasPrefix(s, "LossKind(") {
			t.Errorf("LossKind %d: %q", int(k), s)
		}
	}
	if s := graph.Cell(5).String(); s != "Cell(5)" {
		t.Errorf("Cell(5).String() = %q", s)
	}
	if p := graph.SamePadding(7, 7, 3, 3, 0, -1); p != (graph.Padding{}) {
		t.Errorf("SamePadding with strides 0 and -1: %+v", p)
	}
}

func TestRNNFinalStateErrors(t *testing.T) {
	g := graph.New()
	seq, _ := g.Input("seq", 2, 5, 3)
	wih, _ := g.Input("wih", 16, 3)
	whh, _ := g.Input("whh", 16, 4)
	y, err := graph.RNN(graph.LSTMCell, seq, wih, whh, nil, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Data of either dtype come from the inputs of a graph of that dtype.
	states := map[graph.DType]*graph.Graph{graph.Float32: graph.New(), graph.Float64: graph.New(graph.WithDType(graph.Float64))}
	inputs := 0
	data := func(dt graph.DType, shape ...int) graph.Data {
		inputs++
		x, err := states[dt].Input(fmt.Sprintf("state%d", inputs), shape...)
		if err != nil {
			t.Fatal(err)
		}
		d, err := states[dt].InputData(x)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	f32 := func(shape ...int) graph.Data { return data(graph.Float32, shape...) }
	f64 := func(shape ...int) graph.Data { return data(graph.Float64, shape...) }
	mustErr(t, "nil h", func() error { return graph.RNNFinalState(y, graph.Data{}, f32(2, 4)) }, "h holds no values", y.Name())
	mustErr(t, "not an RNN", func() error { return graph.RNNFinalState(seq, f32(2, 4), graph.Data{}) }, "seq", "not made by RNN")
	mustErr(t, "wrong size", func() error { return graph.RNNFinalState(y, f32(3, 4), graph.Data{}) }, "8 values")
	mustErr(t, "float64 h", func() error { return graph.RNNFinalState(y, f64(2, 4), graph.Data{}) }, "float32")
	mustErr(t, "float64 c", func() error { return graph.RNNFinalState(y, f32(2, 4), f64(2, 4)) }, "float32")
	mustErr(t, "not run", func() error { return graph.RNNFinalState(y, f32(2, 4), f32(2, 4)) }, "not run", y.Name())
}

func TestInitializerByNameNeverPanics(t *testing.T) {
	for _, name := range []string{"", " ", "zeros ", "ZEROS", "constant(x)", "uniform(", "bounded(-1)", "normal(-1)", "normal(0)", "uniform(NaN)", "constant(Inf)", "normal(1))", "\x00", "\xff\xfe", "глорот", strings.Repeat("x", 1<<16)} {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%q: panic: %v", name, r)
				}
			}()
			in, err := graph.InitializerByName(name)
			if err == nil || in != nil {
				t.Errorf("%.20q: %v, %v", name, in, err)
			} else if !strings.Contains(err.Error(), "glorot_uniform") {
				t.Errorf("%.20q: error %q does not list the known names", name, err)
			}
		}()
	}
	for _, name := range []string{"zeros", "glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "torch_default", "normal(0.02)", "uniform(0.1)", "constant(0.5)", "constant(-2)"} {
		if in, err := graph.InitializerByName(name); err != nil || in.String() != name {
			t.Errorf("%s: %v, %v", name, in, err)
		}
	}
}
