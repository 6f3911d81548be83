package nn_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/internal/gradcheck"
	"github.com/dlrun/dlrun/nn"
	"gorgonia.org/gorgonia"
)

// setRunningStats gives every float buffer of g non-trivial values
// (positive, for variances).
func setRunningStats(t *testing.T, g *graph.Graph) {
	t.Helper()
	for _, b := range g.Buffers() {
		if b.Int() {
			continue
		}
		v := make([]float64, b.Size())
		for i := range v {
			v[i] = 0.2*math.Sin(float64(i+len(b.Name))) + 0.3
			if strings.HasSuffix(b.Name, "running_var") {
				v[i] += 0.5
			}
		}
		if err := b.SetValues(v); err != nil {
			t.Fatal(err)
		}
	}
}

func TestNormLayerGradients(t *testing.T) {
	cases := []struct {
		name     string
		in       []int
		layer    nn.Layer
		training bool
		active   int
	}{
		{"BatchNorm1dTraining", []int{5, 3}, nn.NewBatchNorm(), true, 0},
		{"BatchNorm1dEvaluation", []int{5, 3}, nn.NewBatchNorm(), false, 0},
		{"BatchNorm2dTraining", []int{2, 2, 3, 3}, &nn.BatchNorm{Momentum: 0.3, Eps: 1e-3}, true, 0},
		{"BatchNorm2dEvaluation", []int{2, 2, 3, 3}, nn.NewBatchNorm(), false, 0},
		{"BatchNormPadded", []int{6, 3}, nn.NewBatchNorm(), true, 4},
		{"LayerNorm", []int{3, 5}, nn.NewLayerNorm(), true, 0},
		{"LayerNormImage", []int{2, 2, 3, 4}, &nn.LayerNorm{Eps: 1e-3}, false, 0},
		{"CNNWithBatchNorm", []int{3, 1, 6, 6}, nn.NewSequential("c", nn.NewConv2D(2, 3), nn.NewBatchNorm(), nn.ReLU(), nn.NewMaxPool2D(2), nn.NewFlatten(), nn.NewDense(3)), true, 0},
		{"MLPWithNorms", []int{4, 5}, nn.NewSequential("m", nn.NewDense(4), nn.NewBatchNorm(), nn.Tanh(), nn.NewDense(3), nn.NewLayerNorm()), true, 3},
		{"MLPWithNormsEvaluation", []int{4, 5}, nn.NewSequential("m", nn.NewDense(4), nn.NewBatchNorm(), nn.Tanh(), nn.NewDense(3), nn.NewLayerNorm()), false, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := graph.New(graph.WithDType(graph.Float64), graph.WithSeed(13))
			x := boundInput(t, g, c.in...)
			seq := nn.NewSequential("model", c.layer)
			y, err := seq.Build(g, x)
			if err != nil {
				t.Fatal(err)
			}
			want, err := seq.OutputShape(c.in[1:])
			if err != nil {
				t.Fatal(err)
			}
			if got := []int(y.Shape()[1:]); !equal(got, want) {
				t.Fatalf("built shape %v, OutputShape says %v", got, want)
			}
			if got, want := g.NumParams(), seq.NumParams(c.in[1:]); got != want {
				t.Fatalf("graph has %d parameters, NumParams says %d", got, want)
			}
			if !c.training {
				setRunningStats(t, g)
			}
			g.SetTraining(c.training)
			g.SetActiveRows(c.active)
			wrt := append(graph.Nodes{x}, g.Nodes()...)
			n, err := gradcheck.Check(g.Expr(), scalarise(t, g, y), wrt, 1e-6, 1e-6)
			if err != nil {
				t.Fatal(err)
			}
			if n < x.Shape().TotalSize() {
				t.Fatalf("only %d elements checked", n)
			}
		})
	}
}

