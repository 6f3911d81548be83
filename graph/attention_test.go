package graph_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/internal/gradcheck"
	"gorgonia.org/gorgonia"
)

// Two steps of width 2, one head: q0 = [1 0], k0 = [1 0], v0 = [1 2];
// q1 = [0 1], k1 = [0 2], v1 = [3 4]. Worked by hand with scale 1/√2:
// step 0 scores (1, 0)/√2, step 1 scores (0, 2)/√2.
var attnQKV = []float64{1, 0, 1, 0, 1, 2, 0, 1, 0, 2, 3, 4}

func TestAttentionForwardValues(t *testing.T) {
	s := 1 / math.Sqrt(2)
	p0 := math.Exp(s) / (math.Exp(s) + 1) // step 0's weight on step 0
	p1 := 1 / (1 + math.Exp(2*s))         // step 1's weight on step 0
	mix := func(p float64) []float64 { return []float64{p*1 + (1-p)*3, p*2 + (1-p)*4} }
	full := append(mix(p0), mix(p1)...)
	causal := append([]float64{1, 2}, mix(p1)...)
	combineDTypes(t, func(t *testing.T, dt graph.DType, tol float64) {
		g := graph.New(graph.WithDType(dt))
		qkv, _ := g.Constant("qkv", attnQKV, 1, 2, 6)
		pad, _ := g.Constant("pad", []float64{0, 1}, 1, 2)
		ok := combineOK(t)
		ys := []*graph.Node{
			ok(graph.Attention(qkv, 1, false, nil)),
			ok(graph.Attention(qkv, 1, true, nil)),
			ok(graph.Attention(qkv, 1, false, pad)),
			ok(graph.Attention(qkv, 2, false, nil)),
		}
		got := combineRun(t, g, ys...)
		near(t, "full", got[0], full, tol)
		near(t, "causal", got[1], causal, tol)
		near(t, "padded", got[2], []float64{1, 2, 1, 2}, tol)
		// Head 0: q = (1, 0), k = (1, 0), v = (1, 3): step 0 weights
		// e^1:e^0, step 1 equal; head 1: q = (0, 1), k = (0, 2),
		// v = (2, 4): step 0 equal, step 1 weights e^0:e^2.
		w := func(a, b float64) float64 { return math.Exp(a) / (math.Exp(a) + math.Exp(b)) }
		two := []float64{
			w(1, 0)*1 + w(0, 1)*3, 0.5*2 + 0.5*4,
			0.5*1 + 0.5*3, w(0, 2)*2 + w(2, 0)*4,
		}
		near(t, "two heads", got[3], two, tol)
	})
}

func TestAttentionGradients(t *testing.T) {
	for _, c := range []struct {
		name   string
		heads  int
		causal bool
		pad    bool
		steps  int
	}{{"OneHead", 1, false, false, 5}, {"TwoHeadsCausal", 2, true, false, 5}, {"Padding", 2, false, true, 5},
		{"CausalPadding", 4, true, true, 5}, {"CausalChunks", 2, true, false, 27}} {
		t.Run(c.name, func(t *testing.T) {
			g := graph.New(graph.WithDType(graph.Float64))
			qkv := input(t, g, "qkv", 1, 2, c.steps, 3*8)
			var pad *graph.Node
			if c.pad {
				pad, _ = g.Constant("pad", []float64{0, 0, 0, 1, 1, 0, 1, 0, 0, 0}, 2, 5)
			}
			y := combineOK(t)(graph.Attention(qkv, c.heads, c.causal, pad))
			n, err := gradcheck.Check(g.Expr(), combineProbe(t, g, y), gorgonia.Nodes{qkv}, 1e-6, 1e-6)
			if err != nil {
				t.Fatal(err)
			}
			if n != 2*c.steps*24 {
				t.Fatalf("%d elements checked", n)
			}
		})
	}
}

// Attention between input and output projections is PyTorch's
// nn.MultiheadAttention: x·Wᵢₙᵀ + bᵢₙ, attention, then ·Wₒᵤₜᵀ + bₒᵤₜ;
// the gradients reach x and all four parameters.
func TestProjectedAttentionGradients(t *testing.T) {
	g := graph.New(graph.WithDType(graph.Float64))
	x := input(t, g, "x", 1, 2, 4, 6)
	win, bin := input(t, g, "in_proj_weight", 0.5, 18, 6), input(t, g, "in_proj_bias", 0.5, 18)
	wout, bout := input(t, g, "out_proj.weight", 0.5, 6, 6), input(t, g, "out_proj.bias", 0.5, 6)
	ok := combineOK(t)
	qkv := ok(graph.Project(x, win, bin))
	y := ok(graph.Project(ok(graph.Attention(qkv, 3, true, nil)), wout, bout))
	if _, err := gradcheck.Check(g.Expr(), combineProbe(t, g, y), gorgonia.Nodes{x, win, bin, wout, bout}, 1e-6, 1e-6); err != nil {
		t.Fatal(err)
	}
}

