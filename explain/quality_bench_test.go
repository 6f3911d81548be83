package explain_test

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/explain"
	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/runner"
	"github.com/dlrun/dlrun/train"
)

// The quality of the attributions on the reference models trained by
// their recipes (dlrun train --model NAME): minutes of training, so
// benchmarks, run by hand and by .ci/run's quality step:
//
//	go test ./explain -run '^$' -bench Quality -benchtime 1x
//
// docs/explain.md quotes their figures.

// trainRecipe trains reference model name by its recipe into a temporary
// folder and opens the run.
func trainRecipe(b *testing.B, name string) *run.Run {
	b.Helper()
	dir := b.TempDir()
	if _, err := runner.Train(run.Config{Model: name}, runner.Options{Out: dir}); err != nil {
		b.Fatal(err)
	}
	r, err := run.Open(dir, false)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { r.Close() })
	return r
}

// completeness gathers the relative completeness errors |Δ| / |f(x) −
// f(baseline)| of a set of explanations.
type completeness []float64

// add adds an explanation's error: 0 where the attributions sum to the
// change exactly (an input equal to the baseline among them).
func (c *completeness) add(out, base, delta float64) {
	rel := 0.0
	if delta != 0 {
		rel = math.Abs(delta) / math.Abs(out-base)
	}
	*c = append(*c, rel)
}

// within returns the share of the errors within 1%, the median and the
// largest.
func (c completeness) within() (share, median, worst float64) {
	s := slices.Clone(c)
	slices.Sort(s)
	n := 0
	for _, v := range s {
		if v <= 0.01 {
			n++
		}
	}
	return float64(n) / float64(len(s)), s[len(s)/2], s[len(s)-1]
}

// report reports c's figures as the benchmark's metrics, and fails the
// benchmark if fewer than want of the explanations are within 1%.
func (c completeness) report(b *testing.B, what string, want float64) {
	share, median, worst := c.within()
	b.ReportMetric(100*share, "%within1%")
	b.ReportMetric(100*median, "%median")
	b.ReportMetric(100*worst, "%worst")
	b.Logf("%s: %d explanations, %.0f%% within 1%%, median %.3f%%, worst %.3f%%", what, len(c), 100*share, 100*median, 100*worst)
	if share < want {
		b.Errorf("%s: %.0f%% of %d explanations within 1%% of completeness, want at least %.0f%%", what, 100*share, len(c), 100*want)
	}
}

// qualityExamples is how many examples of each model's test split the
// quality benchmarks explain.
const qualityExamples = 100

// testExamples returns the first n test examples of a classifier's run
// (all of them if it has fewer).
func testExamples(b *testing.B, r *run.Run, n int) [][]float32 {
	d, err := r.Data("")
	if err != nil {
		b.Fatal(err)
	}
	test := d.Test.(train.Examples)
	n = min(n, test.Len())
	per := 1
	for _, s := range test.Shape() {
		per *= s
	}
	xs := make([][]float32, n)
	for i := range xs {
		xs[i] = make([]float32, per)
		test.Example(i, xs[i])
	}
	return xs
}

// A setting of integrated gradients whose completeness is measured;
// def marks the default, whose share of explanations within 1% must reach
// the model's floor.
type setting struct {
	rule     explain.Rule
	quantity explain.Quantity
	def      bool
}

func (s setting) String() string { return fmt.Sprintf("%s-%s", s.rule, s.quantity) }

// settings are the rules and quantities compared: the default
// (Gauss–Legendre on the logit) must reach the model's floor; the others
// are reported.
var settings = []setting{
	{explain.Adaptive, explain.Logit, true},
	{explain.GaussLegendre, explain.Logit, false},
	{explain.Trapezoid, explain.Logit, false},
	{explain.RightSum, explain.Logit, false},
	{explain.Trapezoid, explain.Probability, false},
	{explain.GaussLegendre, explain.Probability, false},
}

// floors are the least shares of explanations within 1% of completeness
// that the default reaches on each reference model: every one, as
// docs/explain.md measured (on AMD Zen 4, AVX-512).
var floors = map[string]float64{
	"xor": 1, "mlp": 1, "cnn": 1, "cnn-bn": 1, "rnn": 1, "charrnn": 1,
	"mf": 1, "ncf": 1, "biases": 1,
}

// floor returns the share setting s must reach on model name: the
// model's floor for the default, none for the others.
func (s setting) floor(name string) float64 {
	if s.def {
		return floors[name]
	}
	return 0
}

