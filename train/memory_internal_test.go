package train

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dlrun/dlrun/nn"
)

// New refuses a model whose graph needs more memory than the process may
// still use, with a one-line error naming the batch and both figures, and
// builds it when there is room.
func TestNewRefusesAModelTheMemoryCannotHold(t *testing.T) {
	defer func(f func() (int64, string, bool)) { availableMemory = f }(availableMemory)
	build := func(batch int) (*Trainer, error) {
		ref, err := nn.ReferenceByName("rnn")
		if err != nil {
			t.Fatal(err)
		}
		m, err := ref.New([]int{28, 28}, 10)
		if err != nil {
			t.Fatal(err)
		}
		return New(m, &Classify{Shape: []int{28, 28}, Outputs: 10}, Config{BatchSize: batch})
	}
	availableMemory = func() (int64, string, bool) { return 1 << 40, "test", true }
	tr, err := build(64)
	if err != nil {
		t.Fatal(err)
	}
	need64 := tr.min.Program().MemoryEstimate()
	tr.Close()
	tr, err = build(128)
	if err != nil {
		t.Fatal(err)
	}
	need128 := tr.min.Program().MemoryEstimate()
	tr.Close()
	// The recurrent layer's caches and every activation grow with the batch.
	if need64 < 4<<20 || need128 < need64*3/2 {
		t.Fatalf("estimates %d bytes at batch 64, %d at 128", need64, need128)
	}
	availableMemory = func() (int64, string, bool) { return need128, "ulimit -v", true }
	if _, err := build(64); err != nil {
		t.Fatalf("batch 64 (%d bytes) with %d available: %v", need64, need128, err)
	}
	_, err = build(128)
	if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "a batch of 128") || !strings.Contains(err.Error(), "ulimit -v") {
		t.Fatalf("batch 128 with only its own estimate available (no room to spare): %v", err)
	}
	availableMemory = func() (int64, string, bool) { return 0, "", false }
	if tr, err := build(128); err != nil {
		t.Fatalf("nothing known about the memory: %v", err)
	} else {
		tr.Close()
	}
}

