package train

import (
	"math"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/nn"
)

// steps makes a sequence of width-wide steps, step t having value
// on[t] set (-1: none).
func steps(width int, on ...int) []float32 {
	q := make([]float32, len(on)*width)
	for t, k := range on {
		if k >= 0 {
			q[t*width+k] = 1
		}
	}
	return q
}

// A pass reads each sequence as windows of SeqLen predicted steps, the
// targets one step ahead of the inputs, padding of weight 0 past a
// sequence's end; Len counts the predicted steps.
func TestNextStepWindows(t *testing.T) {
	d := &Sequences{Width: 3, Seqs: [][]float32{steps(3, 0, 1, 2, 0, 1, 2), steps(3, 2, 1)}}
	if d.Len() != 5+1 {
		t.Fatalf("Len %d, want 6", d.Len())
	}
	task := &NextStep{Width: 3, SeqLen: 4}
	model := nn.NewSequential("m", &nn.Recurrent{Hidden: 2, ReturnSequences: true}, nn.NewDense(3))
	g := graph.New(graph.WithSeed(1))
	if _, _, err := task.Build(g, model, 3, BinaryCrossEntropy); err != nil {
		t.Fatal(err)
	}
	if err := task.Check(d, "training"); err != nil {
		t.Fatal(err)
	}
	n, err := task.Pass(d, nil)
	if err != nil || n != 1 {
		t.Fatalf("Pass: %d batches, %v; want 1 (3 windows)", n, err)
	}
	k, err := task.Fill(0)
	if err != nil || k != 6 {
		t.Fatalf("Fill: %d steps, %v; want 6", k, err)
	}
	x, y, w := task.xT.Float32s(), task.yT.Float32s(), task.wT.Float32s()
	// Window 1: steps 1-4 predicting 2-5; window 2: step 5 predicting 6;
	// window 3: the second sequence's step 1 predicting its step 2.
	wantW := []float32{1, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 0}
	for r, v := range wantW {
		if w[r] != v {
			t.Fatalf("weights %v, want %v", w, wantW)
		}
	}
	on := func(v []float32, row int) int {
		for j := 0; j < 3; j++ {
			if v[row*3+j] == 1 {
				return j
			}
		}
		return -1
	}
	for _, c := range []struct{ row, in, out int }{{0, 0, 1}, {3, 0, 1}, {4, 1, 2}, {5, -1, -1}, {8, 2, 1}} {
		if on(x, c.row) != c.in || on(y, c.row) != c.out {
			t.Errorf("row %d: in %d, target %d; want %d, %d", c.row, on(x, c.row), on(y, c.row), c.in, c.out)
		}
	}
}

// Data a music model cannot read is refused, naming what is wrong.
func TestNextStepCheck(t *testing.T) {
	task := &NextStep{Width: 3, SeqLen: 4}
	model := nn.NewSequential("m", &nn.Recurrent{Hidden: 2, ReturnSequences: true}, nn.NewDense(3))
	if _, _, err := task.Build(graph.New(), model, 2, CrossEntropy); err == nil || !strings.Contains(err.Error(), "trains with bce") {
		t.Errorf("cce: %v", err)
	}
	if _, _, err := task.Build(graph.New(), nn.NewSequential("m", &nn.Recurrent{Hidden: 2, ReturnSequences: true}, nn.NewDense(4)), 2, BinaryCrossEntropy); err == nil || !strings.Contains(err.Error(), "want [4 3] logits") {
		t.Errorf("4 outputs: %v", err)
	}
	if _, _, err := task.Build(graph.New(), model, 2, BinaryCrossEntropy); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		d    Data
		want string
	}{
		{Tokens{1, 2}, "are not *train.Sequences"},
		{&Sequences{Width: 4, Seqs: [][]float32{make([]float32, 8)}}, "steps of 4 values, but the model's have 3"},
		{&Sequences{Width: 3, Seqs: [][]float32{make([]float32, 7)}}, "sequence 1 holds 7 values"},
		{&Sequences{Width: 3, Seqs: [][]float32{{0, 0, 0, 0, 0.5, 0}}}, "sequence 1, step 2: value 0.5 is not 0 or 1"},
		{&Sequences{Width: 3, Seqs: [][]float32{make([]float32, 3)}}, "no sequence has a step to predict"},
	} {
		if err := task.Check(c.d, "test"); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.d, err, c.want)
		}
	}
}

// A ratio metric is the ratio of its sums over the pass, not a mean of
// per-batch ratios; the others stay means.
func TestRatioMetricReduces(t *testing.T) {
	ms := []Metric{FrameAccuracy, Accuracy}
	if figures(ms) != 3 {
		t.Fatalf("figures %d, want 3", figures(ms))
	}
	got := reduce(ms, []float64{3, 12, 5}, 10)
	if got[0] != 0.25 || got[1] != 0.5 {
		t.Errorf("reduce: %v, want [0.25 0.5]", got)
	}
	if got := reduce(ms, []float64{0, 0, 5}, 10); got[0] != 0 {
		t.Errorf("an empty ratio: %v, want 0", got[0])
	}
}