func TestNormLayerNames(t *testing.T) {
	for _, dt := range []graph.DType{graph.Float32, graph.Float64} {
		t.Run(string(dt), func(t *testing.T) {
			m := nn.NewSequential("m",
				nn.NewConv2D(4, 3), nn.NewBatchNorm(), nn.ReLU(), nn.NewFlatten(),
				nn.NewDense(10), nn.NewBatchNorm(), nn.NewLayerNorm())
			g := graph.New(graph.WithDType(dt))
			x, err := g.Input("x", 2, 1, 6, 6)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := m.Build(g, x); err != nil {
				t.Fatal(err)
			}
			var params []string
			for _, p := range g.Params() {
				params = append(params, fmt.Sprintf("%s%v", p.Name, p.Shape()))
			}
			wantParams := "conv2d1.weight[4 1 3 3] conv2d1.bias[4] batchnorm1.weight[4] batchnorm1.bias[4] " +
				"dense1.weight[64 10] dense1.bias[10] batchnorm2.weight[10] batchnorm2.bias[10] layernorm1.weight[10] layernorm1.bias[10]"
			if got := strings.Join(params, " "); got != wantParams {
				t.Fatalf("parameters\n%s\nwant\n%s", got, wantParams)
			}
			var bufs []string
			for _, b := range g.Buffers() {
				bufs = append(bufs, fmt.Sprintf("%s%v", b.Name, b.Shape()))
			}
			wantBufs := "batchnorm1.running_mean[4] batchnorm1.running_var[4] batchnorm1.num_batches_tracked[] " +
				"batchnorm2.running_mean[10] batchnorm2.running_var[10] batchnorm2.num_batches_tracked[]"
			if got := strings.Join(bufs, " "); got != wantBufs {
				t.Fatalf("buffers\n%s\nwant\n%s", got, wantBufs)
			}
			for _, p := range g.Params() {
				if g.BufferByName(p.Name) != nil {
					t.Fatalf("%s is both a parameter and a buffer", p.Name)
				}
			}
			checkValues := func(name string, want float64) {
				t.Helper()
				var vals []float64
				if b := g.BufferByName(name); b != nil {
					vals = b.Values()
				} else if p := g.ParamByName(name); p != nil {
					vals = valuesOf(p.Value().Data())
				}
				if len(vals) == 0 {
					t.Fatalf("no %s", name)
				}
				for _, v := range vals {
					if v != want {
						t.Fatalf("%s holds %g, want all %g", name, v, want)
					}
				}
			}
			for _, c := range []struct {
				name string
				want float64
			}{
				{"batchnorm1.weight", 1}, {"batchnorm1.bias", 0}, {"batchnorm1.running_mean", 0},
				{"batchnorm1.running_var", 1}, {"batchnorm1.num_batches_tracked", 0},
				{"layernorm1.weight", 1}, {"layernorm1.bias", 0},
			} {
				checkValues(c.name, c.want)
			}
			if !g.BufferByName("batchnorm2.num_batches_tracked").Int() {
				t.Fatal("num_batches_tracked is not an int64 counter")
			}
			if got, want := m.NumParams([]int{1, 6, 6}), g.NumParams(); got != want {
				t.Fatalf("NumParams %d, graph %d", got, want)
			}
			rows, err := m.Summary([]int{1, 6, 6})
			if err != nil {
				t.Fatal(err)
			}
			if r := rows[1]; r.Name != "batchnorm1" || r.Kind != "BatchNorm" || r.Params != 8 || !equal(r.OutputShape, []int{4, 4, 4}) {
				t.Fatalf("summary row %+v", r)
			}
			if r := rows[6]; r.Name != "layernorm1" || r.Kind != "LayerNorm" || r.Params != 20 || !equal(r.OutputShape, []int{10}) {
				t.Fatalf("summary row %+v", r)
			}
		})
	}
}

func valuesOf(d any) []float64 {
	switch s := d.(type) {
	case []float64:
		return append([]float64(nil), s...)
	case []float32:
		out := make([]float64, len(s))
		for i, v := range s {
			out[i] = float64(v)
		}
		return out
	}
	return nil
}

