package runner_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/datasets"
	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/runner"
)

// runConfig returns the configuration of a run of model; the data is
// handed to run.Run through runner.Options.Data.
func runConfig(model string, d *datasets.Dataset) run.Config {
	return run.Config{Model: model, Dataset: d.Name}
}

// xor reaches full accuracy; its log, not a terminal, has 20 of its 300
// epoch lines, evenly spaced, the last among them. (Seeds 1 to 5:
// BenchmarkQualityXORSeeds1To5, and .ci/check-hashes pins their weights.)
func TestXORReachesFullAccuracy(t *testing.T) {
	d := datasets.XOR()
	cfg := runConfig("xor", d)
	cfg.Seed = 1
	var log strings.Builder
	s, err := runner.Train(cfg, runner.Options{Data: run.FromDataset(d), Out: t.TempDir(), Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	if s.TestAccuracy != 1 {
		t.Errorf("accuracy %g", s.TestAccuracy)
	}
	var epochs []string
	for _, l := range strings.Split(log.String(), "\n") {
		if f := strings.Fields(l); len(f) > 1 && f[0] == "epoch" {
			epochs = append(epochs, f[1])
		}
	}
	if len(epochs) != 20 || epochs[0] != "15/300" || epochs[19] != "300/300" {
		t.Errorf("epoch lines %v, want 15/300, 30/300, ..., 300/300", epochs)
	}
}

func TestMLPOnBundledFashionMNIST(t *testing.T) {
	if testing.Short() {
		t.Skip("10 epochs of the mlp")
	}
	d, err := datasets.FashionMNIST()
	if err != nil {
		t.Fatal(err)
	}
	s, err := runner.Train(runConfig("mlp", d), runner.Options{Data: run.FromDataset(d), Out: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("mlp, 10 epochs: test accuracy %.4f, %.0f samples/s", s.TestAccuracy, s.SamplesPerSec)
	if s.TestAccuracy < 0.84 {
		t.Errorf("test accuracy %.4f, want >= 0.84", s.TestAccuracy)
	}
}

// smallFashion returns the first examples of the bundled data, for fast run.
func smallFashion(t *testing.T, n int) *datasets.Dataset {
	d, err := datasets.FashionMNIST()
	if err != nil {
		t.Fatal(err)
	}
	small := *d
	small.Train, small.Test = d.Train.Subset(n), d.Test.Subset(n/4)
	return &small
}

func metricsWithoutSeconds(t *testing.T, dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, "metrics.csv"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Split(line, ",")
		out = append(out, strings.Join(f[:len(f)-1], ","))
	}
	return strings.Join(out, "\n")
}

func TestSameSeedSameMetricsOtherSeedOtherLosses(t *testing.T) {
	d := smallFashion(t, 600)
	run := func(seed uint64) string {
		cfg := runConfig("mlp", d)
		cfg.Epochs, cfg.Seed = 2, seed
		dir := t.TempDir()
		if _, err := runner.Train(cfg, runner.Options{Data: run.FromDataset(d), Out: dir}); err != nil {
			t.Fatal(err)
		}
		return metricsWithoutSeconds(t, dir)
	}
	a, b, c := run(5), run(5), run(6)
	if a != b {
		t.Fatalf("same seed, different metrics:\n%s\n%s", a, b)
	}
	if a == c {
		t.Fatal("seeds 5 and 6 gave the same metrics")
	}
	if strings.Count(a, "\n") != 2 {
		t.Fatalf("metrics.csv has %d rows, want a header and 2 epochs:\n%s", strings.Count(a, "\n"), a)
	}
}

func TestRunFolderContract(t *testing.T) {
	d := smallFashion(t, 200)
	dir := filepath.Join(t.TempDir(), "run")
	cfg := runConfig("mlp", d)
	cfg.Epochs = 1
	if _, err := runner.Train(cfg, runner.Options{Data: run.FromDataset(d), Out: dir}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sum map[string]any
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range sum {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	want := []string{"batch_size", "best_epoch", "dataset", "dtype", "early_stopped", "epochs", "learning_rate", "model", "monitor", "optimizer", "params",
		"samples_per_sec", "seed", "task", "test_accuracy", "test_loss", "train_loss", "wall_seconds"}
	if strings.Join(keys, ",") != strings.Join(want, ",") {
		t.Errorf("summary.json keys %v, want %v", keys, want)
	}
	if sum["early_stopped"] != false || sum["best_epoch"] != 1.0 || sum["monitor"] != "test_loss" {
		t.Errorf("summary.json: early_stopped %v, best_epoch %v, monitor %v", sum["early_stopped"], sum["best_epoch"], sum["monitor"])
	}
	var cfgOut run.Config
	b, err = os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil || json.Unmarshal(b, &cfgOut) != nil {
		t.Fatalf("config.json: %v", err)
	}
	if cfgOut.Optimizer != "adam" || cfgOut.LearningRate != 1e-3 || cfgOut.BatchSize != 64 || cfgOut.Params != 235146 ||
		cfgOut.DatasetSHA256 != d.SHA256 || cfgOut.Version == "" || cfgOut.DType != "float32" {
		t.Errorf("config.json is not fully resolved: %+v", cfgOut)
	}
	m, _ := os.ReadFile(filepath.Join(dir, "metrics.csv"))
	if !bytes.HasPrefix(m, []byte("epoch,train_loss,train_accuracy,test_loss,test_accuracy,learning_rate,seconds\n1,")) {
		t.Errorf("metrics.csv:\n%s", m)
	}
	if _, err := runner.Train(cfg, runner.Options{Data: run.FromDataset(d), Out: dir}); err == nil || !strings.Contains(err.Error(), "already holds a run") {
		t.Errorf("second run into the same folder: %v", err)
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, ".*tmp*"))
	if len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

// The parallel kernels must not make results depend on the number of cores.
func TestCNNSameMetricsForAnyGOMAXPROCS(t *testing.T) {
	d := smallFashion(t, 256)
	var ref string
	for _, procs := range []int{1, 2, 3} {
		old := runtime.GOMAXPROCS(procs)
		cfg := runConfig("cnn", d)
		cfg.Epochs = 2
		dir := t.TempDir()
		_, err := runner.Train(cfg, runner.Options{Data: run.FromDataset(d), Out: dir})
		runtime.GOMAXPROCS(old)
		if err != nil {
			t.Fatal(err)
		}
		m := metricsWithoutSeconds(t, dir)
		if ref == "" {
			ref = m
		} else if m != ref {
			t.Fatalf("GOMAXPROCS=%d:\n%s\nGOMAXPROCS=1:\n%s", procs, m, ref)
		}
	}
}
