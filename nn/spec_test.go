package nn_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/nn"
	"gopkg.in/yaml.v3"
)

const smallCNN = `name: small-cnn
layers:
  - conv2d: {filters: 16, kernel: 5}
  - relu: {}
  - max_pool2d: {size: 2}
  - flatten: {}
  - dense: {units: 64}
  - relu: {}
  - dropout: {rate: 0.2}
  - dense: {units: 10}
`

const smallCNNJSON = `{"name":"small-cnn","layers":[{"conv2d":{"filters":16,"kernel":5}},{"relu":{}},{"max_pool2d":{"size":2}},{"flatten":{}},{"dense":{"units":64}},{"relu":{}},{"dropout":{"rate":0.2}},{"dense":{"units":10}}]}`

// scale is a user's own layer kind, registered below as test_scale.
type scale struct{ factor float64 }

func (s *scale) Name() string                        { return "" }
func (s *scale) Kind() string                        { return "Scale" }
func (s *scale) OutputShape(in []int) ([]int, error) { return in, nil }
func (s *scale) NumParams([]int) int                 { return 0 }
func (s *scale) Params() []*graph.Param              { return nil }
func (s *scale) Build(g *graph.Graph, x *graph.Node) (*graph.Node, error) {
	return x, nil
}

// mine is a user's own layer kind that is not registered.
type mine struct{}

func (mine) Name() string                                         { return "mine" }
func (mine) Kind() string                                         { return "Mine" }
func (mine) OutputShape(in []int) ([]int, error)                  { return nil, errors.New("bad input") }
func (mine) NumParams([]int) int                                  { return 0 }
func (mine) Params() []*graph.Param                               { return nil }
func (mine) Build(*graph.Graph, *graph.Node) (*graph.Node, error) { return nil, nil }

func init() {
	nn.RegisterLayer("test_scale",
		func(s *nn.Settings) *scale {
			l := &scale{factor: s.Float("factor", 1)}
			if l.factor <= 0 {
				s.Invalid("factor", "positive")
			}
			return l
		},
		func(l *scale, s *nn.Settings) bool {
			if l.factor != 1 {
				s.Set("factor", l.factor)
			}
			return true
		})
}

const knownKinds = "add, attention, autoregressive, batch_norm, biases, column_embedding, concat, conv1d, conv2d, dense, dropout, embedding, flatten, frame_changes, gelu, global_avg_pool1d, global_avg_pool2d, gru, layer_norm, lstm, max_pool2d, mf, ncf, positional_embedding, relu, reshape, residual, sigmoid, softmax, tanh, test_scale"

func TestSmallCNNSpec(t *testing.T) {
	for _, c := range []struct{ name, doc string }{{"small-cnn.yaml", smallCNN}, {"small-cnn.json", smallCNNJSON}} {
		spec, err := nn.ParseSpec([]byte(c.doc), c.name)
		if err != nil {
			t.Fatal(err)
		}
		m, err := spec.Build()
		if err != nil {
			t.Fatal(err)
		}
		rows, err := m.Summary([]int{1, 28, 28})
		if err != nil {
			t.Fatal(err)
		}
		want := [][]int{{16, 24, 24}, {16, 24, 24}, {16, 12, 12}, {2304}, {64}, {64}, {64}, {10}}
		names := []string{"conv2d1", "relu1", "maxpool2d1", "flatten1", "dense1", "relu2", "dropout1", "dense2"}
		kinds := []string{"Conv2D", "ReLU", "MaxPool2D", "Flatten", "Dense", "ReLU", "Dropout", "Dense"}
		if len(rows) != len(want) {
			t.Fatalf("%s: %d layers, want %d", c.name, len(rows), len(want))
		}
		for i, r := range rows {
			if !reflect.DeepEqual(r.OutputShape, want[i]) || r.Name != names[i] || r.Kind != kinds[i] {
				t.Errorf("%s: layer %d is %s %s %v, want %s %s %v", c.name, i+1, r.Name, r.Kind, r.OutputShape, names[i], kinds[i], want[i])
			}
		}
		if d := m.Layers[6].(*nn.Dropout); d.Rate != 0.2 {
			t.Errorf("dropout rate %g", d.Rate)
		}
		if c := m.Layers[0].(*nn.Conv2D); c.Filters != 16 || c.KernelH != 5 || c.KernelW != 5 {
			t.Errorf("conv %+v", c)
		}
		// Describe gives the spec back, settings and all.
		back, err := nn.Describe(m)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, spec) {
			t.Errorf("%s: Describe gives\n%#v\nnot\n%#v", c.name, back, spec)
		}
	}
}

