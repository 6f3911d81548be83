package train_test

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/train"
	"gopkg.in/yaml.v3"
)

// Every rate and factor must be a finite number, not negative, and every
// count within its limit; the error is one line naming the setting by its
// config-file name, so dlrun's flags (which add their own spelling) and a
// config file's author know what to change.
func TestConfigCheckRefusesNonFiniteAndOutOfRange(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	for _, c := range []struct {
		cfg  train.Config
		want string
	}{
		{train.Config{LearningRate: nan}, "learning_rate NaN"},
		{train.Config{LearningRate: -inf}, "learning_rate -Inf"},
		{train.Config{LearningRate: -1}, "learning_rate -1"},
		{train.Config{WeightDecay: nan}, "weight_decay NaN"},
		{train.Config{WeightDecay: inf}, "weight_decay +Inf"},
		{train.Config{ClipNorm: nan}, "clip_norm NaN"},
		{train.Config{ClipNorm: -0.5}, "clip_norm -0.5"},
		{train.Config{ClipValue: inf}, "clip_value +Inf"},
		{train.Config{Schedule: "step", StepEvery: 1, Gamma: nan}, "lr_gamma NaN"},
		{train.Config{Schedule: "step", StepEvery: 1, Gamma: inf}, "lr_gamma +Inf"},
		{train.Config{Schedule: "step", StepEvery: 1, Gamma: -0.5}, "lr_gamma -0.5"},
		{train.Config{Schedule: "step"}, "lr_schedule step needs lr_step_every"},
		{train.Config{Schedule: "Step", Gamma: 0.5}, "lr_schedule step needs lr_step_every"},
		{train.Config{Schedule: "step", StepEvery: -2}, "lr_step_every -2"},
		{train.Config{Epochs: -1}, "epochs -1"},
		{train.Config{Epochs: train.MaxEpochs + 1}, "epochs 1000001: must be 1 to 1000000"},
		{train.Config{BatchSize: -3}, "batch_size -3"},
		{train.Config{BatchSize: 100_000_000}, "batch_size 100000000: must be 1 to 1048576"},
		{train.Config{Patience: -1}, "patience -1"},
	} {
		err := c.cfg.Check()
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%+v: error %v, want one line containing %q", c.cfg, err, c.want)
		}
	}
	// The limits themselves are valid.
	for _, c := range []train.Config{
		{Epochs: train.MaxEpochs, BatchSize: train.MaxBatchSize},
		{LearningRate: 10, WeightDecay: 1e3, ClipNorm: 1e30, ClipValue: math.MaxFloat64},
		{Schedule: "step", StepEvery: 1_000_000, Gamma: 1e30},
	} {
		if err := c.Check(); err != nil {
			t.Errorf("%+v: %v", c, err)
		}
	}
}

// A batch whose input or targets would pass MaxBatchValues, a sequence
// longer than MaxSeqLen or a vocabulary larger than MaxVocab is refused
// by the task's Build before the graph reserves anything: `--batch-size
// 100000000` or `--seq-len 100000000` used to run out of memory.
func TestBuildRefusesBatchesPastTheLimits(t *testing.T) {
	d := smallFashion(t, 64)
	model, task := reference(t, "mlp", d)
	for _, c := range []struct {
		task  train.Task
		batch int
		want  string
	}{
		{task, train.MaxBatchSize, "batch_size 1048576 × 784 values"},
		{&train.Classify{Shape: []int{1, 100000, 100000}, Outputs: 10}, 1, "input_shape [1 100000 100000]: more than the 16777216 values"},
		{&train.Classify{Shape: []int{2}, Outputs: train.MaxClasses + 1}, 1, "4097 outputs"},
		{&train.NextToken{Vocab: 80, SeqLen: 100_000_000}, 64, "seq_len 100000000"},
		{&train.NextToken{Vocab: train.MaxVocab + 1, SeqLen: 100}, 64, "vocabulary of 65537 tokens"},
		{&train.NextToken{Vocab: 60000, SeqLen: 4096}, 64, "batch_size 64 × 245760000 values (seq_len 4096 × vocabulary 60000"},
		{&train.Rating{Users: 1 << 30, Movies: 3}, 64, "1073741824 users"},
	} {
		var m0 runtime.MemStats
		runtime.ReadMemStats(&m0)
		cfg := train.Config{BatchSize: c.batch}
		if _, ok := c.task.(*train.Rating); ok {
			cfg.Loss = "mse"
		}
		tr, err := train.New(model, c.task, cfg)
		var m1 runtime.MemStats
		runtime.ReadMemStats(&m1)
		if err == nil {
			tr.Close()
		}
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%T batch %d: error %v, want one line containing %q", c.task, c.batch, err, c.want)
		}
		if a := m1.TotalAlloc - m0.TotalAlloc; a > 16<<20 {
			t.Errorf("%T batch %d: %d bytes allocated before the refusal", c.task, c.batch, a)
		}
	}
}

