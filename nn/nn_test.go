package nn_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/internal/gradcheck"
	"github.com/dlrun/dlrun/nn"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func boundInput(t *testing.T, g *graph.Graph, shape ...int) *graph.Node {
	t.Helper()
	x, err := g.Input("x", shape...)
	if err != nil {
		t.Fatal(err)
	}
	vals := make([]float64, tensor.Shape(shape).TotalSize())
	for i := range vals {
		vals[i] = math.Cos(float64(7 * i))
	}
	if err := gorgonia.Let(x, tensor.New(tensor.WithShape(shape...), tensor.WithBacking(vals))); err != nil {
		t.Fatal(err)
	}
	return x
}

// scalarise reduces y to a scalar with a fixed random projection.
func scalarise(t *testing.T, g *graph.Graph, y *graph.Node) *graph.Node {
	t.Helper()
	vals := make([]float64, y.Shape().TotalSize())
	for i := range vals {
		vals[i] = math.Sin(float64(5*i + 1))
	}
	p, err := g.Constant("probe", vals, y.Shape()...)
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

func TestLayerGradients(t *testing.T) {
	cases := []struct {
		name  string
		in    []int
		layer nn.Layer
	}{
		{"Dense", []int{3, 5}, nn.NewDense(4)},
		{"DenseNoBias", []int{3, 5}, &nn.Dense{Units: 2, NoBias: true}},
		{"ReLU", []int{3, 5}, nn.ReLU()},
		{"Sigmoid", []int{3, 5}, nn.Sigmoid()},
		{"Tanh", []int{3, 5}, nn.Tanh()},
		{"Softmax", []int{3, 5}, nn.Softmax()},
		{"Flatten", []int{2, 2, 3, 2}, nn.NewFlatten()},
		{"Conv2DValid", []int{2, 2, 5, 5}, nn.NewConv2D(3, 3)},
		{"Conv2DSameStride2", []int{2, 2, 6, 5}, &nn.Conv2D{Filters: 2, KernelH: 3, KernelW: 2, StrideH: 2, StrideW: 2, Padding: "same"}},
		{"MaxPool2D", []int{2, 2, 4, 6}, nn.NewMaxPool2D(2)},
		{"MaxPool2DOverlapping", []int{1, 2, 5, 5}, &nn.MaxPool2D{Size: 3, Stride: 1}},
		{"SmallCNN", []int{2, 1, 8, 8}, nn.NewSequential("c", nn.NewConv2D(2, 3), nn.ReLU(), nn.NewMaxPool2D(2), nn.NewFlatten(), nn.NewDense(3))},
		{"LSTMLast", []int{2, 3, 4}, nn.NewLSTM(5)},
		{"DenseOverSteps", []int{2, 3, 4}, nn.NewDense(2)},
		{"GRUSequences", []int{2, 3, 4}, &nn.Recurrent{Cell: graph.GRUCell, Hidden: 3, ReturnSequences: true}},
		{"LSTMNoBias", []int{2, 3, 2}, &nn.Recurrent{Cell: graph.LSTMCell, Hidden: 2, NoBias: true}},
		{"MLP", []int{2, 1, 3, 3}, nn.NewSequential("m", nn.NewFlatten(), nn.NewDense(4), nn.ReLU(), nn.NewDense(3), nn.Tanh(), nn.NewDense(2))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := graph.New(graph.WithDType(graph.Float64), graph.WithSeed(11))
			x := boundInput(t, g, c.in...)
			seq := nn.NewSequential("model", c.layer)
			y, err := seq.Build(g, x)
			if err != nil {
				t.Fatal(err)
			}
			want, err := seq.OutputShape(c.in[1:])
			if err != nil {
				t.Fatal(err)
			}
			if got := []int(y.Shape()[1:]); !equal(got, want) {
				t.Fatalf("built shape %v, OutputShape says %v", got, want)
			}
			if got, want := g.NumParams(), seq.NumParams(c.in[1:]); got != want {
				t.Fatalf("graph has %d parameters, NumParams says %d", got, want)
			}
			wrt := append(graph.Nodes{x}, g.Nodes()...)
			n, err := gradcheck.Check(g.Expr(), scalarise(t, g, y), wrt, 1e-6, 1e-6)
			if err != nil {
				t.Fatal(err)
			}
			if n < x.Shape().TotalSize() {
				t.Fatalf("only %d elements checked", n)
			}
		})
	}
}

