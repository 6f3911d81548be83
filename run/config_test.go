package run_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/dlrun/dlrun/internal/safeio"
	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/train"
	"gopkg.in/yaml.v3"
)

func TestResolveFillsTheRecipe(t *testing.T) {
	c := run.Config{Model: "rnn"}
	if err := c.Resolve(); err != nil {
		t.Fatal(err)
	}
	if c.Task != "classify" || c.Dataset != "fashion-mnist" || c.Cell != "lstm" || c.Epochs != 10 || c.BatchSize != 64 ||
		c.Optimizer != "adam" || c.LearningRate != 1e-3 || c.Loss != "cce" || c.Seed != 1 || c.DType != "float32" || c.Version == "" {
		t.Errorf("resolved rnn: %+v", c)
	}
	lm := run.Config{Model: "charrnn", Config: train.Config{Epochs: 1}}
	if err := lm.Resolve(); err != nil {
		t.Fatal(err)
	}
	if lm.Task != "next-token" || lm.SeqLen != 100 || lm.Epochs != 1 || lm.LearningRate != 2e-3 {
		t.Errorf("resolved charrnn: %+v", lm)
	}
	// Resolving again changes nothing: a config.json resolves to itself.
	again := lm
	if err := again.Resolve(); err != nil || !reflect.DeepEqual(again, lm) {
		t.Errorf("resolving twice: %v\n%+v\n%+v", err, again, lm)
	}
	path := filepath.Join(t.TempDir(), "small-cnn.yaml")
	spec := "name: small-cnn\nlayers:\n  - flatten: {}\n  - dense: {units: 10}\n"
	if err := os.WriteFile(path, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	file := run.Config{Model: path}
	if err := file.Resolve(); err != nil {
		t.Fatal(err)
	}
	if file.Task != "classify" || file.Dataset != "fashion-mnist" || file.Epochs != 10 {
		t.Errorf("resolved model file: %+v", file)
	}
}

// A setting that does not apply to the model is refused, with a line that
// names it and says why.
func TestResolveRefusesWhatDoesNotApply(t *testing.T) {
	for _, c := range []struct {
		cfg  run.Config
		want string
	}{
		{run.Config{Model: "mlp", Cell: "gru"}, `cell "gru" does not apply to model mlp`},
		{run.Config{Model: "small.yaml", Cell: "gru"}, `cell "gru" does not apply to model small.yaml`},
		{run.Config{Model: "cnn", SeqLen: 10}, "seq_len 10 does not apply to model cnn"},
		{run.Config{Model: "cnn", Config: train.Config{StepEvery: 2}}, "lr_step_every and lr_gamma apply to the step schedule only"},
		{run.Config{Model: "cnn", Config: train.Config{Schedule: "cosine", Gamma: 0.5}}, "apply to the step schedule only"},
		{run.Config{Model: "charrnn", Config: train.Config{Loss: "mse"}}, "next-token prediction trains with cce"},
		{run.Config{Model: "cnn", Task: "next-token"}, "task next-token does not apply to model cnn"},
		{run.Config{Model: "cnn", Task: "segment"}, `unknown task "segment"`},
		{run.Config{Model: "cnn", Task: "regress"}, "task regress does not apply to model cnn, which is trained for classify"},
		{run.Config{Model: "rnn", Cell: "rnn"}, `unknown cell "rnn"`},
		{run.Config{Model: "resnet50"}, `unknown model "resnet50"`},
		{run.Config{Model: "missing.yaml"}, "missing.yaml"},
		{run.Config{}, "no model"},
		{run.Config{Model: "cnn", Config: train.Config{Epochs: -1}}, "epochs -1"},
		{run.Config{Model: "cnn", Config: train.Config{LearningRate: -1}}, "learning_rate -1"},
		{run.Config{Model: "cnn", Config: train.Config{WeightDecay: math.NaN()}}, "weight_decay NaN: must be a finite number"},
		{run.Config{Model: "cnn", Config: train.Config{ClipNorm: math.Inf(1)}}, "clip_norm +Inf"},
		{run.Config{Model: "cnn", Config: train.Config{Schedule: "step"}}, "lr_schedule step needs lr_step_every"},
		{run.Config{Model: "xor", Config: train.Config{BatchSize: 100_000_000}}, "batch_size 100000000: must be 1 to 1048576"},
		{run.Config{Model: "charrnn", SeqLen: 100_000_000}, "seq_len 100000000: must be 1 to 4096"},
		{run.Config{Model: "mf", Dim: 1 << 20}, "dim 1048576: must be 1 to 4096"},
		{run.Config{Model: "cnn", Config: train.Config{Optimizer: "lbfgs"}}, `unknown optimizer "lbfgs"`},
		{run.Config{Model: "cnn", Config: train.Config{Monitor: "f1"}}, `unknown metric "f1"`},
		{run.Config{Model: "cnn", Config: train.Config{Patience: -2}}, "patience -2"},
	} {
		err := c.cfg.Resolve()
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%+v: error %v, want one line containing %q", c.cfg, err, c.want)
		}
	}
}