// The rules of integrated gradients, at 50 steps, by how often the
// attributions of 100 test examples of each reference model sum to the
// change of the output within 1% (completeness), for the logit and for
// the probability of the predicted class (or next token).
func BenchmarkQualityCompleteness(b *testing.B) {
	for _, name := range []string{"xor", "mlp", "cnn", "cnn-bn", "rnn"} {
		b.Run(name, func(b *testing.B) {
			r := trainRecipe(b, name)
			e := newBenchExplainer(b, r)
			xs := testExamples(b, r, qualityExamples)
			for _, s := range settings {
				if s.quantity == explain.Probability && r.Model.Trainer().Loss().Name == "mse" {
					continue
				}
				b.Run(s.String(), func(b *testing.B) {
					for range b.N {
						as, err := e.AttributeAll(xs, explain.Options{Rule: s.rule, Quantity: s.quantity})
						if err != nil {
							b.Fatal(err)
						}
						var c completeness
						for _, a := range as {
							c.add(a.Output, *a.BaselineOutput, *a.Delta)
						}
						c.report(b, name+", "+s.String(), s.floor(name))
					}
				})
			}
		})
	}
	b.Run("charrnn", func(b *testing.B) {
		r := trainRecipe(b, "charrnn")
		e := newBenchExplainer(b, r)
		d, err := r.Data("")
		if err != nil {
			b.Fatal(err)
		}
		held := d.Test.(train.Tokens)
		const context = 64
		for _, s := range settings {
			if s.quantity == explain.Probability || s.rule == explain.RightSum {
				continue // seconds an example: the default and the trapezoid only
			}
			b.Run(s.String(), func(b *testing.B) {
				for range b.N {
					var c completeness
					for i := range qualityExamples {
						at := i * (len(held) - context) / qualityExamples
						a, err := e.Text(held[at:at+context], d.Vocab, explain.Options{Rule: s.rule, Quantity: s.quantity})
						if err != nil {
							b.Fatal(err)
						}
						c.add(a.Output, *a.BaselineOutput, *a.Delta)
					}
					c.report(b, "charrnn, "+s.String(), s.floor("charrnn"))
				}
			})
		}
	})
	for _, name := range []string{"mf", "ncf", "biases"} {
		b.Run(name, func(b *testing.B) {
			r := trainRecipe(b, name)
			e := newBenchExplainer(b, r)
			rec, err := r.Recommender("")
			if err != nil {
				b.Fatal(err)
			}
			tests := firstTests(rec.Ratings, qualityExamples)
			for _, s := range settings {
				if s.quantity == explain.Probability {
					continue
				}
				b.Run(s.String(), func(b *testing.B) {
					for range b.N {
						var c completeness
						for _, x := range tests {
							ex, err := e.Recommendation(x.User, x.Movie, ratedBy(rec.Ratings, x.User), explain.Options{Rule: s.rule})
							if err != nil {
								b.Fatal(err)
							}
							c.add(ex.Score, ex.Base, ex.Delta)
						}
						c.report(b, name+", "+s.String(), s.floor(name))
					}
				})
			}
		})
	}
}

func newBenchExplainer(b *testing.B, r *run.Run) *explain.Explainer {
	b.Helper()
	e, err := explain.New(r.Model.Trainer())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { e.Close() })
	return e
}

// sanityImages is how many test images the sanity check compares.
const sanityImages = 20

