package nn_test

import (
	"strings"
	"testing"

	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/nn"
)

// noPanic runs f and fails the test if it panics.
func noPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: panic: %v", what, r)
		}
	}()
	f()
}

// mustFail runs f, which must return an error mentioning want, not panic.
func mustFail(t *testing.T, what string, f func() error, want string) {
	t.Helper()
	var err error
	noPanic(t, what, func() { err = f() })
	if err == nil {
		t.Errorf("%s: no error", what)
	} else if !strings.Contains(err.Error(), want) {
		t.Errorf("%s: error %q does not mention %q", what, err, want)
	}
}

// layerCase is a layer with an input shape it accepts.
type layerCase struct {
	layer nn.Layer
	in    []int
}

func layerCases() []layerCase {
	return []layerCase{
		{nn.NewDense(3), []int{4}},
		{nn.ReLU(), []int{4}},
		{nn.NewFlatten(), []int{2, 2}},
		{nn.NewConv2D(2, 3), []int{1, 5, 5}},
		{nn.NewMaxPool2D(2), []int{1, 4, 4}},
		{nn.NewDropout(0.5), []int{4}},
		{nn.NewLSTM(3), []int{2, 4}},
		{&nn.Recurrent{Cell: graph.GRUCell, Hidden: 3, Stateful: true}, []int{2, 4}},
		{nn.NewEmbedding(5, 3), []int{2}},
		{nn.NewBatchNorm(), []int{4}},
		{nn.NewLayerNorm(), []int{4}},
		{nn.NewSequential("inner", nn.NewDense(2)), []int{4}},
		{nn.NewGELU(), []int{4}},
		{nn.NewReshape(2, 2), []int{4}},
		{nn.NewGlobalAvgPool1D(), []int{3, 4}},
		{nn.NewGlobalAvgPool2D(), []int{2, 3, 4}},
		{nn.NewConv1D(2, 3), []int{5, 4}},
		{nn.NewAttention(2, true), []int{3, 4}},
		{nn.NewPositionalEmbedding(3), []int{3, 4}},
		{nn.NewResidual(nn.NewDense(4)), []int{4}},
	}
}

