package experiments_test

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/experiments"
	"github.com/dlrun/dlrun/run"
)

// The same config run twice, and run with GOMAXPROCS 1 and 2, gives the
// same trained weights, bit for bit.
func TestTinyExperimentIsReproducible(t *testing.T) {
	c, err := experiments.Load(filepath.Join("testdata", "tiny-cnn.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var hashes []string
	for _, procs := range []int{2, 2, 1} {
		old := runtime.GOMAXPROCS(procs)
		res, err := experiments.Run(c, filepath.Join(t.TempDir(), "exp"), nil)
		runtime.GOMAXPROCS(old)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Runs) != 1 || res.Runs[0].Seed != 3 {
			t.Fatalf("runs %+v", res.Runs)
		}
		hashes = append(hashes, res.Runs[0].WeightsSHA256)
	}
	if hashes[0] != hashes[1] || hashes[0] != hashes[2] {
		t.Fatalf("weight hashes differ: %v", hashes)
	}
}

func TestLoadRejectsUnknownKeysAndBadSeeds(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o644)
		return p
	}
	for _, c := range []struct {
		body, want string
	}{
		{"model: cnn\nlearnig_rate: 0.1\n", "learnig_rate"},
		{"model: resnet\n", "resnet"},
		{"model: cnn\nseeds: [0]\n", "seed 0"},
		{"epochs: 3\n", "no model"},
		{"model: [cnn\n", "yaml"},
	} {
		_, err := experiments.Load(write("bad.yaml", c.body))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want it to mention %q", c.body, err, c.want)
		}
	}
	c, err := experiments.Load(write("ok.yaml", "model: mlp\n"))
	if err != nil || c.Name != "ok" || len(c.Seeds) != 1 {
		t.Fatalf("defaults: %+v %v", c, err)
	}
}

func TestMissingDataIsSkippedNotFailed(t *testing.T) {
	c := &experiments.Config{Name: "full", Config: run.Config{Model: "cnn"}, Requires: filepath.Join(t.TempDir(), "absent"), RequiresHint: "apt-get install x", Seeds: []uint64{1}}
	out := filepath.Join(t.TempDir(), "exp")
	res, err := experiments.Run(c, out, nil)
	if err != nil || !strings.Contains(res.Skipped, "apt-get install x") {
		t.Fatalf("%+v %v", res, err)
	}
	if _, err := os.Stat(filepath.Join(out, "experiment.json")); err != nil {
		t.Fatal(err)
	}
}

// An experiment names a model file relative to itself and sets the
// loop's schedule and early stopping under config.json's names; a setting
// that does not apply to the model is refused when the file is loaded.
func TestLoadModelFileAndLoopSettings(t *testing.T) {
	c, err := experiments.Load(filepath.Join("testdata", "tiny-model-file.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Model != filepath.Join("testdata", "small-cnn.yaml") {
		t.Errorf("model %q, want the file next to the experiment", c.Model)
	}
	if c.Schedule != "step" || c.StepEvery != 1 || c.Gamma != 0.5 || c.Patience != 1 || c.Monitor != "test_accuracy" ||
		c.WeightDecay != 0.0001 || c.ClipNorm != 1 || c.BatchSize != 32 || len(c.Seeds) != 2 {
		t.Errorf("settings not read: %+v", c.Config)
	}
	if c.LanguageModel() {
		t.Error("a classifier's model file counts as a language model")
	}
	rc := c.RunConfig(2)
	if err := rc.Resolve(); err != nil || rc.Seed != 2 || rc.Task != run.Classify || rc.Dataset != "fashion-mnist" || rc.LearningRate != 0.001 {
		t.Errorf("run config of seed 2: %+v %v", rc, err)
	}
	if c, err := experiments.Load("charrnn.yaml"); err != nil || !c.LanguageModel() {
		t.Errorf("charrnn.yaml: language model %v, %v", c != nil && c.LanguageModel(), err)
	}

	dir := t.TempDir()
	for _, c := range []struct {
		body, want string
	}{
		{"model: mlp\ncell: gru\n", `cell "gru" does not apply to model mlp`},
		{"model: cnn\nseq_len: 50\n", "seq_len 50 does not apply to model cnn"},
		{"model: cnn\nlr_step_every: 2\n", "lr_step_every"},
		{"model: charrnn\nloss: mse\n", "loss mse does not apply to model charrnn"},
		{"model: cnn\nmonitor: train_loss\n", "train_loss"},
		{"model: cnn\nseed: 3\n", "seeds: [3]"},
	} {
		p := filepath.Join(dir, "bad.yaml")
		os.WriteFile(p, []byte(c.body), 0o644)
		_, err := experiments.Load(p)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), p) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: error %v, want one line naming the file and %q", c.body, err, c.want)
		}
	}
}

// Every config in this folder loads.
func TestShippedConfigsLoad(t *testing.T) {
	paths, _ := filepath.Glob("*.yaml")
	if len(paths) < 7 {
		t.Fatalf("%d configs", len(paths))
	}
	for _, p := range paths {
		if _, err := experiments.Load(p); err != nil {
			t.Error(err)
		}
	}
}
