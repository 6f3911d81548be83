package nn

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/dlrun/dlrun/graph"
	"github.com/pkg/errors"
)

// Sequential applies its layers one after another. NewSequential names
// unnamed layers after their kind and position among layers of that kind
// (dense1, dense2, relu1, ...), if they have a SetName method (see Layer).
type Sequential struct {
	base
	Layers []Layer
}

// NewSequential returns a model made of layers, applied in order. A nil
// layer is kept, for OutputShape, Build and Summary to report.
func NewSequential(name string, layers ...Layer) *Sequential {
	s := &Sequential{Layers: layers}
	s.name = name
	counts := map[string]int{}
	for _, l := range layers {
		if isNil(l) {
			continue
		}
		auto := autoName(l.Kind(), counts)
		if n, ok := l.(named); ok && l.Name() == "" {
			n.SetName(auto)
		}
	}
	return s
}

// autoName returns the name NewSequential gives the next layer of kind,
// counting layers by kind in counts.
func autoName(kind string, counts map[string]int) string {
	k := strings.ToLower(kind)
	counts[k]++
	return fmt.Sprintf("%s%d", k, counts[k])
}

// isNil says whether l is nil or a nil pointer (or other nil value) in a
// Layer interface.
func isNil(l Layer) bool {
	if l == nil {
		return true
	}
	switch v := reflect.ValueOf(l); v.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan, reflect.Interface:
		return v.IsNil()
	}
	return false
}

// layerShape returns the output shape of layer i for input shape in; its
// error names the model and the layer by position (from 1), name and kind.
func (s *Sequential) layerShape(i int, in []int) ([]int, error) {
	l := s.Layers[i]
	if isNil(l) {
		return nil, fmt.Errorf("%s: layer %d is nil", s.name, i+1)
	}
	out, err := l.OutputShape(in)
	if err != nil {
		return nil, s.layerErr(i, err)
	}
	return out, nil
}

// layerErr prefixes err with the model's name and layer i's position, and
// its name and kind unless err begins with them, as layers' shape errors do.
func (s *Sequential) layerErr(i int, err error) error {
	l := s.Layers[i]
	if strings.HasPrefix(err.Error(), fmt.Sprintf("%s (%s): ", l.Name(), l.Kind())) {
		return fmt.Errorf("%s: layer %d: %w", s.name, i+1, err)
	}
	return fmt.Errorf("%s: layer %d (%s, %s): %w", s.name, i+1, l.Name(), l.Kind(), err)
}

// Kind implements Layer.
func (s *Sequential) Kind() string { return "Sequential" }

// OutputShape implements Layer.
func (s *Sequential) OutputShape(in []int) ([]int, error) {
	if s == nil {
		return nil, nilLayer(s)
	}
	shape := in
	for i := range s.Layers {
		out, err := s.layerShape(i, shape)
		if err != nil {
			return nil, err
		}
		shape = out
	}
	return shape, nil
}

// NumParams implements Layer.
func (s *Sequential) NumParams(in []int) int {
	if s == nil {
		return 0
	}
	n := 0
	shape := in
	for _, l := range s.Layers {
		if isNil(l) {
			return n
		}
		n += l.NumParams(shape)
		out, err := l.OutputShape(shape)
		if err != nil {
			return n
		}
		shape = out
	}
	return n
}

// Build implements Layer. A Conv2D directly followed by a ReLU is built
// as one fused op (graph.Conv2DReLU): the same values and gradients, with
// one pass over memory fewer each way.
func (s *Sequential) Build(g *graph.Graph, x *graph.Node) (*graph.Node, error) {
	if _, err := checkInput(s, g, x); err != nil {
		return nil, err
	}
	s.params = nil
	for i := 0; i < len(s.Layers); i++ {
		l, pos := s.Layers[i], i+1
		var y *graph.Node
		var err error
		if c, ok := l.(*Conv2D); ok && i+1 < len(s.Layers) && isReLU(s.Layers[i+1]) {
			y, err = c.build(g, x, true)
			i++
		} else {
			y, err = l.Build(g, x)
		}
		if err != nil {
			return nil, errors.Wrapf(err, "%s: layer %d: building %s", s.name, pos, l.Name())
		}
		s.params = append(s.params, l.Params()...)
		x = y
	}
	return x, nil
}

func isReLU(l Layer) bool {
	a, ok := l.(*Activation)
	return ok && a != nil && a.kind == "ReLU"
}

// LayerInfo is one row of a model summary.
type LayerInfo struct {
	Name        string `json:"name"`
	Kind        string `json:"kind"`
	OutputShape []int  `json:"output_shape"`
	Params      int    `json:"params"`
}

// Summary lists the layers of s with their output shapes and parameter
// counts for per-example input shape in, like Keras's model.summary().
func (s *Sequential) Summary(in []int) ([]LayerInfo, error) {
	if s == nil {
		return nil, nilLayer(s)
	}
	var rows []LayerInfo
	shape := in
	for i, l := range s.Layers {
		out, err := s.layerShape(i, shape)
		if err != nil {
			return nil, err
		}
		rows = append(rows, LayerInfo{l.Name(), l.Kind(), out, l.NumParams(shape)})
		shape = out
	}
	return rows, nil
}

// FormatSummary renders rows as a text table with a total line.
func FormatSummary(rows []LayerInfo) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-16s %-12s %-18s %10s\n", "Layer", "Type", "Output shape", "Params")
	total := 0
	for _, r := range rows {
		fmt.Fprintf(&b, "%-16s %-12s %-18s %10d\n", r.Name, r.Kind, fmt.Sprint(r.OutputShape), r.Params)
		total += r.Params
	}
	fmt.Fprintf(&b, "Total params: %d\n", total)
	return b.String()
}