func TestSpecFormats(t *testing.T) {
	spec, err := nn.ParseSpec([]byte(smallCNN), "small-cnn.yaml")
	if err != nil {
		t.Fatal(err)
	}
	j, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	if string(j) != smallCNNJSON {
		t.Errorf("JSON\n%s\nwant\n%s", j, smallCNNJSON)
	}
	y, err := yaml.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.ReplaceAll(smallCNN, "  -", "    -"); string(y) != want {
		t.Errorf("YAML\n%s\nwant\n%s", y, want)
	}
	// A bare kind, and a kind with no settings, are layers without settings.
	bare, err := nn.ParseSpec([]byte("name: m\nlayers:\n  - flatten\n  - dense:\n      units: 3\n  - relu:\n"), "bare.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := nn.Spec{Name: "m", Layers: []nn.LayerSpec{{"flatten", map[string]any{}}, {"dense", map[string]any{"units": 3}}, {"relu", map[string]any{}}}}
	if !reflect.DeepEqual(bare, want) {
		t.Errorf("got %#v", bare)
	}
	// Spec and LayerSpec decode with encoding/json and yaml.v3 too.
	var fromJSON, fromYAML struct {
		Model nn.Spec `json:"model" yaml:"model"`
	}
	if err := json.Unmarshal([]byte(`{"model": `+smallCNNJSON+`}`), &fromJSON); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal([]byte("model:\n"+strings.ReplaceAll("\n"+smallCNN, "\n", "\n  ")), &fromYAML); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromJSON.Model, spec) || !reflect.DeepEqual(fromYAML.Model, spec) {
		t.Errorf("decoded\n%#v\n%#v\nwant\n%#v", fromJSON.Model, fromYAML.Model, spec)
	}
	var l nn.LayerSpec
	if err := json.Unmarshal([]byte(`{"conv2d": {"filters": 2, "kernel": [3, 1]}}`), &l); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(l, nn.LayerSpec{"conv2d", map[string]any{"filters": 2, "kernel": []any{3, 1}}}) {
		t.Errorf("layer %#v", l)
	}
	var bad nn.Spec
	if err := json.Unmarshal([]byte(`{"name": "m", "layers": [{"dense": {}}, {"relu": {}}]}`), &bad); err == nil || !strings.Contains(err.Error(), `layer 1 (dense): missing required setting "units"`) {
		t.Errorf("json.Unmarshal of a bad spec: %v", err)
	}
}

// refInput builds reference r for the first input shape and output count
// it takes among an image, a sequence of rows, a text and an XOR point.
func refInput(t *testing.T, r nn.Reference, opt nn.Options) (*nn.Sequential, []int) {
	t.Helper()
	for _, c := range []struct {
		in      []int
		outputs int
	}{{[]int{1, 28, 28}, 10}, {[]int{28, 28}, 10}, {[]int{12}, 30}, {[]int{2}, 1}, {[]int{16, 3, 9, 16}, 2}} {
		m, err := r.Build(c.in, c.outputs, opt)
		if err != nil {
			continue // a model built for its input's rank (shots) refuses others
		}
		if _, err := m.OutputShape(c.in); err == nil {
			return m, c.in
		}
	}
	t.Fatalf("%s takes none of the inputs tried", r.Name)
	return nil, nil
}

// sameModel checks that a and b have the same layers, shapes and
// parameters and, built on graphs with the same seed, the same initial
// values, bit for bit.
func sameModel(t *testing.T, a, b *nn.Sequential, in []int) {
	t.Helper()
	ra, err := a.Summary(in)
	if err != nil {
		t.Fatal(err)
	}
	rb, err := b.Summary(in)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ra, rb) || a.Name() != b.Name() {
		t.Fatalf("summaries differ:\n%s %s\n%s %s", a.Name(), nn.FormatSummary(ra), b.Name(), nn.FormatSummary(rb))
	}
	build := func(m *nn.Sequential) []*graph.Param {
		g := graph.New(graph.WithDType(graph.Float64), graph.WithSeed(42))
		x, err := g.Input("x", append([]int{2}, in...)...)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Build(g, x); err != nil {
			t.Fatal(err)
		}
		return g.Params()
	}
	pa, pb := build(a), build(b)
	if len(pa) != len(pb) {
		t.Fatalf("%d parameters, rebuilt %d", len(pa), len(pb))
	}
	for i := range pa {
		if pa[i].Name != pb[i].Name || !reflect.DeepEqual(pa[i].Shape(), pb[i].Shape()) {
			t.Fatalf("parameter %d: %s %v, rebuilt %s %v", i, pa[i].Name, pa[i].Shape(), pb[i].Name, pb[i].Shape())
		}
		va, vb := pa[i].Value().Float64s(), pb[i].Value().Float64s()
		for j := range va {
			if math.Float64bits(va[j]) != math.Float64bits(vb[j]) {
				t.Fatalf("%s[%d]: %g, rebuilt %g", pa[i].Name, j, va[j], vb[j])
			}
		}
	}
	// Settings that leave no trace in shapes and values (dropout rates,
	// statefulness) are compared through the specs.
	sa, err := nn.Describe(a)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := nn.Describe(b)
	if err != nil {
		t.Fatal(err)
	}
	if ja, jb := canonical(t, sa), canonical(t, sb); string(ja) != string(jb) {
		t.Fatalf("specs differ:\n%s\n%s", ja, jb)
	}
}

