package nn

import (
	"fmt"
	"strings"

	"github.com/dlrun/dlrun/graph"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
)

// Sequential applies its layers one after another. NewSequential names
// unnamed layers after their kind and position among layers of that kind
// (dense1, dense2, relu1, ...).
type Sequential struct {
	base
	Layers []Layer
}

// NewSequential returns a model made of layers, applied in order.
func NewSequential(name string, layers ...Layer) *Sequential {
	s := &Sequential{Layers: layers}
	s.name = name
	counts := map[string]int{}
	for _, l := range layers {
		k := strings.ToLower(l.Kind())
		counts[k]++
		if n, ok := l.(named); ok && l.Name() == "" {
			n.setName(fmt.Sprintf("%s%d", k, counts[k]))
		}
	}
	return s
}

// Kind implements Layer.
func (s *Sequential) Kind() string { return "Sequential" }

// OutputShape implements Layer.
func (s *Sequential) OutputShape(in []int) ([]int, error) {
	shape := in
	for _, l := range s.Layers {
		out, err := l.OutputShape(shape)
		if err != nil {
			return nil, errors.Wrap(err, s.name)
		}
		shape = out
	}
	return shape, nil
}

// NumParams implements Layer.
func (s *Sequential) NumParams(in []int) int {
	n := 0
	shape := in
	for _, l := range s.Layers {
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
func (s *Sequential) Build(g *graph.Graph, x *gorgonia.Node) (*gorgonia.Node, error) {
	if _, err := s.OutputShape([]int(x.Shape()[1:])); err != nil {
		return nil, err
	}
	s.params = nil
	for i := 0; i < len(s.Layers); i++ {
		l := s.Layers[i]
		var y *gorgonia.Node
		var err error
		if c, ok := l.(*Conv2D); ok && i+1 < len(s.Layers) && isReLU(s.Layers[i+1]) {
			y, err = c.build(g, x, true)
			i++
		} else {
			y, err = l.Build(g, x)
		}
		if err != nil {
			return nil, errors.Wrapf(err, "%s: building %s", s.name, l.Name())
		}
		s.params = append(s.params, l.Params()...)
		x = y
	}
	return x, nil
}

func isReLU(l Layer) bool {
	a, ok := l.(*Activation)
	return ok && a.kind == "ReLU"
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
	var rows []LayerInfo
	shape := in
	for _, l := range s.Layers {
		out, err := l.OutputShape(shape)
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