// A cached attention run a step at a time gives the causal attention over
// the whole sequence, step by step, and refuses a step past its cache.
func TestCachedAttentionMatchesAttention(t *testing.T) {
	combineDTypes(t, func(t *testing.T, dt graph.DType, tol float64) {
		const B, T, E, H = 2, 6, 8, 2
		full := graph.New(graph.WithDType(dt))
		vals := make([]float64, B*T*3*E)
		for i := range vals {
			vals[i] = math.Sin(float64(7*i + 3))
		}
		qkv, _ := full.Constant("qkv", vals, B, T, 3*E)
		want := combineRun(t, full, combineOK(t)(graph.Attention(qkv, H, true, nil)))[0]

		g := graph.New(graph.WithDType(dt))
		step, _ := g.Input("step", B, 1, 3*E)
		cache := graph.NewKVCache(T)
		y := combineOK(t)(graph.CachedAttention(step, H, cache))
		prog, err := g.CompileForward(y)
		if err != nil {
			t.Fatal(err)
		}
		in := make([]float64, B*3*E)
		for run := 0; run < 2; run++ { // a second sequence after Reset
			cache.Reset()
			for s := 0; s < T; s++ {
				for b := 0; b < B; b++ {
					copy(in[b*3*E:(b+1)*3*E], vals[(b*T+s)*3*E:(b*T+s+1)*3*E])
				}
				if err := g.SetInput(step, in); err != nil {
					t.Fatal(err)
				}
				if _, err := prog.Run(false); err != nil {
					t.Fatal(err)
				}
				out, _ := prog.Output(0)
				for b := 0; b < B; b++ {
					near(t, "step", out[b*E:(b+1)*E], want[(b*T+s)*E:(b*T+s+1)*E], tol)
				}
				if cache.Len() != s+1 {
					t.Fatalf("cache holds %d steps after %d", cache.Len(), s+1)
				}
			}
		}
		if _, err := prog.Run(false); !errors.Is(err, graph.ErrCacheFull) {
			t.Errorf("a step past the cache: %v, want ErrCacheFull", err)
		}
	})
}

func TestAttentionErrors(t *testing.T) {
	g := graph.New()
	qkv, _ := g.Input("qkv", 2, 3, 12)
	flat, _ := g.Input("flat", 2, 12)
	odd, _ := g.Input("odd", 2, 3, 10)
	pad, _ := g.Input("pad", 2, 4)
	cache := graph.NewKVCache(8)
	for _, c := range []struct {
		what string
		f    func() (*graph.Node, error)
		want []string
	}{
		{"2-d", func() (*graph.Node, error) { return graph.Attention(flat, 1, false, nil) }, []string{"attention", "flat", "(2, 12)", "3·width"}},
		{"not 3 parts", func() (*graph.Node, error) { return graph.Attention(odd, 1, false, nil) }, []string{"attention", "odd", "3·width"}},
		{"heads", func() (*graph.Node, error) { return graph.Attention(qkv, 3, false, nil) }, []string{"attention", "qkv", "3 heads do not divide the width 4"}},
		{"no heads", func() (*graph.Node, error) { return graph.Attention(qkv, 0, false, nil) }, []string{"0 heads"}},
		{"mask", func() (*graph.Node, error) { return graph.Attention(qkv, 2, false, pad) }, []string{"attention", "pad", "(2, 4)", "[2 3]"}},
		{"no cache", func() (*graph.Node, error) { return graph.CachedAttention(qkv, 2, nil) }, []string{"cached attention", "no cache"}},
		{"small cache", func() (*graph.Node, error) { return graph.CachedAttention(qkv, 2, graph.NewKVCache(2)) }, []string{"3 steps do not fit in a cache of 2"}},
		{"shared cache", func() (*graph.Node, error) {
			if _, err := graph.CachedAttention(qkv, 2, cache); err != nil {
				return nil, err
			}
			return graph.CachedAttention(qkv, 1, cache)
		}, []string{"already serves another attention"}},
	} {
		_, err := c.f()
		if err == nil {
			t.Errorf("%s: no error", c.what)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %q", c.what, err, w)
			}
		}
	}
	// A cached attention has no gradient: training through it is an error.
	g2 := graph.New(graph.WithDType(graph.Float64))
	x := input(t, g2, "x", 1, 1, 1, 6)
	w, _ := g2.Param("w", []int{6, 6}, graph.GlorotUniform)
	y := combineOK(t)(graph.CachedAttention(combineOK(t)(graph.Project(x, w.Node, nil)), 1, graph.NewKVCache(4)))
	if _, err := g2.Compile(combineOK(t)(graph.Sum(y))); err == nil {
		t.Error("compiling a loss through a cached attention: no error")
	}
}
