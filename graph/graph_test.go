package graph_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/internal/gradcheck"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// input returns a float64 input node bound to deterministic values.
func input(t *testing.T, g *graph.Graph, name string, scale float64, shape ...int) *gorgonia.Node {
	t.Helper()
	n, err := g.Input(name, shape...)
	if err != nil {
		t.Fatal(err)
	}
	size := tensor.Shape(shape).TotalSize()
	vals := make([]float64, size)
	for i := range vals {
		vals[i] = scale * math.Sin(float64(3*i+len(name)))
	}
	if err := gorgonia.Let(n, tensor.New(tensor.WithShape(shape...), tensor.WithBacking(vals))); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestOpGradients(t *testing.T) {
	type build func(t *testing.T, g *graph.Graph) (loss *gorgonia.Node, wrt gorgonia.Nodes)
	// sumSq turns any node into a scalar with a non-trivial gradient.
	sumSq := func(t *testing.T, g *graph.Graph, y *gorgonia.Node) *gorgonia.Node {
		w := input(t, g, "probe", 1, y.Shape()...)
		p, err := gorgonia.HadamardProd(y, w)
		if err != nil {
			t.Fatal(err)
		}
		s, err := gorgonia.Sum(p)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	unary := func(f func(*gorgonia.Node) (*gorgonia.Node, error)) build {
		return func(t *testing.T, g *graph.Graph) (*gorgonia.Node, gorgonia.Nodes) {
			x := input(t, g, "x", 2, 3, 4)
			y, err := f(x)
			if err != nil {
				t.Fatal(err)
			}
			return sumSq(t, g, y), gorgonia.Nodes{x}
		}
	}
	loss := func(kind graph.LossKind, targets []float64, weights []float64) build {
		return func(t *testing.T, g *graph.Graph) (*gorgonia.Node, gorgonia.Nodes) {
			z := input(t, g, "z", 3, 4, 3)
			tt, err := g.Constant("t", targets, 4, 3)
			if err != nil {
				t.Fatal(err)
			}
			var w *gorgonia.Node // nil weights: every example weighs 1
			if weights != nil {
				if w, err = g.Constant("w", weights, 4); err != nil {
					t.Fatal(err)
				}
			}
			l, err := graph.Loss(kind, z, tt, w)
			if err != nil {
				t.Fatal(err)
			}
			return l, gorgonia.Nodes{z}
		}
	}
	oneHot := []float64{1, 0, 0, 0, 0, 1, 0, 1, 0, 1, 0, 0}
	soft := []float64{0.2, 0.3, 0.5, 0, 0, 1, 0.5, 0.5, 0, 1, 0, 0}
	wide := []float64{3, -2.5, 0.3, 0, 4, -0.4, 2.2, -3.1, 0.1, 1, -1.7, 5} // targets both within and beyond Huber's δ of z
	cases := []struct {
		name  string
		build build
	}{
		{"ReLU", unary(graph.ReLU)},
		{"Sigmoid", unary(graph.Sigmoid)},
		{"Tanh", unary(graph.Tanh)},
		{"Softmax", unary(graph.Softmax)},
		{"LogSoftmax", unary(graph.LogSoftmax)},
		{"MatMulAddBias", func(t *testing.T, g *graph.Graph) (*gorgonia.Node, gorgonia.Nodes) {
			x := input(t, g, "x", 1, 5, 3)
			w, err := g.Param("w", []int{3, 4}, graph.GlorotUniform)
			if err != nil {
				t.Fatal(err)
			}
			b, err := g.Param("b", []int{4}, graph.Normal(1))
			if err != nil {
				t.Fatal(err)
			}
			y, err := graph.MatMul(x, w.Node)
			if err != nil {
				t.Fatal(err)
			}
			y, err = graph.AddBias(y, b.Node)
			if err != nil {
				t.Fatal(err)
			}
			return sumSq(t, g, y), gorgonia.Nodes{x, w.Node, b.Node}
		}},
		{"SoftmaxCrossEntropy", loss(graph.SoftmaxCrossEntropy, oneHot, []float64{1, 1, 1, 1})},
		{"SoftmaxCrossEntropySoftTargets", loss(graph.SoftmaxCrossEntropy, soft, []float64{1, 0.5, 1, 0})},
		{"SigmoidCrossEntropy", loss(graph.SigmoidCrossEntropy, soft, []float64{1, 1, 0, 1})},
		{"SquaredError", loss(graph.SquaredError, soft, []float64{1, 1, 1, 1})},
		{"SoftmaxCrossEntropyUnweighted", loss(graph.SoftmaxCrossEntropy, oneHot, nil)},
		{"SoftmaxCrossEntropySoftTargetsUnweighted", loss(graph.SoftmaxCrossEntropy, soft, nil)},
		{"SigmoidCrossEntropyUnweighted", loss(graph.SigmoidCrossEntropy, soft, nil)},
		{"SquaredErrorUnweighted", loss(graph.SquaredError, soft, nil)},
		{"Huber", loss(graph.Huber, wide, []float64{1, 0.5, 1, 0})},
		{"HuberUnweighted", loss(graph.Huber, wide, nil)},
		{"Linear", loss(graph.Linear, wide, []float64{1, 0.5, 1, 0})},
		{"LinearUnweighted", loss(graph.Linear, wide, nil)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := graph.New(graph.WithDType(graph.Float64), graph.WithSeed(7))
			l, wrt := c.build(t, g)
			n, err := gradcheck.Check(g.Expr(), l, wrt, 1e-6, 1e-6)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				t.Fatal("no gradient element was checked")
			}
		})
	}
}