func canonical(t *testing.T, s nn.Spec) []byte {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// roundTrip describes m, writes the spec as JSON and YAML, reads each back
// and checks that it builds the same model.
func roundTrip(t *testing.T, m *nn.Sequential, in []int) {
	t.Helper()
	spec, err := nn.Describe(m)
	if err != nil {
		t.Fatal(err)
	}
	j, err := json.MarshalIndent(spec, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	y, err := yaml.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		b    []byte
	}{{"model.json", j}, {"model.yaml", y}} {
		back, err := nn.ParseSpec(c.b, c.name)
		if err != nil {
			t.Fatalf("%v in\n%s", err, c.b)
		}
		// Compared as JSON: a float setting of 2 reads back as an int.
		if jb, _ := json.Marshal(back); string(jb) != string(canonical(t, spec)) {
			t.Errorf("%s reads back as\n%s\nnot\n%s", c.name, jb, canonical(t, spec))
		}
		rebuilt, err := back.Build()
		if err != nil {
			t.Fatal(err)
		}
		sameModel(t, m, rebuilt, in)
	}
}

func TestReferenceRoundTrip(t *testing.T) {
	refs := nn.References()
	if len(refs) < 5 {
		t.Fatalf("only %d reference models", len(refs))
	}
	for _, r := range refs {
		t.Run(r.Name, func(t *testing.T) {
			m, in := refInput(t, r, nn.Options{})
			roundTrip(t, m, in)
		})
	}
	for _, name := range []string{"rnn", "charrnn"} {
		t.Run(name+"-gru", func(t *testing.T) {
			r, err := nn.ReferenceByName(name)
			if err != nil {
				t.Fatal(err)
			}
			m, in := refInput(t, r, nn.Options{Cell: graph.GRUCell})
			roundTrip(t, m, in)
		})
	}
}

func TestReferenceSpecs(t *testing.T) {
	for _, c := range []struct{ name, want string }{
		{"cnn", `name: cnn
layers:
    - conv2d: {filters: 32, kernel: 3}
    - relu: {}
    - max_pool2d: {size: 2}
    - conv2d: {filters: 64, kernel: 3}
    - relu: {}
    - max_pool2d: {size: 2}
    - flatten: {}
    - dense: {units: 512}
    - relu: {}
    - dense: {units: 10}
`},
		{"charrnn", `name: charrnn
layers:
    - embedding: {dim: 64, vocab: 30}
    - lstm: {hidden: 256, return_sequences: true, stateful: true}
    - lstm: {hidden: 256, return_sequences: true, stateful: true}
    - dense: {units: 30}
`},
	} {
		r, err := nn.ReferenceByName(c.name)
		if err != nil {
			t.Fatal(err)
		}
		m, _ := refInput(t, r, nn.Options{})
		spec, err := nn.Describe(m)
		if err != nil {
			t.Fatal(err)
		}
		y, err := yaml.Marshal(spec)
		if err != nil {
			t.Fatal(err)
		}
		if string(y) != c.want {
			t.Errorf("%s:\n%s\nwant\n%s", c.name, y, c.want)
		}
	}
}

// Every setting away from its default survives the round trip.
func TestRoundTripEverySetting(t *testing.T) {
	conv := nn.NewSequential("convs",
		&nn.Conv2D{Filters: 4, KernelH: 3, KernelW: 2, StrideH: 2, StrideW: 1, Padding: "same", KernelInit: graph.HeUniform, BiasInit: graph.GlorotNormal},
		nn.NewBatchNorm(),
		&nn.BatchNorm{Momentum: 0.2, Eps: 1e-3},
		nn.Sigmoid(),
		&nn.Conv2D{Filters: 3, KernelH: 2, KernelW: 2, NoBias: true, Padding: "valid"},
		&nn.MaxPool2D{Size: 3, Stride: 1},
		nn.NewMaxPool2D(2),
		nn.NewFlatten(),
		&nn.Dense{Units: 5, NoBias: true, KernelInit: graph.TorchDefault},
		&scale{factor: 2},
		nn.Tanh(),
		&nn.Dense{Units: 4, BiasInit: graph.HeNormal, KernelInit: graph.GlorotUniform},
		nn.NewDropout(0.5),
		nn.NewLayerNorm(),
		&nn.Dense{Units: 3},
		nn.Softmax(),
	)
	rnn := nn.NewSequential("rnns",
		&nn.Embedding{Vocab: 11, Dim: 5, Init: graph.HeNormal},
		&nn.Recurrent{Cell: graph.LSTMCell, Hidden: 4, ReturnSequences: true, NoBias: true, Init: graph.GlorotUniform},
		&nn.LayerNorm{Eps: 1e-6},
		&nn.Recurrent{Cell: graph.GRUCell, Hidden: 3, ReturnSequences: true, Stateful: true},
		&nn.Recurrent{Cell: graph.LSTMCell, Hidden: 2, Init: graph.Bounded(2)},
		&nn.Dense{Units: 2},
	)
	for _, c := range []struct {
		m  *nn.Sequential
		in []int
	}{{conv, []int{2, 9, 8}}, {rnn, []int{6}}} {
		roundTrip(t, c.m, c.in)
	}
	spec, err := nn.Describe(conv)
	if err != nil {
		t.Fatal(err)
	}
	j, _ := json.Marshal(spec.Layers[:3])
	if want := `[{"conv2d":{"bias_init":"glorot_normal","filters":4,"kernel":[3,2],"kernel_init":"he_uniform","padding":"same","stride":[2,1]}},{"batch_norm":{}},{"batch_norm":{"eps":0.001,"momentum":0.2}}]`; string(j) != want {
		t.Errorf("got %s\nwant %s", j, want)
	}
}

func TestSpecNames(t *testing.T) {
	spec, err := nn.ParseSpec([]byte(`name: named
layers:
  - dense: {units: 3, name: hidden}
  - relu
  - dense: {units: 2, name: dense1}
  - dense: {units: 2, name: dense3}
  - dense: {units: 2}
`), "named.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m, err := spec.Build()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range m.Layers {
		names = append(names, l.Name())
	}
	if want := []string{"hidden", "relu1", "dense1", "dense3", "dense4"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("names %v, want %v", names, want)
	}
	back, err := nn.Describe(m)
	if err != nil {
		t.Fatal(err)
	}
	// dense1 and dense3 are the names NewSequential gives: not recorded.
	var recorded []any
	for _, l := range back.Layers {
		recorded = append(recorded, l.Settings["name"])
	}
	if want := []any{"hidden", nil, "dense1", nil, nil}; !reflect.DeepEqual(recorded, want) {
		t.Errorf("recorded names %v, want %v", recorded, want)
	}
	roundTrip(t, m, []int{4})
}

func TestSpecErrors(t *testing.T) {
	const inits = "zeros, glorot_uniform, glorot_normal, he_uniform, he_normal, torch_default, normal(std), uniform(limit), constant(v)"
	const item = `want a kind and its settings, as in "dense: {units: 10}" or "relu"`
	for _, c := range []struct{ doc, want string }{
		{"name: small-cnn\nlayers:\n  - conv2d: {filters: 16, kernel: 5}\n  - relu\n  - max_pool2d: {sise: 2}\n",
			`layer 3 (max_pool2d): unknown setting "sise" (known: inputs, name, size, stride)`},
		{"name: m\nlayers:\n  - relu\n  - conv2d: {filters: -3, kernel: 5}\n",
			`layer 2 (conv2d): setting "filters" must be a positive integer, not -3`},
		{"name: m\nlayers:\n  - flatten\n  - relu\n  - relu\n  - dense2d: {units: 3}\n",
			`layer 4: unknown layer kind "dense2d" (known: ` + knownKinds + `)`},
		{"name: m\nlayers:\n  - dense: {}\n  - relu\n", `layer 1 (dense): missing required setting "units"`},
		{"name: m\nlayers:\n  - dense: {units: ten}\n", `layer 1 (dense): setting "units" must be a positive integer, not "ten"`},
		{"name: m\nlayers:\n  - dense: {units: 2.5}\n", `layer 1 (dense): setting "units" must be a positive integer, not 2.5`},
		{"name: m\nlayers:\n  - dense: {units: 0}\n", `layer 1 (dense): setting "units" must be a positive integer, not 0`},
		{"name: m\nlayers:\n  - dense: {units: [4]}\n", `layer 1 (dense): setting "units" must be a positive integer, not [4]`},
		{"name: m\nlayers:\n  - dense: {units: 4, bias: yes}\n", `layer 1 (dense): setting "bias" must be true or false, not "yes"`},
		{"name: m\nlayers:\n  - dense: {units: 4, kernel_init: xavier}\n",
			`layer 1 (dense): setting "kernel_init" must be an initialiser name (` + inits + `), not "xavier"`},
		{"name: m\nlayers:\n  - dense: {units: 4, name: 7}\n", `layer 1 (dense): setting "name" must be a string, not 7`},
		{"name: m\nlayers:\n  - dense: {units: 4, unit: 4}\n", `layer 1 (dense): unknown setting "unit" (known: bias, bias_init, inputs, kernel_init, name, units)`},
		{"name: m\nlayers:\n  - conv2d: {filters: 4, kernel: [3]}\n",
			`layer 1 (conv2d): setting "kernel" must be a positive integer or a pair [h, w] of them, not [3]`},
		{"name: m\nlayers:\n  - conv2d: {filters: 4, kernel: [3, 0]}\n",
			`layer 1 (conv2d): setting "kernel" must be a positive integer or a pair [h, w] of them, not [3, 0]`},
		{"name: m\nlayers:\n  - conv2d: {filters: 4, kernel: 3, stride: -1}\n",
			`layer 1 (conv2d): setting "stride" must be a positive integer or a pair [h, w] of them, not -1`},
		{"name: m\nlayers:\n  - conv2d: {filters: 4, kernel: 3, padding: full}\n",
			`layer 1 (conv2d): setting "padding" must be one of "valid", "same", not "full"`},
		{"name: m\nlayers:\n  - conv2d: {filter: 4, kernel: 3}\n",
			`layer 1 (conv2d): unknown setting "filter" (known: bias, bias_init, filters, inputs, kernel, kernel_init, name, padding, stride)`},
		{"name: m\nlayers:\n  - max_pool2d\n", `layer 1 (max_pool2d): missing required setting "size"`},
		{"name: m\nlayers:\n  - dropout\n", `layer 1 (dropout): missing required setting "rate"`},
		{"name: m\nlayers:\n  - dropout: {rate: 1}\n", `layer 1 (dropout): setting "rate" must be at least 0 and less than 1, not 1`},
		{"name: m\nlayers:\n  - dropout: {rate: -0.1}\n", `layer 1 (dropout): setting "rate" must be at least 0 and less than 1, not -0.1`},
		{"name: m\nlayers:\n  - dropout: {rate: high}\n", `layer 1 (dropout): setting "rate" must be a number, not "high"`},
		{"name: m\nlayers:\n  - dropout: {rate: .nan}\n", `layer 1 (dropout): setting "rate" must be a number, not NaN`},
		{"name: m\nlayers:\n  - relu: {alpha: 0.1}\n", `layer 1 (relu): unknown setting "alpha" (known: inputs, name)`},
		{"name: m\nlayers:\n  - lstm: {hidden: 8, stateful: 1}\n", `layer 1 (lstm): setting "stateful" must be true or false, not 1`},
		{"name: m\nlayers:\n  - gru: {hidden: 8, init: normal(-1)}\n", `layer 1 (gru): setting "init" must be an initialiser name (` + inits + `), not "normal(-1)"`},
		{"name: m\nlayers:\n  - embedding: {vocab: 10}\n", `layer 1 (embedding): missing required setting "dim"`},
		{"name: m\nlayers:\n  - batch_norm: {momentum: 1.5}\n", `layer 1 (batch_norm): setting "momentum" must be at least 0 and at most 1, not 1.5`},
		{"name: m\nlayers:\n  - layer_norm: {eps: -1}\n", `layer 1 (layer_norm): setting "eps" must be a positive number, not -1`},
		{"name: m\nlayers:\n  - test_scale: {factor: 0, name: s}\n", `layer 1 (test_scale): setting "factor" must be positive, not 0`},
		{"name: m\nlayers:\n  - test_scale: {name: s}\n", `layer 1 (test_scale): setting "name": a *nn_test.scale cannot be named`},
		// Layer items that are not a kind with its settings.
		{"name: m\nlayers:\n  - {conv2d: {filters: 4, kernel: 3}, relu: {}}\n",
			`layer 1: ` + item + `, not a map with 2 keys ("conv2d", "relu"): one key per layer, its settings indented under it`},
		{"name: m\nlayers:\n  - conv2d:\n    filters: 4\n    kernel: 3\n",
			`layer 1: ` + item + `, not a map with 3 keys ("conv2d", "filters", "kernel"): one key per layer, its settings indented under it`},
		{"name: m\nlayers:\n  - relu\n  - {}\n", `layer 2: ` + item + `, not an empty map`},
		{"name: m\nlayers:\n  - [relu]\n", `layer 1: ` + item + `, not a list`},
		{"name: m\nlayers:\n  - 5\n", `layer 1: ` + item + `, not 5`},
		{"name: m\nlayers:\n  -\n", `layer 1: ` + item + `, not nothing`},
		{"name: m\nlayers:\n  - {5: {}}\n", `layer 1: ` + item + `, not a map keyed by 5`},
		{"name: m\nlayers:\n  - dense: 10\n", `layer 1 (dense): want its settings as a map, as in {units: 10}, not 10`},
		{"name: m\nlayers:\n  - dense: {units: 4, units: 5}\n", `layer 1 (dense): line 3: mapping key "units" already defined at line 3`},
		{"name: m\nlayers:\n  - dense: {units: 3, name: head}\n  - dense: {units: 2, name: head}\n", `layer 2 (dense): name "head" is taken by layer 1`},
		{"name: m\nlayers:\n  - dense: {units: 3, name: dense2}\n  - dense: {units: 2}\n", `layer 2 (dense): name "dense2" is taken by layer 1`},
		// The document.
		{"name: m\nlayers: [relu]\nepochs: 3\n", `unknown key "epochs" (known: name, layers)`},
		{"layers: [relu]\n", `missing "name"`},
		{"name: m\n", `no layers (want a list under "layers")`},
		{"name: m\nlayers: []\n", `no layers (want a list under "layers")`},
		{"name: m\nlayers: relu\n", `"layers" must be a list, not "relu"`},
		{"name: {a: 1}\nlayers: [relu]\n", `"name" must be a string, not a map`},
		{"name: m\nname: n\nlayers: [relu]\n", `line 2: "name" given twice`},
		{"- relu\n", `want a map with name and layers, not a list`},
		{"relu\n", `want a map with name and layers, not "relu"`},
		{"", `empty model spec (want a map with name and layers)`},
		{"# nothing\n", `empty model spec (want a map with name and layers)`},
		{"name: [\n", `yaml: line 1: did not find expected node content`},
		{"name: m\n\tlayers: []\n", `yaml: line 2: found a tab character that violates indentation`},
		// JSON.
		{`{"name": "m", "layers": [{"dense": {"units": "10"}}]}`, `layer 1 (dense): setting "units" must be a positive integer, not "10"`},
		{`{"name": "m", "layers": [{"dense": {"units": 10}}], "epochs": 3}`, `unknown key "epochs" (known: name, layers)`},
		{`{"name": "m", "layers": [{"dense": {"units": 10}, "relu": {}}]}`,
			`layer 1: ` + item + `, not a map with 2 keys ("dense", "relu"): one key per layer, its settings indented under it`},
		{`{"name": "m", "layers": [{"dense": {"units": 10}}]`, `yaml: line 1: did not find expected ',' or '}'`},
	} {
		_, err := nn.ParseSpec([]byte(c.doc), "small-cnn.yaml")
		want := "small-cnn.yaml: " + c.want
		if err == nil || err.Error() != want {
			t.Errorf("%q:\n got %v\nwant %s", c.doc, err, want)
		}
	}
}

// Build checks a spec made in Go as ParseSpec checks a file.
func TestBuildErrors(t *testing.T) {
	for _, c := range []struct {
		spec nn.Spec
		want string
	}{
		{nn.Spec{Name: "m", Layers: []nn.LayerSpec{{Kind: "dense", Settings: map[string]any{"units": -2}}}}, `layer 1 (dense): setting "units" must be a positive integer, not -2`},
		{nn.Spec{Name: "m", Layers: []nn.LayerSpec{{Kind: "conv2d", Settings: map[string]any{"filters": uint8(2), "kernel": []int{3, 3}, "stride": [2]int{1, 2}}}, {Kind: "Dense"}}}, `layer 2: unknown layer kind "Dense" (known: ` + knownKinds + `)`},
		{nn.Spec{Name: "m", Layers: []nn.LayerSpec{{Kind: "relu"}, {Kind: "dense", Settings: map[string]any{"units": 2.0, "bias": "false"}}}}, `layer 2 (dense): setting "bias" must be true or false, not "false"`},
		{nn.Spec{Layers: []nn.LayerSpec{{Kind: "relu"}}}, `missing "name"`},
		{nn.Spec{Name: "m"}, `no layers (want a list under "layers")`},
	} {
		_, err := c.spec.Build()
		if err == nil || err.Error() != c.want {
			t.Errorf("%+v:\n got %v\nwant %s", c.spec, err, c.want)
		}
	}
}

func TestDescribeErrors(t *testing.T) {
	gru := nn.NewGRU(3)
	gru.InitialState = func(*graph.Graph, int) (*graph.Node, *graph.Node, error) { return nil, nil, nil }
	for _, c := range []struct {
		m    *nn.Sequential
		want string
	}{
		{nn.NewSequential("m", nn.NewFlatten(), mine{}), `m: layer 2 (mine, Mine): cannot describe a nn_test.mine: no layer kind is registered for it (see nn.RegisterLayer)`},
		{nn.NewSequential("m", nn.NewSequential("inner", nn.ReLU())), `m: layer 1 (inner, Sequential): cannot describe a *nn.Sequential: no layer kind is registered for it (see nn.RegisterLayer)`},
		{nn.NewSequential("m", gru), `m: layer 1 (gru1, GRU): its InitialState function cannot be written in a spec`},
		{nn.NewSequential("m", &nn.Dense{Units: 2, KernelInit: graph.Bounded(3)}),
			`m: layer 1 (dense1, Dense): kernel_init bounded(3) has no name a spec can give (known: zeros, glorot_uniform, glorot_normal, he_uniform, he_normal, torch_default, normal(std), uniform(limit), constant(v))`},
		{nn.NewSequential("m", &nn.Embedding{Vocab: 3, Dim: 2, Init: graph.Bounded(4)}),
			`m: layer 1 (embedding1, Embedding): init bounded(4) has no name a spec can give (known: zeros, glorot_uniform, glorot_normal, he_uniform, he_normal, torch_default, normal(std), uniform(limit), constant(v))`},
		{nn.NewSequential("m", nn.ReLU(), nil), `m: layer 2 is nil`},
		{nn.NewSequential("m", nn.ReLU(), nn.NewDense(0)), `m: layer 2 (dense): setting "units" must be a positive integer, not 0`},
		{nn.NewSequential("m", &nn.Conv2D{Filters: 2, KernelH: 3, KernelW: 3, Padding: "full"}), `m: layer 1 (conv2d): setting "padding" must be one of "valid", "same", not "full"`},
		{nn.NewSequential("m", nn.NewDropout(1.5)), `m: layer 1 (dropout): setting "rate" must be at least 0 and less than 1, not 1.5`},
		{nn.NewSequential("", nn.ReLU()), `: missing "name"`},
		{nil, `describing a nil model`},
	} {
		_, err := nn.Describe(c.m)
		if err == nil || err.Error() != c.want {
			t.Errorf("got %v\nwant %s", err, c.want)
		}
	}
}

func TestRegisterLayerPanics(t *testing.T) {
	for _, kind := range []string{"dense", "test_scale", "Dense", "max-pool", "", "_x", "x__y"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("registering %q did not panic", kind)
				}
			}()
			nn.RegisterLayer(kind, func(*nn.Settings) *nn.Dense { return nil }, nil)
		}()
	}
}

