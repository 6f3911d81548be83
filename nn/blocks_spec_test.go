package nn_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/nn"
	"gopkg.in/yaml.v3"
)

// A residual CNN and a transformer block written out in the model file
// format, as docs/models.md shows them.
const (
	resnetYAML = `
name: small-resnet
layers:
  - conv2d: {filters: 8, kernel: 3, padding: same, bias: false}
  - batch_norm
  - relu
  - residual:
      - conv2d: {filters: 8, kernel: 3, padding: same, bias: false}
      - batch_norm
      - relu
      - conv2d: {filters: 8, kernel: 3, padding: same, bias: false}
      - batch_norm
  - relu
  - residual:
      layers:
        - conv2d: {filters: 16, kernel: 3, stride: 2, padding: same, bias: false}
        - batch_norm
        - relu
        - conv2d: {filters: 16, kernel: 3, padding: same, bias: false}
        - batch_norm
      shortcut:
        - conv2d: {filters: 16, kernel: 1, stride: 2, bias: false}
        - batch_norm
  - relu
  - global_avg_pool2d
  - dense: {units: 10}
`
	transformerYAML = `
name: tiny-gpt
layers:
  - embedding: {vocab: 20, dim: 8}
  - positional_embedding: {max_len: 6}
  - residual: [{layer_norm: {}}, {attention: {heads: 2, causal: true}}]
  - residual:
      - layer_norm
      - dense: {units: 32}
      - gelu: {approximate: tanh}
      - dense: {units: 8}
  - layer_norm
  - dense: {units: 20}
`
	branchesYAML = `
name: branches
layers:
  - dense: {units: 4, name: a}
  - dense: {units: 4, inputs: [input], name: b}
  - add: {inputs: [a, b], name: sum}
  - dense: {units: 2, inputs: a}
  - concat: {inputs: [sum, dense3]}
  - dense: {units: 3}
`
)

// described builds the model file text yaml, describes it as JSON, and
// builds that description again.
func described(t *testing.T, yaml string) (m *nn.Sequential, js string, again *nn.Sequential) {
	t.Helper()
	spec, err := nn.ParseSpec([]byte(yaml), "m.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if m, err = spec.Build(); err != nil {
		t.Fatal(err)
	}
	d, err := nn.Describe(m)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	if again, err = d.Build(); err != nil {
		t.Fatal(err)
	}
	return m, string(b), again
}

// A dilated convolution's dilation is described, and read back: 3 taps 4
// steps apart leave 10 − 8 steps of a valid convolution; causal padding
// pads the 4 steps that 2 taps 4 steps apart span beyond the first.
func TestConv1DDilationRoundTrip(t *testing.T) {
	m, js, again := described(t, "name: m\nlayers:\n  - conv1d: {filters: 3, kernel: 3, dilation: 4}\n  - conv1d: {filters: 2, kernel: 2, dilation: 4, padding: causal}\n")
	if !strings.Contains(js, `"dilation":4`) {
		t.Errorf("description %s names no dilation", js)
	}
	for _, mm := range []*nn.Sequential{m, again} {
		if out, err := mm.OutputShape([]int{10, 2}); err != nil || !slices.Equal(out, []int{2, 2}) {
			t.Errorf("output %v, %v; want [2 2]", out, err)
		}
	}
}

// Blocks and wired layers round-trip: the spec built, described, written
// as JSON and as YAML and read back builds the same model (names, shapes,
// initial values), and the description is the same each time.
func TestBlockSpecRoundTrip(t *testing.T) {
	for _, c := range []struct {
		yaml string
		in   []int
	}{{resnetYAML, []int{1, 8, 8}}, {transformerYAML, []int{6}}, {branchesYAML, []int{5}}} {
		spec, err := nn.ParseSpec([]byte(c.yaml), "m.yaml")
		if err != nil {
			t.Fatal(err)
		}
		m, err := spec.Build()
		if err != nil {
			t.Fatal(err)
		}
		d, err := nn.Describe(m)
		if err != nil {
			t.Fatal(err)
		}
		js, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		var back nn.Spec
		if err := json.Unmarshal(js, &back); err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		ys, err := yaml.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		var backY nn.Spec
		if err := yaml.Unmarshal(ys, &backY); err != nil {
			t.Fatalf("%s: %v", ys, err)
		}
		for _, s := range []nn.Spec{back, backY} {
			again, err := s.Build()
			if err != nil {
				t.Fatal(err)
			}
			d2, err := nn.Describe(again)
			if err != nil {
				t.Fatal(err)
			}
			if js2, _ := json.Marshal(d2); string(js2) != string(js) {
				t.Errorf("described again:\n%s\nfirst:\n%s", js2, js)
			}
			if a, b := params(t, m, c.in), params(t, again, c.in); a != b {
				t.Errorf("parameters differ:\n%s\n%s", a, b)
			}
		}
	}
}