func TestShapeErrorsNameNodeAndShapes(t *testing.T) {
	g := graph.New()
	x, err := g.Input("x", 64, 784)
	if err != nil {
		t.Fatal(err)
	}
	w, err := g.Param("dense1.weight", []int{100, 256}, graph.GlorotUniform)
	if err != nil {
		t.Fatal(err)
	}
	_, err = graph.MatMul(x, w.Node)
	if err == nil {
		t.Fatal("matmul of (64, 784) and (100, 256) succeeded")
	}
	for _, want := range []string{"dense1.weight", "(64, 784)", "(100, 256)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	b, err := g.Param("dense1.bias", []int{3}, graph.Zeros)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := graph.AddBias(x, b.Node); err == nil || !strings.Contains(err.Error(), "dense1.bias") {
		t.Errorf("AddBias with a wrong bias: error %v", err)
	}
	if _, err := g.Param("dense1.bias", []int{3}, graph.Zeros); err == nil {
		t.Error("a second parameter named dense1.bias was accepted")
	}
	if _, err := g.Input("bad", 3, 0); err == nil {
		t.Error("an input with a zero dimension was accepted")
	}
}

func TestSeededInitialisers(t *testing.T) {
	draw := func(seed uint64, init graph.Initializer) []float32 {
		g := graph.New(graph.WithSeed(seed))
		p, err := g.Param("w", []int{200, 100}, init)
		if err != nil {
			t.Fatal(err)
		}
		return append([]float32(nil), p.Value().Data().([]float32)...)
	}
	for _, c := range []struct {
		init      graph.Initializer
		wantStd   float64
		uniformTo float64 // >0: every value within ±uniformTo
	}{
		{graph.GlorotUniform, math.Sqrt(2.0 / 300), math.Sqrt(6.0 / 300)},
		{graph.GlorotNormal, math.Sqrt(2.0 / 300), 0},
		{graph.HeUniform, math.Sqrt(2.0 / 200), math.Sqrt(6.0 / 200)},
		{graph.HeNormal, math.Sqrt(2.0 / 200), 0},
	} {
		t.Run(c.init.String(), func(t *testing.T) {
			a, b, other := draw(3, c.init), draw(3, c.init), draw(4, c.init)
			same, diff := true, false
			sum, sq := 0.0, 0.0
			for i := range a {
				same = same && a[i] == b[i]
				diff = diff || a[i] != other[i]
				sum += float64(a[i])
				sq += float64(a[i]) * float64(a[i])
				if c.uniformTo > 0 && math.Abs(float64(a[i])) > c.uniformTo {
					t.Fatalf("value %g outside ±%g", a[i], c.uniformTo)
				}
			}
			if !same || !diff {
				t.Fatalf("same seed same values: %v, other seed other values: %v", same, diff)
			}
			n := float64(len(a))
			std := math.Sqrt(sq/n - (sum/n)*(sum/n))
			if math.Abs(std-c.wantStd)/c.wantStd > 0.05 {
				t.Errorf("std %g, want %g", std, c.wantStd)
			}
		})
	}
	z := draw(1, graph.Zeros)
	for _, v := range z {
		if v != 0 {
			t.Fatal("zeros initialiser gave", v)
		}
	}
}