// config.json and experiment files use the same names for every setting.
func TestConfigNamesAreTheSameInJSONAndYAML(t *testing.T) {
	c := run.Config{Model: "charrnn", Task: "next-token", Dataset: "d", Cell: "gru", SeqLen: 5, Dim: 8, Grid: "8th", Agent: &run.AgentConfig{Env: "cartpole", Steps: 10},
		Images: &run.ImageConfig{Size: "8x6", Channels: 1, Augment: "flip", SkipBad: true},
		Table:  &run.TableConfig{Target: "y", Fill: "mean", Ignore: []string{"id"}, Test: "t.csv"}, Config: train.Config{
			Epochs: 1, BatchSize: 2, Optimizer: "sgd", LearningRate: 0.1, WeightDecay: 0.1, ClipNorm: 1, ClipValue: 1, Loss: "cce",
			Schedule: "step", StepEvery: 1, Gamma: 0.5, WarmupSteps: 2, Patience: 1, Monitor: "test_loss", Seed: 3, DType: "float64", NoShuffle: true}}
	keys := func(b []byte, unmarshal func([]byte, any) error) []string {
		var m map[string]any
		if err := unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		var k []string
		for n := range m {
			k = append(k, n)
		}
		sort.Strings(k)
		return k
	}
	j, _ := json.Marshal(c)
	y, _ := yaml.Marshal(c)
	jk, yk := keys(j, json.Unmarshal), keys(y, yaml.Unmarshal)
	if strings.Join(jk, ",") != strings.Join(yk, ",") {
		t.Errorf("config.json names %v\nYAML names %v", jk, yk)
	}
	var back run.Config
	dec := yaml.NewDecoder(strings.NewReader(string(j))) // JSON is YAML
	dec.KnownFields(true)
	if err := dec.Decode(&back); err != nil || !reflect.DeepEqual(back, c) {
		t.Errorf("config.json read as an experiment file: %v\n%+v", err, back)
	}
}

// writeConfig writes b as the config.json of a new run folder and
// returns the folder.
func writeConfig(t testing.TB, dir string, b []byte) string {
	if err := os.WriteFile(filepath.Join(dir, "config.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// configFixtures returns the bytes of the config.json fixtures.
func configFixtures(t testing.TB) map[string][]byte {
	paths, err := filepath.Glob("../testdata/config/*.json")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fixtures in ../testdata/config: %v", err)
	}
	out := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(p)] = b
	}
	return out
}

// ReadConfig refuses a config.json whose settings or record of the data
// pass the limits, in one line naming the folder, the file and the field,
// before anything is allocated from it: `dlrun eval` of a run whose
// config.json listed input_shape [1, 100000, 100000] or five million
// classes ran out of memory.
func TestReadConfigFixtures(t *testing.T) {
	want := map[string]string{
		"valid-xor.json":                      "",
		"valid-charrnn.json":                  "",
		"input-shape-1x100000x100000.json":    "input_shape [1 100000 100000]: more than the 16777216 values an example may hold",
		"input-shape-rank-1000.json":          "input_shape: 1000 dimensions, want 1 to 8",
		"input-shape-zero-dim.json":           "input_shape [3 0 32]: dimension 0 must be positive",
		"classes-4097-over-limit.json":        "classes: 4097 names, more than the 4096 allowed",
		"class-name-300-bytes.json":           "classes: name 1 has 300 bytes, more than the 256 allowed",
		"batch-size-100000000.json":           "batch_size 100000000: must be 1 to 1048576",
		"seq-len-100000000.json":              "seq_len 100000000: must be 1 to 4096",
		"epochs-over-limit.json":              "epochs 1000001",
		"lr-gamma-negative.json":              "lr_gamma -0.5: must be a finite number",
		"lr-schedule-step-without-every.json": "lr_schedule step needs lr_step_every",
		"learning-rate-1e400.json":            "number 1e400",
		"train-examples-negative.json":        "train_examples -5: must not be negative",
		"classes-nested-20000-deep.json":      "exceeded max depth",
		"empty.json":                          "unexpected end of JSON input",
	}
	for name, b := range configFixtures(t) {
		w, ok := want[name]
		if !ok {
			t.Errorf("%s: no expectation", name)
			continue
		}
		dir := writeConfig(t, t.TempDir(), b)
		c, err := run.ReadConfig(dir)
		if w == "" {
			if err != nil {
				t.Errorf("%s: %v", name, err)
			} else if len(c.Classes)+len(c.Vocab) == 0 || len(c.InputShape) != 1 {
				t.Errorf("%s: read %+v", name, c)
			}
			continue
		}
		prefix := "run folder " + dir + ": config.json: "
		if err == nil || !strings.HasPrefix(err.Error(), prefix) || !strings.Contains(err.Error(), w) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %v, want one line starting %q containing %q", name, err, prefix, w)
		}
	}
}