// A nil layer is an error wherever a model is used, never a panic; shape
// errors name the layer by position.
func TestSequentialErrors(t *testing.T) {
	for _, nilLayer := range []nn.Layer{nil, (*nn.Dense)(nil), (*nn.Activation)(nil)} {
		m := nn.NewSequential("m", nn.NewDense(2), nilLayer, nn.ReLU())
		if _, err := m.OutputShape([]int{3}); err == nil || err.Error() != "m: layer 2 is nil" {
			t.Errorf("OutputShape: %v", err)
		}
		if _, err := m.Summary([]int{3}); err == nil || err.Error() != "m: layer 2 is nil" {
			t.Errorf("Summary: %v", err)
		}
		g := graph.New()
		x, _ := g.Input("x", 4, 3)
		if _, err := m.Build(g, x); err == nil || err.Error() != "m: layer 2 is nil" {
			t.Errorf("Build: %v", err)
		}
		if n := m.NumParams([]int{3}); n != 8 {
			t.Errorf("NumParams %d", n)
		}
		if m.Layers[2].Name() != "relu1" {
			t.Errorf("layer 3 named %q", m.Layers[2].Name())
		}
	}
	for _, c := range []struct {
		m    *nn.Sequential
		in   []int
		want string
	}{
		{nn.NewSequential("m", nn.NewFlatten(), nn.NewConv2D(2, 3)), []int{1, 4, 4},
			"m: layer 2: conv2d1 (Conv2D): input shape [16]: want [channels height width] per example"},
		{nn.NewSequential("m", nn.ReLU(), mine{}), []int{3}, "m: layer 2 (mine, Mine): bad input"},
	} {
		_, err := c.m.OutputShape(c.in)
		if err == nil || err.Error() != c.want {
			t.Errorf("OutputShape: %v, want %s", err, c.want)
		}
		if _, err := c.m.Summary(c.in); err == nil || err.Error() != c.want {
			t.Errorf("Summary: %v, want %s", err, c.want)
		}
	}
	r, _ := nn.ReferenceByName("cnn")
	m, _ := r.New([]int{1, 28, 28}, 10)
	if _, err := m.OutputShape([]int{1, 5, 5}); err == nil || err.Error() != "cnn: layer 4: conv2d2 (Conv2D): input shape [32 1 1]: a 3x3 kernel does not fit" {
		t.Errorf("cnn: %v", err)
	}
}

