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

// Two hidden units over 3 values: unit 0 (degree 1) reads v_0 and feeds
// values 1 and 2, unit 1 (degree 2) reads v_0 and v_1 and feeds value 2;
// the entries 9 are masked.
var (
	hiddenWeights = []float64{1, 9, 9, 2, -1, 9}     // W [2, 3]
	hiddenBias    = []float64{0.5, -3}               // c
	outputWeights = []float64{9, 9, 1.5, 9, -2, 0.5} // U [3, 2]
)

// joint3 returns the weights above, as the layer reads them, with or
// without the hidden units.
func joint3(t *testing.T, hidden int) *nn.JointWeights {
	t.Helper()
	g := graph.New(graph.WithDType(graph.Float64))
	a := &nn.Autoregressive{Hidden: hidden}
	a.SetName("ar")
	x, _ := g.Constant("z", make([]float64, 3), 1, 3)
	if _, err := a.Build(g, x); err != nil {
		t.Fatal(err)
	}
	setWeights(t, g, hidden)
	w, err := a.Weights(3)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// setWeights gives layer ar of g the weights above.
func setWeights(t *testing.T, g *graph.Graph, hidden int) {
	t.Helper()
	vals := map[string][]float64{"ar.weight": arWeights}
	if hidden > 0 {
		vals["ar.hidden_weight"], vals["ar.hidden_bias"], vals["ar.output_weight"] = hiddenWeights, hiddenBias, outputWeights
	}
	for name, v := range vals {
		if err := g.ParamByName(name).SetValues(v); err != nil {
			t.Fatal(err)
		}
	}
}

// conditionedOutput builds an Autoregressive layer with hidden units on z
// conditioned on v (each [rows, 3]) with the weights above and returns
// its outputs.
func conditionedOutput(t *testing.T, hidden int, z, v []float64) []float64 {
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
	a := &nn.Autoregressive{Hidden: hidden}
	a.SetName("ar")
	a.Condition(c)
	y, err := a.Build(g, x)
	if err != nil {
		t.Fatal(err)
	}
	setWeights(t, g, hidden)
	out, err := gradcheck.Forward(g.Expr(), y)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The layer's outputs are z plus the weighted values below each and the
// hidden units' contributions, computed by hand; the masked entries play
// no part; JointWeights.Added computes the same outside the graph.
func TestAutoregressiveForward(t *testing.T) {
	z, v := []float64{0.5, -1, 2, 0, 0, 0}, []float64{1, 0, 1, 0, 1, 1}
	for _, c := range []struct {
		hidden int
		want   []float64
	}{
		{0, []float64{
			0.5, -1 + 2, 2 - 3, // v = (1, 0, 1)
			0, 0, 0 + 4, // v = (0, 1, 1)
		}},
		// v = (1, 0, 1): unit 0 at relu(0.5 + 1) = 1.5, unit 1 at relu(−3 + 2) = 0;
		// v = (0, 1, 1): unit 0 at 0.5, unit 1 at relu(−3 − 1) = 0.
		{2, []float64{
			0.5, -1 + 2 + 1.5*1.5, 2 - 3 - 2*1.5,
			0, 0 + 1.5*0.5, 0 + 4 - 2*0.5,
		}},
	} {
		got := conditionedOutput(t, c.hidden, z, v)
		w := joint3(t, c.hidden)
		added := make([]float64, 3)
		for r := range 2 {
			if err := w.Added(v[3*r:3*r+3], added); err != nil {
				t.Fatal(err)
			}
			for k := range 3 {
				if math.Abs(got[3*r+k]-c.want[3*r+k]) > 1e-12 || math.Abs(z[3*r+k]+added[k]-c.want[3*r+k]) > 1e-12 {
					t.Fatalf("hidden %d: outputs %v, want %v (Added: row %d %v)", c.hidden, got, c.want, r, added)
				}
			}
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
	for _, hidden := range []int{0, 2} {
		z := []float64{0.3, -0.7, 1.1}
		var zs, vs []float64
		for s := range 8 {
			zs = append(zs, z...)
			vs = append(vs, float64(s&1), float64(s>>1&1), float64(s>>2&1))
		}
		out := conditionedOutput(t, hidden, zs, vs)
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
			t.Fatalf("hidden %d: the 8 steps' probabilities sum to %v, not 1: %v", hidden, total, prob)
		}
		w := joint3(t, hidden)
		rng := rand.New(rand.NewPCG(1, 2))
		const n = 40000
		count := make([]float64, 8)
		v := make([]float64, 3)
		for range n {
			if err := w.Draw(z, 1, rng.Float64, v); err != nil {
				t.Fatal(err)
			}
			count[int(v[0])+2*int(v[1])+4*int(v[2])]++
		}
		for s := range 8 {
			f := count[s] / n
			if sd := math.Sqrt(prob[s] * (1 - prob[s]) / n); math.Abs(f-prob[s]) > 5*sd+1e-9 {
				t.Errorf("hidden %d: step %03b drawn %.4f of the time, probability %.4f", hidden, s, f, prob[s])
			}
		}
	}
}

// Draw at temperature 0 sets each value on when its logit, given the
// values set before it, is at least 0; a nil JointWeights each value alone.
func TestDrawGreedy(t *testing.T) {
	v := make([]float64, 3)
	fv, made := joint3(t, 0), joint3(t, 2)
	for _, c := range []struct {
		z    []float64
		w    *nn.JointWeights
		want []float64
	}{
		{[]float64{0.5, -1, 2}, fv, []float64{1, 1, 1}},         // 0.5; −1+2; 2−3+4
		{[]float64{-0.5, 1, -3.5}, fv, []float64{0, 1, 1}},      // −0.5; 1; −3.5+4
		{[]float64{-0.5, 1, -3.5}, nil, []float64{0, 1, 0}},     // each alone
		{[]float64{0.5, -5, 2}, made, []float64{1, 0, 0}},       // 0.5; −5+2+1.5·1.5; 2−3−2·1.5
		{[]float64{-0.5, -0.5, -0.2}, made, []float64{0, 1, 1}}, // −0.5; −0.5+1.5·0.5; −0.2+4−2·0.5
	} {
		if err := c.w.Draw(c.z, 0, nil, v); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(v) != fmt.Sprint(c.want) {
			t.Errorf("Draw(%v) = %v, want %v", c.z, v, c.want)
		}
	}
	if err := fv.Draw([]float64{1, 2}, 0, nil, v); err == nil {
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
	a := &nn.Autoregressive{Hidden: 5}
	m := nn.NewSequential("m", nn.NewDense(4), a)
	a.Condition(v)
	y, err := m.Build(g, x)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := g.NumParams(), m.NumParams([]int{3, 4}); got != want || want != 4*4+4+16+5*(2*4+1) {
		t.Fatalf("graph has %d parameters, NumParams says %d", got, want)
	}
	// A and U start at 0: give them values, so every path is checked.
	for i, name := range []string{"autoregressive1.weight", "autoregressive1.output_weight"} {
		p := g.ParamByName(name)
		w := make([]float64, p.Size())
		for j := range w {
			w[j] = math.Sin(float64(3*j + 1 + i))
		}
		if err := p.SetValues(w); err != nil {
			t.Fatal(err)
		}
	}
	wrt := append(graph.Nodes{x}, g.Nodes()...)
	if n, err := gradcheck.Check(g.Expr(), scalarise(t, g, y), wrt, 1e-6, 1e-6); err != nil || n < 2*3*4+16+5*9 {
		t.Fatalf("%d elements checked: %v", n, err)
	}
}

// Without a condition the outputs are the input; a model file names the
// layer autoregressive; it must be the model's last layer; a condition of
// another shape is an error naming the layer.
func TestAutoregressiveSpecAndErrors(t *testing.T) {
	spec, err := nn.ParseSpec([]byte("name: joint\nlayers:\n  - dense: {units: 5}\n  - autoregressive: {hidden: 4}\n"), "joint.yaml")
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
	if again, err := back.Build(); err != nil || again.NumParams([]int{3}) != 3*5+5+25+4*11 {
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
	one := &nn.Autoregressive{Hidden: 2}
	one.SetName("ar")
	if _, err := one.OutputShape([]int{1}); err == nil || !strings.Contains(err.Error(), "ar (Autoregressive): input shape [1]: hidden units need at least 2 values") {
		t.Errorf("hidden units over one value: %v", err)
	}
}

// JointWeights.Draw samples a step's values one by one, each given those
// before it.
func ExampleJointWeights_Draw() {
	w := nn.NewJointWeights(3, 0)
	copy(w.A, []float64{0, 0, 0, 2, 0, 0, -3, 4, 0}) // value 1 rises with value 0; value 2 falls with 0, rises with 1
	z := []float64{0.5, -1, 2}                       // the logits the layer's input gives
	v := make([]float64, 3)
	_ = w.Draw(z, 0, nil, v) // temperature 0: each value on where its logit is at least 0
	fmt.Println(v)
	// Output: [1 1 1]
}