func equal(a, b []int) bool {
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

func TestShapeErrorNamesLayer(t *testing.T) {
	m := nn.NewSequential("m", nn.NewDense(4), nn.NewDense(2))
	_, err := m.OutputShape([]int{1, 28, 28})
	if err == nil || !strings.Contains(err.Error(), "dense1") || !strings.Contains(err.Error(), "[1 28 28]") {
		t.Fatalf("error %v does not name dense1 and the shape", err)
	}
}

func TestReferenceParamCounts(t *testing.T) {
	for _, c := range []struct {
		name    string
		in      []int
		classes int
		want    int
	}{
		{"xor", []int{2}, 1, 2*8 + 8 + 8 + 1},
		{"mlp", []int{1, 28, 28}, 10, 784*256 + 256 + 256*128 + 128 + 128*10 + 10},
		{"cnn", []int{1, 28, 28}, 10, 843658},
		{"rnn", []int{28, 28}, 10, 4*128*(28+128) + 2*4*128 + 128*128 + 128 + 128*10 + 10},
		{"cnn", []int{3, 32, 32}, 10, (32*3*9 + 32) + (64*32*9 + 64) + (64*6*6*512 + 512) + (512*10 + 10)},
		// Embeddings, 4 blocks (2 layer norms, attention 4·128²+4·128, MLP
		// 128·512+512+512·128+128), the final layer norm and the head.
		{"gpt", []int{128}, 80, 80*128 + 128*128 + 4*(2*2*128+4*128*128+4*128+128*512+512+512*128+128) + 2*128 + 128*80 + 80},
		// The stem, two blocks of 32, a strided block of 64 with its 1×1
		// projection and a block of 64 (each convolution's batch norm 2·c),
		// the head.
		{"resnet", []int{1, 28, 28}, 10, (9*32 + 64) + 2*2*(9*32*32+64) + (9*32*64 + 128 + 9*64*64 + 128 + 32*64 + 128) + 2*(9*64*64+128) + 64*10 + 10},
	} {
		r, err := nn.ReferenceByName(c.name)
		if err != nil {
			t.Fatal(err)
		}
		m, err := r.New(c.in, c.classes)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.NumParams(c.in); got != c.want {
			t.Errorf("%s: %d params, want %d", c.name, got, c.want)
		}
	}
	if _, err := nn.ReferenceByName("nope"); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("unknown model: error %v", err)
	}
}

func ExampleSequential_Summary() {
	m := nn.NewSequential("mlp", nn.NewFlatten(), nn.NewDense(256), nn.ReLU(), nn.NewDense(10))
	rows, err := m.Summary([]int{1, 28, 28})
	if err != nil {
		panic(err)
	}
	fmt.Print(nn.FormatSummary(rows))
	// Output:
	// Layer            Type         Output shape           Params
	// flatten1         Flatten      [784]                       0
	// dense1           Dense        [256]                  200960
	// relu1            ReLU         [256]                       0
	// dense2           Dense        [10]                     2570
	// Total params: 203530
}

func TestWrongInputShapeNamesLayer(t *testing.T) {
	r, _ := nn.ReferenceByName("cnn")
	m, err := r.New([]int{1, 28, 28}, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		in   []int
		want string
	}{
		{[]int{784}, "conv2d1 (Conv2D): input shape [784]"},
		{[]int{1, 3, 3}, "maxpool2d1 (MaxPool2D): input shape [32 1 1]"},
	} {
		_, err := m.OutputShape(c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("input %v: error %v, want it to say %q", c.in, err, c.want)
		}
		g := graph.New()
		x, _ := g.Input("x", append([]int{2}, c.in...)...)
		if _, err := m.Build(g, x); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("build on %v: error %v", c.in, err)
		}
	}
}

