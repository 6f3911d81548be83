package experiments_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/experiments"
	"github.com/dlrun/dlrun/internal/safeio"
	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/runner"
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
		res, err := experiments.Run(c, filepath.Join(t.TempDir(), "exp"), runner.Options{})
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
		{"model: resnet50\n", "resnet50"},
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
	res, err := experiments.Run(c, out, runner.Options{})
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
	if c.Agent() {
		t.Error("a classifier's model file counts as an agent")
	}
	rc := c.RunConfig(2)
	if err := rc.Resolve(); err != nil || rc.Seed != 2 || rc.Task != "classify" || rc.Dataset != "fashion-mnist" || rc.LearningRate != 0.001 {
		t.Errorf("run config of seed 2: %+v %v", rc, err)
	}
	if c, err := experiments.Load("dqn.yaml"); err != nil || !c.Agent() {
		t.Errorf("dqn.yaml: agent %v, %v", c != nil && c.Agent(), err)
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

// fixtures are the files of testdata/experiments with what loading each
// must say: "" loads, anything else is a piece of its one-line error.
var fixtures = map[string]string{
	"valid-xor.yaml":                "",
	"valid-minimal.yaml":            "",
	"valid-whole-floats.yaml":       "",
	"seeds-max-uint64.yaml":         "",
	"huge-numbers.yaml":             "epochs 9223372036854775807",
	"name-path-traversal.yaml":      `name "../../../../tmp/x": has a path separator`,
	"name-dotdot.yaml":              `name "..": has ".."`,
	"name-backslash.yaml":           `name "a\\b": has a path separator`,
	"seeds-duplicate.yaml":          "seed 1 is listed twice",
	"seeds-zero.yaml":               "seed 0 is not allowed",
	"seeds-negative.yaml":           "`-1` into uint64",
	"seeds-overflow.yaml":           "seeds 18446744073709551616: out of range (0 to 18446744073709551615)",
	"seeds-fraction.yaml":           "seeds 1.5: not a whole number",
	"seeds-too-many-1001.yaml":      "1001 listed, more than the 1000",
	"epochs-fraction.yaml":          "epochs 2.7: not a whole number",
	"epochs-negative-fraction.yaml": "epochs -0.5: not a whole number",
	"epochs-overflow.yaml":          "into int",
	"learning-rate-inf.yaml":        "+Inf",
	"wrong-types.yaml":              "`ten` into int; line 3: cannot unmarshal !!str `one` into []uint64",
	"model-list.yaml":               "!!seq into string",
	"unknown-key.yaml":              "field learnig_rate not found",
	"not-a-mapping.yaml":            "!!seq into experiments.Config",
	"empty.yaml":                    "empty experiment file",
	"multiline-text.yaml":           "!!str `first\\ns...` into experiments.Config",
	"two-documents.yaml":            "line 2: a second YAML document",
	"duplicate-key.yaml":            `line 3: key "epochs", already set at line 2`,
	"yaml-anchor-bomb.yaml":         "field a0 not found",
	"yaml-merge-bomb.yaml":          "excessive aliasing",
	"yaml-alias-seeds.yaml":         "field x0 not found",
	"deep-nesting.yaml":             "!!seq into string",
}

// Every fixture loads, or fails with its one-line error naming the file;
// no file there is left out.
func TestFixtures(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("..", "testdata", "experiments", "*"))
	if err != nil || len(paths) != len(fixtures) {
		t.Fatalf("%d fixtures, %d in the table (%v)", len(paths), len(fixtures), err)
	}
	for _, p := range paths {
		want, ok := fixtures[filepath.Base(p)]
		if !ok {
			t.Errorf("%s: not in the table", p)
			continue
		}
		c, err := experiments.Load(p)
		switch {
		case want == "" && err != nil:
			t.Errorf("%s: %v", p, err)
		case want == "":
			if c.Model == "" || len(c.Seeds) == 0 || c.Name == "" {
				t.Errorf("%s: loaded %+v", p, c)
			}
		case err == nil:
			t.Errorf("%s: loaded, want an error mentioning %q", p, want)
		case !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), p) || strings.Contains(err.Error(), "\n"):
			t.Errorf("%s: error %q, want one line naming the file and %q", p, err, want)
		}
	}
	c, err := experiments.Load(filepath.Join("..", "testdata", "experiments", "seeds-max-uint64.yaml"))
	if err != nil || len(c.Seeds) != 2 || c.Seeds[0] != math.MaxUint64 {
		t.Errorf("the largest seed read as %+v, %v", c, err)
	}
	c, err = experiments.Load(filepath.Join("..", "testdata", "experiments", "valid-whole-floats.yaml"))
	if err != nil || c.Epochs != 100 || c.Seeds[0] != 2 {
		t.Errorf("whole floats read as %+v, %v", c, err)
	}
}

// A file larger than MaxFileSize is refused before it is read.
func TestLoadRefusesLargeFiles(t *testing.T) {
	p := filepath.Join(t.TempDir(), "big.yaml")
	body := "model: xor\ndescription: " + strings.Repeat("x", experiments.MaxFileSize) + "\n"
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := experiments.Load(p); !errors.Is(err, safeio.ErrTooLarge) || !strings.Contains(err.Error(), p) {
		t.Errorf("error %v, want one wrapping safeio.ErrTooLarge naming %s", err, p)
	}
	if _, err := experiments.Parse([]byte(body), p); !errors.Is(err, safeio.ErrTooLarge) {
		t.Errorf("Parse: error %v, want one wrapping safeio.ErrTooLarge", err)
	}
	if _, err := experiments.Load(t.TempDir()); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("a folder: error %v", err)
	}
}

