package nn_test

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/internal/gradcheck"
	"github.com/dlrun/dlrun/nn"
)

// wire names l and makes it take the named inputs.
func wire[L interface {
	nn.Layer
	SetName(string)
	SetInputs(...string)
}](l L, name string, inputs ...string) L {
	l.SetName(name)
	l.SetInputs(inputs...)
	return l
}

// The layers, blocks and wired models of this file's kinds: float64
// gradient checks of every parameter and of the input, and the shapes and
// parameter counts they report, as TestLayerGradients does for the rest.
func TestBlockGradients(t *testing.T) {
	channels := &nn.Concat{Axis: 1}
	channels.SetInputs("x", "y")
	cases := []struct {
		name  string
		in    []int
		layer nn.Layer
	}{
		{"GELU", []int{3, 5}, nn.NewGELU()},
		{"GELUTanh", []int{3, 5}, &nn.GELU{Tanh: true}},
		{"Reshape", []int{2, 2, 6}, nn.NewReshape(3, -1)},
		{"GlobalAvgPool1D", []int{2, 4, 3}, nn.NewGlobalAvgPool1D()},
		{"GlobalAvgPool2D", []int{2, 3, 4, 5}, nn.NewGlobalAvgPool2D()},
		{"Conv1DSame", []int{2, 6, 3}, &nn.Conv1D{Filters: 4, Kernel: 3, Padding: "same"}},
		{"Conv1DCausalStride", []int{2, 7, 2}, &nn.Conv1D{Filters: 3, Kernel: 2, Stride: 2, Padding: "causal"}},
		{"Conv1DDilatedSame", []int{2, 9, 3}, &nn.Conv1D{Filters: 4, Kernel: 3, Dilation: 2, Padding: "same"}},
		{"Conv1DDilatedCausalStride", []int{2, 9, 2}, &nn.Conv1D{Filters: 3, Kernel: 2, Dilation: 3, Stride: 2, Padding: "causal"}},
		{"Conv1DDilatedValid", []int{2, 9, 2}, &nn.Conv1D{Filters: 2, Kernel: 3, Dilation: 4}},
		{"Attention", []int{2, 5, 8}, nn.NewAttention(2, false)},
		{"AttentionCausalNoBias", []int{2, 5, 8}, &nn.Attention{Heads: 4, Causal: true, NoBias: true}},
		{"PositionalLearned", []int{2, 3, 4}, nn.NewPositionalEmbedding(5)},
		{"PositionalSinusoidal", []int{2, 3, 4}, &nn.PositionalEmbedding{Sinusoidal: true}},
		{"ResidualMLP", []int{2, 3, 4}, nn.NewSequential("m", nn.NewResidual(nn.NewLayerNorm(), nn.NewDense(6), nn.NewGELU(), nn.NewDense(4)))},
		{"ResidualShortcut", []int{2, 2, 5, 5}, nn.NewSequential("m", &nn.Residual{
			Layers:   []nn.Layer{&nn.Conv2D{Filters: 3, KernelH: 3, KernelW: 3, StrideH: 2, StrideW: 2, Padding: "same"}, nn.ReLU(), &nn.Conv2D{Filters: 3, KernelH: 3, KernelW: 3, Padding: "same"}},
			Shortcut: []nn.Layer{&nn.Conv2D{Filters: 3, KernelH: 1, KernelW: 1, StrideH: 2, StrideW: 2}},
		}, nn.NewGlobalAvgPool2D(), nn.NewDense(2))},
		{"TransformerBlock", []int{2, 4, 8}, nn.NewSequential("gpt",
			nn.NewPositionalEmbedding(4),
			nn.NewResidual(nn.NewLayerNorm(), nn.NewAttention(2, true)),
			nn.NewResidual(nn.NewLayerNorm(), nn.NewDense(16), &nn.GELU{Tanh: true}, nn.NewDense(8)),
			nn.NewLayerNorm(), nn.NewDense(3))},
		{"BranchesAddConcat", []int{2, 4}, nn.NewSequential("m",
			wire(nn.NewDense(3), "a"),
			wire(nn.NewDense(3), "b", nn.InputName),
			wire(nn.NewAdd(), "sum", "a", "b"),
			wire(nn.NewDense(2), "c", "a"),
			wire(nn.NewConcat(), "cat", "sum", "c", nn.InputName),
			nn.Tanh())},
		{"ConcatChannels", []int{2, 1, 4, 4}, nn.NewSequential("m",
			wire(nn.NewConv2D(2, 3), "x"),
			wire(nn.NewConv2D(3, 3), "y", nn.InputName),
			channels)},
		{"SkipInsideResidual", []int{2, 3}, nn.NewSequential("m", nn.NewResidual(
			wire(nn.NewDense(3), "inner"),
			wire(nn.Tanh(), "t"),
			wire(nn.NewAdd(), "", "t", "inner", nn.InputName)))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkGradients(t, c.in, c.layer) })
	}
}

// checkGradients builds layer on a float64 input of shape in (batch
// first) and checks the gradients of every parameter and of the input.
func checkGradients(t *testing.T, in []int, layer nn.Layer) {
	t.Helper()
	g := graph.New(graph.WithDType(graph.Float64), graph.WithSeed(11))
	x := boundInput(t, g, in...)
	seq, ok := layer.(*nn.Sequential)
	if !ok {
		seq = nn.NewSequential("model", layer)
	}
	y, err := seq.Build(g, x)
	if err != nil {
		t.Fatal(err)
	}
	want, err := seq.OutputShape(in[1:])
	if err != nil {
		t.Fatal(err)
	}
	if got := []int(y.Shape()[1:]); !slices.Equal(got, want) {
		t.Fatalf("built shape %v, OutputShape says %v", got, want)
	}
	if got, want := g.NumParams(), seq.NumParams(in[1:]); got != want {
		t.Fatalf("graph has %d parameters, NumParams says %d", got, want)
	}
	wrt := append(graph.Nodes{x}, g.Nodes()...)
	if _, err := gradcheck.Check(g.Expr(), scalarise(t, g, y), wrt, 1e-6, 1e-6); err != nil {
		t.Fatal(err)
	}
}

