// Package graph is dlrun's Go API for declaring models as symbolic
// computation graphs on Gorgonia.
//
// A Graph wraps a gorgonia.ExprGraph together with the two things every
// model needs and Gorgonia leaves to the caller: a fixed element type
// (float32 by default, float64 for gradient checks) and a seeded random
// number generator that owns every random draw made while building or
// training the model (parameter initialisers, dropout masks). Nothing in
// dlrun seeds from the clock, so the same seed always builds the same model.
//
// Inputs, parameters (Param: trained) and buffers (Buffer: saved with the
// weights but not trained, such as BatchNorm's running statistics) are
// declared by name. The operations in this package check shapes when the
// graph is built and report errors that name the node and both shapes,
// instead of failing later inside the machine. Nodes are Gorgonia's
// (Node is an alias of gorgonia.Node), so packages built on graph need not
// import Gorgonia themselves.
//
// A Program (Graph.Compile) compiles a scalar loss and the gradient of
// every parameter into a training pass and an evaluation pass, and runs
// them; it is what the train package runs. Graph.CompileForward compiles
// outputs alone, for inference. Graph.SetTraining switches the graph
// between training and evaluation mode (dropout, BatchNorm's statistics),
// as PyTorch's model.train() and model.eval() do; Program.Run sets it for
// each pass. For a graph built by hand, Graph.SetInput binds an input's
// values before a run and Program.Output, Program.Gradient and
// Param.Values read the results. Feeds (Graph.AddFeed) bind the inputs a
// model owns itself, such as a dropout mask (see Graph.InputData).
//
// Every exported function and method returns an error, or the zero value
// of an accessor, for a nil or zero Graph, Param, Buffer or Program and for
// nil or mismatched nodes; a Graph must be made with New.
package graph