// params builds m on a float64 graph of seed 3 and lists its parameters'
// names, shapes and first values.
func params(t *testing.T, m *nn.Sequential, in []int) string {
	t.Helper()
	g := graph.New(graph.WithDType(graph.Float64), graph.WithSeed(3))
	x, err := g.Input("x", append([]int{2}, in...)...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Build(g, x); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, p := range g.Params() {
		fmt.Fprintf(&b, "%s %v %.6g\n", p.Name, p.Shape(), p.Values()[0])
	}
	for _, bf := range g.Buffers() {
		fmt.Fprintf(&b, "%s %v\n", bf.Name, bf.Shape())
	}
	return b.String()
}

// The parameters of layers inside blocks are named in the model's one
// count, so every name is the model's own.
func TestBlockParameterNames(t *testing.T) {
	spec, err := nn.ParseSpec([]byte(transformerYAML), "")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := spec.Build()
	g := graph.New()
	x, _ := g.Input("x", 2, 6)
	if _, err := m.Build(g, x); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"attention1.in_proj_bias", "attention1.in_proj_weight", "attention1.out_proj.bias", "attention1.out_proj.weight",
		"dense1.bias", "dense1.weight", "dense2.bias", "dense2.weight", "dense3.bias", "dense3.weight",
		"embedding1.weight", "layernorm1.bias", "layernorm1.weight", "layernorm2.bias", "layernorm2.weight",
		"layernorm3.bias", "layernorm3.weight", "positionalembedding1.weight",
	}
	if got := g.ParamNames(); !slices.Equal(got, want) {
		t.Errorf("parameters %v,\nwant %v", got, want)
	}
	if p := g.ParamByName("attention1.in_proj_weight"); !slices.Equal(p.Shape(), []int{24, 8}) {
		t.Errorf("in_proj_weight %v, want PyTorch's [3·8 8]", p.Shape())
	}
}

// Errors name the block and the layer inside it, and the input at fault.
func TestBlockSpecErrors(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{"name: m\nlayers:\n  - dense: {units: 2}\n  - residual: [{dense: {units: 2}}, {attention: {head: 2}}]\n",
			`m.yaml: layer 2 (residual): layer 2 (attention): unknown setting "head" (known: bias, causal, heads, inputs, kernel_init, name)`},
		{"name: m\nlayers:\n  - residual: {layers: [relu], shortcut: [{dense: {}}]}\n",
			`m.yaml: layer 1 (residual): shortcut layer 1 (dense): missing required setting "units"`},
		{"name: m\nlayers:\n  - residual: {shortcut: [relu]}\n", `m.yaml: layer 1 (residual): missing required setting "layers"`},
		{"name: m\nlayers:\n  - residual: [{dense: {units: 2}, relu: {}}]\n", `layer 1 (residual): layer 1: want a kind and its settings`},
		{"name: m\nlayers:\n  - residual: 3\n", `layer 1 (residual): want its settings as a map`},
		{"name: m\nlayers:\n  - dense: {units: 2, name: a}\n  - residual: [{dense: {units: 2, name: a}}]\n",
			`m.yaml: layer 2 (residual): layer 1 (Dense): name "a" is taken by layer 1`},
		{"name: m\nlayers:\n  - dense: {units: 2}\n  - add: {inputs: [dense1, b]}\n",
			`m.yaml: m: layer 2 (add1, Add): input "b" names no earlier layer (known: input, dense1)`},
		{"name: m\nlayers:\n  - dense: {units: 2}\n  - dense: {units: 2, inputs: [input]}\n",
			`m.yaml: m: layer 1 (dense1, Dense): its output goes to no later layer`},
		{"name: m\nlayers:\n  - dense: {units: 2}\n  - dense: {units: 2, inputs: [input, dense1]}\n",
			`m.yaml: m: layer 2 (dense2, Dense): takes one input, not 2 (input, dense1)`},
		{"name: m\nlayers:\n  - dense: {units: 2, name: input}\n", `a layer may not be named "input"`},
		{"name: m\nlayers:\n  - dense: {units: 2, inputs: [3]}\n", `layer 1 (dense): setting "inputs" must be a list of layer names`},
		{"name: m\nlayers:\n  - residual: [{dense: {units: 2, inputs: [outer]}}]\n", `residual1 (Residual): layer 1 (dense1, Dense): input "outer" names no earlier layer (known: input)`},
		{"name: m\nlayers:\n  - gelu: {approximate: fast}\n", `setting "approximate" must be one of "none", "tanh"`},
		{"name: m\nlayers:\n  - reshape: {shape: [2, -2]}\n", `setting "shape" must be a list of positive integers, one of which may be -1`},
		{"name: m\nlayers:\n  - positional_embedding: {}\n", `missing required setting "max_len"`},
		{"name: m\nlayers:\n  - conv1d: {filters: 2, kernel: 3, padding: full}\n", `setting "padding" must be one of "valid", "same", "causal"`},
		{"name: m\nlayers:\n  - concat: {axis: x}\n", `setting "axis" must be an integer`},
		{"name: m\nlayers:\n  - conv1d: {filters: 2, kernel: 3, dilation: -2}\n", `setting "dilation" must be a positive integer`},
	} {
		_, err := nn.ParseSpec([]byte(c.yaml), "m.yaml")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q:\n got %v\nwant %s", c.yaml, err, c.want)
		}
	}
}

