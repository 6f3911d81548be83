package onnx_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/datasets"
	"github.com/dlrun/dlrun/graph"
	pb "github.com/dlrun/dlrun/internal/onnxpb"
	"github.com/dlrun/dlrun/music/musictest"
	"github.com/dlrun/dlrun/nn"
	"github.com/dlrun/dlrun/onnx"
	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/runner"
	"github.com/dlrun/dlrun/train"
	"google.golang.org/protobuf/proto"
)

// tolerance is how far ONNX Runtime's float32 outputs may be from
// dlrun's: 1e-5, relative to the value where it is above 1 in magnitude
// (logits of 10 hold 1e-6 of float32 rounding per summand).
const tolerance = 1e-5

// allLayers is a classifier with every layer kind a classifier can hold
// that the reference models do not: strided and padded convolution,
// BatchNorm over features, LayerNorm, Dropout, Tanh, Sigmoid, Softmax, a
// pool with its own stride, a bias-free Dense.
const allLayers = `name: all-layers
layers:
  - conv2d: {filters: 6, kernel: 3, stride: 2, padding: same}
  - batch_norm: {}
  - tanh
  - max_pool2d: {size: 3, stride: 2}
  - conv2d: {filters: 4, kernel: [2, 3], bias: false}
  - sigmoid
  - flatten
  - dense: {units: 24}
  - layer_norm: {}
  - dropout: {rate: 0.3}
  - batch_norm: {}
  - relu
  - dense: {units: 16, bias: false}
  - softmax
  - dense: {units: 10}
`

// sequenceLayers is a language model of two stacked stateful GRUs, one
// returning sequences into a LayerNorm.
const sequenceLayers = `name: seq-layers
layers:
  - embedding: {vocab: %d, dim: 12}
  - gru: {hidden: 10, return_sequences: true, stateful: true}
  - layer_norm: {}
  - lstm: {hidden: 9, return_sequences: true, stateful: true, bias: false}
  - dense: {units: %d}
`

// tableText is a small CSV table: a class (kind) and a number (price) to
// predict from a number, a category one-hot encoded (colour) and one of
// more categories than that, embedded (store).
var tableText = func() string {
	var b strings.Builder
	b.WriteString("size,colour,store,kind,price\n")
	for i := 0; i < 80; i++ {
		fmt.Fprintf(&b, "%d,%s,s%d,%s,%d.5\n", i%9, []string{"red", "blue", "green"}[i%3], i%40, []string{"a", "b"}[i%2], 100+7*i)
	}
	return b.String()
}()

// tableInputs returns n rows of inputs for table model m as its
// preprocessing makes them: a standardised number, one-hot values, an
// embedding column's index.
func tableInputs(m *run.Run, n int, rng *rand.Rand) []float64 {
	var x []float64
	for range n {
		for _, c := range m.Config.Table.Preprocessing.Columns {
			switch c.Kind {
			case datasets.KindNumeric:
				x = append(x, float64(float32(rng.NormFloat64())))
			case datasets.KindOneHot:
				hot := make([]float64, len(c.Categories))
				hot[rng.IntN(len(hot))] = 1
				x = append(x, hot...)
			default:
				x = append(x, float64(rng.IntN(len(c.Categories)+1)))
			}
		}
	}
	return x
}

// blockLayers is a classifier with the graph layers and blocks: a
// residual block with a strided shortcut, a branch joined by Concat, an Add,
// global average pooling, and a sequence branch (Reshape, Conv1D, GELU, a
// dilated Conv1D).
const blockLayers = `name: block-layers
layers:
  - conv2d: {filters: 4, kernel: 3, padding: same, name: stem}
  - residual:
      layers:
        - conv2d: {filters: 6, kernel: 3, stride: 2, padding: same, bias: false}
        - batch_norm: {}
        - relu
        - conv2d: {filters: 6, kernel: 3, padding: same}
      shortcut:
        - conv2d: {filters: 6, kernel: 1, stride: 2}
        - batch_norm: {}
  - conv2d: {filters: 2, kernel: 2, stride: 2, name: side, inputs: [stem]}
  - concat: {inputs: [residual1, side], axis: 1}
  - global_avg_pool2d: {}
  - dense: {units: 6, name: pooled}
  - reshape: {shape: [28, -1], inputs: [input]}
  - conv1d: {filters: 6, kernel: 3, stride: 2, padding: same}
  - gelu: {}
  - conv1d: {filters: 6, kernel: 3, dilation: 2, padding: same}
  - global_avg_pool1d: {}
  - add: {inputs: [pooled, globalavgpool1d1]}
  - dense: {units: 10}
`