// Names become folders: only one path element that stays where it is
// put is a name.
func TestCheckName(t *testing.T) {
	for _, name := range []string{"xor", "cnn-full", "mlp_v2.1", "résultats"} {
		if err := experiments.CheckName(name); err != nil {
			t.Errorf("%q: %v", name, err)
		}
	}
	for _, name := range []string{"", ".", "..", "../x", "a/b", `a\b`, "/abs", "a..b", "a\nb", "a\x00b", "\xff", strings.Repeat("n", experiments.MaxNameLen+1)} {
		if err := experiments.CheckName(name); err == nil || !strings.HasPrefix(err.Error(), "name") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: error %v, want one line about the name", name, err)
		}
	}
}

// Seeds given by `dlrun run --seeds` replace the file's and are checked
// by Check, which `dlrun run` calls, and by Run itself: a repeated seed
// is refused before anything is trained or created.
func TestBadSeedsRefusedBeforeAnything(t *testing.T) {
	c, err := experiments.Load(filepath.Join("..", "testdata", "experiments", "valid-xor.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, seeds := range [][]uint64{{1, 1}, {2, 1, 2}, {0}, nil, make([]uint64, experiments.MaxSeeds+1)} {
		c.Seeds = seeds
		if err := c.Check(); err == nil || !strings.HasPrefix(err.Error(), "seeds: ") {
			t.Errorf("seeds %v: Check: %v", seeds, err)
		}
		out := filepath.Join(t.TempDir(), "exp")
		if _, err := experiments.Run(c, out, runner.Options{}); err == nil || !strings.Contains(err.Error(), "seeds: ") {
			t.Errorf("seeds %v: Run: %v", seeds, err)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("seeds %v: Run created %s", seeds, out)
		}
	}
	c.Seeds, c.Name = []uint64{1}, "../escape"
	if _, err := experiments.Run(c, filepath.Join(t.TempDir(), "exp"), runner.Options{}); err == nil || !strings.Contains(err.Error(), "name") {
		t.Errorf("name ../escape: Run: %v", err)
	}
}

// A skipped experiment never replaces an earlier result: the file is kept
// whole and the log says so.
func TestSkipKeepsAnEarlierResult(t *testing.T) {
	c := &experiments.Config{Name: "full", Config: run.Config{Model: "cnn"}, Requires: filepath.Join(t.TempDir(), "absent"), RequiresHint: "apt-get install x", Seeds: []uint64{1}}
	out := filepath.Join(t.TempDir(), "exp")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	earlier := []byte(`{"config": {"name": "full"}, "runs": [{"seed": 1, "weights_sha256": "abc"}]}` + "\n")
	p := filepath.Join(out, "experiment.json")
	if err := os.WriteFile(p, earlier, 0o644); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	res, err := experiments.Run(c, out, runner.Options{Log: &log})
	if err != nil || res.Skipped == "" {
		t.Fatalf("%+v %v", res, err)
	}
	if b, err := os.ReadFile(p); err != nil || !bytes.Equal(b, earlier) {
		t.Errorf("experiment.json now %q (%v), want the earlier result kept", b, err)
	}
	if !strings.Contains(log.String(), p+" is already there and was kept") {
		t.Errorf("log %q does not say the result was kept", log.String())
	}
	if names, _ := filepath.Glob(filepath.Join(out, "*")); len(names) != 1 {
		t.Errorf("files left in %s: %v", out, names)
	}
	// A second skip into a folder of its own writes its file once, and a
	// third leaves that alone too.
	out2 := filepath.Join(t.TempDir(), "exp")
	for i := 0; i < 2; i++ {
		if _, err := experiments.Run(c, out2, runner.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	var r experiments.Result
	if b, err := os.ReadFile(filepath.Join(out2, "experiment.json")); err != nil || json.Unmarshal(b, &r) != nil || r.Skipped == "" {
		t.Errorf("skip result %q: %v", b, err)
	}
}

// A seed folder that already holds a run is refused before any seed
// trains: the earlier seeds' folders are not even created.
func TestRunChecksEverySeedFolderFirst(t *testing.T) {
	c, err := experiments.Load(filepath.Join("..", "testdata", "experiments", "valid-minimal.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	c.Seeds = []uint64{1, 2}
	out := t.TempDir()
	if err := os.MkdirAll(filepath.Join(out, "seed-2"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, "seed-2", "metrics.csv"), []byte("epoch\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = experiments.Run(c, out, runner.Options{})
	var ex *runner.ExistsError
	if !errors.As(err, &ex) || !strings.Contains(err.Error(), "seed 2") {
		t.Fatalf("error %v, want the seed-2 folder refused", err)
	}
	if _, err := os.Stat(filepath.Join(out, "seed-1")); err == nil {
		t.Fatal("seed 1 trained before seed 2's folder was checked")
	}
}
