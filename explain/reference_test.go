package explain_test

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/dlrun/dlrun/datasets"
	"github.com/dlrun/dlrun/explain"
	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/nn"
	"github.com/dlrun/dlrun/train"
)

// The reference models, trained briefly (seconds each) on the bundled
// data: enough for outputs that depend on the input as a trained model's
// do. The tests below hold for any weights; trained ones make them
// meaningful.

var (
	refMu     sync.Mutex
	refModels = map[string]*train.Trainer{}
)

// examples is how many test examples each model's tests explain.
const examples = 6

// reference returns reference model name, trained briefly with seed 1,
// built once per test binary.
func reference(t testing.TB, name string) *train.Trainer {
	t.Helper()
	refMu.Lock()
	defer refMu.Unlock()
	if tr, ok := refModels[name]; ok {
		return tr
	}
	tr := trainReference(t, name, 1, 1)
	refModels[name] = tr
	return tr
}

// trainReference builds reference model name with seed and trains it for
// epochs epochs on a part of its bundled data (none for epochs 0).
func trainReference(t testing.TB, name string, seed uint64, epochs int) *train.Trainer {
	t.Helper()
	refName := name
	switch name {
	case "gru":
		refName = "rnn"
	case "regress":
		refName = "mlp"
	}
	ref, err := nn.ReferenceByName(refName)
	if err != nil {
		t.Fatal(err)
	}
	var (
		model *nn.Sequential
		task  train.Task
		data  train.Data
		cfg   = train.Config{BatchSize: 32, Seed: seed}
	)
	switch name {
	case "xor":
		d := datasets.XOR()
		model, err = ref.New(d.Shape, 2)
		task, data = &train.Classify{Shape: d.Shape, Outputs: 2}, d.Train
		cfg.BatchSize, cfg.LearningRate, epochs = 4, 0.05, 100*epochs
	case "regress": // the mlp regressing y = 1 + 3·x1 − 2·x2 + x1·x3 + noise, standardised
		rows := regressionRows(512)
		model, err = ref.New(rows.Shape(), 1)
		task, data = &train.Regress{Shape: rows.Shape(), TargetStd: 2}, rows
		cfg.Loss, cfg.LearningRate, epochs = "mse", 0.01, 20*epochs
	case "mlp", "cnn", "cnn-bn", "rnn", "gru", "resnet":
		d := fashion(t, name == "rnn" || name == "gru")
		model, err = ref.New(d.Shape, 10)
		if name == "gru" {
			model, err = ref.Build(d.Shape, 10, nn.Options{Cell: graph.GRUCell})
		}
		task, data = &train.Classify{Shape: d.Shape, Outputs: 10}, d.Train.Subset(1024)
		switch name {
		case "cnn", "cnn-bn":
			data = d.Train.Subset(2048)
		case "resnet": // its recipe's learning rate: at the default a brief training leaves the logits flat
			data, cfg.LearningRate = d.Train.Subset(1024), 2e-3
		}
	case "charrnn", "gpt":
		text := austen(t)
		model, err = ref.New([]int{32}, len(text.Vocab))
		task, data = &train.NextToken{Vocab: len(text.Vocab), SeqLen: 32}, train.Tokens(text.Train[:8*32*20+1])
		cfg.BatchSize, cfg.LearningRate = 8, 0.003
		if name == "gpt" {
			data = train.Tokens(text.Train[:8*32*8+1])
		}
	case "mf", "ncf", "biases":
		r := movieLens(t)
		model, err = ref.Build([]int{2}, 1, nn.Options{Users: len(r.UserIDs), Movies: len(r.MovieIDs), Mean: r.Mean(), L2: 0.05})
		task, data = &train.Rating{Users: len(r.UserIDs), Movies: len(r.MovieIDs)}, ratingList(r.Train)
		cfg.BatchSize, cfg.Loss, cfg.LearningRate = 256, "mse", 0.01
	default:
		t.Fatalf("no data for reference model %s", name)
	}
	if err != nil {
		t.Fatal(err)
	}
	tr, err := train.New(model, task, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for range epochs {
		if _, _, err := tr.TrainEpoch(data); err != nil {
			t.Fatal(err)
		}
	}
	return tr
}

// targetRows are a table's rows with a real target each (train.Targets).
type targetRows struct {
	x, y  []float32
	width int
}

func (r *targetRows) Len() int     { return len(r.y) }
func (r *targetRows) Shape() []int { return []int{r.width} }
func (r *targetRows) Target(i int, dst []float32) float32 {
	copy(dst, r.x[i*r.width:(i+1)*r.width])
	return r.y[i]
}

// regressionRows returns n rows of 4 standard normal features and the
// target 1 + 3·x1 − 2·x2 + x1·x3 plus noise (x4 does not count), divided
// by 2 (train.Regress's TargetStd).
func regressionRows(n int) *targetRows {
	rng := rand.New(rand.NewPCG(7, 8))
	r := &targetRows{width: 4}
	for range n {
		x := []float64{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()}
		for _, v := range x {
			r.x = append(r.x, float32(v))
		}
		r.y = append(r.y, float32((1+3*x[0]-2*x[1]+x[0]*x[2]+0.1*rng.NormFloat64())/2))
	}
	return r
}

func fashion(t testing.TB, rows bool) *datasets.Dataset {
	t.Helper()
	d, err := datasets.FashionMNIST()
	if err != nil {
		t.Fatal(err)
	}
	if rows {
		if d, err = datasets.AsSequence(d); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

func austen(t testing.TB) *datasets.Text {
	t.Helper()
	text, err := datasets.PrideAndPrejudice()
	if err != nil {
		t.Fatal(err)
	}
	return text
}

func movieLens(t testing.TB) *datasets.Ratings {
	t.Helper()
	r, err := datasets.MovieLens()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// ratingList presents ratings as train.Ratings.
type ratingList []datasets.Rating

func (r ratingList) Len() int { return len(r) }
func (r ratingList) Rating(i int) (user, movie int, value float32) {
	return r[i].User, r[i].Movie, r[i].Value
}

// testImages returns the first n test examples of the bundled
// Fashion-MNIST (as rows for the rnn).
func testImages(t testing.TB, rows bool, n int) [][]float32 {
	d := fashion(t, rows)
	per := len(d.Test.X) / d.Test.Len()
	xs := make([][]float32, n)
	for i := range xs {
		xs[i] = d.Test.X[i*per : (i+1)*per]
	}
	return xs
}

func newExplainer(t *testing.T, tr *train.Trainer) *explain.Explainer {
	t.Helper()
	e, err := explain.New(tr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// complete checks the completeness of one of a test's explanations: the
// attributions must sum to the output's change within 1%. The test logs
// its largest error at its end.
func complete(t *testing.T, what string, out, base, delta float64) {
	t.Helper()
	rel := math.Abs(delta) / math.Abs(out-base)
	if !(rel <= 0.01) {
		t.Errorf("%s: attributions sum to %.5g, the output moves by %.5g (%.5g to %.5g): %.2f%% off", what, out-base+delta, out-base, base, out, 100*rel)
	}
	worstMu.Lock()
	defer worstMu.Unlock()
	if _, ok := worst[t]; !ok {
		t.Cleanup(func() {
			worstMu.Lock()
			defer worstMu.Unlock()
			t.Logf("completeness: within %.3f%% at worst", 100*worst[t])
		})
	}
	worst[t] = math.Max(worst[t], rel)
}

var (
	worstMu sync.Mutex
	worst   = map[*testing.T]float64{}
)

// The reference models whose completeness the test below checks. A
// reference model added to nn gets its case here and in trainReference.
// notExplained are the reference models of a kind explain does not
// explain yet, and why: the coverage check below passes them over.
var notExplained = map[string]string{
	"music-lstm":        "the music kind's next-step task: explain has no method for piano rolls yet",
	"music-lstm-joint":  "the music kind's next-step task: explain has no method for piano rolls yet",
	"music-transformer": "the music kind's next-step task: explain has no method for piano rolls yet",
	"shots":             "the shots kind: its frame_changes layer passes no gradient back, so attributions over frames would not add up",
}

var completenessChecked = []string{"xor", "mlp", "cnn", "cnn-bn", "rnn", "resnet", "charrnn", "gpt", "mf", "ncf", "biases"}

// completenessExamples is how many examples of each reference model the
// completeness test explains: the first test images, held-out contexts,
// users' first test ratings or rows.
const completenessExamples = 16

// Integrated gradients at 50 steps with the default rule satisfies
// completeness on every example of a fixed sample of every reference model
// (and the rnn with a GRU, and the mlp regressing a table's rows), as
// complete checks it: the attributions sum to the output at the input less
// the output at the baseline within 1%.
func TestCompletenessOnTheReferenceModels(t *testing.T) {
	for _, r := range nn.References() {
		if why, ok := notExplained[r.Name]; ok {
			t.Logf("reference model %s: not explained (%s)", r.Name, why)
			continue
		}
		if !slices.Contains(completenessChecked, r.Name) {
			t.Errorf("reference model %s: no completeness test; give it one in explain/reference_test.go (trainReference and TestCompletenessOnTheReferenceModels)", r.Name)
		}
	}
	t.Run("xor", func(t *testing.T) {
		e := newExplainer(t, reference(t, "xor"))
		as, err := e.AttributeAll([][]float32{{0, 1}, {1, 0}, {1, 1}}, explain.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for i, a := range as {
			complete(t, fmt.Sprintf("point %d", i+1), a.Output, *a.BaselineOutput, *a.Delta)
		}
	})
	for _, name := range []string{"mlp", "cnn", "cnn-bn", "rnn", "gru", "resnet"} {
		t.Run(name, func(t *testing.T) {
			e := newExplainer(t, reference(t, name))
			as, err := e.AttributeAll(testImages(t, name == "rnn" || name == "gru", completenessExamples), explain.Options{})
			if err != nil {
				t.Fatal(err)
			}
			for i, a := range as {
				if a.Steps != 50 || a.Rule != explain.Adaptive || a.Baseline != explain.Black {
					t.Fatalf("defaults: %d steps, %s, %s baseline", a.Steps, a.Rule, a.Baseline)
				}
				complete(t, fmt.Sprintf("example %d", i+1), a.Output, *a.BaselineOutput, *a.Delta)
				if got := a.Sum() - (a.Output - *a.BaselineOutput); math.Abs(got-*a.Delta) > 1e-9*math.Max(1, math.Abs(got)) {
					t.Errorf("example %d: delta %g, the sum says %g", i+1, *a.Delta, got)
				}
			}
		})
	}
	t.Run("cnn blurred", func(t *testing.T) {
		e := newExplainer(t, reference(t, "cnn"))
		as, err := e.AttributeAll(testImages(t, false, completenessExamples), explain.Options{Baseline: explain.Blur})
		if err != nil {
			t.Fatal(err)
		}
		for i, a := range as {
			complete(t, fmt.Sprintf("example %d", i+1), a.Output, *a.BaselineOutput, *a.Delta)
		}
	})
	t.Run("regress", func(t *testing.T) {
		e := newExplainer(t, reference(t, "regress"))
		rows := regressionRows(512 + completenessExamples)
		xs := make([][]float32, completenessExamples)
		for i := range xs {
			xs[i] = make([]float32, rows.width)
			rows.Target(512+i, xs[i])
		}
		as, err := e.AttributeAll(xs, explain.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for i, a := range as {
			if a.Quantity != explain.Prediction {
				t.Fatalf("a regression's quantity: %s", a.Quantity)
			}
			complete(t, fmt.Sprintf("row %d", i+1), a.Output, *a.BaselineOutput, *a.Delta)
		}
	})
	for _, name := range []string{"charrnn", "gpt"} {
		t.Run(name, func(t *testing.T) {
			e := newExplainer(t, reference(t, name))
			text := austen(t)
			const contexts = 4
			for i := range contexts {
				a, err := e.Text(text.HeldOut[i*200:i*200+32], text.Vocab, explain.Options{})
				if err != nil {
					t.Fatal(err)
				}
				complete(t, fmt.Sprintf("context %d", i+1), a.Output, *a.BaselineOutput, *a.Delta)
			}
		})
	}
	for _, name := range []string{"mf", "ncf", "biases"} {
		t.Run(name, func(t *testing.T) {
			e := newExplainer(t, reference(t, name))
			r := movieLens(t)
			for _, test := range firstTests(r, completenessExamples) {
				rec, err := e.Recommendation(test.User, test.Movie, ratedBy(r, test.User), explain.Options{})
				if err != nil {
					t.Fatal(err)
				}
				total := rec.Rest - rec.Delta
				for _, c := range rec.Contributions {
					total += c.Value
				}
				if math.Abs(total-(rec.Score-rec.Base)) > 1e-6 {
					t.Errorf("user %d, movie %d: contributions and rest less delta sum to %g, score less base %g", test.User, test.Movie, total, rec.Score-rec.Base)
				}
				complete(t, fmt.Sprintf("user %d, movie %d", test.User, test.Movie), rec.Score, rec.Base, rec.Delta)
			}
		})
	}
}

// firstTests returns the first test rating of each of the first n users.
func firstTests(r *datasets.Ratings, n int) []datasets.Rating {
	var out []datasets.Rating
	for _, x := range r.Test {
		if len(out) == n {
			break
		}
		if len(out) == 0 || out[len(out)-1].User != x.User {
			out = append(out, x)
		}
	}
	return out
}

// ratedBy returns user's training ratings.
func ratedBy(r *datasets.Ratings, user int) []explain.Rated {
	var out []explain.Rated
	for _, x := range r.Train {
		if x.User == user {
			out = append(out, explain.Rated{Movie: x.Movie, Rating: float64(x.Value)})
		}
	}
	return out
}

// Adebayo et al.'s sanity check (2018), their model parameter
// randomisation test: an attribution must depend on what the model learnt.
// The cnn with every layer re-initialised (cascading randomisation to the
// bottom) ranks the pixels differently from the trained cnn: Spearman's
// correlation of the signed maps (the gradient itself, integrated
// gradients), averaged over the examples, under 0.5 over the whole image.
// The maps' absolute values share more, whatever the weights: integrated
// gradients is zero wherever the input is (the black background), and
// the gradient's magnitude is shaped by the architecture and the
// input's silhouette (docs/explain.md measures both). Saliency's must
// still be further from the trained cnn's than two initialisations of
// the cnn (seeds 2 and 3) are from each other.
func TestAttributionsFailWithReinitialisedWeights(t *testing.T) {
	trained := newExplainer(t, reference(t, "cnn"))
	fresh := trainReference(t, "cnn", 2, 0)
	defer fresh.Close()
	random := newExplainer(t, fresh)
	other := trainReference(t, "cnn", 3, 0)
	defer other.Close()
	random3 := newExplainer(t, other)
	xs := testImages(t, false, examples)
	for _, method := range []explain.Method{explain.Saliency, explain.IntegratedGradients} {
		opt := explain.Options{Method: method, Signed: true}
		a, err := trained.AttributeAll(xs, opt)
		if err != nil {
			t.Fatal(err)
		}
		var abs, signed, absRandom float64
		for i, x := range xs {
			// The same class in both: the trained model's prediction.
			opt.Target = explain.Class(a[i].Class)
			b, err := random.Attribute(x, opt)
			if err != nil {
				t.Fatal(err)
			}
			c, err := random3.Attribute(x, opt)
			if err != nil {
				t.Fatal(err)
			}
			abs += spearman(absolute(a[i].Values), absolute(b.Values)) / examples
			signed += spearman(a[i].Values, b.Values) / examples
			absRandom += spearman(absolute(c.Values), absolute(b.Values)) / examples
		}
		t.Logf("%s: Spearman's correlation, trained against re-initialised, %.3f of the absolute maps, %.3f signed; two initialisations %.3f (absolute)", method, abs, signed, absRandom)
		if !(signed < 0.5) {
			t.Errorf("%s of the trained and the re-initialised cnn: Spearman's correlation %.3f (signed), want < 0.5", method, signed)
		}
		if method == explain.Saliency && !(abs < absRandom) {
			t.Errorf("saliency of the trained and the re-initialised cnn: Spearman's correlation %.3f, want less than two initialisations' %.3f", abs, absRandom)
		}
	}
}

// absolute returns |v|.
func absolute(v []float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = math.Abs(x)
	}
	return out
}

// interior returns the values of a side×side image that lie at least
// margin pixels from its edges.
func interior(v []float64, side, margin int) []float64 {
	var out []float64
	for y := margin; y < side-margin; y++ {
		out = append(out, v[y*side+margin:y*side+side-margin]...)
	}
	return out
}

// spearman returns Spearman's rank correlation of a and b (mid-ranks for
// ties).
func spearman(a, b []float64) float64 {
	ra, rb := ranks(a), ranks(b)
	ma, mb := mean(ra), mean(rb)
	var sab, saa, sbb float64
	for i := range ra {
		sab += (ra[i] - ma) * (rb[i] - mb)
		saa += (ra[i] - ma) * (ra[i] - ma)
		sbb += (rb[i] - mb) * (rb[i] - mb)
	}
	return sab / math.Sqrt(saa*sbb)
}

func ranks(v []float64) []float64 {
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(i, j int) int { return cmp.Compare(v[i], v[j]) })
	r := make([]float64, len(v))
	for lo := 0; lo < len(idx); {
		hi := lo
		for hi+1 < len(idx) && v[idx[hi+1]] == v[idx[lo]] {
			hi++
		}
		for k := lo; k <= hi; k++ {
			r[idx[k]] = float64(lo+hi)/2 + 1
		}
		lo = hi + 1
	}
	return r
}

func mean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}
