package nn

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/dlrun/dlrun/graph"
	"github.com/pkg/errors"
)

// Sequential is a model made of layers, applied in order. A layer takes
// the output of the layer before it (the model's input for the first)
// unless it names its inputs (SetInputs; the inputs setting of a model
// file): then it takes the outputs of those earlier layers, InputName
// standing for the model's input, as in Keras's functional API. So a
// Sequential is a chain, or a graph of branches joined by Add and Concat.
// Every layer but the last must feed a later one; the last one's output is
// the model's. Residual blocks (Residual) hold a sub-sequence of their own.
//
// NewSequential names unnamed layers after their kind and position among
// layers of that kind (dense1, dense2, relu1, ...), counting the layers
// inside blocks too, if they have a SetName method (see Layer).
type Sequential struct {
	base
	Layers []Layer

	// scope, if set, begins the errors of a Sequential that is a block's
	// body rather than a model (a residual block's name and kind).
	scope string
}

// NewSequential returns a model made of layers, applied in order. A nil
// layer is kept, for OutputShape, Build and Summary to report.
func NewSequential(name string, layers ...Layer) *Sequential {
	s := &Sequential{Layers: layers}
	s.name = name
	nameLayers(layers, map[string]int{})
	return s
}

// nameLayers gives each unnamed layer of layers, and of the blocks among
// them, its kind and its count among the layers of that kind so far.
func nameLayers(layers []Layer, counts map[string]int) {
	for _, l := range layers {
		if isNil(l) {
			continue
		}
		auto := autoName(l.Kind(), counts)
		if n, ok := l.(named); ok && l.Name() == "" {
			n.SetName(auto)
		}
		if c, ok := l.(container); ok {
			nameLayers(c.Sublayers(), counts)
		}
	}
}

// autoName returns the name NewSequential gives the next layer of kind,
// counting layers by kind in counts.
func autoName(kind string, counts map[string]int) string {
	k := strings.ToLower(kind)
	counts[k]++
	return fmt.Sprintf("%s%d", k, counts[k])
}