// Loss without weights is, bit for bit, Loss with weights of 1: the same
// value and the same gradient, in both dtypes.
func TestUnweightedLossEqualsWeightedByOnes(t *testing.T) {
	for _, dt := range []graph.DType{graph.Float32, graph.Float64} {
		for _, kind := range []graph.LossKind{graph.SoftmaxCrossEntropy, graph.SigmoidCrossEntropy, graph.SquaredError, graph.Huber, graph.Linear} {
			t.Run(fmt.Sprint(dt, "/", kind), func(t *testing.T) {
				g := graph.New(graph.WithDType(dt))
				zv := make([]float64, 5*3)
				for i := range zv {
					zv[i] = 2.5 * math.Sin(float64(7*i+1))
				}
				tv := []float64{0.2, 0.3, 0.5, 0, 0, 1, 0.5, 0.5, 0, 1, 0, 0, 0, 1, 0}
				z, err := g.Constant("z", zv, 5, 3)
				if err != nil {
					t.Fatal(err)
				}
				tt, err := g.Constant("t", tv, 5, 3)
				if err != nil {
					t.Fatal(err)
				}
				w, err := g.Constant("w", []float64{1, 1, 1, 1, 1}, 5)
				if err != nil {
					t.Fatal(err)
				}
				plain, err := graph.Loss(kind, z, tt, nil)
				if err != nil {
					t.Fatal(err)
				}
				weighted, err := graph.Loss(kind, z, tt, w)
				if err != nil {
					t.Fatal(err)
				}
				if plain == weighted {
					t.Fatal("the unweighted and weighted losses are one node")
				}
				gp, err := gorgonia.Grad(plain, z)
				if err != nil {
					t.Fatal(err)
				}
				gw, err := gorgonia.Grad(weighted, z)
				if err != nil {
					t.Fatal(err)
				}
				var lp, lw, dp, dw gorgonia.Value
				gorgonia.Read(plain, &lp)
				gorgonia.Read(weighted, &lw)
				gorgonia.Read(gp[0], &dp)
				gorgonia.Read(gw[0], &dw)
				vm := gorgonia.NewTapeMachine(g.Expr())
				defer vm.Close()
				if err := vm.RunAll(); err != nil {
					t.Fatal(err)
				}
				// Shortest round-trip formatting: equal strings, equal bits.
				if fmt.Sprint(lp.Data()) != fmt.Sprint(lw.Data()) {
					t.Errorf("loss %v without weights, %v with weights of 1", lp.Data(), lw.Data())
				}
				if fmt.Sprint(dp.Data()) != fmt.Sprint(dw.Data()) {
					t.Errorf("gradient %v without weights, %v with weights of 1", dp.Data(), dw.Data())
				}
				if f := fmt.Sprint(lp.Data()); f == "0" || f == "NaN" {
					t.Errorf("loss %s", f)
				}
			})
		}
	}
}
