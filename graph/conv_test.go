package graph_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/internal/gradcheck"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

type convCase struct {
	n, c, h, w, oc, kh, kw, sh, sw int
	pad                            graph.Padding
	bias                           bool
}

var convCases = []convCase{
	{2, 1, 5, 5, 3, 3, 3, 1, 1, graph.Padding{}, true},
	{2, 2, 6, 5, 3, 3, 2, 2, 1, graph.Padding{1, 1, 0, 1}, true},
	{1, 3, 7, 7, 2, 3, 3, 2, 2, graph.SamePadding(7, 7, 3, 3, 2, 2), false},
	{2, 2, 4, 4, 2, 1, 1, 1, 1, graph.Padding{}, true},
}

func buildConv(t *testing.T, g *graph.Graph, c convCase) (x, w, b, y *gorgonia.Node) {
	t.Helper()
	x = input(t, g, "x", 1, c.n, c.c, c.h, c.w)
	wp, err := g.Param("conv.weight", []int{c.oc, c.c, c.kh, c.kw}, graph.HeNormal)
	if err != nil {
		t.Fatal(err)
	}
	w = wp.Node
	if c.bias {
		bp, err := g.Param("conv.bias", []int{c.oc}, graph.Normal(1))
		if err != nil {
			t.Fatal(err)
		}
		b = bp.Node
	}
	y, err = graph.Conv2D(x, w, b, c.sh, c.sw, c.pad)
	if err != nil {
		t.Fatal(err)
	}
	return x, w, b, y
}

func TestConv2DGradients(t *testing.T) {
	for i, c := range convCases {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			g := graph.New(graph.WithDType(graph.Float64), graph.WithSeed(5))
			x, w, b, y := buildConv(t, g, c)
			wrt := gorgonia.Nodes{x, w}
			if b != nil {
				wrt = append(wrt, b)
			}
			probe := input(t, g, "probe", 1, y.Shape()...)
			p, _ := gorgonia.HadamardProd(y, probe)
			s, _ := gorgonia.Sum(p)
			if _, err := gradcheck.Check(g.Expr(), s, wrt, 1e-6, 1e-6); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// Conv2D's forward pass against a direct loop over the definition.
func TestConv2DForwardMatchesLoop(t *testing.T) {
	for i, c := range convCases {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			g := graph.New(graph.WithDType(graph.Float64), graph.WithSeed(6))
			x, w, b, y := buildConv(t, g, c)
			got, err := gradcheck.Forward(g.Expr(), y)
			if err != nil {
				t.Fatal(err)
			}
			xs, ws := x.Value().Data().([]float64), w.Value().Data().([]float64)
			oh, ow := y.Shape()[2], y.Shape()[3]
			for n := 0; n < c.n; n++ {
				for o := 0; o < c.oc; o++ {
					for i := 0; i < oh; i++ {
						for j := 0; j < ow; j++ {
							want := 0.0
							if b != nil {
								want = b.Value().Data().([]float64)[o]
							}
							for ch := 0; ch < c.c; ch++ {
								for u := 0; u < c.kh; u++ {
									for v := 0; v < c.kw; v++ {
										r, s := i*c.sh+u-c.pad.Top, j*c.sw+v-c.pad.Left
										if r < 0 || r >= c.h || s < 0 || s >= c.w {
											continue
										}
										want += xs[((n*c.c+ch)*c.h+r)*c.w+s] * ws[((o*c.c+ch)*c.kh+u)*c.kw+v]
									}
								}
							}
							if v := got[((n*c.oc+o)*oh+i)*ow+j]; math.Abs(v-want) > 1e-12 {
								t.Fatalf("y[%d,%d,%d,%d] = %g, want %g", n, o, i, j, v, want)
							}
						}
					}
				}
			}
		})
	}
}

