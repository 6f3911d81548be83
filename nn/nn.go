// Package nn holds dlrun's layers and reference models.
//
// A Layer knows the shape it produces from the shape it is given, how many
// parameters it has, and how to add its nodes to a graph.Graph. Shapes in
// this package are per example (no batch axis), as in Keras: an MNIST image
// is [1 28 28], a feature vector [784]. Layers are composed with
// Sequential, which names them the way Keras does (dense1, dense2, relu1,
// ...) so that parameters get stable names such as "dense1.weight".
//
// The layers are Dense, Conv2D, Conv1D, MaxPool2D, GlobalAvgPool1D and
// GlobalAvgPool2D, Flatten, Reshape, Dropout, the activations (ReLU,
// Sigmoid, Tanh, Softmax, GELU), the recurrent LSTM and GRU (Recurrent)
// with Embedding, multi-head self-attention (Attention) with
// PositionalEmbedding, the norm layers BatchNorm and LayerNorm, whose
// parameters and buffers are named after PyTorch's state dicts, and the
// recommenders MF, NCF and Biases, which map a (user, movie) pair to a
// predicted rating, and Autoregressive, a joint output over the values of
// a step (each value's logit given those before it; Draw samples it). Dropout and BatchNorm behave differently in training
// and in evaluation (graph.Graph.SetTraining).
//
// A Sequential is a chain of layers or, where layers name their inputs
// (SetInputs), a graph of them joined by Add and Concat (MultiInput);
// Residual is a residual block around a sub-sequence. Layers that can run
// a sequence a step per pass (Incremental: causal attention with a
// key/value cache, positional embeddings, recurrent layers) serve text
// generation (SetIncremental).
//
// A Spec describes a Sequential model as a YAML or JSON model file (its
// name and layers, each a kind and its settings): Spec.Build makes the
// model, Describe writes one down, and RegisterLayer adds a layer kind of
// one's own to what model files may name. The reference models (xor, mlp,
// cnn, cnn-bn, resnet, rnn, charrnn, gpt, mf, ncf, biases; References,
// ReferenceByName) are the ones dlrun trains and compares with PyTorch.
//
// Layers take and return *graph.Node: this package builds on graph alone
// and never imports Gorgonia itself. Its functions and methods return
// errors, never panic, on a nil graph, a nil input node, a nil layer in a
// Sequential or a nil layer's OutputShape, NumParams and Build.
package nn

import (
	"fmt"

	"github.com/dlrun/dlrun/graph"
	"github.com/pkg/errors"
)

// A Layer builds part of a model on a graph.
//
// A layer whose name is empty gets one from NewSequential (after its kind
// and position among layers of that kind: dense1, dense2, relu1, ...) if
// it has a method SetName(string), as every layer of this package has; a
// layer of one's own gets such names by having one too.
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
	Build(g *graph.Graph, x *graph.Node) (*graph.Node, error)
	// Params returns the parameters that Build created, in order.
	Params() []*graph.Param
}

// named is implemented by layers whose name NewSequential and Spec.Build
// may set (see Layer).
type named interface {
	SetName(name string)
}

// wired is implemented by layers that can take the outputs of layers
// other than the one before them (see Sequential): every layer of this
// package.
type wired interface {
	Inputs() []string
	SetInputs(names ...string)
}

// InputName names a model's input (or a residual block's) among the
// inputs of a layer: SetInputs("input"), or inputs: [input] in a model
// file. No layer may be named so.
const InputName = "input"

// A MultiInput layer takes the outputs of several layers, which it names
// with SetInputs: Add and Concat, and Attention, whose optional second
// input is a padding mask. Every other layer takes exactly one.
type MultiInput interface {
	Layer
	// OutputShapeOf returns the per-example output shape for the
	// per-example shapes of the inputs, or an error naming the layer.
	OutputShapeOf(in [][]int) ([]int, error)
	// BuildOn adds the layer's nodes to g on the inputs xs, each
	// [batch, in...].
	BuildOn(g *graph.Graph, xs []*graph.Node) (*graph.Node, error)
}

