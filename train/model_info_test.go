package train_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/internal/allocs"

	"github.com/dlrun/dlrun/nn"
	"github.com/dlrun/dlrun/train"
)

// infoWith returns the tiny model's model.json (testdata/models) with
// the fields of edit replaced.
func infoWith(t *testing.T, edit map[string]any) []byte {
	t.Helper()
	b, err := os.ReadFile("../testdata/models/model-valid.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range edit {
		m[k] = v
	}
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// dense is a spec of one dense layer of units.
func dense(units int) map[string]any {
	return map[string]any{"name": "m", "layers": []any{map[string]any{"dense": map[string]any{"units": units}}}}
}

// A model.json past a limit is a one-line error naming the file and the
// field, found before anything is allocated for what it describes.
func TestReadInfoLimits(t *testing.T) {
	embed := map[string]any{"name": "lm", "layers": []any{map[string]any{"embedding": map[string]any{"vocab": 100, "dim": 4}}, map[string]any{"dense": map[string]any{"units": 100}}}}
	for _, c := range []struct {
		name string
		edit map[string]any
		want string
	}{
		{"huge input", map[string]any{"input_shape": []int{1, 100000, 100000}}, "more than the 16777216 values an example may hold"},
		{"no input", map[string]any{"input_shape": []int{}}, "input_shape []"},
		{"negative input", map[string]any{"input_shape": []int{4, -1}}, "must be positive"},
		{"many classes", map[string]any{"outputs": 5_000_000}, "outputs 5000000: a classifier has from 1 to 4096"},
		{"no classes", map[string]any{"outputs": 0}, "outputs 0"},
		{"negative batch", map[string]any{"batch_size": -1}, "batch_size -1"},
		{"huge batch", map[string]any{"batch_size": 1 << 21}, "batch_size 2097152"},
		{"batch of huge examples", map[string]any{"batch_size": 1 << 10, "input_shape": []int{1 << 20}, "model": dense(2)}, "for a batch of 1024 holds more than the 268435456 values"},
		{"huge activations", map[string]any{"batch_size": 1 << 10, "model": dense(1 << 20)}, "layer 1 (dense1)'s output [1048576] for a batch of 1024"},
		{"huge parameters", map[string]any{"input_shape": []int{1 << 20}, "model": dense(1 << 26)}, "past the 1073741824 a model may have"},
		{"huge kernel", map[string]any{"input_shape": []int{1, 8, 8}, "model": map[string]any{"name": "m", "layers": []any{map[string]any{"conv2d": map[string]any{"filters": 1 << 20, "kernel": 1 << 26, "padding": "same"}}}}}, "layer 1 (conv2d1) brings the parameters past"},
		{"unbuildable model", map[string]any{"model": map[string]any{"name": "m", "layers": []any{"flatten", "conv2d"}}}, `missing required setting "filters"`},
		{"shapes do not chain", map[string]any{"model": map[string]any{"name": "m", "layers": []any{map[string]any{"conv2d": map[string]any{"filters": 1, "kernel": 3}}}}}, "model: m: layer 1: conv2d1 (Conv2D)"},
		{"no task", map[string]any{"task": ""}, "task: none"},
		{"bad dtype", map[string]any{"dtype": "float16"}, `dtype: unknown dtype "float16"`},
		{"bad loss", map[string]any{"loss": "hinge"}, "loss: "},
		{"long loss", map[string]any{"loss": strings.Repeat("l", 300)}, "loss: 300 bytes"},
		{"format", map[string]any{"format": "keras"}, `format "keras"`},
		{"next-token steps", map[string]any{"task": "next-token", "input_shape": []int{1 << 13}, "outputs": 100, "model": embed}, "at most 4096 steps"},
		{"next-token vocabulary", map[string]any{"task": "next-token", "input_shape": []int{8}, "outputs": 1 << 17, "model": embed}, "outputs 131072: a next-token model's vocabulary has from 2 to 65536"},
		{"rating users", map[string]any{"task": "rating", "input_shape": []int{2}, "outputs": 1, "users": 0, "movies": 5}, "users 0 and movies 5"},
		{"rating shape", map[string]any{"task": "rating", "input_shape": []int{3}, "outputs": 1, "users": 2, "movies": 5}, "input_shape [3] and outputs 1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "model.json"), infoWith(t, c.edit), 0o644); err != nil {
				t.Fatal(err)
			}
			var err error
			n := allocs.Bytes(func() { _, err = train.ReadInfo(dir) })
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "model.json") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %v, want one line naming model.json and containing %q", err, c.want)
			}
			if n > 1<<20 {
				t.Fatalf("allocated %d bytes", n)
			}
		})
	}
	// A task train does not know is read, for the package that wrote it
	// to rebuild (run.Open), and Load says so.
	dir0 := t.TempDir()
	os.WriteFile(filepath.Join(dir0, "model.json"), infoWith(t, map[string]any{"task": "segment"}), 0o644)
	if _, err := train.ReadInfo(dir0); err != nil {
		t.Fatalf("task segment: %v", err)
	}
	if _, err := train.Load(dir0, false); err == nil || !strings.Contains(err.Error(), `task "segment" is not one of train's (classify, music, next-token, rating, regress, shots)`) {
		t.Fatalf("Load of task segment: %v", err)
	}
	// The tiny model's description passes.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "model.json"), infoWith(t, nil), 0o644)
	info, err := train.ReadInfo(dir)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := info.NumParams(); err != nil || n != 4*3+3+3+3+3*2+2 {
		t.Fatalf("tiny model: %d parameters, %v", n, err)
	}
}

