package graph_test

import (
	"strings"
	"testing"

	"github.com/dlrun/dlrun/graph"
)

// ShareValues shares parameters and buffers without a copy, and refuses
// graphs whose declarations differ.
func TestShareValues(t *testing.T) {
	build := func(shape []int, seed uint64) (*graph.Graph, *graph.Param, *graph.Buffer) {
		g := graph.New(graph.WithSeed(seed))
		p, err := g.Param("w", shape, graph.Uniform(1))
		if err != nil {
			t.Fatal(err)
		}
		b, err := g.Buffer("mean", []int{2}, graph.Constant(float64(seed)))
		if err != nil {
			t.Fatal(err)
		}
		return g, p, b
	}
	from, pf, bf := build([]int{2, 3}, 1)
	g, pg, bg := build([]int{2, 3}, 2)
	if err := g.ShareValues(from); err != nil {
		t.Fatal(err)
	}
	pf.Data().Float32s()[4] = 42
	bf.Data().([]float32)[1] = 7
	if pg.Data().Float32s()[4] != 42 || bg.Data().([]float32)[1] != 7 {
		t.Fatalf("after sharing, a change to the source shows as %v and %v", pg.Values(), bg.Values())
	}
	other, _, _ := build([]int{3, 2}, 3)
	if err := other.ShareValues(from); err == nil || !strings.Contains(err.Error(), "parameter 0 is w [3 2] here, w [2 3] there") {
		t.Fatalf("shapes differ: %v", err)
	}
	if err := graph.New(graph.WithDType(graph.Float64)).ShareValues(from); err == nil || !strings.Contains(err.Error(), "dtype") {
		t.Fatalf("dtypes differ: %v", err)
	}
}
