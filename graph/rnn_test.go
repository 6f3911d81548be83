package graph_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/internal/gradcheck"
	"gorgonia.org/gorgonia"
)

func rnnParams(t *testing.T, g *graph.Graph, cell graph.Cell, in, h int, bias bool) (wih, whh, bih, bhh *gorgonia.Node) {
	t.Helper()
	G := cell.Gates()
	p := func(name string, shape ...int) *gorgonia.Node {
		n, err := g.Param(name, shape, graph.Uniform(0.6))
		if err != nil {
			t.Fatal(err)
		}
		return n.Node
	}
	wih, whh = p("wih", G*h, in), p("whh", G*h, h)
	if bias {
		bih, bhh = p("bih", G*h), p("bhh", G*h)
	}
	return
}

// The gradients of every input of a recurrent layer, the initial states
// included, match finite differences: PyTorch's h0 and c0 get gradients
// too, through which a stateful or encoder-decoder model trains.
func TestRNNGradients(t *testing.T) {
	for _, cell := range []graph.Cell{graph.LSTMCell, graph.GRUCell} {
		for _, bias := range []bool{true, false} {
			for _, states := range []string{"none", "h0", "c0", "h0+c0"} {
				withH0, withC0 := strings.Contains(states, "h0"), strings.Contains(states, "c0")
				if withC0 && cell != graph.LSTMCell {
					continue // only the LSTM has a cell state
				}
				t.Run(fmt.Sprintf("%v/bias=%v/states=%s", cell, bias, states), func(t *testing.T) {
					g := graph.New(graph.WithDType(graph.Float64), graph.WithSeed(12))
					x := input(t, g, "x", 1, 2, 4, 3) // 2 sequences of 4 steps
					wih, whh, bih, bhh := rnnParams(t, g, cell, 3, 5, bias)
					wrt := gorgonia.Nodes{x, wih, whh}
					if bias {
						wrt = append(wrt, bih, bhh)
					}
					var h0, c0 *gorgonia.Node
					if withH0 {
						h0 = input(t, g, "h0", 0.5, 2, 5)
						wrt = append(wrt, h0)
					}
					if withC0 {
						c0 = input(t, g, "c0", 0.5, 2, 5)
						wrt = append(wrt, c0)
					}
					y, err := graph.RNN(cell, x, wih, whh, bih, bhh, h0, c0)
					if err != nil {
						t.Fatal(err)
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
	}
}

func TestLastStepAndEmbeddingGradients(t *testing.T) {
	g := graph.New(graph.WithDType(graph.Float64), graph.WithSeed(2))
	ids, err := g.Constant("ids", []float64{0, 2, 1, 2, 3, 0}, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	table, _ := g.Param("table", []int{4, 5}, graph.Normal(1))
	e, err := graph.Embedding(ids, table.Node)
	if err != nil {
		t.Fatal(err)
	}
	wih, whh, bih, bhh := rnnParams(t, g, graph.LSTMCell, 5, 3, true)
	y, err := graph.RNN(graph.LSTMCell, e, wih, whh, bih, bhh, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	last, err := graph.LastStep(y)
	if err != nil {
		t.Fatal(err)
	}
	probe := input(t, g, "probe", 1, last.Shape()...)
	p, _ := gorgonia.HadamardProd(last, probe)
	s, _ := gorgonia.Sum(p)
	if _, err := gradcheck.Check(g.Expr(), s, gorgonia.Nodes{table.Node, wih, whh}, 1e-6, 1e-6); err != nil {
		t.Fatal(err)
	}
}

// One LSTM step and one GRU step against values worked out in the test
// from PyTorch's equations, with one hidden unit so each gate is a scalar.
func TestOneStepByHand(t *testing.T) {
	sig := func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }
	x, h0, c0 := 0.5, 0.2, -0.3
	// Per gate: input weight, hidden weight, input bias, hidden bias.
	w := [][4]float64{{0.1, 0.2, 0.3, 0.4}, {-0.5, 0.6, -0.1, 0.2}, {0.7, -0.8, 0.05, -0.05}, {0.9, 0.1, -0.2, 0.3}}
	pre := func(k int) float64 { return w[k][0]*x + w[k][2] + w[k][1]*h0 + w[k][3] }
	run := func(cell graph.Cell) float64 {
		G := cell.Gates()
		g := graph.New(graph.WithDType(graph.Float64))
		col := func(j int) []float64 {
			v := make([]float64, G)
			for k := 0; k < G; k++ {
				v[k] = w[k][j]
			}
			return v
		}
		xn, _ := g.Constant("x", []float64{x}, 1, 1, 1)
		wih, _ := g.Constant("wih", col(0), G, 1)
		whh, _ := g.Constant("whh", col(1), G, 1)
		bih, _ := g.Constant("bih", col(2), G)
		bhh, _ := g.Constant("bhh", col(3), G)
		h, _ := g.Constant("h0", []float64{h0}, 1, 1)
		var c *gorgonia.Node
		if cell == graph.LSTMCell {
			c, _ = g.Constant("c0", []float64{c0}, 1, 1)
		}
		y, err := graph.RNN(cell, xn, wih, whh, bih, bhh, h, c)
		if err != nil {
			t.Fatal(err)
		}
		out, err := gradcheck.Forward(g.Expr(), y)
		if err != nil {
			t.Fatal(err)
		}
		return out[0]
	}
	i, f, gg, o := sig(pre(0)), sig(pre(1)), math.Tanh(pre(2)), sig(pre(3))
	wantLSTM := o * math.Tanh(f*c0+i*gg)
	if got := run(graph.LSTMCell); math.Abs(got-wantLSTM) > 1e-15 {
		t.Errorf("LSTM step: %.17g, want %.17g", got, wantLSTM)
	}
	r, z := sig(pre(0)), sig(pre(1))
	n := math.Tanh(w[2][0]*x + w[2][2] + r*(w[2][1]*h0+w[2][3]))
	wantGRU := (1-z)*n + z*h0
	if got := run(graph.GRUCell); math.Abs(got-wantGRU) > 1e-15 {
		t.Errorf("GRU step: %.17g, want %.17g", got, wantGRU)
	}
}

// Gorgonia's node hash truncates Slice bounds to a byte, so slicing the
// gates of a 128-unit LSTM at [0,128) and [256,384) would silently give the
// same node. dlrun's gates never go through Slice; this test pins that with
// hidden size 128, comparing against a direct loop implementation.
func TestGateLayoutAtHidden128(t *testing.T) {
	const B, T, I, H = 2, 3, 4, 128
	g := graph.New(graph.WithDType(graph.Float64), graph.WithSeed(21))
	x := input(t, g, "x", 1, B, T, I)
	wih, whh, bih, bhh := rnnParams(t, g, graph.LSTMCell, I, H, true)
	y, err := graph.RNN(graph.LSTMCell, x, wih, whh, bih, bhh, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := gradcheck.Forward(g.Expr(), y)
	if err != nil {
		t.Fatal(err)
	}
	X := x.Value().Data().([]float64)
	Wi, Wh := wih.Value().Data().([]float64), whh.Value().Data().([]float64)
	Bi, Bh := bih.Value().Data().([]float64), bhh.Value().Data().([]float64)
	sig := func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }
	for b := 0; b < B; b++ {
		h, c := make([]float64, H), make([]float64, H)
		for s := 0; s < T; s++ {
			pre := make([]float64, 4*H)
			for r := 0; r < 4*H; r++ {
				v := Bi[r] + Bh[r]
				for k := 0; k < I; k++ {
					v += Wi[r*I+k] * X[(b*T+s)*I+k]
				}
				for k := 0; k < H; k++ {
					v += Wh[r*H+k] * h[k]
				}
				pre[r] = v
			}
			for j := 0; j < H; j++ {
				i, f, gg, o := sig(pre[j]), sig(pre[H+j]), math.Tanh(pre[2*H+j]), sig(pre[3*H+j])
				c[j] = f*c[j] + i*gg
				h[j] = o * math.Tanh(c[j])
			}
			for j := 0; j < H; j++ {
				if v := got[(b*T+s)*H+j]; math.Abs(v-h[j]) > 1e-12 {
					t.Fatalf("sequence %d step %d unit %d: %g, want %g", b, s, j, v, h[j])
				}
			}
		}
	}
}