// Shape errors inside a block name the model, the block and the layer.
func TestBlockShapeErrors(t *testing.T) {
	for _, c := range []struct {
		m    *nn.Sequential
		in   []int
		want string
	}{
		{nn.NewSequential("m", nn.NewResidual(nn.NewDense(3))), []int{4},
			"m: layer 1: residual1 (Residual): input shape [4]: the body's output [3] and the input [4] differ"},
		{nn.NewSequential("gpt", nn.NewDense(6), nn.NewResidual(nn.NewLayerNorm(), nn.NewAttention(4, true))), []int{5, 3},
			"gpt: layer 2: residual1 (Residual): layer 2: attention1 (Attention): input shape [5 6]: 4 heads must divide the width 6"},
		{nn.NewSequential("m", nn.NewDense(3), wire(nn.NewAdd(), "", "dense1", nn.InputName)), []int{4},
			"m: layer 2: add1 (Add): input shape [3]: the inputs' shapes [3], [4] differ"},
		{nn.NewSequential("m", nn.NewAdd()), []int{4}, "add1 (Add): input shape [4]: adds two or more inputs, not 1"},
		{nn.NewSequential("m", nn.NewDense(2), wire(&nn.Concat{Axis: 3}, "", "dense1", nn.InputName)), []int{4},
			"axis 3 is not one of an example's 1 axes"},
		{nn.NewSequential("m", nn.NewReshape(5, -1)), []int{2, 3}, "6 values do not make a shape [5 -1]"},
		{nn.NewSequential("m", nn.NewPositionalEmbedding(4)), []int{6, 2}, "6 steps are more than the 4 positions"},
		{nn.NewSequential("m", nn.NewResidual()), []int{4}, "residual1 (Residual): input shape [4]: an empty body"},
		{nn.NewSequential("m", &nn.Conv1D{Filters: 2, Kernel: 3, Dilation: 4}), []int{8, 2},
			"conv1d1 (Conv1D): input shape [8 2]: a kernel of 3 taps 4 steps apart (9 steps) does not fit"},
	} {
		if _, err := c.m.OutputShape(c.in); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v\nwant %s", err, c.want)
		}
	}
}

// A block's summary row is followed by its layers, indented, and wired
// layers list their inputs.
func ExampleSequential_Summary_blocks() {
	spec, _ := nn.ParseSpec([]byte(`
name: m
layers:
  - dense: {units: 4, name: a}
  - residual: [{layer_norm: {}}, {dense: {units: 4}}]
  - dense: {units: 4, inputs: [input], name: b}
  - add: {inputs: [residual1, b]}
`), "")
	m, _ := spec.Build()
	rows, _ := m.Summary([]int{3})
	fmt.Print(nn.FormatSummary(rows))
	// Output:
	// Layer            Type         Output shape           Params  Inputs
	// a                Dense        [4]                        16
	// residual1        Residual     [4]                        28
	//   layernorm1     LayerNorm    [4]                         8
	//   dense2         Dense        [4]                        20
	// b                Dense        [4]                        16  input
	// add1             Add          [4]                         0  residual1, b
	// Total params: 60
}
