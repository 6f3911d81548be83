package nn_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/internal/gradcheck"
	"github.com/dlrun/dlrun/nn"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// arWeights is a 3×3 weight A whose entries on and above the diagonal
// (9) must play no part: logit_1 = z_1 + 2 v_0, logit_2 = z_2 − 3 v_0 + 4 v_1.
var arWeights = []float64{9, 9, 9, 2, 9, 9, -3, 4, 9}

// conditionedOutput builds an Autoregressive layer on z conditioned on v
// (each [rows, 3]) with arWeights and returns its outputs.
func conditionedOutput(t *testing.T, z, v []float64) []float64 {
	t.Helper()
	rows := len(z) / 3
	g := graph.New(graph.WithDType(graph.Float64))
	x, err := g.Constant("z", z, rows, 3)
	if err != nil {
		t.Fatal(err)
	}
	c, err := g.Constant("v", v, rows, 3)
	if err != nil {
		t.Fatal(err)
	}
	a := nn.NewAutoregressive()
	a.SetName("ar")
	a.Condition(c)
	y, err := a.Build(g, x)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.ParamByName("ar.weight").SetValues(arWeights); err != nil {
		t.Fatal(err)
	}
	out, err := gradcheck.Forward(g.Expr(), y)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The layer's outputs are z plus the weighted values below each, computed
// by hand; the entries on and above the diagonal are not used.
func TestAutoregressiveForward(t *testing.T) {
	got := conditionedOutput(t, []float64{0.5, -1, 2, 0, 0, 0}, []float64{1, 0, 1, 0, 1, 1})
	want := []float64{
		0.5, -1 + 2, 2 - 3, // v = (1, 0, 1)
		0, 0, 0 + 4, // v = (0, 1, 1)
	}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-12 {
			t.Fatalf("outputs %v, want %v", got, want)
		}
	}
}

// bce is the binary cross-entropy of logit l for value v.
func bce(l, v float64) float64 { return math.Max(l, 0) - l*v + math.Log1p(math.Exp(-math.Abs(l))) }