var malformed = []string{
	"", "\x00", "{", "[", "name", "name:", "name: m\nlayers:", "name: m\nlayers: 5", "name: m\nlayers: {a: 1}",
	"name: m\nlayers: [[]]", "name: m\nlayers: [{}]", "name: m\nlayers: [{relu: [1]}]", "name: m\nlayers: [null, relu]",
	"name: m\nlayers: [{dense: {units: {a: [1, {b: 2}]}}}]", "name: m\nlayers: [{dense: {units: 1e400}}]",
	"name: m\nlayers: [{dense: {units: 99999999999999999999}}]", "name: m\nlayers: [{dense: {units: -0}}]",
	"name: m\nlayers: [{conv2d: {filters: 1, kernel: [1, 2, 3]}}]", "name: m\nlayers: [{conv2d: {filters: 1, kernel: {h: 1}}}]",
	"name: &a m\nlayers: [*a]", "a: &a [*a]", "name: m\nlayers: &l [relu, *l]", "name: m\nlayers: [*x]",
	"name: m\nlayers:\n  - <<: {dense: {units: 2}}\n", "--- !!binary aGVsbG8=\n", "!!map {? [a]: b}",
	"name: m\nlayers: [{? [dense]: {units: 2}}]", "name: m\nlayers: [{dense: !!str 5}]", "name: !!int m\nlayers: [relu]",
	`{"name": 5, "layers": [{"dense": {"units": 1.0}}]}`, `{"name": "m", "layers": [{"lstm": {"hidden": 3, "init": null}}]}`,
	`[{"name": "m"}]`, `{"name": "m", "layers": [{"dense": {"units": 2}}]}}}`, "\xff\xfe", "name: m\nlayers:\n- dense:\n  units: 2\n",
	"name: m\nlayers: [{max_pool2d: {size: 2, stride: 0}}, {embedding: {vocab: 0, dim: 1}}]",
}