// forward builds m on a float64 input of shape in holding vals, lets set
// give parameters their values, and returns the output.
func forward(t *testing.T, m *nn.Sequential, in []int, vals []float64, set map[string][]float64) []float64 {
	t.Helper()
	g := graph.New(graph.WithDType(graph.Float64))
	x, err := g.Input("x", in...)
	if err != nil {
		t.Fatal(err)
	}
	y, err := m.Build(g, x)
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range set {
		if err := g.ParamByName(name).SetValues(v); err != nil {
			t.Fatal(err)
		}
	}
	if err := g.SetInput(x, vals); err != nil {
		t.Fatal(err)
	}
	p, err := g.CompileForward(y)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Run(false); err != nil {
		t.Fatal(err)
	}
	out, _ := p.Output(0)
	return out
}

// Hand-computed outputs of the layers of this file.
func TestBlockForwardValues(t *testing.T) {
	// Channel means of a [2 2 2] image and step means of a [3 2] sequence.
	img := []float64{1, 2, 3, 4, 10, 20, 30, 40}
	near(t, "pool2d", forward(t, nn.NewSequential("m", nn.NewGlobalAvgPool2D()), []int{1, 2, 2, 2}, img, nil), []float64{2.5, 25}, 1e-15)
	near(t, "pool1d", forward(t, nn.NewSequential("m", nn.NewGlobalAvgPool1D()), []int{1, 3, 2}, []float64{1, 10, 2, 20, 6, 60}, nil), []float64{3, 30}, 1e-15)
	// Joining an image with itself along channels repeats its values.
	cat := &nn.Concat{Axis: 1}
	cat.SetInputs(nn.InputName, nn.InputName)
	near(t, "concat", forward(t, nn.NewSequential("m", cat), []int{1, 2, 2, 2}, img, nil), append(append([]float64{}, img...), img...), 0)
	near(t, "reshape", forward(t, nn.NewSequential("m", nn.NewReshape(-1, 2)), []int{1, 2, 2, 2}, img, nil), img, 0)
	// Positions: x + rows 0 and 1 of the table.
	near(t, "positions", forward(t, nn.NewSequential("m", nn.NewPositionalEmbedding(3)), []int{1, 2, 2}, []float64{1, 2, 3, 4},
		map[string][]float64{"positionalembedding1.weight": {10, 20, 30, 40, 50, 60}}), []float64{11, 22, 33, 44}, 1e-15)
	// Attention with identity projections: q = k = v = x. Steps x0 = (1, 0)
	// and x1 = (0, 1) score x0·x0 = x1·x1 = 1 and x0·x1 = 0, over √2.
	p := math.Exp(1/math.Sqrt2) / (math.Exp(1/math.Sqrt2) + 1)
	ident := map[string][]float64{
		"attention1.in_proj_weight":  {1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1},
		"attention1.in_proj_bias":    make([]float64, 6),
		"attention1.out_proj.weight": {1, 0, 0, 1},
		"attention1.out_proj.bias":   {0.5, -0.5},
	}
	near(t, "attention", forward(t, nn.NewSequential("m", nn.NewAttention(1, false)), []int{1, 2, 2}, []float64{1, 0, 0, 1}, ident),
		[]float64{p + 0.5, 1 - p - 0.5, 1 - p + 0.5, p - 0.5}, 1e-14)
	near(t, "causal attention", forward(t, nn.NewSequential("m", nn.NewAttention(1, true)), []int{1, 2, 2}, []float64{1, 0, 0, 1}, ident),
		[]float64{1.5, -0.5, 1 - p + 0.5, p - 0.5}, 1e-14)
	// A residual block adds its input: tanh(x) + x.
	near(t, "residual", forward(t, nn.NewSequential("m", nn.NewResidual(nn.Tanh())), []int{1, 2}, []float64{0.5, -1}, nil),
		[]float64{math.Tanh(0.5) + 0.5, math.Tanh(-1) - 1}, 1e-15)
}

// A graph built in Go: a residual block around two layers, and a branch
// from a named layer joined by Add.
func ExampleNewResidual() {
	stem := nn.NewDense(8)
	stem.SetName("stem")
	branch := nn.NewDense(8)
	branch.SetName("branch")
	branch.SetInputs("stem")
	m := nn.NewSequential("m",
		stem,
		nn.NewResidual(nn.NewLayerNorm(), nn.NewDense(8)),
		branch,
		nn.NewAdd("residual1", "branch"),
		nn.NewDense(2))
	rows, err := m.Summary([]int{4})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(nn.FormatSummary(rows))
	// Output:
	// Layer            Type         Output shape           Params  Inputs
	// stem             Dense        [8]                        40
	// residual1        Residual     [8]                        88
	//   layernorm1     LayerNorm    [8]                        16
	//   dense2         Dense        [8]                        72
	// branch           Dense        [8]                        72  stem
	// add1             Add          [8]                         0  residual1, branch
	// dense4           Dense        [2]                        18
	// Total params: 218
}