// AllLayers returns model and every layer inside it, looking inside
// Sequential models and residual blocks, in the order NewSequential names
// them (a block before its layers).
func AllLayers(model Layer) []Layer {
	if isNil(model) {
		return nil
	}
	out := []Layer{model}
	if c, ok := model.(container); ok {
		for _, l := range c.Sublayers() {
			out = append(out, AllLayers(l)...)
		}
	}
	return out
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

// inputsOf returns the input names l was given (none for a layer that
// cannot be given any).
func inputsOf(l Layer) []string {
	if w, ok := l.(wired); ok {
		return w.Inputs()
	}
	return nil
}

// prefix begins s's errors: the model's name, or its block's.
func (s *Sequential) prefix() string {
	if s.scope != "" {
		return s.scope
	}
	return s.name
}

// layerErr prefixes err with the model's name and layer i's position, and
// its name and kind unless err begins with them, as layers' shape errors do.
func (s *Sequential) layerErr(i int, err error) error {
	l := s.Layers[i]
	if strings.HasPrefix(err.Error(), fmt.Sprintf("%s (%s): ", l.Name(), l.Kind())) {
		return fmt.Errorf("%s: layer %d: %w", s.prefix(), i+1, err)
	}
	return fmt.Errorf("%s: layer %d (%s, %s): %w", s.prefix(), i+1, l.Name(), l.Kind(), err)
}

// plan returns, for each layer, where its inputs come from: -1 for the
// Sequential's input, j for layer j's output. It is an error for a layer
// to be nil, to name an input that is not an earlier layer of s or
// InputName, to be given several inputs without being a MultiInput, or,
// but for the last, to feed no later layer.
func (s *Sequential) plan() ([][]int, error) {
	from := make([][]int, len(s.Layers))
	used := make([]bool, len(s.Layers))
	index := map[string]int{}
	for i, l := range s.Layers {
		if isNil(l) {
			return nil, fmt.Errorf("%s: layer %d is nil", s.prefix(), i+1)
		}
		names := inputsOf(l)
		if len(names) == 0 {
			from[i] = []int{i - 1}
		}
		for _, n := range names {
			if n == InputName {
				from[i] = append(from[i], -1)
				continue
			}
			j, ok := index[n]
			if !ok {
				known := []string{InputName}
				for _, e := range s.Layers[:i] {
					known = append(known, e.Name())
				}
				return nil, s.layerErr(i, fmt.Errorf("input %q names no earlier layer (known: %s)", n, strings.Join(known, ", ")))
			}
			from[i] = append(from[i], j)
		}
		if _, multi := l.(MultiInput); !multi && len(from[i]) != 1 {
			return nil, s.layerErr(i, fmt.Errorf("takes one input, not %d (%s)", len(from[i]), strings.Join(names, ", ")))
		}
		for _, j := range from[i] {
			if j >= 0 {
				used[j] = true
			}
		}
		if n := l.Name(); n != "" {
			if n == InputName {
				return nil, s.layerErr(i, fmt.Errorf("a layer may not be named %q, which names the model's input", InputName))
			}
			if j, dup := index[n]; dup {
				return nil, s.layerErr(i, fmt.Errorf("name %q is taken by layer %d", n, j+1))
			}
			index[n] = i
		}
	}
	for i := range len(s.Layers) - 1 {
		if !used[i] {
			return nil, s.layerErr(i, errors.New("its output goes to no later layer (name it in a later layer's inputs)"))
		}
	}
	return from, nil
}

// inShapes returns the shapes of layer i's inputs, given the model's
// input shape in and the layers' output shapes so far.
func inShapes(from []int, in []int, outs [][]int) [][]int {
	shapes := make([][]int, len(from))
	for k, j := range from {
		if j < 0 {
			shapes[k] = in
		} else {
			shapes[k] = outs[j]
		}
	}
	return shapes
}

// layerShape returns the output shape of layer i for its input shapes
// ins; its error names the model and the layer by position (from 1), name
// and kind.
func (s *Sequential) layerShape(i int, ins [][]int) ([]int, error) {
	l := s.Layers[i]
	var out []int
	var err error
	if m, ok := l.(MultiInput); ok {
		out, err = m.OutputShapeOf(ins)
	} else {
		out, err = l.OutputShape(ins[0])
	}
	if err != nil {
		return nil, s.layerErr(i, err)
	}
	return out, nil
}

// Kind implements Layer.
func (s *Sequential) Kind() string { return "Sequential" }

// Sublayers returns the layers of s.
func (s *Sequential) Sublayers() []Layer {
	if s == nil {
		return nil
	}
	return s.Layers
}

// OutputShape implements Layer.
func (s *Sequential) OutputShape(in []int) ([]int, error) {
	if s == nil {
		return nil, nilLayer(s)
	}
	return s.walk(in, 0, nil)
}

// NumParams implements Layer. For a model whose layers do not connect
// (see plan) it counts the parameters of the layers before the first
// that does not.
func (s *Sequential) NumParams(in []int) int {
	if s == nil {
		return 0
	}
	from, err := s.plan()
	n := 0
	outs := make([][]int, len(s.Layers))
	for i, l := range s.Layers {
		if err != nil && (isNil(l) || len(inputsOf(l)) > 0) {
			return n
		}
		src := []int{i - 1}
		if err == nil {
			src = from[i]
		}
		ins := inShapes(src, in, outs)
		n += l.NumParams(ins[0])
		out, serr := s.layerShape(i, ins)
		if serr != nil {
			return n
		}
		outs[i] = out
	}
	return n
}

// A Visit is one layer as Walk reaches it.
type Visit struct {
	Layer Layer
	// In holds the per-example shapes of its inputs, Out its output shape.
	In  [][]int
	Out []int
	// Depth is 0 for a layer of the model itself, 1 for one inside a
	// block of the model (a residual block's body or shortcut), and so on.
	Depth int
	// Inputs names the layers it takes where it does not take the one
	// before it: those it was given, or InputName for the first layer of
	// a residual block's shortcut, which takes the block's input.
	Inputs []string
}

// Walk calls visit for every layer of s in order, for the per-example
// input shape in, and for a block's layers right after the block itself.
// It stops at the first error, of the layers' shapes or of visit, which it
// returns.
func (s *Sequential) Walk(in []int, visit func(Visit) error) error {
	if s == nil {
		return nilLayer(s)
	}
	_, err := s.walk(in, 0, visit)
	return err
}

// walker is implemented by the layers that Walk looks into.
type walker interface {
	walk(in []int, depth int, visit func(Visit) error) ([]int, error)
}

// walk computes the output shape of s for in, calling visit (if not nil)
// for each layer, at depth for s's own.
func (s *Sequential) walk(in []int, depth int, visit func(Visit) error) ([]int, error) {
	from, err := s.plan()
	if err != nil {
		return nil, err
	}
	outs := make([][]int, len(s.Layers))
	for i, l := range s.Layers {
		ins := inShapes(from[i], in, outs)
		if outs[i], err = s.layerShape(i, ins); err != nil {
			return nil, err
		}
		if visit == nil {
			continue
		}
		if err := visit(Visit{Layer: l, In: ins, Out: outs[i], Depth: depth, Inputs: inputsOf(l)}); err != nil {
			return nil, err
		}
		if w, ok := l.(walker); ok {
			if _, err := w.walk(ins[0], depth+1, visit); err != nil {
				return nil, s.layerErr(i, err)
			}
		}
	}
	if len(outs) == 0 {
		return in, nil
	}
	return outs[len(outs)-1], nil
}

// Build implements Layer. A Conv2D directly followed by a ReLU that alone
// takes its output is built as one fused op (graph.Conv2DReLU): the same
// values and gradients, with one pass over memory fewer each way.
func (s *Sequential) Build(g *graph.Graph, x *graph.Node) (*graph.Node, error) {
	if _, err := checkInput(s, g, x); err != nil {
		return nil, err
	}
	from, err := s.plan()
	if err != nil {
		return nil, err
	}
	s.params = nil
	outs := make([]*graph.Node, len(s.Layers))
	for i := 0; i < len(s.Layers); i++ {
		l, pos := s.Layers[i], i+1
		xs := make([]*graph.Node, len(from[i]))
		for k, j := range from[i] {
			if j < 0 {
				xs[k] = x
			} else {
				xs[k] = outs[j]
			}
		}
		var y *graph.Node
		if c, ok := l.(*Conv2D); ok && s.fusesReLU(i, from) {
			y, err = c.build(g, xs[0], true)
			i++
		} else if m, ok := l.(MultiInput); ok {
			y, err = m.BuildOn(g, xs)
		} else {
			y, err = l.Build(g, xs[0])
		}
		if err != nil {
			return nil, errors.Wrapf(err, "%s: layer %d: building %s", s.prefix(), pos, l.Name())
		}
		s.params = append(s.params, l.Params()...)
		outs[i] = y
	}
	return outs[len(outs)-1], nil
}

// fusesReLU reports whether the layer after i is a ReLU that takes layer
// i's output, which goes nowhere else.
func (s *Sequential) fusesReLU(i int, from [][]int) bool {
	if i+1 >= len(s.Layers) || !isReLU(s.Layers[i+1]) || !slices.Equal(from[i+1], []int{i}) {
		return false
	}
	for j := i + 2; j < len(from); j++ {
		if slices.Contains(from[j], i) {
			return false
		}
	}
	return true
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
	// Params counts the layer's parameters, a block's those of the layers
	// inside it.
	Params int `json:"params"`
	// Inputs names the layers it takes where it does not take the one
	// before it (Visit.Inputs).
	Inputs []string `json:"inputs,omitempty"`
	// Depth is 1 for a layer inside a block of the model, 2 inside a
	// block of that, ...
	Depth int `json:"depth,omitempty"`
}

// Summary lists the layers of s with their output shapes and parameter
// counts for per-example input shape in, like Keras's model.summary(): a
// block's row is followed by rows for its layers, one level deeper.
func (s *Sequential) Summary(in []int) ([]LayerInfo, error) {
	if s == nil {
		return nil, nilLayer(s)
	}
	var rows []LayerInfo
	err := s.Walk(in, func(v Visit) error {
		rows = append(rows, LayerInfo{v.Layer.Name(), v.Layer.Kind(), v.Out, v.Layer.NumParams(v.In[0]), v.Inputs, v.Depth})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rows, nil
}

// FormatSummary renders rows as a text table with a total line. A block's
// layers are indented under it, and a column lists the inputs of layers
// that do not take the one before them, if any.
func FormatSummary(rows []LayerInfo) string {
	wired := slices.ContainsFunc(rows, func(r LayerInfo) bool { return len(r.Inputs) > 0 })
	wn, wk, ws := 16, 12, 18 // column widths, wider for longer names
	for _, r := range rows {
		wn = max(wn, 2*r.Depth+len(r.Name))
		wk = max(wk, len(r.Kind))
		ws = max(ws, len(fmt.Sprint(r.OutputShape)))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-*s %-*s %-*s %10s", wn, "Layer", wk, "Type", ws, "Output shape", "Params")
	if wired {
		b.WriteString("  Inputs")
	}
	b.WriteString("\n")
	total := 0
	for _, r := range rows {
		name := strings.Repeat("  ", r.Depth) + r.Name
		fmt.Fprintf(&b, "%-*s %-*s %-*s %10d", wn, name, wk, r.Kind, ws, fmt.Sprint(r.OutputShape), r.Params)
		if len(r.Inputs) > 0 {
			b.WriteString("  " + strings.Join(r.Inputs, ", "))
		}
		b.WriteString("\n")
		if r.Depth == 0 {
			total += r.Params
		}
	}
	fmt.Fprintf(&b, "Total params: %d\n", total)
	return b.String()
}