// checkParse runs ParseSpec on b and, if it succeeds, uses the model;
// nothing may panic, errors are one line, and what parses describes itself.
func checkParse(t *testing.T, b []byte) {
	spec, err := nn.ParseSpec(b, "fuzz.yaml")
	if err != nil {
		if strings.Contains(err.Error(), "\n") || !strings.HasPrefix(err.Error(), "fuzz.yaml: ") {
			t.Fatalf("%q: error %q", b, err)
		}
		return
	}
	m, err := spec.BuildFor(map[string]int{nn.SizeVocab: 1, nn.SizeClasses: 1, nn.SizeOutputs: 1})
	if err != nil {
		t.Fatalf("%q parses but does not build: %v", b, err)
	}
	m.Summary([]int{1, 28, 28})
	m.NumParams([]int{8})
	back, err := nn.Describe(m)
	if err != nil {
		t.Fatalf("%q: %v", b, err)
	}
	j, err := json.Marshal(back)
	if err != nil {
		t.Fatalf("%q: %v", b, err)
	}
	if _, err := nn.ParseSpec(j, "back.json"); err != nil {
		t.Fatalf("%q: described as %s: %v", b, j, err)
	}
}

func TestMalformedSpecs(t *testing.T) {
	docs := append([]string(nil), malformed...)
	// Every prefix of the example, in YAML and in JSON.
	for _, d := range []string{smallCNN, smallCNNJSON} {
		for i := range d {
			docs = append(docs, d[:i])
		}
	}
	for _, d := range docs {
		checkParse(t, []byte(d))
	}
}