// The NLL per step is the loss, averaged over a step's values, times
// Width: the sum over the values.
func TestNextStepDerived(t *testing.T) {
	name, v := (&NextStep{Width: 88}).Derived(0.1)
	if name != "nll" || v != 0.1*88 {
		t.Errorf("Derived(0.1) = %s %v, want nll 8.8", name, v)
	}
}

// A model with an autoregressive output is trained on the conditionals of
// each step's values given those below them: its loss is the joint
// negative log-likelihood computed by hand from the logits the layer is
// given and its weight, and its frame accuracy scores the values predicted
// one by one (nn.Draw at temperature 0), not the conditionals given the
// true values.
func TestNextStepJoint(t *testing.T) {
	const W, T = 4, 6
	d := &Sequences{Width: W, Seqs: [][]float32{
		{1, 0, 1, 0, 0, 1, 1, 0, 1, 1, 0, 1, 0, 0, 1, 1, 1, 0, 1, 0},
		{0, 1, 1, 0, 1, 1, 0, 1, 0, 0, 1, 1, 1, 0, 0, 1, 0, 1, 1, 0, 1, 0, 0, 1},
		{1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 1, 1},
	}}
	joint := &nn.Autoregressive{Hidden: 3}
	model := nn.NewSequential("joint", &nn.Recurrent{Hidden: 3, ReturnSequences: true}, nn.NewDense(W), joint)
	tr, err := New(model, &NextStep{Width: W, SeqLen: T}, Config{Loss: "bce", BatchSize: 2, Epochs: 3, Optimizer: "adam", LearningRate: 0.05, DType: "float64"})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if _, err := tr.Fit(d, d, nil); err != nil {
		t.Fatal(err)
	}
	ev, err := tr.Evaluate(d)
	if err != nil {
		t.Fatal(err)
	}
	a, err := joint.Weights(W)
	if err != nil {
		t.Fatal(err)
	}
	if a.A[1*W+0] == 0 || a.U[2*3+1] == 0 {
		t.Fatalf("the autoregressive weights did not train: %+v", a)
	}

	// The logits the layer is given: the same model built without a
	// condition, sharing the trained values, a sequence at a time.
	spec, err := nn.Describe(model)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := spec.Build()
	if err != nil {
		t.Fatal(err)
	}
	var nll, tp, all float64
	steps := 0
	for _, q := range d.Seqs {
		n := len(q)/W - 1
		g := graph.New(graph.WithDType(graph.Float64))
		x, err := g.Input("x", 1, n, W)
		if err != nil {
			t.Fatal(err)
		}
		y, err := plain.Build(g, x)
		if err != nil {
			t.Fatal(err)
		}
		if err := g.ShareValues(tr.Graph()); err != nil {
			t.Fatal(err)
		}
		in := make([]float64, n*W)
		for i := range in {
			in[i] = float64(q[i])
		}
		if err := g.SetInput(x, in); err != nil {
			t.Fatal(err)
		}
		p, err := g.CompileForward(y)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Run(false); err != nil {
			t.Fatal(err)
		}
		z, want, guess, added := make([]float64, W), make([]float64, W), make([]float64, W), make([]float64, W)
		for s := 0; s < n; s++ {
			if err := p.OutputRow(0, s, z); err != nil {
				t.Fatal(err)
			}
			for k := range want {
				want[k] = float64(q[(s+1)*W+k])
			}
			if err := a.Added(want, added); err != nil {
				t.Fatal(err)
			}
			for k := range z {
				l := z[k] + added[k]
				nll += math.Max(l, 0) - l*want[k] + math.Log1p(math.Exp(-math.Abs(l)))
			}
			if err := a.Draw(z, 0, nil, guess); err != nil {
				t.Fatal(err)
			}
			for k := range guess {
				switch {
				case guess[k] == 1 && want[k] == 1:
					tp++
					all++
				case guess[k] == 1 || want[k] == 1:
					all++
				}
			}
			steps++
		}
		p.Close()
	}
	if got, want := ev.Loss*W, nll/float64(steps); math.Abs(got-want) > 1e-9 {
		t.Errorf("NLL per step %.12f, by hand %.12f", got, want)
	}
	if got, want := ev.Metrics[FrameAccuracy.Name], tp/all; math.Abs(got-want) > 1e-12 {
		t.Errorf("frame accuracy %v, by hand (values predicted one by one) %v", got, want)
	}
}

// An autoregressive output under a task that would not give it the values
// it predicts is refused by name.
func TestJointNeedsTheMusicTask(t *testing.T) {
	model := nn.NewSequential("c", nn.NewDense(4), nn.NewAutoregressive())
	_, err := New(model, &Classify{Shape: []int{3}, Outputs: 4}, Config{})
	if err == nil || !strings.Contains(err.Error(), "autoregressive1 (Autoregressive): an autoregressive output needs a task that gives it the values it predicts (music), not classify") {
		t.Errorf("a classifier with an autoregressive output: %v", err)
	}
}
