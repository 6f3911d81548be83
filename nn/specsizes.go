package nn

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// The names of the data's sizes that a spec may give instead of a number
// (Spec.BuildFor).
const (
	// SizeVocab is a text's vocabulary size: an embedding's vocab and a
	// language model's output units.
	SizeVocab = "vocab"
	// SizeClasses is a classifier's number of classes.
	SizeClasses = "classes"
	// SizeOutputs is the model's number of outputs, whatever its task:
	// the classes (one for a two-class binary cross-entropy model), the
	// vocabulary, a regression's one.
	SizeOutputs = "outputs"
)

// sizeNames are the names a spec may use, in the order errors list them.
var sizeNames = []string{SizeVocab, SizeClasses, SizeOutputs}

// BuildFor builds s for data whose sizes are known, so that a model file
// need not write them: a setting whose value is the name of one of sizes
// (vocab, classes, outputs) takes its number, as in
//
//   - embedding: {vocab: vocab, dim: 32}
//   - dense: {units: vocab}
//
// and a last layer that is dense and gives no units gets sizes["outputs"],
// the model's outputs. A name the data does not give (vocab for a
// classifier of images) is an error naming the layer and the setting.
// The model built holds the numbers, as model.json then records them.
func (s Spec) BuildFor(sizes map[string]int) (*Sequential, error) {
	filled := Spec{Name: s.Name, Layers: make([]LayerSpec, len(s.Layers))}
	for i, l := range s.Layers {
		settings := maps.Clone(l.Settings)
		for k, v := range settings {
			name, ok := v.(string)
			if !ok || !slices.Contains(sizeNames, name) {
				continue
			}
			n, ok := sizes[name]
			if !ok {
				return nil, fmt.Errorf("layer %d%s: setting %q is %s, a size this data does not have (it gives %s)", i+1, l.kindTag(), k, name, givenSizes(sizes))
			}
			settings[k] = n
		}
		if i == len(s.Layers)-1 && l.Kind == "dense" {
			if _, ok := settings["units"]; !ok {
				if n, ok := sizes[SizeOutputs]; ok {
					if settings == nil {
						settings = map[string]any{}
					}
					settings["units"] = n
				}
			}
		}
		filled.Layers[i] = LayerSpec{Kind: l.Kind, Settings: settings}
	}
	return filled.Build()
}

// check reports what keeps s from building, whatever sizes its data have
// (each size it names taken as 1).
func (s Spec) check() error {
	ones := map[string]int{}
	for _, n := range sizeNames {
		ones[n] = 1
	}
	_, err := s.BuildFor(ones)
	return err
}

// givenSizes lists the names of sizes, for an error.
func givenSizes(sizes map[string]int) string {
	var names []string
	for _, n := range sizeNames {
		if _, ok := sizes[n]; ok {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}
