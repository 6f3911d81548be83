package nn_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/nn"
)

// logitsOf builds the model of spec on a float64 graph of seed 5 for ids
// [batch, steps] and returns its forward program, its input and model.
func logitsOf(t *testing.T, spec nn.Spec, batch, steps, maxLen int) (*graph.Program, *graph.Graph, *graph.Node, *nn.Sequential) {
	t.Helper()
	m, err := spec.Build()
	if err != nil {
		t.Fatal(err)
	}
	if err := nn.SetIncremental(m, maxLen); err != nil {
		t.Fatal(err)
	}
	g := graph.New(graph.WithDType(graph.Float64), graph.WithSeed(5))
	x, err := g.Input("x", batch, steps)
	if err != nil {
		t.Fatal(err)
	}
	y, err := m.Build(g, x)
	if err != nil {
		t.Fatal(err)
	}
	p, err := g.CompileForward(y)
	if err != nil {
		t.Fatal(err)
	}
	return p, g, x, m
}

// A model built incrementally and fed a token per pass gives, at each
// step, the logits the model over the whole sequence gives there: the
// transformer through its key/value caches and position count, the LSTM
// through its carried state. ResetState starts a new sequence.
func TestIncrementalMatchesWholeSequence(t *testing.T) {
	const lstmYAML = `
name: lm
layers:
  - embedding: {vocab: 20, dim: 8}
  - lstm: {hidden: 8, return_sequences: true}
  - dense: {units: 20}
`
	for _, text := range []string{transformerYAML, lstmYAML} {
		spec, err := nn.ParseSpec([]byte(text), "")
		if err != nil {
			t.Fatal(err)
		}
		const B, T, V = 2, 6, 20
		ids := []float64{3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8}
		whole, g, x, _ := logitsOf(t, spec, B, T, 0)
		if err := g.SetInput(x, ids); err != nil {
			t.Fatal(err)
		}
		if _, err := whole.Run(false); err != nil {
			t.Fatal(err)
		}
		want, _ := whole.Output(0)

		step, gs, xs, m := logitsOf(t, spec, B, 1, T)
		for seq := 0; seq < 2; seq++ {
			for _, l := range nn.AllLayers(m) {
				if s, ok := l.(interface{ ResetState() }); ok {
					s.ResetState()
				}
			}
			for s := 0; s < T; s++ {
				if err := gs.SetInput(xs, []float64{ids[s], ids[T+s]}); err != nil {
					t.Fatal(err)
				}
				if _, err := step.Run(false); err != nil {
					t.Fatalf("%s step %d: %v", m.Name(), s, err)
				}
				got, _ := step.Output(0)
				for b := 0; b < B; b++ {
					w := want[(b*T+s)*V : (b*T+s+1)*V]
					near(t, "logits", got[b*V:(b+1)*V], w, 1e-12)
				}
			}
		}
		if m.Name() == "tiny-gpt" {
			if _, err := step.Run(false); err == nil || !strings.Contains(err.Error(), "past the 6 rows") {
				t.Errorf("a step past max_len: %v", err)
			}
		}
	}
}

// Layers that see every step at once refuse to be incremental, by name.
func TestIncrementalRefusals(t *testing.T) {
	m := nn.NewSequential("m", nn.NewAttention(2, false), nn.NewConv1D(4, 3), nn.NewGlobalAvgPool1D(), nn.NewConv1D(2, 1))
	err := nn.SetIncremental(m, 8)
	for _, want := range []string{"attention1 (Attention) cannot run a step at a time", "conv1d1 (Conv1D)", "globalavgpool1d1 (GlobalAvgPool1D)"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not mention %q", err, want)
		}
	}
	if err != nil && strings.Contains(err.Error(), "conv1d2") {
		t.Errorf("a one-step convolution refused: %v", err)
	}
	if err := nn.SetIncremental(nn.NewSequential("m", nn.NewPositionalEmbedding(4)), 8); err == nil || !strings.Contains(err.Error(), "longer than the 4 positions") {
		t.Errorf("a sequence past a learned table: %v", err)
	}
	if err := nn.SetIncremental(m, 0); err != nil {
		t.Errorf("back to whole sequences: %v", err)
	}
	if err := nn.SetIncremental(m, -1); err == nil {
		t.Error("a negative length: no error")
	}
}

// Generation with a key/value cache: the model is built on one token per
// sequence and run once per token; each pass attends to the steps before
// it through the caches. A pass past the positions the model was built
// for is an error; ResetState (train resets Stateful layers) starts over.
func ExampleSetIncremental() {
	m := nn.GPT(10, 4, 1, 2, 8) // vocabulary 10, context 4, 1 block, 2 heads, width 8
	if err := nn.SetIncremental(m, 4); err != nil {
		panic(err)
	}
	g := graph.New()
	x, _ := g.Input("x", 1, 1) // one sequence, one token per pass
	y, err := m.Build(g, x)
	if err != nil {
		panic(err)
	}
	p, _ := g.CompileForward(y)
	for _, token := range []float64{3, 1, 4, 1, 5} {
		_ = g.SetInput(x, []float64{token})
		if _, err := p.Run(false); err != nil {
			fmt.Println(err)
			break
		}
		fmt.Println(y.Shape())
	}
	// Output:
	// (1, 1, 10)
	// (1, 1, 10)
	// (1, 1, 10)
	// (1, 1, 10)
	// graph: AddPositions(1 of 4)(%2, %3): add positions: steps 4 to 4 are past the 4 rows of positionalembedding1.weight (reset to start a new sequence)
}