// container is implemented by layers made of layers (Sequential,
// Residual): Sublayers lists them in order, nested ones after their
// container, as NewSequential names them.
type container interface {
	Sublayers() []Layer
}

// base holds what every layer has: a name, the names of its inputs if it
// does not take the previous layer's output, and, once built, parameters.
type base struct {
	name   string
	inputs []string
	params []*graph.Param
}

// Name implements Layer.
func (b *base) Name() string { return b.name }

// SetName sets the layer's name, which prefixes its parameters' names
// ("<name>.weight"); set it before Build. NewSequential names layers that
// have no name.
func (b *base) SetName(n string) { b.name = n }

// Inputs returns the names of the layers whose outputs the layer takes,
// as SetInputs set them; none means the output of the layer before it.
func (b *base) Inputs() []string { return b.inputs }

// SetInputs makes the layer take the outputs of the named layers, which
// come before it in the same Sequential (or residual block), InputName
// standing for that Sequential's input, instead of the previous layer's
// output: a branch or a skip connection. A MultiInput layer takes several;
// any other layer one. No names restores the default.
func (b *base) SetInputs(names ...string) { b.inputs = append([]string(nil), names...) }

// Params implements Layer.
func (b *base) Params() []*graph.Param { return b.params }

// NumParams implements Layer: no parameters.
func (b *base) NumParams(in []int) int { return 0 }

func (b *base) param(g *graph.Graph, suffix string, shape []int, init graph.Initializer) (*graph.Param, error) {
	p, err := g.Param(b.name+"."+suffix, shape, init)
	if err != nil {
		return nil, err
	}
	b.params = append(b.params, p)
	return p, nil
}

// weightAndBias declares a layer's weight of the given shape and, unless
// noBias, its bias of n values, initialised by kinit and binit (default
// graph.GlorotUniform and graph.Zeros), the layer's only parameters; the
// bias is nil without one.
func (b *base) weightAndBias(g *graph.Graph, shape []int, n int, kinit, binit graph.Initializer, noBias bool) (w, bias *graph.Node, err error) {
	if kinit == nil {
		kinit = graph.GlorotUniform
	}
	if binit == nil {
		binit = graph.Zeros
	}
	b.params = nil
	wp, err := b.param(g, "weight", shape, kinit)
	if err != nil || noBias {
		return nodeOf(wp), nil, err
	}
	bp, err := b.param(g, "bias", []int{n}, binit)
	return wp.Node, nodeOf(bp), err
}

// nodeOf returns p's node, or nil for a nil p.
func nodeOf(p *graph.Param) *graph.Node {
	if p == nil {
		return nil
	}
	return p.Node
}

// checkInput verifies that l is not nil, that g is a graph and that x, one
// of its nodes, is [batch, in...] for an in that l accepts, and returns in.
func checkInput(l Layer, g *graph.Graph, x *graph.Node) ([]int, error) {
	if err := checkNode(l, g, x); err != nil {
		return nil, err
	}
	in := []int(x.Shape()[1:].Clone())
	if _, err := l.OutputShape(in); err != nil {
		return nil, err
	}
	return in, nil
}

// checkNode verifies that l is not nil, that g is a graph and that x is
// one of its nodes with a batch axis.
func checkNode(l Layer, g *graph.Graph, x *graph.Node) error {
	if isNil(l) {
		return nilLayer(l)
	}
	if g.Expr() == nil {
		return errors.Errorf("%s: building on a nil graph (use graph.New)", l.Name())
	}
	if x == nil {
		return errors.Errorf("%s: nil input node", l.Name())
	}
	if x.Graph() != g.Expr() {
		return errors.Errorf("%s: input %s belongs to another graph", l.Name(), x.Name())
	}
	if s := x.Shape(); s.Dims() < 2 {
		return errors.Errorf("%s: input %v has no batch axis", l.Name(), s)
	}
	return nil
}

// nilLayer is the error of a nil layer's OutputShape and Build.
func nilLayer(l Layer) error {
	if l == nil {
		return errors.New("nil layer")
	}
	return errors.Errorf("nil %s layer", l.Kind())
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