// configFixtures returns the bytes of every file of testdata/config.
func configFixtures(t testing.TB) map[string][]byte {
	paths, err := filepath.Glob("../testdata/config/*")
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

// The hostile configuration fixtures are refused, as JSON or YAML, in one
// line naming the setting; the valid ones pass.
func TestConfigFixtures(t *testing.T) {
	want := map[string]string{
		"weight-decay-nan.yaml":               "weight_decay NaN",
		"clip-norm-inf.yaml":                  "clip_norm +Inf",
		"learning-rate-negative-inf.yaml":     "learning_rate -Inf",
		"lr-gamma-negative.json":              "lr_gamma -0.5",
		"lr-schedule-step-without-every.json": "lr_step_every",
		"batch-size-100000000.json":           "batch_size 100000000",
		"epochs-over-limit.json":              "epochs 1000001",
		"learning-rate-1e400.json":            "1e400",
		"alias-bomb.yaml":                     "yaml",
		"empty.json":                          "unexpected end of JSON input",
		"classes-nested-20000-deep.json":      "exceeded max depth",
		"valid-xor.json":                      "",
		"valid-charrnn.json":                  "",
		"valid-step-schedule.yaml":            "",
		"seq-len-100000000.json":              "", // seq_len is run's
		"input-shape-1x100000x100000.json":    "", // the record of the data is run's
		"input-shape-rank-1000.json":          "",
		"input-shape-zero-dim.json":           "",
		"classes-4097-over-limit.json":        "",
		"class-name-300-bytes.json":           "",
		"train-examples-negative.json":        "",
	}
	for name, b := range configFixtures(t) {
		w, ok := want[name]
		if !ok {
			t.Errorf("%s: no expectation", name)
			continue
		}
		isYAML := strings.HasSuffix(name, ".yaml")
		_, err := decodeConfig(b, isYAML)
		_, decodeErr := decodeOnly(b, isYAML)
		switch {
		case w == "" && err != nil:
			t.Errorf("%s: %v", name, err)
		case w != "" && (err == nil || !strings.Contains(err.Error(), w)):
			t.Errorf("%s: error %v, want one containing %q", name, err, w)
		case decodeErr == nil && err != nil && strings.Contains(err.Error(), "\n"):
			t.Errorf("%s: Check's error is more than one line: %q", name, err)
		}
	}
}

// decodeConfig decodes b as JSON (as config.json is read) or as YAML (as
// an experiment file is, unknown keys allowed here) and checks it.
func decodeConfig(b []byte, isYAML bool) (train.Config, error) {
	var c train.Config
	var err error
	if isYAML {
		err = yaml.Unmarshal(b, &c)
	} else {
		err = json.Unmarshal(b, &c)
	}
	if err != nil {
		return c, err
	}
	return c, c.Check()
}

// FuzzConfig decodes arbitrary bytes as a train.Config, from JSON and
// from YAML, and checks it: never a panic, a bounded allocation, a
// one-line error, and a configuration that passes Check is within every
// limit.
func FuzzConfig(f *testing.F) {
	for _, b := range configFixtures(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, isYAML := range []bool{false, true} {
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			c, err := decodeConfig(b, isYAML)
			runtime.ReadMemStats(&m1)
			if a := m1.TotalAlloc - m0.TotalAlloc; a > 64<<20 {
				t.Fatalf("yaml %v: %d bytes allocated for %d bytes of input", isYAML, a, len(b))
			}
			if err != nil {
				if _, decodeErr := decodeOnly(b, isYAML); decodeErr == nil && strings.Contains(err.Error(), "\n") {
					t.Fatalf("Check's error is more than one line: %q", err)
				}
				continue
			}
			c = c.Defaults()
			for _, v := range []float64{c.LearningRate, c.WeightDecay, c.ClipNorm, c.ClipValue, c.Gamma} {
				if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
					t.Fatalf("accepted %+v", c)
				}
			}
			if c.Epochs < 1 || c.Epochs > train.MaxEpochs || c.BatchSize < 1 || c.BatchSize > train.MaxBatchSize || c.Patience < 0 || c.StepEvery < 0 {
				t.Fatalf("accepted %+v", c)
			}
			if strings.EqualFold(c.Schedule, "step") && (c.StepEvery < 1 || !(c.Gamma > 0)) {
				t.Fatalf("accepted a step schedule without a period or factor: %+v", c)
			}
		}
	})
}

// decodeOnly decodes b without checking it.
func decodeOnly(b []byte, isYAML bool) (train.Config, error) {
	var c train.Config
	if isYAML {
		return c, yaml.NewDecoder(bytes.NewReader(b)).Decode(&c)
	}
	return c, json.Unmarshal(b, &c)
}