// The estimate made from the shapes alone, before anything is built,
// agrees with the built graph's own (graph.Program.MemoryEstimate) for a
// model of every registered layer kind, under every task, and for every
// reference model: each layer's nn.BatchValues counts what its Build
// adds. A layer kind registered without a case here fails the test.
func TestEstimateMemoryMatchesTheGraph(t *testing.T) {
	defer func(f func() (int64, string, bool)) { availableMemory = f }(availableMemory)
	availableMemory = func() (int64, string, bool) { return 0, "", false }
	image := func() Task { return &Classify{Shape: []int{1, 28, 28}, Outputs: 10} }
	seq := func() Task { return &Classify{Shape: []int{28, 28}, Outputs: 10} }
	text := func() Task { return &NextToken{Vocab: 80, SeqLen: 50} }
	ratings := func() Task { return &Rating{Users: 300, Movies: 700} }
	shots := func() Task { return &Shots{Window: 8, Frame: []int{3, 9, 16}} }
	rolls := func() Task { return &NextStep{Width: 88, SeqLen: 40} }
	table := func() Task { return &Regress{Shape: []int{12}} }
	cases := []struct {
		name, layers string
		task         func() Task
		cfg          Config
	}{
		{"dense", "{flatten: {}}, {dense: {units: 300}}, {relu: {}}, {dense: {units: 10, bias: false}}", image, Config{}},
		{"activations", "{flatten: {}}, {tanh: {}}, {dense: {units: 100}}, {sigmoid: {}}, {dense: {units: 10}}, {softmax: {}}", image, Config{Loss: "mse"}},
		{"conv", "{conv2d: {filters: 16, kernel: 3}}, {relu: {}}, {max_pool2d: {size: 2}}, {conv2d: {filters: 8, kernel: 5, stride: 2, padding: same}}, {flatten: {}}, {dense: {units: 10}}", image, Config{}},
		{"norms", "{conv2d: {filters: 8, kernel: 3}}, {batch_norm: {}}, {relu: {}}, {flatten: {}}, {dropout: {rate: 0.3}}, {dense: {units: 64}}, {layer_norm: {}}, {dense: {units: 10}}", image, Config{Optimizer: "sgd"}},
		{"recurrent", "{lstm: {hidden: 32, return_sequences: true}}, {gru: {hidden: 16}}, {dense: {units: 10}}", seq, Config{Optimizer: "rmsprop", ClipNorm: 1}},
		{"language", "{embedding: {vocab: 80, dim: 16}}, {gru: {hidden: 64, return_sequences: true, stateful: true}}, {dense: {units: 80}}", text, Config{}},
		{"float64", "{flatten: {}}, {dense: {units: 30}}, {dense: {units: 10}}", image, Config{DType: "float64", WeightDecay: 0.01}},
		{"mf", "{mf: {users: 300, movies: 700, dim: 8, l2: 0.01}}", ratings, Config{Loss: "mse"}},
		{"ncf", "{ncf: {users: 300, movies: 700, dim: 8, hidden: [16, 8], l2: 0.001}}", ratings, Config{Loss: "mse"}},
		{"biases", "{biases: {users: 300, movies: 700, l2: 0.1}}", ratings, Config{Loss: "mse"}},
		{"frame changes", "{frame_changes: {}}, {dense: {units: 2}}", shots, Config{Loss: "bce"}},
		{"music", "{lstm: {hidden: 32, return_sequences: true}}, {dropout: {rate: 0.3}}, {dense: {units: 88}}", rolls, Config{Loss: "bce", ClipNorm: 0.01}},
		{"joint", "{lstm: {hidden: 32, return_sequences: true}}, {dense: {units: 88}}, {autoregressive: {hidden: 64}}", rolls, Config{Loss: "bce"}},
		{"table", "{column_embedding: {columns: [2, 5], sizes: [40, 100], dim: 8}}, {dense: {units: 32}}, {relu: {}}, {dense: {units: 1}}", table, Config{Loss: "mse"}},
		{"transformer", "{embedding: {vocab: 80, dim: 32}}, {positional_embedding: {max_len: 64}}, {residual: {layers: [{layer_norm: {}}, {attention: {heads: 4, causal: true}}]}}, {residual: {layers: [{layer_norm: {}}, {dense: {units: 64}}, {gelu: {}}, {dense: {units: 32}}]}}, {dense: {units: 80}}", text, Config{Optimizer: "adamw", Schedule: "warmup_cosine", WarmupSteps: 2}},
		{"sinusoidal", "{embedding: {vocab: 80, dim: 16}}, {positional_embedding: {sinusoidal: true}}, {attention: {heads: 2}}, {dense: {units: 80}}", text, Config{}},
		{"graph", "{conv2d: {filters: 8, kernel: 3, padding: same, name: stem}}, {conv2d: {filters: 8, kernel: 3, padding: same, name: a}}, {relu: {name: r}}, {add: {inputs: [stem, r]}}, {conv2d: {filters: 4, kernel: 1, name: b, inputs: [stem]}}, {concat: {inputs: [add1, b], axis: 1}}, {global_avg_pool2d: {}}, {dense: {units: 10}}", image, Config{}},
		{"sequence", "{conv1d: {filters: 16, kernel: 3, padding: causal}}, {gelu: {approximate: tanh}}, {conv1d: {filters: 8, kernel: 5, stride: 2, padding: same}}, {global_avg_pool1d: {}}, {reshape: {shape: [2, 4]}}, {flatten: {}}, {dense: {units: 10}}", seq, Config{}},
	}
	covered := map[string]bool{}
	check := func(name string, model nn.Layer, task Task, cfg Config) {
		t.Helper()
		cfg.BatchSize = 16
		est, err := EstimateMemory(model, task, cfg)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		tr, err := New(model, task, cfg)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		defer tr.Close()
		pre, post := est.Params+est.Batch, tr.min.Program().MemoryEstimate()
		if r := float64(pre) / float64(post); r < 0.95 || r > 1.05 {
			t.Errorf("%s: estimated %d bytes before building, the graph holds %d (%.3f×)", name, pre, post, r)
		}
	}
	for _, c := range cases {
		spec, err := nn.ParseSpec([]byte("{name: "+c.name+", layers: ["+c.layers+"]}"), c.name)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range spec.Layers {
			covered[l.Kind] = true
		}
		model, err := spec.Build()
		if err != nil {
			t.Fatal(err)
		}
		check(c.name, model, c.task(), c.cfg)
	}
	for _, kind := range nn.LayerKinds() {
		if !covered[kind] {
			t.Errorf("layer kind %s has no model here: add one, and give the layer an nn.BatchMemory method if the fallback (one output and its input's gradient) misses what it builds", kind)
		}
	}
	for _, ref := range nn.References() {
		var task Task
		var cfg Config
		switch ref.Name {
		case "xor":
			task = &Classify{Shape: []int{2}, Outputs: 1}
			cfg.Loss = "bce"
		case "rnn":
			task = seq()
		case "charrnn", "gpt":
			task = text()
		case "music-lstm", "music-lstm-joint", "music-transformer":
			task, cfg.Loss = rolls(), "bce"
		case "mf", "ncf", "biases":
			task, cfg.Loss = ratings(), "mse"
		case "shots":
			task, cfg.Loss = &Shots{Window: 16, Frame: []int{3, 9, 16}}, "bce"
		default:
			task = image()
		}
		outputs := task.OutputSize()
		model, err := ref.Build(task.InputShape(), outputs, nn.Options{Users: 300, Movies: 700})
		if err != nil {
			t.Fatal(err)
		}
		check("reference "+ref.Name, model, task, cfg)
	}
}