// A list longer than its limit is refused before it is decoded: reading
// the config.json of a million classes allocates little more than the
// file, not a million strings. A FIFO is refused without blocking, and a
// file larger than MaxConfigSize without being read.
func TestReadConfigBoundsWhatItReads(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"model":"mlp","classes":[""`)
	for i := 1; i < 1_000_000; i++ {
		b.WriteString(`,""`)
	}
	b.WriteString(`]}`)
	dir := writeConfig(t, t.TempDir(), []byte(b.String()))
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	_, err := run.ReadConfig(dir)
	runtime.ReadMemStats(&m1)
	if err == nil || !strings.Contains(err.Error(), "classes: 1000000 names, more than the 4096 allowed") {
		t.Errorf("a million classes: %v", err)
	}
	if a := m1.TotalAlloc - m0.TotalAlloc; a > 3*uint64(b.Len())+1<<20 { // safeio.ReadFile grows its buffer as it reads
		t.Errorf("a million classes: %d bytes allocated for a %d-byte file", a, b.Len())
	}

	vocab := make([]string, train.MaxVocab+1)
	for i := range vocab {
		vocab[i] = fmt.Sprint(i)
	}
	j, _ := json.Marshal(run.Config{Model: "charrnn", Vocab: vocab})
	if _, err := run.ReadConfig(writeConfig(t, t.TempDir(), j)); err == nil || !strings.Contains(err.Error(), "vocab: 65537 names, more than the 65536 allowed") {
		t.Errorf("vocab over the limit: %v", err)
	}
	j, _ = json.Marshal(run.Config{Model: "charrnn", Vocab: vocab[:train.MaxVocab]})
	if _, err := run.ReadConfig(writeConfig(t, t.TempDir(), j)); err != nil {
		t.Errorf("vocab at the limit: %v", err)
	}

	fifo := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(fifo, "config.json"), 0o644); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	if _, err := run.ReadConfig(fifo); err == nil || !strings.Contains(err.Error(), "not a regular file (a FIFO)") {
		t.Errorf("FIFO: %v", err)
	}
	big := t.TempDir()
	f, err := os.Create(filepath.Join(big, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(run.MaxConfigSize + 1); err != nil { // sparse: takes no disk
		t.Fatal(err)
	}
	f.Close()
	if _, err := run.ReadConfig(big); !errors.Is(err, safeio.ErrTooLarge) || strings.Contains(err.Error(), "\n") {
		t.Errorf("config.json over MaxConfigSize: %v", err)
	}
}

// FuzzReadConfig reads arbitrary bytes as a run folder's config.json:
// never a panic, a bounded allocation, a one-line error, and what is
// read is within every limit.
func FuzzReadConfig(f *testing.F) {
	for _, b := range configFixtures(f) {
		f.Add(b)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		writeConfig(t, dir, b)
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		c, err := run.ReadConfig(dir)
		runtime.ReadMemStats(&m1)
		if a := m1.TotalAlloc - m0.TotalAlloc; a > 64<<20 {
			t.Fatalf("%d bytes allocated for %d bytes of config.json", a, len(b))
		}
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error of more than one line: %q", err)
			}
			return
		}
		if len(c.Classes) > train.MaxClasses || len(c.Vocab) > train.MaxVocab || c.SeqLen > train.MaxSeqLen || c.Dim > run.MaxDim ||
			c.TrainExamples < 0 || c.TestExamples < 0 || c.Params < 0 {
			t.Fatalf("accepted %+v", c)
		}
		if c.InputShape != nil {
			if err := train.CheckInputShape(c.InputShape); err != nil {
				t.Fatalf("accepted input_shape %v: %v", c.InputShape, err)
			}
		}
		if err := train.CheckNames("classes", c.Classes, train.MaxClasses); err != nil {
			t.Fatalf("accepted %v", err)
		}
		if err := c.Config.Check(); err != nil {
			t.Fatalf("accepted %v", err)
		}
	})
}
