package run_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/train"
	"gopkg.in/yaml.v3"
)

func TestResolveFillsTheRecipe(t *testing.T) {
	c := run.Config{Model: "rnn"}
	if err := c.Resolve(); err != nil {
		t.Fatal(err)
	}
	if c.Task != run.Classify || c.Dataset != "fashion-mnist" || c.Cell != "lstm" || c.Epochs != 10 || c.BatchSize != 64 ||
		c.Optimizer != "adam" || c.LearningRate != 1e-3 || c.Loss != "cce" || c.Seed != 1 || c.DType != "float32" || c.Version == "" {
		t.Errorf("resolved rnn: %+v", c)
	}
	lm := run.Config{Model: "charrnn", Config: train.Config{Epochs: 1}}
	if err := lm.Resolve(); err != nil {
		t.Fatal(err)
	}
	if lm.Task != run.NextToken || lm.SeqLen != 100 || lm.Epochs != 1 || lm.LearningRate != 2e-3 {
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
	if file.Task != run.Classify || file.Dataset != "fashion-mnist" || file.Epochs != 10 {
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
		{run.Config{Model: "cnn", Task: run.NextToken}, "task next-token does not apply to model cnn"},
		{run.Config{Model: "cnn", Task: "regress"}, `unknown task "regress"`},
		{run.Config{Model: "rnn", Cell: "rnn"}, `unknown cell "rnn"`},
		{run.Config{Model: "resnet"}, `unknown model "resnet"`},
		{run.Config{Model: "missing.yaml"}, "missing.yaml"},
		{run.Config{}, "no model"},
		{run.Config{Model: "cnn", Config: train.Config{Epochs: -1}}, "epochs -1"},
		{run.Config{Model: "cnn", Config: train.Config{LearningRate: -1}}, "learning rate -1"},
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
	c := run.Config{Model: "charrnn", Task: run.NextToken, Dataset: "d", Cell: "gru", SeqLen: 5, Dim: 8, Config: train.Config{
		Epochs: 1, BatchSize: 2, Optimizer: "sgd", LearningRate: 0.1, WeightDecay: 0.1, ClipNorm: 1, ClipValue: 1, Loss: "cce",
		Schedule: "step", StepEvery: 1, Gamma: 0.5, Patience: 1, Monitor: "test_loss", Seed: 3, DType: "float64", NoShuffle: true}}
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