func TestDropout(t *testing.T) {
	build := func(seed uint64) (*graph.Graph, *graph.Node, gorgonia.VM, *gorgonia.Value) {
		g := graph.New(graph.WithDType(graph.Float64), graph.WithSeed(seed))
		x := boundInput(t, g, 50, 40)
		y, err := nn.NewSequential("m", nn.NewDropout(0.25)).Build(g, x)
		if err != nil {
			t.Fatal(err)
		}
		var out gorgonia.Value
		gorgonia.Read(y, &out)
		return g, x, gorgonia.NewTapeMachine(g.Expr()), &out
	}
	run := func(g *graph.Graph, vm gorgonia.VM, training bool) {
		g.SetTraining(training)
		if err := g.Feed(); err != nil {
			t.Fatal(err)
		}
		vm.Reset()
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
	}
	g, x, vm, out := build(9)
	xs := x.Value().Data().([]float64)
	run(g, vm, false)
	for i, v := range (*out).Data().([]float64) {
		if v != xs[i] {
			t.Fatalf("evaluation changed element %d: %g -> %g", i, xs[i], v)
		}
	}
	run(g, vm, true)
	first := append([]float64(nil), (*out).Data().([]float64)...)
	dropped := 0
	for i, v := range first {
		switch {
		case v == 0 && xs[i] != 0:
			dropped++
		case math.Abs(v-xs[i]/0.75) > 1e-12:
			t.Fatalf("kept element %d is %g, want %g/0.75", i, v, xs[i])
		}
	}
	if frac := float64(dropped) / float64(len(first)); frac < 0.2 || frac > 0.3 {
		t.Errorf("dropped %.3f of the values, want about 0.25", frac)
	}
	run(g, vm, true)
	second := (*out).Data().([]float64)
	same := true
	for i := range second {
		same = same && second[i] == first[i]
	}
	if same {
		t.Error("two training steps drew the same mask")
	}
	// The same seed draws the same masks.
	g2, _, vm2, out2 := build(9)
	run(g2, vm2, true)
	for i, v := range (*out2).Data().([]float64) {
		if v != first[i] {
			t.Fatalf("same seed, different mask at %d", i)
		}
	}
}

// With a fixed mask, dropout's gradient is checked like any layer's.
func TestDropoutGradient(t *testing.T) {
	g := graph.New(graph.WithDType(graph.Float64), graph.WithSeed(4))
	x := boundInput(t, g, 3, 5)
	y, err := nn.NewSequential("m", nn.NewDense(4), nn.NewDropout(0.5)).Build(g, x)
	if err != nil {
		t.Fatal(err)
	}
	g.SetTraining(true)
	if err := g.Feed(); err != nil {
		t.Fatal(err)
	}
	wrt := append(graph.Nodes{x}, g.Nodes()...)
	if _, err := gradcheck.Check(g.Expr(), scalarise(t, g, y), wrt, 1e-6, 1e-6); err != nil {
		t.Fatal(err)
	}
}