// Dropout and BatchNorm in one model both follow g.SetTraining: in
// training mode the output is the batch-normalised input under a dropout
// mask and the running statistics move; in evaluation mode it is the input
// normalised with the running statistics, and nothing changes.
func TestNormAndDropoutFollowTrainingMode(t *testing.T) {
	const rows, cols = 8, 4
	xs := make([]float64, rows*cols)
	for i := range xs {
		xs[i] = 2*math.Cos(float64(7*i)) + float64(i%cols)
	}
	// The batch's mean and variances, and the running statistics after one
	// step with the default momentum 0.1.
	mean, biased, runVar := make([]float64, cols), make([]float64, cols), make([]float64, cols)
	for c := range cols {
		for r := range rows {
			mean[c] += xs[r*cols+c] / rows
		}
		for r := range rows {
			d := xs[r*cols+c] - mean[c]
			biased[c] += d * d / rows
		}
		runVar[c] = 0.9 + 0.1*biased[c]*rows/(rows-1)
	}
	for _, dt := range []graph.DType{graph.Float32, graph.Float64} {
		t.Run(string(dt), func(t *testing.T) {
			tol := 1e-12
			if dt == graph.Float32 {
				tol = 1e-5
			}
			g := graph.New(graph.WithDType(dt), graph.WithSeed(3))
			x, err := g.Constant("x", xs, rows, cols)
			if err != nil {
				t.Fatal(err)
			}
			y, err := nn.NewSequential("m", nn.NewBatchNorm(), nn.NewDropout(0.5)).Build(g, x)
			if err != nil {
				t.Fatal(err)
			}
			var out gorgonia.Value
			gorgonia.Read(y, &out)
			vm := gorgonia.NewTapeMachine(g.Expr())
			defer vm.Close()
			run := func(training bool) []float64 {
				t.Helper()
				g.SetTraining(training)
				if err := g.Feed(); err != nil {
					t.Fatal(err)
				}
				vm.Reset()
				if err := vm.RunAll(); err != nil {
					t.Fatal(err)
				}
				return valuesOf(out.Data())
			}
			rm := g.BufferByName("batchnorm1.running_mean")
			rv := g.BufferByName("batchnorm1.running_var")
			nb := g.BufferByName("batchnorm1.num_batches_tracked")
			if rm == nil || rv == nil || nb == nil {
				t.Fatalf("buffers %v", g.Buffers())
			}
			state := func() []float64 { return append(append(rm.Values(), rv.Values()...), nb.Values()...) }

			got := run(true)
			dropped := 0
			for i, v := range got {
				c := i % cols
				norm := (xs[i] - mean[c]) / math.Sqrt(biased[c]+1e-5)
				if v == 0 {
					dropped++
				} else if math.Abs(v-2*norm) > tol*math.Max(1, math.Abs(v)) {
					t.Fatalf("training output %d = %g, want 0 or 2·%g", i, v, norm)
				}
			}
			if dropped == 0 || dropped == len(got) {
				t.Fatalf("training mode dropped %d of %d values", dropped, len(got))
			}
			wantState := make([]float64, 0, 2*cols+1)
			for _, m := range mean {
				wantState = append(wantState, 0.1*m)
			}
			wantState = append(append(wantState, runVar...), 1)
			after := state()
			for i := range wantState {
				if math.Abs(after[i]-wantState[i]) > tol {
					t.Fatalf("state after a training step %v, want %v", after, wantState)
				}
			}

			for range 2 {
				got = run(false)
				for i, v := range got {
					c := i % cols
					want := (xs[i] - after[c]) / math.Sqrt(after[cols+c]+1e-5)
					if math.Abs(v-want) > tol*math.Max(1, math.Abs(want)) {
						t.Fatalf("evaluation output %d = %g, want %g", i, v, want)
					}
				}
				if s := state(); fmt.Sprint(s) != fmt.Sprint(after) {
					t.Fatalf("evaluation changed the buffers: %v -> %v", after, s)
				}
			}
			run(true)
			if n := nb.Values()[0]; n != 2 {
				t.Fatalf("num_batches_tracked %g after two training steps", n)
			}
		})
	}
}

func TestNormLayerErrors(t *testing.T) {
	for _, c := range []struct {
		layer nn.Layer
		in    []int
		want  string
	}{
		{&nn.BatchNorm{Momentum: -0.1}, []int{4}, "momentum"},
		{&nn.BatchNorm{Momentum: 1.5}, []int{4}, "momentum"},
		{&nn.BatchNorm{Momentum: math.NaN()}, []int{4}, "momentum"},
		{&nn.BatchNorm{Eps: -1}, []int{4}, "eps"},
		{&nn.BatchNorm{Eps: math.Inf(1)}, []int{4}, "eps"},
		{nn.NewBatchNorm(), []int{3, 4}, "[3 4]"},
		{nn.NewBatchNorm(), []int{}, "[]"},
		{&nn.LayerNorm{Eps: -1e-5}, []int{4}, "eps"},
		{nn.NewLayerNorm(), []int{}, "[]"},
	} {
		m := nn.NewSequential("m", c.layer)
		name := strings.ToLower(c.layer.Kind()) + "1"
		_, err := m.OutputShape(c.in)
		if err == nil || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %+v on %v: error %v, want one naming %s and %q", c.layer.Kind(), c.layer, c.in, err, name, c.want)
		}
		g := graph.New()
		x, _ := g.Input("x", append([]int{2}, c.in...)...)
		if len(c.in) > 0 {
			if _, err := m.Build(g, x); err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("build %s on %v: error %v", c.layer.Kind(), c.in, err)
			}
		}
	}
}

// Momentum 1 (the running statistics become the last batch's) is allowed,
// as graph.BatchNorm allows it; the layer, its spec and graph agree on [0, 1].
func TestBatchNormMomentumOne(t *testing.T) {
	m := nn.NewSequential("m", &nn.BatchNorm{Momentum: 1})
	g := graph.New()
	x, _ := g.Input("x", 2, 4)
	if _, err := m.Build(g, x); err != nil {
		t.Fatal(err)
	}
	spec, err := nn.ParseSpec([]byte("name: m\nlayers:\n  - batch_norm: {momentum: 1}\n"), "m.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := spec.Build(); err != nil {
		t.Fatal(err)
	}
	d, err := nn.Describe(m)
	if err != nil || d.Layers[0].Settings["momentum"] != 1.0 {
		t.Fatalf("Describe: %+v, %v", d, err)
	}
}