// A model whose parameters alone would not fit is refused before
// anything is built for it, in one line giving the estimate, its parts and
// the limit; so is one whose batch would not fit, with the advice to lower
// the batch size.
func TestNewRefusesBeforeBuilding(t *testing.T) {
	defer func(f func() (int64, string, bool)) { availableMemory = f }(availableMemory)
	availableMemory = func() (int64, string, bool) { return 8 << 30, "ulimit -v", true }
	huge := nn.NewSequential("huge", nn.NewFlatten(), nn.NewDense(1_200_000), nn.NewDense(10))
	task := &Classify{Shape: []int{1, 28, 28}, Outputs: 10}
	start := time.Now()
	_, err := New(huge, task, Config{BatchSize: 64})
	if err == nil || !errors.Is(err, ErrNoMemory) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("error %v, want one line wrapping ErrNoMemory", err)
	}
	for _, want := range []string{"model huge: training needs about 57.7 GiB of memory (56.9 GiB for 954,000,010 parameters", "0.9 GiB for a batch of 64)", "more than the 8.0 GiB this process may still use (ulimit -v): make the model smaller"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("refused after %v", d)
	}
	if huge.Layers[1].Params() != nil {
		t.Error("the refused model was built")
	}
	wide := nn.NewSequential("wide", nn.NewConv2D(4096, 3), nn.NewFlatten(), nn.NewDense(10))
	_, err = New(wide, task, Config{BatchSize: 1024})
	if err == nil || !strings.Contains(err.Error(), "GiB for a batch of 1024), more than the 8.0 GiB") || !strings.HasSuffix(err.Error(), ": lower the batch size (or the sequence length)") {
		t.Fatalf("a batch of 1024 through 4096 filters: %v", err)
	}
	if wide.Layers[0].Params() != nil {
		t.Error("the refused model was built")
	}
}