func TestMaxPoolAndMaskGradients(t *testing.T) {
	for _, c := range []struct{ h, w, kh, kw, sh, sw int }{{4, 6, 2, 2, 2, 2}, {5, 5, 3, 2, 1, 2}, {5, 5, 2, 2, 2, 2}} {
		t.Run(fmt.Sprint(c), func(t *testing.T) {
			g := graph.New(graph.WithDType(graph.Float64))
			x := input(t, g, "x", 1, 2, 2, c.h, c.w)
			y, err := graph.MaxPool2D(x, c.kh, c.kw, c.sh, c.sw)
			if err != nil {
				t.Fatal(err)
			}
			want := []int{2, 2, (c.h-c.kh)/c.sh + 1, (c.w-c.kw)/c.sw + 1}
			if !y.Shape().Eq(tensor.Shape(want)) {
				t.Fatalf("shape %v, want %v", y.Shape(), want)
			}
			m := input(t, g, "mask", 1, y.Shape()...)
			z, err := graph.Mask(y, m)
			if err != nil {
				t.Fatal(err)
			}
			s, _ := gorgonia.Sum(z)
			if _, err := gradcheck.Check(g.Expr(), s, gorgonia.Nodes{x}, 1e-6, 1e-6); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestConvShapeErrors(t *testing.T) {
	g := graph.New()
	x, _ := g.Input("x", 2, 3, 8, 8)
	w, _ := g.Param("conv1.weight", []int{4, 1, 3, 3}, graph.HeNormal)
	if _, err := graph.Conv2D(x, w.Node, nil, 1, 1, graph.Padding{}); err == nil {
		t.Error("3-channel input with 1-channel filters accepted")
	}
	big, _ := g.Param("conv2.weight", []int{4, 3, 9, 9}, graph.HeNormal)
	if _, err := graph.Conv2D(x, big.Node, nil, 1, 1, graph.Padding{}); err == nil {
		t.Error("9x9 window on 8x8 input accepted")
	}
	if _, err := graph.MaxPool2D(x, 9, 9, 1, 1); err == nil {
		t.Error("9x9 pool on 8x8 input accepted")
	}
}

func TestConv2DReLUGradient(t *testing.T) {
	g := graph.New(graph.WithDType(graph.Float64), graph.WithSeed(8))
	x := input(t, g, "x", 1, 2, 2, 5, 5)
	w, _ := g.Param("w", []int{3, 2, 3, 3}, graph.HeNormal)
	b, _ := g.Param("b", []int{3}, graph.Normal(0.5))
	y, err := graph.Conv2DReLU(x, w.Node, b.Node, 1, 1, graph.Padding{1, 1, 1, 1})
	if err != nil {
		t.Fatal(err)
	}
	probe := input(t, g, "probe", 1, y.Shape()...)
	p, _ := gorgonia.HadamardProd(y, probe)
	s, _ := gorgonia.Sum(p)
	if _, err := gradcheck.Check(g.Expr(), s, gorgonia.Nodes{x, w.Node, b.Node}, 1e-6, 1e-6); err != nil {
		t.Fatal(err)
	}
}

// A max-pool straight after a Conv2DReLU folds the ReLU's gradient into
// its own (no separate ReLU gradient pass); the gradients stay right, and
// a second consumer of the convolution's output turns the folding off.
func TestConv2DReLUPoolGradient(t *testing.T) {
	for _, shared := range []bool{false, true} {
		g := graph.New(graph.WithDType(graph.Float64), graph.WithSeed(9))
		x := input(t, g, "x", 1, 2, 2, 6, 6)
		w, _ := g.Param("w", []int{3, 2, 3, 3}, graph.HeNormal)
		b, _ := g.Param("b", []int{3}, graph.Normal(0.5))
		y, err := graph.Conv2DReLU(x, w.Node, b.Node, 1, 1, graph.Padding{1, 1, 1, 1})
		if err != nil {
			t.Fatal(err)
		}
		pooled, err := graph.MaxPool2D(y, 2, 2, 2, 2)
		if err != nil {
			t.Fatal(err)
		}
		probe := input(t, g, "probe", 1, pooled.Shape()...)
		p, _ := gorgonia.HadamardProd(pooled, probe)
		s, _ := gorgonia.Sum(p)
		if shared { // y also feeds the loss directly
			s2, _ := gorgonia.Sum(y)
			if s, err = gorgonia.Add(s, s2); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := gradcheck.Check(g.Expr(), s, gorgonia.Nodes{x, w.Node, b.Node}, 1e-6, 1e-6); err != nil {
			t.Fatalf("shared %v: %v", shared, err)
		}
	}
}
