package experiments_test

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/experiments"
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
	c := &experiments.Config{Name: "full", Model: "cnn", Requires: filepath.Join(t.TempDir(), "absent"), RequiresHint: "apt-get install x", Seeds: []uint64{1}}
	out := filepath.Join(t.TempDir(), "exp")
	res, err := experiments.Run(c, out, nil)
	if err != nil || !strings.Contains(res.Skipped, "apt-get install x") {
		t.Fatalf("%+v %v", res, err)
	}
	if _, err := os.Stat(filepath.Join(out, "experiment.json")); err != nil {
		t.Fatal(err)
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
