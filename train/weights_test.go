package train_test

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
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
	// A float64 model's file, a model with a parameter the file lacks and
	// one without some the file holds.
	p64 := filepath.Join(dir, "f64.safetensors")
	g64 := graph.New(graph.WithDType(graph.Float64))
	x64, _ := g64.Input("x", 2, 4)
	if _, err := nn.NewSequential("m", nn.NewDense(5), nn.ReLU(), nn.NewDense(3)).Build(g64, x64); err != nil {
		t.Fatal(err)
	}
	if err := train.SaveWeights(p64, g64); err != nil {
		t.Fatal(err)
	}
	bigger := graph.New()
	x, _ := bigger.Input("x", 2, 4)
	if _, err := nn.NewSequential("m", nn.NewDense(5), nn.ReLU(), nn.NewDense(3), nn.NewDense(2)).Build(bigger, x); err != nil {
		t.Fatal(err)
	}
	small := graph.New()
	xs, _ := small.Input("x", 2, 4)
	if _, err := nn.NewSequential("m", nn.NewDense(5)).Build(small, xs); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, path, want string
		g                *graph.Graph
	}{
		{"truncated", write("trunc.safetensors", b[:len(b)-10]), "trunc.safetensors: not a valid safetensors file", buildMLP(t, 3, 5)},
		{"not safetensors", write("junk.safetensors", []byte("hello, world: not a checkpoint")), "not a valid safetensors file", buildMLP(t, 3, 5)},
		{"wrong shape", path, `"dense1.weight" has shape [4 5], the model wants [4 6]`, buildMLP(t, 3, 6)},
		{"missing file", filepath.Join(dir, "nope"), "nope", buildMLP(t, 3, 5)},
		{"missing tensor", path, `"dense3.weight" is missing`, bigger},
		{"extra tensors", path, `tensors "dense2.bias", "dense2.weight" are not a parameter of this model`, small},
		{"dtype", p64, `"dense1.weight" is F64, the model wants F32`, buildMLP(t, 3, 5)},
		{"directory", dir, "not a regular file", buildMLP(t, 3, 5)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := values(c.g)
			err := train.LoadWeights(c.path, c.g)
			if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %v, want one line containing %q", err, c.want)
			}
			if after := values(c.g); !reflect.DeepEqual(before, after) {
				t.Fatal("a failed load changed the model")
			}
		})
	}
	// The comparison sees a load that changes one value.
	g := buildMLP(t, 3, 5)
	before := values(g)
	if err := train.LoadWeights(path, g); err != nil {
		t.Fatal(err)
	}
	for n, v := range values(g) {
		if strings.HasSuffix(n, ".weight") && reflect.DeepEqual(v, before[n]) { // biases start at 0 in both
			t.Fatalf("loading weights of another seed left %s as it was", n)
		}
	}
}

// values copies every parameter and buffer of g, by name, as bits.
func values(g *graph.Graph) map[string][]uint64 {
	out := map[string][]uint64{}
	for _, p := range g.Params() {
		d := p.Data()
		var bits []uint64
		for _, v := range d.Float32s() {
			bits = append(bits, uint64(math.Float32bits(v)))
		}
		for _, v := range d.Float64s() {
			bits = append(bits, math.Float64bits(v))
		}
		out[p.Name] = bits
	}
	for _, b := range g.Buffers() {
		out["buffer "+b.Name] = []uint64{uint64(len(b.Values()))}
		for _, v := range b.Values() {
			out["buffer "+b.Name] = append(out["buffer "+b.Name], math.Float64bits(v))
		}
	}
	return out
}

// A weights file holding a NaN or an infinite value is refused when it is
// loaded, naming the tensor, and the model keeps its weights: predictions
// from it would all be NaN.
func TestLoadWeightsRefusesNonFinite(t *testing.T) {
	for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1))} {
		g := graph.New()
		m := nn.NewSequential("m", nn.NewDense(3))
		x, err := g.Input("x", 2, 4)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Build(g, x); err != nil {
			t.Fatal(err)
		}
		p := g.Params()[0]
		vals := p.Values()
		vals[5] = float64(bad)
		if err := p.SetValues(vals); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "w.safetensors")
		if err := train.SaveWeights(path, g); err != nil {
			t.Fatal(err)
		}
		g2 := graph.New(graph.WithSeed(2))
		x2, _ := g2.Input("x", 2, 4)
		if _, err := nn.NewSequential("m", nn.NewDense(3)).Build(g2, x2); err != nil {
			t.Fatal(err)
		}
		before := g2.Params()[0].Values()
		err = train.LoadWeights(path, g2)
		want := fmt.Sprintf(`tensor %q: value 5 is %v: weights must be finite`, p.Name, bad)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), path) {
			t.Fatalf("error %v, want one naming %s and saying %s", err, path, want)
		}
		if !slices.Equal(before, g2.Params()[0].Values()) {
			t.Fatal("a refused load changed the weights")
		}
	}
}