// The binary cross-entropies of the outputs, summed over a step, are the
// negative log-likelihood of a distribution: over the 8 steps of 3 values
// their probabilities sum to 1. And Draw samples that distribution: the
// frequencies of 40,000 draws at temperature 1 match the probabilities.
func TestAutoregressiveJointDistribution(t *testing.T) {
	z := []float64{0.3, -0.7, 1.1}
	var zs, vs []float64
	for s := range 8 {
		zs = append(zs, z...)
		vs = append(vs, float64(s&1), float64(s>>1&1), float64(s>>2&1))
	}
	out := conditionedOutput(t, zs, vs)
	prob := make([]float64, 8)
	total := 0.0
	for s := range 8 {
		nll := 0.0
		for k := range 3 {
			nll += bce(out[3*s+k], vs[3*s+k])
		}
		prob[s] = math.Exp(-nll)
		total += prob[s]
	}
	if math.Abs(total-1) > 1e-12 {
		t.Fatalf("the 8 steps' probabilities sum to %v, not 1: %v", total, prob)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 40000
	count := make([]float64, 8)
	v := make([]float64, 3)
	for range n {
		if err := nn.Draw(z, arWeights, 1, rng.Float64, v); err != nil {
			t.Fatal(err)
		}
		count[int(v[0])+2*int(v[1])+4*int(v[2])]++
	}
	for s := range 8 {
		f := count[s] / n
		if sd := math.Sqrt(prob[s] * (1 - prob[s]) / n); math.Abs(f-prob[s]) > 5*sd+1e-9 {
			t.Errorf("step %03b drawn %.4f of the time, probability %.4f", s, f, prob[s])
		}
	}
}

// Draw at temperature 0 sets each value on when its logit, given the
// values set before it, is at least 0; without weights each value alone.
func TestDrawGreedy(t *testing.T) {
	v := make([]float64, 3)
	for _, c := range []struct {
		z, w, want []float64
	}{
		{[]float64{0.5, -1, 2}, arWeights, []float64{1, 1, 1}},    // 0.5; −1+2; 2−3+4
		{[]float64{-0.5, 1, -3.5}, arWeights, []float64{0, 1, 1}}, // −0.5; 1; −3.5+4
		{[]float64{-0.5, 1, -3.5}, nil, []float64{0, 1, 0}},
	} {
		if err := nn.Draw(c.z, c.w, 0, nil, v); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(v) != fmt.Sprint(c.want) {
			t.Errorf("Draw(%v, %v) = %v, want %v", c.z, c.w, v, c.want)
		}
	}
	if err := nn.Draw([]float64{1, 2}, arWeights, 0, nil, v); err == nil {
		t.Error("2 logits, 3 values: no error")
	}
}

// The layer's gradients (float64) with respect to its input and weight,
// over a sequence, after a dense layer, match finite differences.
func TestAutoregressiveGradient(t *testing.T) {
	g := graph.New(graph.WithDType(graph.Float64), graph.WithSeed(3))
	x := boundInput(t, g, 2, 3, 4)
	vals := make([]float64, 2*3*4)
	for i := range vals {
		vals[i] = float64((i * 7 / 3) % 2)
	}
	v, err := g.Input("v", 2, 3, 4)
	if err != nil {
		t.Fatal(err)
	}
	if err := gorgonia.Let(v, tensor.New(tensor.WithShape(2, 3, 4), tensor.WithBacking(vals))); err != nil {
		t.Fatal(err)
	}
	a := nn.NewAutoregressive()
	m := nn.NewSequential("m", nn.NewDense(4), a)
	a.Condition(v)
	y, err := m.Build(g, x)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := g.NumParams(), m.NumParams([]int{3, 4}); got != want || want != 4*4+4+16 {
		t.Fatalf("graph has %d parameters, NumParams says %d", got, want)
	}
	w := make([]float64, 16)
	for i := range w {
		w[i] = math.Sin(float64(3*i + 1))
	}
	if err := g.ParamByName("autoregressive1.weight").SetValues(w); err != nil {
		t.Fatal(err)
	}
	wrt := append(graph.Nodes{x}, g.Nodes()...)
	if n, err := gradcheck.Check(g.Expr(), scalarise(t, g, y), wrt, 1e-6, 1e-6); err != nil || n < 2*3*4+16 {
		t.Fatalf("%d elements checked: %v", n, err)
	}
}

// Without a condition the outputs are the input; a model file names the
// layer autoregressive; it must be the model's last layer; a condition of
// another shape is an error naming the layer.
func TestAutoregressiveSpecAndErrors(t *testing.T) {
	spec, err := nn.ParseSpec([]byte("name: joint\nlayers:\n  - dense: {units: 5}\n  - autoregressive\n"), "joint.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m, err := spec.Build()
	if err != nil {
		t.Fatal(err)
	}
	if a, err := nn.AutoregressiveOutput(m); err != nil || a == nil || a.Name() != "autoregressive1" {
		t.Fatalf("AutoregressiveOutput: %v, %v", a, err)
	}
	back, err := nn.Describe(m)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := back.Build(); err != nil || again.NumParams([]int{3}) != 3*5+5+25 {
		t.Fatalf("rebuilt from its description: %v", err)
	}
	g := graph.New(graph.WithDType(graph.Float64))
	x := boundInput(t, g, 2, 3)
	y, err := m.Build(g, x)
	if err != nil {
		t.Fatal(err)
	}
	if y.Shape()[1] != 5 {
		t.Fatalf("output %v", y.Shape())
	}

	inner := nn.NewSequential("inner", nn.NewDense(5), nn.NewAutoregressive(), nn.NewDense(2))
	if _, err := nn.AutoregressiveOutput(inner); err == nil || !strings.Contains(err.Error(), "autoregressive1 (Autoregressive): an autoregressive output must be the model's last layer") {
		t.Errorf("an autoregressive layer before another: %v", err)
	}
	if a, err := nn.AutoregressiveOutput(nn.NewSequential("plain", nn.NewDense(2))); a != nil || err != nil {
		t.Errorf("a model without one: %v, %v", a, err)
	}

	g2 := graph.New(graph.WithDType(graph.Float64))
	x2 := boundInput(t, g2, 2, 3)
	c, _ := g2.Constant("v", make([]float64, 8), 2, 4)
	a := nn.NewAutoregressive()
	a.SetName("ar")
	a.Condition(c)
	if _, err := a.Build(g2, x2); err == nil || !strings.Contains(err.Error(), "ar (Autoregressive): the values it is conditioned on are (2, 4), but its input is (2, 3)") {
		t.Errorf("a condition of another shape: %v", err)
	}
	if _, err := a.OutputShape([]int{nn.MaxAutoregressive + 1}); err == nil || !strings.Contains(err.Error(), "ar (Autoregressive)") {
		t.Errorf("too many values: %v", err)
	}
}

// Draw samples a step's values one by one, each given those before it.
func ExampleDraw() {
	z := []float64{0.5, -1, 2}                 // the logits the layer's input gives
	a := []float64{0, 0, 0, 2, 0, 0, -3, 4, 0} // value 1 rises with value 0; value 2 falls with 0, rises with 1
	v := make([]float64, 3)
	_ = nn.Draw(z, a, 0, nil, v) // temperature 0: each value on where its logit is at least 0
	fmt.Println(v)
	// Output: [1 1 1]
}