// model.json must be a regular file of at most MaxModelInfoBytes.
func TestReadInfoFiles(t *testing.T) {
	big := t.TempDir()
	b := append(infoWith(t, nil), strings.Repeat(" ", train.MaxModelInfoBytes)...)
	os.WriteFile(filepath.Join(big, "model.json"), b, 0o644)
	cases := map[string]string{big: "more than the 1048576 this file may hold"}
	if runtime.GOOS != "windows" {
		zero := t.TempDir()
		if err := os.Symlink("/dev/zero", filepath.Join(zero, "model.json")); err == nil {
			cases[zero] = "not a regular file"
		}
	}
	for dir, want := range cases {
		var err error
		n := allocs.Bytes(func() { _, err = train.ReadInfo(dir) })
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", dir, err, want)
		}
		if n > 1<<20 {
			t.Errorf("%s: allocated %d bytes", dir, n)
		}
	}
}

// Load checks that the weights file can hold the parameters model.json
// describes before it builds the model: a description of half a billion
// parameters beside a file of a few bytes costs nothing.
func TestLoadChecksWeightsSizeFirst(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "model.json"), infoWith(t, map[string]any{"input_shape": []int{1024}, "model": dense(1 << 19)}), 0o644)
	os.WriteFile(filepath.Join(dir, "model.safetensors"), []byte("tiny"), 0o644)
	var err error
	n := allocs.Bytes(func() { _, err = train.Load(dir, false) })
	if err == nil || !strings.Contains(err.Error(), "4 bytes cannot hold the 537395200 parameters model.json describes") {
		t.Fatalf("error %v", err)
	}
	if n > 1<<20 {
		t.Fatalf("allocated %d bytes", n)
	}
	// The tiny model loads from its fixtures.
	good := t.TempDir()
	os.WriteFile(filepath.Join(good, "model.json"), infoWith(t, nil), 0o644)
	w, _ := os.ReadFile("../testdata/models/weights-valid.safetensors")
	os.WriteFile(filepath.Join(good, "model.safetensors"), w, 0o644)
	m, err := train.Load(good, false)
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
}

// SaveInfo writes no model.json that ReadInfo would refuse: a model whose
// spec is past nn.MaxSpecBytes is an error on save, not on load. The
// indentation of model.json does not count towards the limit.
func TestSaveInfoRefusesWhatCannotBeRead(t *testing.T) {
	for _, c := range []struct {
		layers int
		ok     bool
	}{{850, true}, {1100, false}} {
		var layers []nn.Layer
		for i := 0; i < c.layers; i++ {
			l := nn.ReLU()
			l.SetName(fmt.Sprintf("%0250d", i))
			layers = append(layers, l)
		}
		layers = append(layers, nn.NewDense(2))
		tr, err := train.New(nn.NewSequential("long", layers...), &train.Classify{Shape: []int{4}, Outputs: 2}, train.Config{BatchSize: 2})
		if err != nil {
			t.Fatal(err)
		}
		defer tr.Close()
		dir := t.TempDir()
		err = tr.SaveInfo(dir)
		if c.ok {
			b, _ := os.ReadFile(filepath.Join(dir, "model.json"))
			if err != nil || len(b) <= nn.MaxSpecBytes {
				t.Fatalf("%d layers: %v (%d bytes; want a model.json larger than nn.MaxSpecBytes, its spec smaller)", c.layers, err, len(b))
			}
			if _, err := train.ReadInfo(dir); err != nil {
				t.Fatalf("%d layers: %v", c.layers, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), "more than the 262144 a model spec may hold") || strings.Contains(err.Error(), "\n") {
			t.Fatalf("%d layers: %v", c.layers, err)
		}
		if _, err := os.Stat(filepath.Join(dir, "model.json")); !os.IsNotExist(err) {
			t.Fatalf("model.json written: %v", err)
		}
	}
}