// tableSpec is a table model's spec: its category columns embedded.
const tableSpec = "name: t\nlayers:\n  - column_embedding: {columns: [0, 2], sizes: [5, 9], dim: 4}\n  - dense: {units: 2}\n"

// FuzzParseSpec parses arbitrary bytes as a spec: no panic, one-line
// errors, what parses describes itself (checkParse), and the parse
// allocates a bounded multiple of the input, aliases or not. The seeds
// include the spec fixtures of testdata/models (alias bombs, deep
// nesting, huge settings).
func FuzzParseSpec(f *testing.F) {
	for _, d := range append([]string{smallCNN, smallCNNJSON, tableSpec}, malformed...) {
		f.Add([]byte(d))
	}
	addSpecFixtures(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		if n := parseAllocs(b); n > 4<<20+512*uint64(len(b)) {
			t.Fatalf("parsing %d bytes allocated %d", len(b), n)
		}
		checkParse(t, b)
	})
}

func ExampleParseSpec() {
	spec, err := nn.ParseSpec([]byte(`name: small-cnn
layers:
  - conv2d: {filters: 16, kernel: 5}
  - relu: {}
  - max_pool2d: {size: 2}
  - flatten: {}
  - dense: {units: 64}
  - relu: {}
  - dropout: {rate: 0.2}
  - dense: {units: 10}
`), "small-cnn.yaml")
	if err != nil {
		panic(err)
	}
	m, err := spec.Build()
	if err != nil {
		panic(err)
	}
	rows, err := m.Summary([]int{1, 28, 28})
	if err != nil {
		panic(err)
	}
	fmt.Print(nn.FormatSummary(rows))
	// Output:
	// Layer            Type         Output shape           Params
	// conv2d1          Conv2D       [16 24 24]                416
	// relu1            ReLU         [16 24 24]                  0
	// maxpool2d1       MaxPool2D    [16 12 12]                  0
	// flatten1         Flatten      [2304]                      0
	// dense1           Dense        [64]                   147520
	// relu2            ReLU         [64]                        0
	// dropout1         Dropout      [64]                        0
	// dense2           Dense        [10]                      650
	// Total params: 148586
}

func ExampleDescribe() {
	m := nn.NewSequential("mlp", nn.NewFlatten(), nn.NewDense(128), nn.ReLU(), &nn.Dense{Units: 10, NoBias: true})
	spec, err := nn.Describe(m)
	if err != nil {
		panic(err)
	}
	b, err := yaml.Marshal(spec)
	if err != nil {
		panic(err)
	}
	fmt.Print(string(b))
	// Output:
	// name: mlp
	// layers:
	//     - flatten: {}
	//     - dense: {units: 128}
	//     - relu: {}
	//     - dense: {bias: false, units: 10}
}