// Sequential fuses Conv2D+ReLU; the fused op must give the very same bits
// as the two layers built one after the other.
func TestConvReLUFusionChangesNothing(t *testing.T) {
	run := func(fused bool) (out, grad []float32) {
		g := graph.New(graph.WithSeed(3))
		x, _ := g.Input("x", 4, 2, 9, 9)
		vals := make([]float32, 4*2*9*9)
		for i := range vals {
			vals[i] = float32(math.Sin(float64(i)))
		}
		gorgonia.Let(x, tensor.New(tensor.WithShape(4, 2, 9, 9), tensor.WithBacking(vals)))
		conv, relu := nn.NewConv2D(3, 3), nn.ReLU()
		var y *graph.Node
		var err error
		if fused {
			y, err = nn.NewSequential("m", conv, relu).Build(g, x)
		} else {
			nn.NewSequential("m", conv, relu) // names the layers alike
			if y, err = conv.Build(g, x); err == nil {
				y, err = relu.Build(g, y)
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		s, _ := gorgonia.Sum(y)
		grads, err := gorgonia.Grad(s, g.Nodes()[0])
		if err != nil {
			t.Fatal(err)
		}
		var yv, gv gorgonia.Value
		gorgonia.Read(y, &yv)
		gorgonia.Read(grads[0], &gv)
		vm := gorgonia.NewTapeMachine(g.Expr())
		defer vm.Close()
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		return yv.Data().([]float32), gv.Data().([]float32)
	}
	y1, g1 := run(true)
	y2, g2 := run(false)
	for i := range y1 {
		if math.Float32bits(y1[i]) != math.Float32bits(y2[i]) {
			t.Fatalf("output %d: fused %g, unfused %g", i, y1[i], y2[i])
		}
	}
	for i := range g1 {
		if math.Float32bits(g1[i]) != math.Float32bits(g2[i]) {
			t.Fatalf("weight gradient %d: fused %g, unfused %g", i, g1[i], g2[i])
		}
	}
}

func TestEmbeddingThenLSTMGradient(t *testing.T) {
	g := graph.New(graph.WithDType(graph.Float64), graph.WithSeed(6))
	ids, err := g.Constant("ids", []float64{1, 0, 3, 2, 2, 1}, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	m := nn.NewSequential("m", nn.NewEmbedding(4, 3), &nn.Recurrent{Cell: graph.LSTMCell, Hidden: 4, ReturnSequences: true}, nn.NewGRU(2))
	y, err := m.Build(g, ids)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.NumParams([]int{3}); got != g.NumParams() {
		t.Fatalf("NumParams %d, graph %d", got, g.NumParams())
	}
	if _, err := gradcheck.Check(g.Expr(), scalarise(t, g, y), g.Nodes(), 1e-6, 1e-6); err != nil {
		t.Fatal(err)
	}
}

// A stateful LSTM fed a sequence in two chunks gives the same outputs as
// one fed the whole sequence; after ResetState it starts from zeros again.
func TestStatefulLSTMCarriesState(t *testing.T) {
	const B, T, I, H = 2, 6, 3, 4
	seq := make([]float64, B*T*I)
	for i := range seq {
		seq[i] = math.Sin(float64(i) * 0.7)
	}
	run := func(steps int, stateful bool) (*graph.Graph, *graph.Node, *nn.Recurrent, gorgonia.VM, *gorgonia.Value) {
		g := graph.New(graph.WithDType(graph.Float64), graph.WithSeed(5))
		x, _ := g.Input("x", B, steps, I)
		gorgonia.Let(x, tensor.New(tensor.Of(tensor.Float64), tensor.WithShape(B, steps, I)))
		r := &nn.Recurrent{Cell: graph.LSTMCell, Hidden: H, ReturnSequences: true, Stateful: stateful}
		y, err := nn.NewSequential("m", r).Build(g, x)
		if err != nil {
			t.Fatal(err)
		}
		var out gorgonia.Value
		gorgonia.Read(y, &out)
		return g, x, r, gorgonia.NewTapeMachine(g.Expr()), &out
	}
	step := func(g *graph.Graph, x *graph.Node, vm gorgonia.VM, from, steps int) {
		xs := x.Value().Data().([]float64)
		for b := 0; b < B; b++ {
			copy(xs[b*steps*I:(b+1)*steps*I], seq[(b*T+from)*I:(b*T+from+steps)*I])
		}
		g.SetTraining(true)
		if err := g.Feed(); err != nil {
			t.Fatal(err)
		}
		vm.Reset()
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
	}
	gw, xw, _, vmw, outw := run(T, false)
	step(gw, xw, vmw, 0, T)
	whole := (*outw).Data().([]float64)
	gc, xc, rc, vmc, outc := run(T/2, true)
	for pass := 0; pass < 2; pass++ {
		for half := 0; half < 2; half++ {
			step(gc, xc, vmc, half*T/2, T/2)
			got := (*outc).Data().([]float64)
			for b := 0; b < B; b++ {
				for s := 0; s < T/2; s++ {
					for j := 0; j < H; j++ {
						want := whole[(b*T+half*T/2+s)*H+j]
						if v := got[(b*T/2+s)*H+j]; math.Abs(v-want) > 1e-12 {
							t.Fatalf("pass %d half %d: sequence %d step %d: %g, want %g", pass, half, b, s, v, want)
						}
					}
				}
			}
		}
		rc.ResetState()
	}
}

// An initial state given to the layer changes its output as PyTorch's
// (h0, c0) argument does: from a zero state it matches the default.
func TestRecurrentInitialState(t *testing.T) {
	run := func(h float64) []float64 {
		g := graph.New(graph.WithDType(graph.Float64), graph.WithSeed(9))
		x := boundInput(t, g, 2, 3, 4)
		r := &nn.Recurrent{Cell: graph.GRUCell, Hidden: 3}
		if h >= 0 {
			r.InitialState = func(g *graph.Graph, batch int) (*graph.Node, *graph.Node, error) {
				vals := make([]float64, batch*3)
				for i := range vals {
					vals[i] = h
				}
				h0, err := g.Constant("h0", vals, batch, 3)
				return h0, nil, err
			}
		}
		y, err := nn.NewSequential("m", r).Build(g, x)
		if err != nil {
			t.Fatal(err)
		}
		out, err := gradcheck.Forward(g.Expr(), y)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	def, zero, half := run(-1), run(0), run(0.5)
	for i := range def {
		if def[i] != zero[i] {
			t.Fatalf("zero initial state differs from the default at %d", i)
		}
	}
	if def[0] == half[0] {
		t.Fatal("a non-zero initial state changed nothing")
	}
}
