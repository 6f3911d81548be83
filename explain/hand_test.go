package explain_test

import (
	"math"
	"testing"

	"github.com/dlrun/dlrun/explain"
	"github.com/dlrun/dlrun/nn"
	"github.com/dlrun/dlrun/train"
)

// Tiny float64 models with weights set by hand, whose attributions are
// worked out by hand.

// handModel builds model for task in float64 and sets its parameters.
func handModel(t *testing.T, model *nn.Sequential, task train.Task, params map[string][]float64) *explain.Explainer {
	t.Helper()
	tr, err := train.New(model, task, train.Config{DType: "float64", BatchSize: 2, Loss: lossFor(task)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	for name, v := range params {
		p := tr.Graph().ParamByName(name)
		if p == nil {
			t.Fatalf("no parameter %s (have %v)", name, tr.Graph().ParamNames())
		}
		if err := p.SetValues(v); err != nil {
			t.Fatal(err)
		}
	}
	return newExplainer(t, tr)
}

func lossFor(task train.Task) string {
	switch task := task.(type) {
	case *train.Rating, *train.Regress:
		return "mse"
	case *train.Classify:
		if task.Outputs == 1 {
			return "bce"
		}
	}
	return ""
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func wantValues(t *testing.T, what string, got, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d values %v, want %v", what, len(got), got, want)
		return
	}
	for i := range want {
		if !near(got[i], want[i]) {
			t.Errorf("%s: %v, want %v", what, got, want)
			return
		}
	}
}

// z = x·W + b on 3 features, 2 classes: W's columns (1 -2 3) and
// (0.5 4 -1), b (0.1 -0.2). At x = (2 1 0.5) the logits are 1.6 and 4.3.
func TestAttributionsOfALinearModelByHand(t *testing.T) {
	e := handModel(t, nn.NewSequential("linear", nn.NewDense(2)), &train.Classify{Shape: []int{3}, Outputs: 2},
		map[string][]float64{"dense1.weight": {1, 0.5, -2, 4, 3, -1}, "dense1.bias": {0.1, -0.2}})
	x := []float32{2, 1, 0.5}
	for _, c := range []struct {
		name  string
		opt   explain.Options
		class int
		want  []float64
	}{
		// Integrated gradients from zeros: x ⊙ W's column, exactly (the
		// gradient is constant), for the predicted class 1 ...
		{"integrated gradients", explain.Options{}, 1, []float64{1, 4, -0.5}},
		{"right sum", explain.Options{Rule: explain.RightSum, Steps: 3}, 1, []float64{1, 4, -0.5}},
		// ... or the class asked for.
		{"class 0", explain.Options{Target: explain.Class(0)}, 0, []float64{2, -2, 1.5}},
		// Saliency: |W's column|.
		{"saliency", explain.Options{Method: explain.Saliency}, 1, []float64{0.5, 4, 1}},
		// Occlusion of one feature at a time: what it adds to the logit.
		{"occlusion", explain.Options{Method: explain.Occlusion}, 1, []float64{1, 4, -0.5}},
	} {
		a, err := e.Attribute(x, c.opt)
		if err != nil {
			t.Fatal(err)
		}
		if a.Class != c.class {
			t.Errorf("%s: class %d, want %d", c.name, a.Class, c.class)
		}
		wantValues(t, c.name, a.Values, c.want)
		if logit := []float64{1.6, 4.3}[c.class]; !near(a.Output, logit) {
			t.Errorf("%s: output %g, want %g", c.name, a.Output, logit)
		}
		if a.Delta != nil && !near(*a.Delta+1, 1) {
			t.Errorf("%s: delta %g, want 0 for a linear model", c.name, *a.Delta)
		}
	}
}

// The probability of class 1 of the same model is σ(z1 − z0), and z1 − z0
// = 3α − 0.3 along the path α·x: integrated gradients is x_j·d_j·(σ(2.7) −
// σ(−0.3))/3 with d = W's column 1 less column 0, (−0.5 6 −4), exactly.
// Gauss–Legendre's 50 nodes integrate the smooth σ' to rounding; the
// trapezoid rule is off by its h²/12 times the second derivative, about 1e-4 of it.
func TestProbabilityAndGaussLegendreByHand(t *testing.T) {
	e := handModel(t, nn.NewSequential("linear", nn.NewDense(2)), &train.Classify{Shape: []int{3}, Outputs: 2},
		map[string][]float64{"dense1.weight": {1, 0.5, -2, 4, 3, -1}, "dense1.bias": {0.1, -0.2}})
	sigmoid := func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }
	mean := (sigmoid(2.7) - sigmoid(-0.3)) / 3
	want := []float64{2 * -0.5 * mean, 1 * 6 * mean, 0.5 * -4 * mean}
	for _, c := range []struct {
		rule explain.Rule
		tol  float64 // the largest relative error of the values
	}{{explain.GaussLegendre, 1e-12}, {explain.Trapezoid, 1e-3}} {
		a, err := e.Attribute([]float32{2, 1, 0.5}, explain.Options{Quantity: explain.Probability, Rule: c.rule})
		if err != nil {
			t.Fatal(err)
		}
		if a.Class != 1 || a.Quantity != explain.Probability || a.Rule != c.rule {
			t.Fatalf("%s: class %d, quantity %s, rule %s", c.rule, a.Class, a.Quantity, a.Rule)
		}
		worst := 0.0
		for j, v := range a.Values {
			worst = math.Max(worst, math.Abs(v-want[j])/math.Abs(want[j]))
		}
		if worst > c.tol {
			t.Errorf("%s: attributions %v, want %v (relative error %.2g, want at most %g)", c.rule, a.Values, want, worst, c.tol)
		}
		if c.rule == explain.Trapezoid && worst < 1e-7 {
			t.Errorf("trapezoid: relative error %.2g: the test no longer tells the rules apart", worst)
		}
		if !near(a.Output, sigmoid(2.7)) || !near(*a.BaselineOutput, sigmoid(-0.3)) {
			t.Errorf("%s: probability %g from %g, want %g from %g", c.rule, a.Output, *a.BaselineOutput, sigmoid(2.7), sigmoid(-0.3))
		}
	}
	// Saliency of the probability: |x-free gradient| = p(1−p)·|d|.
	a, err := e.Attribute([]float32{2, 1, 0.5}, explain.Options{Quantity: explain.Probability, Method: explain.Saliency})
	if err != nil {
		t.Fatal(err)
	}
	p := sigmoid(2.7)
	wantValues(t, "saliency of the probability", a.Values, []float64{p * (1 - p) * 0.5, p * (1 - p) * 6, p * (1 - p) * 4})
}

func TestClassNamed(t *testing.T) {
	target, err := explain.ClassNamed("Sneaker", []string{"Sandal", "Sneaker"})
	if i, ok := target.Index(); err != nil || !ok || i != 1 {
		t.Errorf("Sneaker: %d, %v, %v; want class 1", i, ok, err)
	}
	if _, ok := (explain.Target{}).Index(); ok {
		t.Error("the zero Target names a class")
	}
}

// A regression y = x·w + b on 3 features, w = (1 −2 3), b = 0.5, whose
// targets were divided by 2 (TargetStd): its prediction less the target's
// mean is 2·(x·w + b), 2·8 = 16 at x = (2 1 2.5); integrated gradients
// from the zero row gives feature j 2·x_j·w_j exactly (the model is
// linear) and saliency 2·|w_j|.
func TestRegressionByHand(t *testing.T) {
	e := handModel(t, nn.NewSequential("linear", nn.NewDense(1)), &train.Regress{Shape: []int{3}, TargetStd: 2},
		map[string][]float64{"dense1.weight": {1, -2, 3}, "dense1.bias": {0.5}})
	x := []float32{2, 1, 2.5}
	a, err := e.Attribute(x, explain.Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantValues(t, "integrated gradients", a.Values, []float64{4, -4, 15})
	if a.Quantity != explain.Prediction || a.Class != 0 || !near(a.Output, 16) || !near(*a.BaselineOutput, 1) || math.Abs(*a.Delta) > 1e-9 {
		t.Errorf("quantity %s, class %d, output %g from %g, delta %g; want the prediction 16 from 1", a.Quantity, a.Class, a.Output, *a.BaselineOutput, *a.Delta)
	}
	s, err := e.Attribute(x, explain.Options{Method: explain.Saliency})
	if err != nil {
		t.Fatal(err)
	}
	wantValues(t, "saliency", s.Values, []float64{2, 4, 6})
}

// A table's importance is the mean absolute attribution of each feature
// over the rows: for the linear model, the mean of |x_j·W_jc| for each
// row's predicted class c.
func TestImportanceByHand(t *testing.T) {
	e := handModel(t, nn.NewSequential("linear", nn.NewDense(2)), &train.Classify{Shape: []int{3}, Outputs: 2},
		map[string][]float64{"dense1.weight": {1, 0.5, -2, 4, 3, -1}, "dense1.bias": {0.1, -0.2}})
	// Row 1 (2 1 0.5): logits 1.6 and 4.3, class 1, attributions (1 4 -0.5).
	// Row 2 (1 0 0): logits 1.1 and 0.3, class 0, attributions (1 0 0).
	// Row 3 (0 0 -1): logits -2.9 and 0.8, class 1, attributions (0 0 1).
	rows := [][]float32{{2, 1, 0.5}, {1, 0, 0}, {0, 0, -1}}
	imp, err := e.Importance(rows, explain.Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantValues(t, "importance", imp, []float64{2.0 / 3, 4.0 / 3, 0.5})
	// More rows than one batch of explanations holds: each row counts once.
	many := make([][]float32, 150)
	for i := range many {
		many[i] = rows[i%3]
	}
	imp, err = e.Importance(many, explain.Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantValues(t, "importance of 150 rows", imp, []float64{2.0 / 3, 4.0 / 3, 0.5})
}

// f(x) = 3·relu(x1 − x2 − b) with x = (2, 1): along the path α·x from
// zeros the unit switches on at α = b. Integrated gradients is x1·3·(1−b)
// and −x2·3·(1−b); the quadrature rules see the switch as far as their
// points do.
func TestIntegratedGradientsQuadratureByHand(t *testing.T) {
	model := nn.NewSequential("kink", nn.NewDense(1), nn.ReLU(), nn.NewDense(1))
	e := handModel(t, model, &train.Classify{Shape: []int{2}, Outputs: 1},
		map[string][]float64{"dense1.weight": {1, -1}, "dense1.bias": {-0.45}, "dense2.weight": {3}, "dense2.bias": {0}})
	x := []float32{2, 1}
	// The switch at α = 0.45 lies midway between the points 0.44 and
	// 0.46 of 50 steps: the trapezoid rule gives the integral, 0.55,
	// exactly; the right sum counts the 28 points from 0.46 to 1, 0.56.
	for _, c := range []struct {
		rule     explain.Rule
		integral float64
	}{{explain.Trapezoid, 0.55}, {explain.RightSum, 0.56}} {
		a, err := e.Attribute(x, explain.Options{Rule: c.rule, Target: explain.Class(1)})
		if err != nil {
			t.Fatal(err)
		}
		wantValues(t, string(c.rule), a.Values, []float64{2 * 3 * c.integral, -1 * 3 * c.integral})
		// f(x) = 3·0.55, f(0) = 0.
		if !near(a.Output, 1.65) || !near(*a.BaselineOutput, 0) || !near(*a.Delta, 3*c.integral-1.65) {
			t.Errorf("%s: output %g, baseline %g, delta %g", c.rule, a.Output, *a.BaselineOutput, *a.Delta)
		}
	}
	// Gauss–Legendre's 50 nodes in (0, 1): the 28 above the switch at
	// 0.45 weigh what the rule makes of the integral, 0.55 up to the
	// switch's place between two nodes.
	a, err := e.Attribute(x, explain.Options{Rule: explain.GaussLegendre, Target: explain.Class(1)})
	if err != nil {
		t.Fatal(err)
	}
	if a.Rule != explain.GaussLegendre || !near(a.Output, 1.65) || !near(*a.BaselineOutput, 0) || math.Abs(a.Values[0]/6-0.55) > 0.02 {
		t.Errorf("gauss-legendre: %s, output %g, baseline %g, attributions %v", a.Rule, a.Output, *a.BaselineOutput, a.Values)
	}
	// The adaptive rule starts from 26 equal intervals and bisects the one
	// holding the switch in each of its 9 rounds (the only interval whose
	// trapezoid misses the output's change): the switch ends in an interval
	// of 1/13312, [0.449970, 0.450045], whose trapezoid takes 0.00002 too
	// little of the output's 1.65.
	ad, err := e.Attribute(x, explain.Options{Rule: explain.Adaptive, Target: explain.Class(1)})
	if err != nil {
		t.Fatal(err)
	}
	lo, hi := 0.44996995, 0.45004507
	integral := 0.55 + (1.5*(hi-lo)-3*(hi-0.45))/3
	if ad.Rule != explain.Adaptive || ad.Steps != 50 || math.Abs(ad.Values[0]/6-integral) > 1e-6 || math.Abs(*ad.Delta+0.0000225) > 1e-6 || !near(ad.Output, 1.65) {
		t.Errorf("adaptive: %s, %d steps, attributions %v (want %v), delta %g", ad.Rule, ad.Steps, ad.Values, []float64{6 * integral, -3 * integral}, *ad.Delta)
	}
	// Class 0's probability, 1 − σ(z), of the one sigmoid output: its
	// attributions are class 1's negated.
	p, err := e.Attribute(x, explain.Options{Quantity: explain.Probability, Target: explain.Class(0)})
	if err != nil {
		t.Fatal(err)
	}
	p1, err := e.Attribute(x, explain.Options{Quantity: explain.Probability, Target: explain.Class(1)})
	if err != nil {
		t.Fatal(err)
	}
	wantValues(t, "class 0's probability", p.Values, []float64{-p1.Values[0], -p1.Values[1]})
	if !near(p.Output, 1-p1.Output) || !near(*p.BaselineOutput, 0.5) || !near(*p1.BaselineOutput, 0.5) {
		t.Errorf("probabilities: class 0 %g from %g, class 1 %g from %g; want 1 − each other, from 0.5", p.Output, *p.BaselineOutput, p1.Output, *p1.BaselineOutput)
	}
	// One output for two classes: class 0 is explained by the negated logit
	// (by the trapezoid rule, whose integral is exact here).
	a, err = e.Attribute(x, explain.Options{Rule: explain.Trapezoid, Target: explain.Class(0)})
	if err != nil {
		t.Fatal(err)
	}
	wantValues(t, "class 0", a.Values, []float64{-3.3, 1.65})
	if !near(a.Output, -1.65) {
		t.Errorf("class 0: output %g, want -1.65", a.Output)
	}
}

// A linear image model with weights 1 on a 3×3 image holding 1 to 9:
// occluding a window lowers the output by the window's sum.
func TestOcclusionByHand(t *testing.T) {
	w := make([]float64, 9*2)
	for i := range 9 {
		w[2*i] = 1 // class 0 sums the image; class 1 ignores it
	}
	e := handModel(t, nn.NewSequential("sum", nn.NewFlatten(), nn.NewDense(2)), &train.Classify{Shape: []int{1, 3, 3}, Outputs: 2},
		map[string][]float64{"dense1.weight": w, "dense1.bias": {0, 0}})
	x := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9}
	a, err := e.Attribute(x, explain.Options{Method: explain.Occlusion, Window: 2, Stride: 1, Target: explain.Class(0)})
	if err != nil {
		t.Fatal(err)
	}
	// Windows at (0,0), (0,1), (1,0), (1,1) lower the sum by 12, 16, 24,
	// 28; a pixel gets the mean over the windows covering it.
	wantValues(t, "occlusion", a.Values, []float64{12, 14, 16, 18, 20, 22, 24, 26, 28})
	if a.Window != 2 || a.Stride != 1 {
		t.Errorf("window %d, stride %d", a.Window, a.Stride)
	}
	// A stride that skips the last column still covers it: windows at
	// columns 0 and 1 (the last against the edge).
	b, err := e.Attribute(x, explain.Options{Method: explain.Occlusion, Window: 2, Stride: 2, Target: explain.Class(0)})
	if err != nil {
		t.Fatal(err)
	}
	wantValues(t, "stride 2", b.Values, []float64{12, 14, 16, 18, 20, 22, 24, 26, 28})
	// A constant image blurred is itself: integrated gradients from it
	// attributes nothing.
	c, err := e.Attribute([]float32{0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5}, explain.Options{Baseline: explain.Blur, Target: explain.Class(0)})
	if err != nil {
		t.Fatal(err)
	}
	wantValues(t, "blur of a constant image", c.Values, make([]float64, 9))
}

// A next-token model that maps each token's embedding to logits by a
// dense layer: the next token after a context depends on its last token
// alone, which gets all of the attribution.
func TestTextByHand(t *testing.T) {
	model := nn.NewSequential("bigram", nn.NewEmbedding(3, 2), nn.NewDense(3))
	e := handModel(t, model, &train.NextToken{Vocab: 3, SeqLen: 4}, map[string][]float64{
		"embedding1.weight": {1, 0, 0, 1, 2, -1}, // a (1 0), b (0 1), c (2 −1)
		"dense1.weight":     {1, 0, -1, 0, 1, 2}, // logits of a, b, c: (x1, x2, 2·x2 − x1)
		"dense1.bias":       {0, 0, 0},
	})
	vocab := []string{"a", "b", "c"}
	// After "a c b" the last token b (0 1) gives logits (0 1 2): c.
	a, err := e.Text([]int{0, 2, 1}, vocab, explain.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if a.Next != "c" || a.Class != 2 || !near(a.Output, 2) || !near(*a.BaselineOutput, 0) {
		t.Errorf("next %q (%d), logit %g from %g; want c (2), 2 from 0", a.Next, a.Class, a.Output, *a.BaselineOutput)
	}
	wantValues(t, "attributions", a.Values, []float64{0, 0, 2})
	if got := a.Tokens; len(got) != 3 || got[0] != "a" || got[1] != "c" || got[2] != "b" {
		t.Errorf("tokens %q", got)
	}
	// The next token asked for: a, whose logit from b is 0.
	b, err := e.Text([]int{0, 2, 1}, vocab, explain.Options{Target: explain.Class(0)})
	if err != nil {
		t.Fatal(err)
	}
	wantValues(t, "attributions for a", b.Values, []float64{0, 0, 0})
}

// Matrix factorisation with one dimension: user 0 rated movie 0 four
// stars and movie 1 two, the model's user parameters being exactly the
// least-squares fit of those ratings, which the ratings then rebuild
// whole.
func TestRecommendationByHand(t *testing.T) {
	const (
		mean, l2 = 3.0, 0.1
	)
	q := []float64{1, 2, -1}       // the movies' embeddings
	bq := []float64{0.5, 0, -0.5}  // the movies' biases
	r := []float64{4, 2}           // the ratings of movies 0 and 1
	lambda := l2 * float64(len(r)) // l2 per rating
	// J_j = (q_j, 1), ẽ_j = r_j − mean − b_j; A = JᵀJ + λI.
	e0, e1 := r[0]-mean-bq[0], r[1]-mean-bq[1]
	a11, a12, a22 := q[0]*q[0]+q[1]*q[1]+lambda, q[0]+q[1], 2+lambda
	det := a11*a22 - a12*a12
	solve := func(b1, b2 float64) (float64, float64) { return (a22*b1 - a12*b2) / det, (a11*b2 - a12*b1) / det }
	v0p, v0b := solve(q[0]*e0, e0)
	v1p, v1b := solve(q[1]*e1, e1)
	p, b := v0p+v1p, v0b+v1b // the fit: the user's parameters
	mf := &nn.MF{Users: 2, Movies: 3, Dim: 1, Mean: mean, L2: l2}
	e := handModel(t, nn.NewSequential("mf", mf), &train.Rating{Users: 2, Movies: 3}, map[string][]float64{
		"mf1.user_embedding":  {p, 0.3},
		"mf1.user_bias":       {b, -0.2},
		"mf1.movie_embedding": q,
		"mf1.movie_bias":      bq,
	})
	rec, err := e.Recommendation(0, 2, []explain.Rated{{Movie: 0, Rating: 4}, {Movie: 1, Rating: 2}}, explain.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Movie 2's prediction moves by (q_2, 1)·v_j for rating j.
	c0, c1 := q[2]*v0p+v0b, q[2]*v1p+v1b
	if !near(rec.Score, mean+b+bq[2]+p*q[2]) || !near(rec.Base, mean+bq[2]) {
		t.Errorf("score %g from base %g, want %g from %g", rec.Score, rec.Base, mean+b+bq[2]+p*q[2], mean+bq[2])
	}
	// By hand: c0 = 0.61475, c1 = 0.90164; the larger comes first.
	if len(rec.Contributions) != 2 || rec.Contributions[0].Movie != 1 || rec.Contributions[1].Movie != 0 {
		t.Fatalf("contributions %+v, want movie 1's then movie 0's", rec.Contributions)
	}
	got := rec.Contributions
	if !near(got[0].Value, c1) || !near(got[1].Value, c0) || math.Abs(c0-0.61475) > 1e-5 || math.Abs(c1-0.90164) > 1e-5 {
		t.Errorf("contributions %g and %g, want %g and %g", got[0].Value, got[1].Value, c1, c0)
	}
	if !near(got[0].Share, c1/(c0+c1)) || !near(got[1].Share, c0/(c0+c1)) || got[0].Rating != 2 {
		t.Errorf("shares %g and %g, want %g and %g", got[0].Share, got[1].Share, c1/(c0+c1), c0/(c0+c1))
	}
	if !near(rec.Rest+1, 1) || !near(rec.Fit, 1) || !near(rec.Delta+1, 1) {
		t.Errorf("rest %g, fit %g, delta %g: want 0, 1, 0", rec.Rest, rec.Fit, rec.Delta)
	}
}