import (
	"fmt"
	"math/rand/v2"
	"sort"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Node is a node of a graph: an input, a parameter, a constant or the
// result of an operation. It is an alias of gorgonia.Node, so nodes made
// here and by Gorgonia mix freely, and packages built on graph (nn, train)
// can name nodes without importing Gorgonia.
type Node = gorgonia.Node

// Nodes is a list of nodes, an alias of gorgonia.Nodes.
type Nodes = gorgonia.Nodes

// DType is the element type of every tensor in a graph.
type DType string

// The element types a Graph supports.
const (
	Float32 DType = "float32"
	Float64 DType = "float64"
)

// ParseDType returns the DType named s ("float32" or "float64").
func ParseDType(s string) (DType, error) {
	switch DType(s) {
	case Float32, Float64:
		return DType(s), nil
	}
	return "", errors.Errorf("unknown dtype %q (want float32 or float64)", s)
}

// Tensor returns the gorgonia/tensor element type for d.
func (d DType) Tensor() tensor.Dtype {
	if d == Float64 {
		return tensor.Float64
	}
	return tensor.Float32
}

// Graph is a symbolic computation graph with a dtype and a seeded RNG.
// Make one with New: the methods of a nil or zero Graph return errors (or
// the zero value of an accessor).
type Graph struct {
	g       *gorgonia.ExprGraph
	dtype   DType
	seed    uint64
	rng     *rand.Rand
	pcg     *rand.PCG
	params  []*Param
	buffers []*Buffer
	names   map[string]bool
	feeders []feeder

	training   bool // runs are training steps (SetTraining)
	activeRows int  // rows of the batch that are real data; 0: all (SetActiveRows)

	penalties []*Node // scalar terms added to the training loss (AddPenalty)
}

// errNotNew is the error of a nil or zero Graph's methods.
var errNotNew = errors.New("graph: a nil or zero Graph (use graph.New)")

// check returns an error, prefixed by what, for a nil Graph or one that
// New did not make.
func (g *Graph) check(what string) error {
	if g == nil || g.g == nil || g.rng == nil || g.names == nil {
		return errors.Wrap(errNotNew, what)
	}
	return nil
}

// Option configures a new Graph.
type Option func(*Graph)

// WithDType sets the element type of the graph (default Float32).
func WithDType(d DType) Option { return func(g *Graph) { g.dtype = d } }

// WithSeed sets the seed of the graph's random number generator (default 1).
func WithSeed(seed uint64) Option { return func(g *Graph) { g.seed = seed } }

// New returns an empty graph. Nil options are skipped.
func New(opts ...Option) *Graph {
	g := &Graph{g: gorgonia.NewGraph(), dtype: Float32, seed: 1, names: map[string]bool{}}
	for _, o := range opts {
		if o != nil {
			o(g)
		}
	}
	if g.dtype != Float64 {
		g.dtype = Float32
	}
	g.pcg = rand.NewPCG(g.seed, 0x646c72756e) // "dlrun"
	g.rng = rand.New(g.pcg)
	return g
}

// Expr returns the underlying Gorgonia graph (nil for a nil or zero Graph).
func (g *Graph) Expr() *gorgonia.ExprGraph {
	if g == nil {
		return nil
	}
	return g.g
}

// DType returns the element type of the graph ("" for a nil or zero Graph).
func (g *Graph) DType() DType {
	if g == nil {
		return ""
	}
	return g.dtype
}

// Seed returns the seed the graph's RNG started from (0 for a nil Graph).
func (g *Graph) Seed() uint64 {
	if g == nil {
		return 0
	}
	return g.seed
}

// RNG returns the graph's random number generator. Every random draw that
// belongs to the model (initialisers, dropout masks) must come from it.
// It is nil for a nil or zero Graph.
func (g *Graph) RNG() *rand.Rand {
	if g == nil {
		return nil
	}
	return g.rng
}

// RNGState returns the state of the graph's RNG, for checkpoints.
func (g *Graph) RNGState() ([]byte, error) {
	if err := g.check("RNG state"); err != nil {
		return nil, err
	}
	return g.pcg.MarshalBinary()
}

// SetRNGState restores a state returned by RNGState.
func (g *Graph) SetRNGState(b []byte) error {
	if err := g.check("restoring the RNG state"); err != nil {
		return err
	}
	return errors.Wrap(g.pcg.UnmarshalBinary(b), "restoring graph RNG state")
}

func (g *Graph) claim(name string) error {
	if name == "" {
		return errors.New("graph: empty node name")
	}
	if g.names[name] {
		return errors.Errorf("graph: a node named %q already exists", name)
	}
	g.names[name] = true
	return nil
}

// MaxTensorValues is the most values an input, parameter or constant may
// hold (2^30: 4 GiB as float32). A larger shape, or one whose size
// overflows, is an error before anything is allocated.
const MaxTensorValues = 1 << 30

func checkShape(name string, shape []int) error {
	if len(shape) == 0 {
		return errors.Errorf("graph: %s: empty shape", name)
	}
	n := 1
	for _, d := range shape {
		if d <= 0 {
			return errors.Errorf("graph: %s: shape %v has a non-positive dimension", name, shape)
		}
		if d > MaxTensorValues/n {
			return errors.Errorf("graph: %s: shape %v holds more than %d values (graph.MaxTensorValues)", name, shape, MaxTensorValues)
		}
		n *= d
	}
	return nil
}

// Input declares an input node: a tensor of the given shape, initially
// zeros, whose value is set before each run (SetInput, InputData).
func (g *Graph) Input(name string, shape ...int) (*Node, error) {
	if err := g.check("input " + name); err != nil {
		return nil, err
	}
	if err := checkShape(name, shape); err != nil {
		return nil, err
	}
	if err := g.claim(name); err != nil {
		return nil, err
	}
	t := tensor.New(tensor.Of(g.dtype.Tensor()), tensor.WithShape(shape...))
	return gorgonia.NodeFromAny(g.g, t, gorgonia.WithName(name)), nil
}

// Param is a named, trainable tensor of a graph. Its methods return an
// error, or a zero value, for a nil Param or one without a node.
type Param struct {
	Name string
	Node *Node
}

// Shape returns the parameter's shape (nil for a nil Param).
func (p *Param) Shape() []int {
	if p == nil || p.Node == nil {
		return nil
	}
	return []int(p.Node.Shape().Clone())
}

// Size returns the number of scalars in the parameter (0 for a nil Param).
func (p *Param) Size() int {
	if p == nil || p.Node == nil {
		return 0
	}
	return p.Node.Shape().TotalSize()
}

// Value returns the parameter's current value (nil for a nil Param or one
// whose node holds no tensor).
func (p *Param) Value() *tensor.Dense {
	if p == nil || p.Node == nil {
		return nil
	}
	t, _ := p.Node.Value().(*tensor.Dense)
	return t
}

// Param declares a trainable parameter with the given shape, initialised by
// init from the graph's RNG. Fan-in and fan-out for the initialiser follow
// the shape: a 1-D shape [n] has fans n and n; a 2-D shape [in, out] (the
// layout of a dense kernel, used as x·W) has fan-in in and fan-out out; a
// shape of 3 or more dimensions [out, in, k...] (a convolution kernel) has
// fan-in in·prod(k) and fan-out out·prod(k).
func (g *Graph) Param(name string, shape []int, init Initializer) (*Param, error) {
	if err := g.check("parameter " + name); err != nil {
		return nil, err
	}
	if err := checkShape(name, shape); err != nil {
		return nil, err
	}
	if init == nil {
		return nil, errors.Errorf("graph: parameter %s has no initialiser", name)
	}
	if err := g.claim(name); err != nil {
		return nil, err
	}
	fanIn, fanOut := Fans(shape)
	n := 1
	for _, d := range shape {
		n *= d
	}
	vals := make([]float64, n)
	init.Fill(g.rng, vals, fanIn, fanOut)
	t := g.tensorFrom(vals, shape)
	node := gorgonia.NodeFromAny(g.g, t, gorgonia.WithName(name))
	p := &Param{Name: name, Node: node}
	g.params = append(g.params, p)
	return p, nil
}

// Params returns the graph's parameters in declaration order (none for a
// nil Graph).
func (g *Graph) Params() []*Param {
	if g == nil {
		return nil
	}
	return append([]*Param(nil), g.params...)
}

// ParamByName returns the parameter with the given name, or nil.
func (g *Graph) ParamByName(name string) *Param {
	if g == nil {
		return nil
	}
	for _, p := range g.params {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// Nodes returns the parameter nodes in declaration order (none for a nil
// Graph).
func (g *Graph) Nodes() Nodes {
	if g == nil {
		return nil
	}
	ns := make(Nodes, len(g.params))
	for i, p := range g.params {
		ns[i] = p.Node
	}
	return ns
}

// NumParams returns the total number of scalars in the graph's parameters
// (0 for a nil Graph).
func (g *Graph) NumParams() int {
	if g == nil {
		return 0
	}
	n := 0
	for _, p := range g.params {
		n += p.Size()
	}
	return n
}

// ParamNames returns the sorted parameter names (none for a nil Graph).
func (g *Graph) ParamNames() []string {
	if g == nil {
		return nil
	}
	s := make([]string, len(g.params))
	for i, p := range g.params {
		s[i] = p.Name
	}
	sort.Strings(s)
	return s
}

// tensorFrom makes a dense tensor of the graph's dtype from float64 values.
func (g *Graph) tensorFrom(vals []float64, shape []int) *tensor.Dense {
	if g.dtype == Float64 {
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(vals))
	}
	f := make([]float32, len(vals))
	for i, v := range vals {
		f[i] = float32(v)
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(f))
}

// Constant adds a constant tensor of the graph's dtype.
func (g *Graph) Constant(name string, vals []float64, shape ...int) (*Node, error) {
	if err := g.check("constant " + name); err != nil {
		return nil, err
	}
	if err := checkShape(name, shape); err != nil {
		return nil, err
	}
	n := 1
	for _, d := range shape {
		n *= d
	}
	if n != len(vals) {
		return nil, errors.Errorf("graph: constant %s: %d values for shape %v", name, len(vals), shape)
	}
	if err := g.claim(name); err != nil {
		return nil, err
	}
	return gorgonia.NodeFromAny(g.g, g.tensorFrom(vals, shape), gorgonia.WithName(name)), nil
}

// Scalar returns a scalar constant of the graph's dtype; it belongs to no
// graph until an op joins it to the node beside it. It is nil for a nil
// Graph, which the ops then report.
func (g *Graph) Scalar(v float64) *Node {
	if g == nil {
		return nil
	}
	if g.dtype == Float64 {
		return gorgonia.NewConstant(v)
	}
	return gorgonia.NewConstant(float32(v))
}

// SetTraining switches the graph between training mode (on) and
// evaluation mode, PyTorch's model.train() and model.eval(): dropout draws
// masks and BatchNorm normalises with the batch's statistics (and updates
// its running statistics) only in training mode. A new graph is in
// evaluation mode. Ops read the mode when they run, so it can be switched
// between runs of the same machine.
func (g *Graph) SetTraining(on bool) {
	if g != nil {
		g.training = on
	}
}

// Training reports whether the graph is in training mode.
func (g *Graph) Training() bool { return g != nil && g.training }

// SetActiveRows says that only the first n rows of the next runs' batches
// are real examples; the rest pad a short batch to the graph's batch size
// (with loss weight 0). Ops that mix rows (BatchNorm's batch statistics)
// use only the active rows and give the padded rows zero gradient. n ≤ 0
// (the default) or n ≥ the batch size means every row.
func (g *Graph) SetActiveRows(n int) {
	if g != nil {
		g.activeRows = max(n, 0)
	}
}

// ActiveRows returns the number of rows set by SetActiveRows (0: every row).
func (g *Graph) ActiveRows() int {
	if g == nil {
		return 0
	}
	return g.activeRows
}

// rowsOf returns how many of batch rows are real examples.
func (g *Graph) rowsOf(batch int) int {
	if n := g.ActiveRows(); n > 0 && n < batch {
		return n
	}
	return batch
}

// Feed is called before every run of a machine over the graph to bind the
// values of inputs that the model itself owns (a dropout mask, say).
// training says whether the run is a training step (Graph.Training).
type Feed func(training bool) error

type feeder struct {
	name string
	fn   Feed
}

// AddFeed registers fn to be called by Feed before every run; name
// prefixes its errors. A nil fn, or a nil or zero Graph, is an error.
func (g *Graph) AddFeed(name string, fn Feed) error {
	if err := g.check("feed " + name); err != nil {
		return err
	}
	if fn == nil {
		return errors.Errorf("graph: feed %s: nil function", name)
	}
	g.feeders = append(g.feeders, feeder{name, fn})
	return nil
}

// Feed calls every registered feed in registration order with the graph's
// mode (Training). Call it before every run of a machine over the graph.
func (g *Graph) Feed() error {
	if g == nil {
		return errors.New("graph: Feed on a nil graph")
	}
	for _, f := range g.feeders {
		if err := f.fn(g.training); err != nil {
			return errors.Wrapf(err, "feeding %s", f.name)
		}
	}
	return nil
}

// String describes the graph briefly.
func (g *Graph) String() string {
	if g == nil {
		return "graph(nil)"
	}
	return fmt.Sprintf("graph(%s, seed %d, %d params)", g.dtype, g.seed, len(g.params))
}