// transformerLayers is a language model of pre-norm transformer blocks
// with every attention and position setting, GELU in both forms and a
// causal, dilated Conv1D.
const transformerLayers = `name: transformer-layers
layers:
  - embedding: {vocab: %d, dim: 8}
  - positional_embedding: {max_len: 16}
  - residual: [{layer_norm: {}}, {attention: {heads: 2, causal: true}}]
  - residual: [{layer_norm: {}}, {dense: {units: 16}}, {gelu: {approximate: tanh}}, {dense: {units: 8}}]
  - positional_embedding: {sinusoidal: true}
  - residual: [{attention: {heads: 4, causal: true, bias: false}}]
  - conv1d: {filters: 8, kernel: 3, dilation: 2, padding: causal}
  - gelu: {}
  - layer_norm: {}
  - dense: {units: %d}
`

// text is a small corpus for the language models.
var text = strings.Repeat("It is a truth universally acknowledged, that a single man in possession of a good fortune, must be in want of a wife.\n", 24)

// trained trains cfg for a few steps into a new run folder under dir and
// returns the folder.
func trained(t *testing.T, dir, name string, cfg run.Config) string {
	t.Helper()
	out := filepath.Join(dir, name)
	if cfg.Epochs == 0 && cfg.Agent == nil {
		cfg.Epochs = 1
	}
	if cfg.Seed == 0 {
		cfg.Seed = 3
	}
	if _, err := runner.Train(cfg, runner.Options{Out: out}); err != nil {
		t.Fatalf("training %s: %v", name, err)
	}
	return out
}

// forward runs model m built afresh for batches of n examples, sharing
// m's weights, on each of xs in turn (a stateful model carries its state
// from one to the next, as in training), and returns the raw outputs.
func forward(t *testing.T, m *run.Run, n int, shape []int, xs ...[]float64) [][]float64 {
	t.Helper()
	return forwardGiven(t, m, n, shape, nil, xs...)
}

// forwardGiven is forward with the model's autoregressive output, if keys
// is not nil, conditioned on keys (of the output's shape), as training
// conditions it.
func forwardGiven(t *testing.T, m *run.Run, n int, shape []int, keys []float64, xs ...[]float64) [][]float64 {
	t.Helper()
	model, err := m.Model.Info.Model.Build()
	if err != nil {
		t.Fatal(err)
	}
	dt, err := graph.ParseDType(m.Model.Info.DType)
	if err != nil {
		t.Fatal(err)
	}
	g := graph.New(graph.WithDType(dt))
	x, err := g.Input("x", append([]int{n}, shape...)...)
	if err != nil {
		t.Fatal(err)
	}
	var k *graph.Node
	if keys != nil {
		joint, err := nn.AutoregressiveOutput(model)
		if err != nil || joint == nil {
			t.Fatalf("no autoregressive output to condition (%v)", err)
		}
		if k, err = g.Input("keys", append([]int{n}, shape...)...); err != nil {
			t.Fatal(err)
		}
		joint.Condition(k)
	}
	y, err := model.Build(g, x)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.ShareValues(m.Model.Trainer().Graph()); err != nil {
		t.Fatal(err)
	}
	prog, err := g.CompileForward(y)
	if err != nil {
		t.Fatal(err)
	}
	defer prog.Close()
	var outs [][]float64
	for _, v := range xs {
		if err := g.SetInput(x, v); err != nil {
			t.Fatal(err)
		}
		if k != nil {
			if err := g.SetInput(k, keys); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := prog.Run(false); err != nil {
			t.Fatal(err)
		}
		out, err := prog.Output(0)
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, out)
	}
	return outs
}

