package nn_test

import (
	"strings"
	"testing"

	"github.com/dlrun/dlrun/nn"
)

// A spec may name the data's sizes instead of numbers; the model built
// holds the numbers, and a size the data lack is a one-line error naming
// the layer and the setting.
func TestBuildForSizes(t *testing.T) {
	spec, err := nn.ParseSpec([]byte("name: lm\nlayers:\n  - embedding: {vocab: vocab, dim: 4}\n  - lstm: {hidden: 8}\n  - dense: {units: vocab}\n"), "lm.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m, err := spec.BuildFor(map[string]int{nn.SizeVocab: 75, nn.SizeOutputs: 75})
	if err != nil {
		t.Fatal(err)
	}
	if e := m.Layers[0].(*nn.Embedding); e.Vocab != 75 {
		t.Errorf("embedding vocab %d, want 75", e.Vocab)
	}
	if d := m.Layers[2].(*nn.Dense); d.Units != 75 {
		t.Errorf("dense units %d, want 75", d.Units)
	}
	if spec.Layers[0].Settings["vocab"] != "vocab" {
		t.Errorf("BuildFor changed the spec: %v", spec.Layers[0].Settings)
	}

	// A last dense layer without units gets the outputs; others do not.
	bare, err := nn.ParseSpec([]byte("name: m\nlayers:\n  - dense: {units: 5}\n  - relu\n  - dense\n"), "m.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m, err = bare.BuildFor(map[string]int{nn.SizeOutputs: 3, nn.SizeClasses: 3})
	if err != nil || m.Layers[2].(*nn.Dense).Units != 3 {
		t.Fatalf("a last dense layer without units: %v", err)
	}
	if _, err := bare.Build(); err == nil || !strings.Contains(err.Error(), `missing required setting "units"`) {
		t.Errorf("Build without sizes: %v", err)
	}
	middle := nn.Spec{Name: "m", Layers: []nn.LayerSpec{{Kind: "dense"}, {Kind: "dense", Settings: map[string]any{"units": 2}}}}
	if _, err := middle.BuildFor(map[string]int{nn.SizeOutputs: 3}); err == nil || !strings.Contains(err.Error(), `layer 1 (dense): missing required setting "units"`) {
		t.Errorf("a dense layer without units before the last: %v", err)
	}

	_, err = spec.BuildFor(map[string]int{nn.SizeClasses: 10, nn.SizeOutputs: 10})
	if err == nil || err.Error() != `layer 1 (embedding): setting "vocab" is vocab, a size this data does not have (it gives classes, outputs)` {
		t.Errorf("vocab for a classifier: %v", err)
	}
	if _, err := spec.Build(); err == nil || !strings.Contains(err.Error(), `setting "vocab" must be a positive integer, not "vocab"`) {
		t.Errorf("Build of a spec naming sizes: %v", err)
	}
}