// Adebayo et al.'s model parameter randomisation test (2018) on the
// reference cnn trained by its recipe (10 epochs), as the paper sets it
// up: the weights re-initialised layer by layer from the top (cascading:
// the logits, then the dense layer below, the second convolution, the
// first, when all are random) and one layer at a time (independent), each
// re-initialised layer drawn afresh by its initialiser (seed 2); the maps
// of sanityImages test images compared with the trained cnn's by
// Spearman's rank correlation, of the maps' absolute values and of the
// signed maps (saliency's signed map is the gradient itself), over the
// whole image, the class explained being the trained cnn's prediction.
// Beside them, two different initialisations (seeds 2 and 3) compared
// with each other: the structure the architecture and the input give any
// map, trained or not; and each absolute map's correlation with the
// image's pixels. The benchmark fails unless every method's signed map of
// the fully re-initialised cnn correlates under 0.5 with the trained
// one's, and saliency's absolute map less than two initialisations' do.
func BenchmarkQualitySanityCheck(b *testing.B) {
	r := trainRecipe(b, "cnn")
	trained := r.Model.Trainer()
	xs := testExamples(b, r, sanityImages)
	layers := layersOf(trained.Graph())
	type variant struct {
		name      string
		reinit    func(i int) bool // whether layer i (from the bottom) is re-initialised
		seed      uint64
		reference *train.Trainer // what it is compared with: the trained cnn, or nil for it
	}
	var variants []variant
	for k := len(layers) - 1; k >= 0; k-- {
		variants = append(variants, variant{name: "cascading to " + layers[k], reinit: func(i int) bool { return i >= k }, seed: 2})
	}
	for k := len(layers) - 1; k >= 0; k-- {
		variants = append(variants, variant{name: "independent " + layers[k], reinit: func(i int) bool { return i == k }, seed: 2})
	}
	random2 := reinitialised(b, trained, 2, func(int) bool { return true })
	variants = append(variants, variant{name: "random (seed 3) vs random (seed 2)", reinit: func(int) bool { return true }, seed: 3, reference: random2})
	methods := []explain.Options{{Method: explain.Saliency, Signed: true}, {Method: explain.IntegratedGradients}, {Method: explain.Occlusion}}
	for range b.N {
		refs := map[*train.Trainer][][]*explain.Attribution{}
		maps := func(tr *train.Trainer, classes []int) [][]*explain.Attribution {
			e, err := explain.New(tr)
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close()
			out := make([][]*explain.Attribution, len(methods))
			for m, opt := range methods {
				out[m] = make([]*explain.Attribution, len(xs))
				for i, x := range xs {
					o := opt
					if classes != nil {
						o.Target = explain.Class(classes[i])
					}
					if out[m][i], err = e.Attribute(x, o); err != nil {
						b.Fatal(err)
					}
				}
			}
			return out
		}
		base := maps(trained, nil)
		classes := make([]int, len(xs))
		for i, a := range base[0] {
			classes[i] = a.Class
		}
		refs[nil] = base
		b.Logf("Spearman's rank correlation with the trained cnn's maps, mean over %d test images: absolute maps (inside a %d-pixel border) / signed maps", len(xs), border)
		type figure struct{ abs, inside, signed float64 }
		full := map[string][]figure{} // the fully re-initialised cnn's and two initialisations'
		silhouette := func(what string, ms [][]*explain.Attribution) {
			line := fmt.Sprintf("%s, absolute map against the image's pixels:", what)
			for m, opt := range methods {
				rho := 0.0
				for i, x := range xs {
					rho += spearman(absolute(ms[m][i].Values), float64s(x)) / float64(len(xs))
				}
				line += fmt.Sprintf("  %s %.3f", opt.Method, rho)
			}
			b.Log(line)
		}
		silhouette("trained cnn", base)
		for _, v := range variants {
			tr := reinitialised(b, trained, v.seed, v.reinit)
			got := maps(tr, classes)
			tr.Close()
			ref, ok := refs[v.reference]
			if !ok {
				ref = maps(v.reference, classes)
				refs[v.reference] = ref
			}
			line := v.name + ":"
			figs := make([]figure, len(methods))
			for m, opt := range methods {
				f := &figs[m]
				for i := range xs {
					a, c := absolute(ref[m][i].Values), absolute(got[m][i].Values)
					f.abs += spearman(a, c) / float64(len(xs))
					f.inside += spearman(interior(a, 28, border), interior(c, 28, border)) / float64(len(xs))
					f.signed += spearman(ref[m][i].Values, got[m][i].Values) / float64(len(xs))
				}
				line += fmt.Sprintf("  %s %.3f (%.3f) / %.3f", opt.Method, f.abs, f.inside, f.signed)
			}
			b.Log(line)
			if v.reference != nil || v.name == "cascading to "+layers[0] {
				full[v.name] = figs
				if v.reference == nil {
					silhouette("re-initialised cnn", got)
				}
			}
		}
		random, twoInits := full["cascading to "+layers[0]], full[variants[len(variants)-1].name]
		for m, opt := range methods {
			b.ReportMetric(random[m].abs, string(opt.Method)+"-abs")
			b.ReportMetric(random[m].signed, string(opt.Method)+"-signed")
			if !(random[m].signed < 0.5) {
				b.Errorf("%s of the trained and the re-initialised cnn: Spearman's correlation %.3f of the signed maps, want < 0.5", opt.Method, random[m].signed)
			}
		}
		if !(random[0].abs < twoInits[0].abs) {
			b.Errorf("saliency of the trained and the re-initialised cnn: Spearman's correlation %.3f, want less than two initialisations' %.3f", random[0].abs, twoInits[0].abs)
		}
	}
}

// border is the margin of the image's interior that the sanity check
// also compares: the pixels 3 or more from an edge, seen by every window
// of the cnn's unpadded convolutions.
const border = 3

// float64s returns x as float64s.
func float64s(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}

// layersOf returns the layers of g's parameters in the order they were
// built, bottom first: a parameter "cnn/dense_1.weight" is of layer
// "cnn/dense_1".
func layersOf(g *graph.Graph) []string {
	var out []string
	for _, p := range g.Params() {
		l := p.Name
		if i := strings.LastIndexByte(l, '.'); i >= 0 {
			l = l[:i]
		}
		if !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out
}

// reinitialised returns a cnn with trained's weights, except the layers
// reinit says (counted from the bottom), which hold their initial values
// for seed.
func reinitialised(b *testing.B, trained *train.Trainer, seed uint64, reinit func(i int) bool) *train.Trainer {
	b.Helper()
	fresh := trainReference(b, "cnn", seed, 0)
	layers := layersOf(trained.Graph())
	for _, p := range fresh.Graph().Params() {
		l := p.Name[:max(0, strings.LastIndexByte(p.Name, '.'))]
		if reinit(slices.Index(layers, l)) {
			continue
		}
		q := trained.Graph().ParamByName(p.Name)
		if q == nil {
			b.Fatalf("parameter %s of the fresh cnn is not the trained one's", p.Name)
		}
		if err := p.SetValues(q.Values()); err != nil {
			b.Fatal(err)
		}
	}
	return fresh
}
