package train_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/nn"
	"github.com/dlrun/dlrun/train"
)

func buildMLP(t *testing.T, seed uint64, hidden int) *graph.Graph {
	t.Helper()
	g := graph.New(graph.WithSeed(seed))
	x, _ := g.Input("x", 2, 4)
	if _, err := nn.NewSequential("m", nn.NewDense(hidden), nn.ReLU(), nn.NewDense(3)).Build(g, x); err != nil {
		t.Fatal(err)
	}
	return g
}

func TestWeightsRoundTripAndErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.safetensors")
	src := buildMLP(t, 1, 5)
	if err := train.SaveWeights(path, src); err != nil {
		t.Fatal(err)
	}
	dst := buildMLP(t, 2, 5)
	if err := train.LoadWeights(path, dst); err != nil {
		t.Fatal(err)
	}
	for i, p := range src.Params() {
		a, b := p.Value().Float32s(), dst.Params()[i].Value().Float32s()
		for j := range a {
			if a[j] != b[j] {
				t.Fatalf("%s[%d]: saved %g, loaded %g", p.Name, j, a[j], b[j])
			}
		}
	}
	b, _ := os.ReadFile(path)
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, data, 0o644)
		return p
	}
	cases := []struct {
		name, path, want string
		g                *graph.Graph
	}{
		{"truncated", write("trunc.safetensors", b[:len(b)-10]), "trunc.safetensors", buildMLP(t, 3, 5)},
		{"not safetensors", write("junk.safetensors", []byte("hello, world: not a checkpoint")), "not a valid safetensors file", buildMLP(t, 3, 5)},
		{"wrong shape", path, `"dense1.weight" has shape [4 5], the model wants [4 6]`, buildMLP(t, 3, 6)},
		{"missing file", filepath.Join(dir, "nope"), "nope", buildMLP(t, 3, 5)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := append([]float32(nil), c.g.Params()[0].Value().Float32s()...)
			err := train.LoadWeights(c.path, c.g)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to contain %q", err, c.want)
			}
			if after := c.g.Params()[0].Value().Float32s(); after[0] != before[0] {
				t.Fatal("a failed load changed the model")
			}
		})
	}
	// A model with a parameter the file lacks, and a file with an extra tensor.
	g := graph.New()
	x, _ := g.Input("x", 2, 4)
	if _, err := nn.NewSequential("m", nn.NewDense(5), nn.ReLU(), nn.NewDense(3), nn.NewDense(2)).Build(g, x); err != nil {
		t.Fatal(err)
	}
	if err := train.LoadWeights(path, g); err == nil || !strings.Contains(err.Error(), `"dense3.weight" is missing`) {
		t.Fatalf("missing tensor: %v", err)
	}
	small := graph.New()
	xs, _ := small.Input("x", 2, 4)
	nn.NewSequential("m", nn.NewDense(5)).Build(small, xs)
	if err := train.LoadWeights(path, small); err == nil || !strings.Contains(err.Error(), "not a parameter of this model") {
		t.Fatalf("extra tensor: %v", err)
	}
}