// Build on a nil or zero graph, with a nil input, an input of another
// graph or one with no batch axis, is an error naming the layer.
func TestLayerBuildBadArguments(t *testing.T) {
	for _, c := range layerCases() {
		nn.NewSequential("m", c.layer) // names the layer
		name := c.layer.Name()
		other := graph.New()
		ox, _ := other.Input("x", append([]int{2}, c.in...)...)
		g := graph.New()
		flat, _ := g.Input("flat", 4)
		mustFail(t, name+" nil graph", func() error { _, err := c.layer.Build(nil, ox); return err }, name)
		mustFail(t, name+" zero graph", func() error { _, err := c.layer.Build(&graph.Graph{}, ox); return err }, name)
		mustFail(t, name+" nil input", func() error { _, err := c.layer.Build(g, nil); return err }, name)
		mustFail(t, name+" other graph", func() error { _, err := c.layer.Build(g, ox); return err }, "another graph")
		mustFail(t, name+" no batch axis", func() error { _, err := c.layer.Build(g, flat); return err }, "batch axis")
		// And it still builds on fitting arguments.
		x, _ := g.Input("x", append([]int{2}, c.in...)...)
		if _, err := c.layer.Build(g, x); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// The methods of a nil layer of every type return errors or zero values.
func TestNilLayers(t *testing.T) {
	g := graph.New()
	x, _ := g.Input("x", 2, 4)
	for _, l := range []nn.Layer{
		(*nn.Dense)(nil), (*nn.Activation)(nil), (*nn.Flatten)(nil), (*nn.Conv2D)(nil), (*nn.MaxPool2D)(nil),
		(*nn.Dropout)(nil), (*nn.Recurrent)(nil), (*nn.Embedding)(nil), (*nn.BatchNorm)(nil), (*nn.LayerNorm)(nil),
		(*nn.Sequential)(nil), (*nn.Residual)(nil), (*nn.GELU)(nil), (*nn.Reshape)(nil), (*nn.Conv1D)(nil),
		(*nn.GlobalAvgPool1D)(nil), (*nn.GlobalAvgPool2D)(nil), (*nn.Attention)(nil), (*nn.PositionalEmbedding)(nil),
		(*nn.Add)(nil), (*nn.Concat)(nil),
	} {
		var kind string
		noPanic(t, "Kind", func() { kind = l.Kind() })
		mustFail(t, kind+" OutputShape", func() error { _, err := l.OutputShape([]int{4}); return err }, "nil "+kind)
		mustFail(t, kind+" Build", func() error { _, err := l.Build(g, x); return err }, "nil "+kind)
		noPanic(t, kind+" NumParams", func() {
			if n := l.NumParams([]int{4}); n != 0 {
				t.Errorf("nil %s: %d parameters", kind, n)
			}
		})
		// Sequential reports a nil layer without calling it.
		m := nn.NewSequential("m", l)
		mustFail(t, kind+" in a Sequential", func() error { _, err := m.Build(g, x); return err }, "layer 1 is nil")
	}
	var s *nn.Sequential
	mustFail(t, "nil Sequential Summary", func() error { _, err := s.Summary([]int{4}); return err }, "nil Sequential")
	var r *nn.Recurrent
	noPanic(t, "nil Recurrent ResetState", r.ResetState)
	var a *nn.Attention
	noPanic(t, "nil Attention ResetState", a.ResetState)
	var p *nn.PositionalEmbedding
	noPanic(t, "nil PositionalEmbedding ResetState", p.ResetState)
	mustFail(t, "Describe(nil)", func() error { _, err := nn.Describe(nil); return err }, "nil model")
}

// Zero-valued layers report what they lack instead of panicking.
func TestZeroLayers(t *testing.T) {
	for _, c := range []struct {
		layer nn.Layer
		in    []int
		want  string
	}{
		{&nn.Dense{}, []int{4}, "units"},
		{&nn.Activation{}, []int{4}, "no function"},
		{&nn.Conv2D{}, []int{1, 5, 5}, "filters"},
		{&nn.MaxPool2D{}, []int{1, 4, 4}, "size"},
		{&nn.Recurrent{}, []int{2, 4}, "hidden"},
		{&nn.Recurrent{Cell: 7, Hidden: 2}, []int{2, 4}, "unknown cell"},
		{&nn.Embedding{}, []int{2}, "vocabulary"},
		{&nn.Reshape{}, []int{4}, "no target shape"},
		{&nn.Conv1D{}, []int{5, 4}, "filters"},
		{&nn.Attention{}, []int{3, 4}, "heads"},
		{&nn.PositionalEmbedding{}, []int{3, 4}, "max_len"},
		{&nn.Residual{}, []int{4}, "empty body"},
		{&nn.Add{}, []int{4}, "two or more inputs"},
		{&nn.Concat{}, []int{4}, "two or more inputs"},
	} {
		m := nn.NewSequential("m", c.layer)
		mustFail(t, c.layer.Kind()+" OutputShape", func() error { _, err := m.OutputShape(c.in); return err }, c.want)
		g := graph.New()
		x, _ := g.Input("x", append([]int{2}, c.in...)...)
		mustFail(t, c.layer.Kind()+" Build", func() error { _, err := m.Build(g, x); return err }, c.want)
	}
	// The zero Dropout, BatchNorm and LayerNorm take their defaults.
	g := graph.New()
	x, _ := g.Input("x", 2, 4)
	m := nn.NewSequential("m", &nn.Dropout{}, &nn.BatchNorm{}, &nn.LayerNorm{})
	if _, err := m.Build(g, x); err != nil {
		t.Error(err)
	}
}

// A zero Spec, LayerSpec or Reference, nil Settings and unmarshalling into
// nil are errors or no-ops, never panics.
func TestZeroSpecs(t *testing.T) {
	mustFail(t, "zero Spec", func() error { _, err := nn.Spec{}.Build(); return err }, "name")
	mustFail(t, "Spec of a zero layer", func() error {
		_, err := nn.Spec{Name: "m", Layers: []nn.LayerSpec{{}}}.Build()
		return err
	}, "unknown layer kind")
	mustFail(t, "zero Reference", func() error { _, err := nn.Reference{}.New([]int{4}, 2); return err }, "no Build")
	mustFail(t, "nil Spec UnmarshalJSON", func() error { return (*nn.Spec)(nil).UnmarshalJSON([]byte(`{}`)) }, "nil")
	mustFail(t, "nil Spec UnmarshalYAML", func() error { return (*nn.Spec)(nil).UnmarshalYAML(nil) }, "nil")
	mustFail(t, "nil LayerSpec UnmarshalJSON", func() error { return (*nn.LayerSpec)(nil).UnmarshalJSON([]byte(`relu`)) }, "nil")
	var s *nn.Settings
	noPanic(t, "nil Settings", func() {
		_ = s.Int("a", 1)
		_ = s.Int("a")
		_, _ = s.Pair("b", 1)
		_ = s.Float("c", 0)
		_ = s.Bool("d", false)
		_ = s.Choice("e", "x", "y")
		_ = s.Init("f")
		s.Set("g", 1)
		s.SetPair("h", 1, 2)
		s.SetInit("i", graph.HeNormal, nil)
		s.Fail("j")
		s.Invalid("k", "l")
	})
}

// NewSequential names a layer of one's own that has a SetName method, as
// it names nn's layers.
func TestSequentialNamesOwnLayers(t *testing.T) {
	a, b := &ownLayer{}, &ownLayer{}
	m := nn.NewSequential("m", a, nn.NewDense(2), b)
	if a.Name() != "own1" || b.Name() != "own2" || m.Layers[1].Name() != "dense1" {
		t.Errorf("names %q, %q, %q; want own1, dense1, own2", a.Name(), m.Layers[1].Name(), b.Name())
	}
	named := &ownLayer{}
	named.SetName("mine")
	nn.NewSequential("m", named)
	if named.Name() != "mine" {
		t.Errorf("a named layer was renamed %q", named.Name())
	}
}

// ownLayer is a parameter-free layer of one's own that can be named.
type ownLayer struct{ name string }

func (o *ownLayer) Name() string                        { return o.name }
func (o *ownLayer) SetName(n string)                    { o.name = n }
func (o *ownLayer) Kind() string                        { return "Own" }
func (o *ownLayer) OutputShape(in []int) ([]int, error) { return in, nil }
func (o *ownLayer) NumParams([]int) int                 { return 0 }
func (o *ownLayer) Params() []*graph.Param              { return nil }
func (o *ownLayer) Build(g *graph.Graph, x *graph.Node) (*graph.Node, error) {
	return x, nil
}