// export writes m's ONNX model into dir and checks it with the ONNX
// checker; it returns the file and the decoded model.
func export(t *testing.T, m *run.Run, dir string) (string, *pb.ModelProto) {
	t.Helper()
	b, err := onnx.Encode(m)
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	path := filepath.Join(dir, m.Config.Model+".onnx")
	if m.Config.Model == "" || strings.ContainsAny(m.Config.Model, `/\`) {
		path = filepath.Join(dir, "model.onnx")
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	var mp pb.ModelProto
	if err := proto.Unmarshal(b, &mp); err != nil {
		t.Fatalf("the export does not decode: %v", err)
	}
	checkONNX(t, path)
	return path, &mp
}

// agree fails t unless got (ONNX Runtime's) equals want (dlrun's) within
// tolerance, and returns the largest difference.
func agree(t *testing.T, what string, got ortTensor, dims []int, want []float64) float64 {
	t.Helper()
	if fmt.Sprint(got.Dims) != fmt.Sprint(dims) {
		t.Fatalf("%s: ONNX Runtime's shape %v, want %v", what, got.Dims, dims)
	}
	if len(got.Data) != len(want) {
		t.Fatalf("%s: %d values from ONNX Runtime, %d from dlrun", what, len(got.Data), len(want))
	}
	worst := 0.0
	for i, w := range want {
		d := math.Abs(got.Data[i] - w)
		if !(d <= tolerance*math.Max(1, math.Abs(w))) {
			t.Fatalf("%s: value %d: ONNX Runtime %v, dlrun %v (difference %.3g)", what, i, got.Data[i], w, d)
		}
		worst = math.Max(worst, d)
	}
	return worst
}

func flatten(rows [][]float64) []float64 {
	var out []float64
	for _, r := range rows {
		out = append(out, r...)
	}
	return out
}

func values(n int, f func(i int) float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = f(i)
	}
	return v
}

func float32s(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

// metadata returns the model's metadata_props as a map.
func metadata(mp *pb.ModelProto) map[string]string {
	out := map[string]string{}
	for _, p := range mp.GetMetadataProps() {
		out[p.GetKey()] = p.GetValue()
	}
	return out
}

// names returns the names of vs.
func names(vs []*pb.ValueInfoProto) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.GetName())
	}
	return out
}

// TestExportedModelsMatchDlrun exports each reference model (and model
// files holding the layer kinds they lack), trained for one short epoch,
// runs it with ONNX Runtime on a batch of inputs, and checks the outputs
// against dlrun's: a classifier's logits (a forward pass) and
// probabilities (Model.Predict), a recommender's ratings (Model.Predict),
// a language model's logits over two consecutive chunks (the stateful
// layers' state fed back).
func TestExportedModelsMatchDlrun(t *testing.T) {
	modules := ortModules(t)
	dir := t.TempDir()
	corpus := filepath.Join(dir, "corpus.txt")
	if err := os.WriteFile(corpus, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	table := filepath.Join(dir, "table.csv")
	if err := os.WriteFile(table, []byte(tableText), 0o644); err != nil {
		t.Fatal(err)
	}
	spec := filepath.Join(dir, "all-layers.yaml")
	if err := os.WriteFile(spec, []byte(allLayers), 0o644); err != nil {
		t.Fatal(err)
	}
	blocks := filepath.Join(dir, "block-layers.yaml")
	if err := os.WriteFile(blocks, []byte(blockLayers), 0o644); err != nil {
		t.Fatal(err)
	}
	var noShuffle = func(c run.Config) run.Config { c.NoShuffle = true; return c }
	cases := []struct {
		name string
		cfg  run.Config
	}{
		{"xor", run.Config{Model: "xor", Config: train.Config{Epochs: 20}}},
		{"mlp", run.Config{Model: "mlp"}},
		{"cnn", run.Config{Model: "cnn"}},
		{"cnn-bn", run.Config{Model: "cnn-bn"}},
		{"rnn-lstm", run.Config{Model: "rnn", Cell: "lstm"}},
		{"rnn-gru", run.Config{Model: "rnn", Cell: "gru"}},
		{"all-layers", noShuffle(run.Config{Model: spec})},
		{"block-layers", run.Config{Model: blocks}},
		{"mf", run.Config{Model: "mf"}},
		{"ncf", run.Config{Model: "ncf"}},
		{"biases", run.Config{Model: "biases"}},
		{"charrnn-lstm", run.Config{Model: "charrnn", Dataset: corpus, SeqLen: 16, Config: train.Config{BatchSize: 8}}},
		{"charrnn-gru", run.Config{Model: "charrnn", Cell: "gru", Dataset: corpus, SeqLen: 16, Config: train.Config{BatchSize: 8}}},
		{"seq-layers", run.Config{Model: "seq", Dataset: corpus, SeqLen: 16, Config: train.Config{BatchSize: 8}}},
		{"transformer-layers", run.Config{Model: "transformer", Dataset: corpus, SeqLen: 16, Config: train.Config{BatchSize: 8}}},
		{"gpt", run.Config{Model: "gpt", Dataset: corpus, SeqLen: 16, Config: train.Config{BatchSize: 8}}},
		{"ppo-connect4", run.Config{Model: "ppo", Agent: &run.AgentConfig{Env: "connect4", Steps: 2048}}},
		{"music-lstm", run.Config{Model: "music-lstm", Dataset: musictest.Folder(t, 5), SeqLen: 12, Config: train.Config{Epochs: 1, BatchSize: 2}}},
		{"music-transformer", run.Config{Model: "music-transformer", Dataset: musictest.Folder(t, 5), SeqLen: 12, Config: train.Config{Epochs: 1, BatchSize: 2}}},
		{"table-classify", run.Config{Model: "mlp", Dataset: table, Table: &run.TableConfig{Target: "kind"}}},
		{"table-regress", run.Config{Model: "mlp", Dataset: table, Table: &run.TableConfig{Target: "price"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := c.cfg
			if files := map[string]string{"seq-layers": sequenceLayers, "transformer-layers": transformerLayers}; files[c.name] != "" {
				// The vocabulary of the corpus sizes the embedding and the
				// output: train a charrnn first to learn it.
				ref, err := run.ReadConfig(trained(t, dir, "vocab-"+c.name, run.Config{Model: "charrnn", Dataset: corpus, SeqLen: 16, Config: train.Config{BatchSize: 8}}))
				if err != nil {
					t.Fatal(err)
				}
				v := len(ref.Vocab)
				path := filepath.Join(dir, c.name+".yaml")
				if err := os.WriteFile(path, []byte(fmt.Sprintf(files[c.name], v, v)), 0o644); err != nil {
					t.Fatal(err)
				}
				cfg.Model, cfg.Task = path, "next-token"
			}
			folder := trained(t, dir, c.name, cfg)
			m, err := run.Open(folder, false)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			path, mp := export(t, m, t.TempDir())
			meta := metadata(mp)
			if meta["task"] != m.Model.Info.Task || meta["dlrun_version"] == "" || meta["dlrun_model"] == "" || meta["opset"] != fmt.Sprint(onnx.Opset) {
				t.Errorf("metadata %v", meta)
			}
			rng := rand.New(rand.NewPCG(7, 7))
			const n = 5
			switch m.Model.Info.Task {
			case "classify":
				size := 1
				for _, d := range m.Model.Info.InputShape {
					size *= d
				}
				x := values(n*size, func(int) float64 { return float64(float32(rng.Float64())) })
				if m.Config.Table != nil {
					x = tableInputs(m, n, rng)
				}
				logits := forward(t, m, n, m.Model.Info.InputShape, x)[0]
				probs, err := m.Model.Predict(float32s(x))
				if err != nil {
					t.Fatal(err)
				}
				got := runORT(t, modules, path, map[string]ortTensor{"input": {DType: "float32", Dims: append([]int{n}, m.Model.Info.InputShape...), Data: x}})
				dl := agree(t, "logits", got["logits"], []int{n, m.Model.Info.Outputs}, logits)
				dp := agree(t, "probabilities", got["probabilities"], []int{n, len(probs[0])}, flatten(probs))
				if !strings.Contains(meta["classes"], "[") || !strings.Contains(meta["inputs"], `"batch"`) {
					t.Errorf("metadata classes %q inputs %q", meta["classes"], meta["inputs"])
				}
				t.Logf("%s: %d examples, largest difference: logits %.2g, probabilities %.2g", c.name, n, dl, dp)
			case "regress":
				w := m.Model.Info.InputShape[0]
				if l := m.Model.Info.Model.Layers[0]; l.Kind != "column_embedding" {
					t.Errorf("first layer %s: the store column should be embedded", l.Kind)
				}
				x := tableInputs(m, n, rng)
				out, err := m.Model.Predict(float32s(x))
				if err != nil {
					t.Fatal(err)
				}
				p := m.Config.Table.Preprocessing
				want := make([]float64, n)
				for i, o := range out {
					want[i] = float64(float32(p.Prediction(o[0])))
				}
				got := runORT(t, modules, path, map[string]ortTensor{"input": {DType: "float32", Dims: []int{n, w}, Data: x}})
				d := agree(t, "value", got["value"], []int{n, 1}, want)
				if !strings.Contains(meta["preprocessing"], `"target":"price"`) || !strings.Contains(meta["feature_names"], "colour=red") {
					t.Errorf("metadata preprocessing %q feature_names %q", meta["preprocessing"], meta["feature_names"])
				}
				t.Logf("%s: %d rows, largest difference %.2g", c.name, n, d)
			case "rating":
				x := make([]float64, 0, 2*n)
				for i := 0; i < n; i++ {
					x = append(x, float64(rng.IntN(m.Model.Info.Users)), float64(rng.IntN(m.Model.Info.Movies)))
				}
				want, err := m.Model.Predict(float32s(x))
				if err != nil {
					t.Fatal(err)
				}
				got := runORT(t, modules, path, map[string]ortTensor{"input": {DType: "int64", Dims: []int{n, 2}, Data: x}})
				d := agree(t, "rating", got["rating"], []int{n, 1}, flatten(want))
				t.Logf("%s: %d pairs, largest difference %.2g", c.name, n, d)
			case "next-token":
				steps := m.Model.Info.InputShape[0]
				chunk := func() []float64 {
					return values(n*steps, func(int) float64 { return float64(rng.IntN(m.Model.Info.Outputs)) })
				}
				x1, x2 := chunk(), chunk()
				want := forward(t, m, n, m.Model.Info.InputShape, x1, x2)
				feeds := map[string]ortTensor{"input": {DType: "int64", Dims: []int{n, steps}, Data: x1}}
				ins := names(mp.GetGraph().GetInput())
				for _, in := range ins[1:] {
					feeds[in] = ortTensor{DType: "float32", Dims: []int{n, hiddenOf(t, mp, in)}, Data: make([]float64, n*hiddenOf(t, mp, in))}
				}
				// The recurrent models are stateful: their states are inputs
				// and outputs, fed back for the second chunk.
				if stateful := c.name == "seq-layers" || strings.HasPrefix(c.name, "charrnn"); stateful != (len(ins) > 1) {
					t.Fatalf("inputs %v: want the stateful layers' states, and only theirs", ins)
				}
				got1 := runORT(t, modules, path, feeds)
				d1 := agree(t, "logits, first chunk", got1["logits"], []int{n, steps, m.Model.Info.Outputs}, want[0])
				feeds["input"] = ortTensor{DType: "int64", Dims: []int{n, steps}, Data: x2}
				for _, in := range ins[1:] {
					out := strings.TrimSuffix(in, "0")
					feeds[in] = ortTensor{DType: "float32", Dims: got1[out].Dims, Data: got1[out].Data}
				}
				got2 := runORT(t, modules, path, feeds)
				d2 := agree(t, "logits, second chunk (state fed back)", got2["logits"], []int{n, steps, m.Model.Info.Outputs}, want[1])
				if !strings.Contains(meta["vocab"], "[") {
					t.Errorf("metadata vocab %q", meta["vocab"])
				}
				t.Logf("%s: %d streams of %d steps, inputs %v, largest difference %.2g then %.2g", c.name, n, steps, ins, d1, d2)
			case "music":
				shape := m.Model.Info.InputShape
				x := values(n*shape[0]*shape[1], func(int) float64 { return float64(rng.IntN(2)) })
				want := forward(t, m, n, shape, x)[0]
				got := runORT(t, modules, path, map[string]ortTensor{"input": {DType: "float32", Dims: []int{n, shape[0], shape[1]}, Data: x}})
				d := agree(t, "logits", got["logits"], []int{n, shape[0], shape[1]}, want)
				t.Logf("%s: %d rolls of %d steps, largest difference %.2g", c.name, n, shape[0], d)
			case "play":
				shape := m.Model.Info.InputShape
				size := 1
				for _, d := range shape {
					size *= d
				}
				x := values(n*size, func(int) float64 { return float64(rng.IntN(2)) })
				want, err := m.Model.Outputs(float32s(x))
				if err != nil {
					t.Fatal(err)
				}
				got := runORT(t, modules, path, map[string]ortTensor{"input": {DType: "float32", Dims: append([]int{n}, shape...), Data: x}})
				values := m.Model.Info.Outputs
				name := run.LogitsName
				if m.Config.Model == "dqn" {
					name = run.QValuesName
				}
				d := agree(t, name, got[name], []int{n, values}, flatten(want))
				for i, row := range want {
					if a := got[run.ActionName]; len(a.Data) != n || int(a.Data[i]) != run.Greedy(row, nil) {
						t.Errorf("action %d: ONNX %v, dlrun's greedy action %d", i, a.Data, run.Greedy(row, nil))
					}
				}
				if meta["env"] != m.Config.Agent.Env {
					t.Errorf("metadata env %q", meta["env"])
				}
				t.Logf("%s: %d observations, largest difference %.2g, the same greedy actions", c.name, n, d)
			}
		})
	}
}

// hiddenOf returns the last dimension of graph input name.
func hiddenOf(t *testing.T, mp *pb.ModelProto, name string) int {
	t.Helper()
	for _, in := range mp.GetGraph().GetInput() {
		if in.GetName() == name {
			d := in.GetType().GetTensorType().GetShape().GetDim()
			return int(d[len(d)-1].GetDimValue())
		}
	}
	t.Fatalf("no input %s", name)
	return 0
}

// oddLayer is a layer kind of the test's own, which has no ONNX conversion.
type oddLayer struct{ nn.Dropout }

func (*oddLayer) Kind() string { return "Odd" }

func init() {
	nn.RegisterLayer("odd_test_layer", func(s *nn.Settings) *oddLayer { return &oddLayer{Dropout: nn.Dropout{Rate: 0.1}} }, func(l *oddLayer, s *nn.Settings) bool { return true })
}

// TestExportRefusesUnknownLayers checks that a model holding a layer with
// no ONNX conversion is refused with an error naming the layer, and that
// ExportRun then writes nothing.
func TestExportRefusesUnknownLayers(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "odd.yaml")
	if err := os.WriteFile(spec, []byte("name: odd\nlayers:\n  - flatten\n  - odd_test_layer\n  - dense: {units: 10}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	folder := trained(t, dir, "odd", run.Config{Model: spec})
	out := filepath.Join(dir, "odd.onnx")
	err := onnx.ExportRun(folder, false, out)
	if !errors.Is(err, onnx.ErrNotExportable) {
		t.Fatalf("error %v, want ErrNotExportable", err)
	}
	for _, want := range []string{"layer 2", "Odd", "no ONNX conversion"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error on several lines: %q", err)
	}
	if _, statErr := os.Stat(out); !os.IsNotExist(statErr) {
		t.Errorf("a refused export left %s", out)
	}
	t.Log(err)
}

// jointLayers is a joint music model without hidden units in its
// autoregressive output.
const jointLayers = `name: joint-plain
layers:
  - lstm: {hidden: 12, return_sequences: true}
  - dense: {units: 88}
  - autoregressive: {}
`

// TestExportedJointMusicModelsMatchDlrun exports joint music models (an
// autoregressive output with hidden units, music-lstm-joint, and without)
// and checks that ONNX Runtime's logits, given a roll and the keys they
// are conditioned on, are dlrun's conditionals as training computes them,
// and that the keys change them.
func TestExportedJointMusicModelsMatchDlrun(t *testing.T) {
	modules := ortModules(t)
	dir := t.TempDir()
	plain := filepath.Join(dir, "joint-plain.yaml")
	if err := os.WriteFile(plain, []byte(jointLayers), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, model string }{{"music-lstm-joint", "music-lstm-joint"}, {"joint-plain", plain}} {
		t.Run(c.name, func(t *testing.T) {
			folder := trained(t, dir, c.name, run.Config{Model: c.model, Task: "music", Dataset: musictest.Folder(t, 5), SeqLen: 12, Config: train.Config{Epochs: 1, BatchSize: 2}})
			m, err := run.Open(folder, false)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			path, mp := export(t, m, t.TempDir())
			if ins := names(mp.GetGraph().GetInput()); fmt.Sprint(ins) != fmt.Sprint([]string{run.InputName, run.KeysName}) {
				t.Fatalf("inputs %v, want the roll and the keys", ins)
			}
			const n = 3
			shape := m.Model.Info.InputShape
			dims := []int{n, shape[0], shape[1]}
			rng := rand.New(rand.NewPCG(5, 5))
			roll := func() []float64 {
				return values(n*shape[0]*shape[1], func(int) float64 { return float64(rng.IntN(2)) })
			}
			x, keys := roll(), roll()
			want := forwardGiven(t, m, n, shape, keys, x)[0]
			got := runORT(t, modules, path, map[string]ortTensor{
				run.InputName: {DType: "float32", Dims: dims, Data: x},
				run.KeysName:  {DType: "float32", Dims: dims, Data: keys},
			})
			d := agree(t, "logits", got["logits"], dims, want)
			silent := runORT(t, modules, path, map[string]ortTensor{
				run.InputName: {DType: "float32", Dims: dims, Data: x},
				run.KeysName:  {DType: "float32", Dims: dims, Data: make([]float64, len(keys))},
			})
			moved := 0.0
			for i, v := range silent["logits"].Data {
				moved = math.Max(moved, math.Abs(v-got["logits"].Data[i]))
			}
			if moved < 1e-4 {
				t.Errorf("the keys move the logits by %.2g at most: the trained autoregressive weights are not in the export", moved)
			}
			t.Logf("%s: %d rolls of %d steps, largest difference %.2g; the keys move the logits by up to %.2g", c.name, n, shape[0], d, moved)
		})
	}
}

// An autoregressive layer the export cannot give its condition is refused
// in one line naming it, and nothing is written: one that is not the
// model's last layer, and one in a model whose task does not condition it.
// Training makes neither, so each is a joint music model's model.json
// altered (run.Open refuses both).
func TestExportRefusesAnUnconditionedAutoregressive(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "joint-plain.yaml")
	if err := os.WriteFile(spec, []byte(jointLayers), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		alter func(info map[string]any)
		want  string
	}{
		{"inside", func(info map[string]any) {
			model := info["model"].(map[string]any)
			model["layers"] = append(model["layers"].([]any), map[string]any{"dropout": map[string]any{"rate": 0.1}})
		}, "autoregressive1 (Autoregressive): an autoregressive output must be the model's last layer"},
		{"classify", func(info map[string]any) { info["task"] = "classify" }, "config.json: task: music, but model.json's is classify"},
	} {
		t.Run(c.name, func(t *testing.T) {
			folder := trained(t, dir, c.name, run.Config{Model: spec, Task: "music", Dataset: musictest.Folder(t, 5), SeqLen: 12, Config: train.Config{Epochs: 1, BatchSize: 2}})
			file := filepath.Join(folder, "model.json")
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var info map[string]any
			if err := json.Unmarshal(b, &info); err != nil {
				t.Fatal(err)
			}
			c.alter(info)
			if b, err = json.Marshal(info); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(file, b, 0o644); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(dir, c.name+".onnx")
			err = onnx.ExportRun(folder, false, out)
			if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one line saying %q", err, c.want)
			}
			if _, statErr := os.Stat(out); !os.IsNotExist(statErr) {
				t.Errorf("a refused export left %s", out)
			}
			t.Log(err)
		})
	}
}

// An attention given a padding mask (a second input) is refused with one
// line naming the layer: the exported model has one input.
func TestExportRefusesAPaddingMask(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "masked.yaml")
	if err := os.WriteFile(spec, []byte(`name: masked
layers:
  - reshape: {shape: [28, 28]}
  - global_avg_pool1d: {name: mask}
  - attention: {heads: 2, inputs: [reshape1, mask]}
  - flatten
  - dense: {units: 10}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	folder := trained(t, dir, "masked", run.Config{Model: spec, Config: train.Config{BatchSize: 64}})
	out := filepath.Join(dir, "masked.onnx")
	err := onnx.ExportRun(folder, false, out)
	if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "layer 3 (attention1, Attention): an attention with a padding mask has no ONNX conversion") {
		t.Fatalf("error %v", err)
	}
	if _, statErr := os.Stat(out); !os.IsNotExist(statErr) {
		t.Errorf("a refused export left %s", out)
	}
}
