// Package nn holds dlrun's layers and reference models.
//
// A Layer knows the shape it produces from the shape it is given, how many
// parameters it has, and how to add its nodes to a graph.Graph. Shapes in
// this package are per example (no batch axis), as in Keras: an MNIST image
// is [1 28 28], a feature vector [784]. Layers are composed with
// Sequential, which names them the way Keras does (dense1, dense2, relu1,
// ...) so that parameters get stable names such as "dense1.weight".
package nn

import (
	"fmt"

	"github.com/dlrun/dlrun/graph"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
)

// A Layer builds part of a model on a graph.
type Layer interface {
	// Name returns the layer's name, unique within its model.
	Name() string
	// Kind returns the layer's type name, as shown in summaries ("Dense").
	Kind() string
	// OutputShape returns the per-example output shape for the per-example
	// input shape in, or an error naming the layer if in does not fit.
	OutputShape(in []int) ([]int, error)
	// NumParams returns the number of trainable scalars for input shape in.
	NumParams(in []int) int
	// Build adds the layer's nodes to g. x has shape [batch, in...].
	Build(g *graph.Graph, x *gorgonia.Node) (*gorgonia.Node, error)
	// Params returns the parameters that Build created, in order.
	Params() []*graph.Param
}

// named is implemented by layers whose name Sequential may set.
type named interface {
	setName(string)
}

// base holds what every layer has: a name and, once built, parameters.
type base struct {
	name   string
	params []*graph.Param
}

func (b *base) Name() string           { return b.name }
func (b *base) setName(n string)       { b.name = n }
func (b *base) Params() []*graph.Param { return b.params }
func (b *base) NumParams(in []int) int { return 0 }
func (b *base) param(g *graph.Graph, suffix string, shape []int, init graph.Initializer) (*graph.Param, error) {
	p, err := g.Param(b.name+"."+suffix, shape, init)
	if err != nil {
		return nil, err
	}
	b.params = append(b.params, p)
	return p, nil
}

// checkBatch verifies that x is [batch, in...] for the layer's expected in.
func checkInput(l Layer, x *gorgonia.Node) ([]int, error) {
	s := x.Shape()
	if s.Dims() < 2 {
		return nil, errors.Errorf("%s: input %v has no batch axis", l.Name(), s)
	}
	in := []int(s[1:].Clone())
	if _, err := l.OutputShape(in); err != nil {
		return nil, err
	}
	return in, nil
}

func size(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

func shapeErr(l Layer, in []int, format string, args ...any) error {
	return fmt.Errorf("%s (%s): input shape %v: %s", l.Name(), l.Kind(), in, fmt.Sprintf(format, args...))
}
