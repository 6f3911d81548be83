package explain_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/explain"
	"github.com/dlrun/dlrun/nn"
	"github.com/dlrun/dlrun/train"
)

// wantError fails unless err is one line that mentions want.
func wantError(t *testing.T, what string, err error, want string) {
	t.Helper()
	switch {
	case err == nil:
		t.Errorf("%s: no error, want one mentioning %q", what, want)
	case !strings.Contains(err.Error(), want):
		t.Errorf("%s: %q, want an error mentioning %q", what, err, want)
	case strings.Contains(err.Error(), "\n"):
		t.Errorf("%s: %q is more than one line", what, err)
	}
}

// Bad input is a one-line error naming what is at fault, never a panic
// or a made-up answer.
func TestBadInput(t *testing.T) {
	classifier := handModel(t, nn.NewSequential("linear", nn.NewDense(2)), &train.Classify{Shape: []int{3}, Outputs: 2}, nil)
	image := handModel(t, nn.NewSequential("image", nn.NewFlatten(), nn.NewDense(2)), &train.Classify{Shape: []int{1, 4, 4}, Outputs: 2}, nil)
	text := handModel(t, nn.NewSequential("bigram", nn.NewEmbedding(3, 2), nn.NewDense(3)), &train.NextToken{Vocab: 3, SeqLen: 4}, nil)
	rec := handModel(t, nn.NewSequential("mf", &nn.MF{Users: 2, Movies: 3, Dim: 2}), &train.Rating{Users: 2, Movies: 3}, nil)
	reg := handModel(t, nn.NewSequential("linear", nn.NewDense(1)), &train.Regress{Shape: []int{3}}, nil)
	msetr, err := train.New(nn.NewSequential("regress", nn.NewDense(2)), &train.Classify{Shape: []int{3}, Outputs: 2}, train.Config{Loss: "mse"})
	if err != nil {
		t.Fatal(err)
	}
	defer msetr.Close()
	mse := newExplainer(t, msetr)
	row := []float32{1, 2, 3}
	img := make([]float32, 16)
	vocab := []string{"a", "b", "c"}
	rated := []explain.Rated{{Movie: 0, Rating: 4}}
	nan := float32(math.NaN())
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"a short example", attr(classifier, []float32{1, 2}, explain.Options{}), "holds 2 values, not the 3 of the model's input [3]"},
		{"a NaN", attr(classifier, []float32{1, nan, 3}, explain.Options{}), "example 1: value 1 is NaN"},
		{"a class outside", attr(classifier, row, explain.Options{Target: explain.Class(2)}), "class 2: model linear has classes 0 to 1"},
		{"a negative class", attr(classifier, row, explain.Options{Target: explain.Class(-1)}), "class -1"},
		{"negative steps", attr(classifier, row, explain.Options{Steps: -1}), "steps -1: must be from 1 to 10000"},
		{"too many steps", attr(classifier, row, explain.Options{Steps: explain.MaxSteps + 1}), "steps 10001"},
		{"an unknown method", attr(classifier, row, explain.Options{Method: "lime"}), `unknown attribution method "lime"`},
		{"an unknown rule", attr(classifier, row, explain.Options{Rule: "simpson"}), `unknown quadrature rule "simpson"`},
		{"an unknown baseline", attr(classifier, row, explain.Options{Baseline: "grey"}), `unknown baseline "grey"`},
		{"an unknown quantity", attr(classifier, row, explain.Options{Quantity: "odds"}), `unknown quantity "odds" to explain`},
		{"probabilities of mse", attr(mse, row, explain.Options{Quantity: explain.Probability}), "model regress was trained with mse, whose outputs are no probabilities"},
		{"a classifier's prediction", attr(classifier, row, explain.Options{Quantity: explain.Prediction}), "model linear is a classifier: explain a class's logit or probability, not a prediction"},
		{"a regression's probability", attr(reg, row, explain.Options{Quantity: explain.Probability}), "model linear is a regression: its output is a prediction, not a probability"},
		{"a regression's class", attr(reg, row, explain.Options{Target: explain.Class(1)}), "model linear is a regression: it has no class to name"},
		{"a next token's prediction", txt(text, []int{0}, vocab, explain.Options{Quantity: explain.Prediction}), "a next token is explained by its logit or probability, not a prediction"},
		{"a blurred table", attr(classifier, row, explain.Options{Baseline: explain.Blur}), "the blur baseline needs an image"},
		{"a NaN blur", attr(image, img, explain.Options{Baseline: explain.Blur, BlurSigma: math.NaN()}), "blur sigma NaN"},
		{"a huge blur", attr(image, img, explain.Options{Baseline: explain.Blur, BlurSigma: 1e9}), "blur sigma 1e+09"},
		{"a window too wide", attr(image, img, explain.Options{Method: explain.Occlusion, Window: 5}), "occlusion window 5 is larger than the input's 4×4"},
		{"a row's window too wide", attr(classifier, row, explain.Options{Method: explain.Occlusion, Window: 4}), "occlusion window 4 is larger than the input's 1×3"},
		{"a negative stride", attr(image, img, explain.Options{Method: explain.Occlusion, Stride: -2}), "stride -2: must be positive"},
		{"importance of nothing", func() error { _, err := classifier.Importance(nil, explain.Options{}); return err }(), "importance over no examples"},
		{"importance of a bad row", func() error {
			_, err := classifier.Importance([][]float32{row, row, {1}}, explain.Options{})
			return err
		}(), "example 3 holds 1 values"},

		{"text from a classifier", txt(classifier, []int{0}, vocab, explain.Options{}), "model linear was trained for classify, not next-token prediction"},
		{"a recommendation from a classifier", recommend(classifier, 0, 0, rated), "model linear was trained for classify, not rating prediction"},
		{"an image from a text model", attr(text, row, explain.Options{}), "model bigram was trained for next-token, not classification"},
		{"a short vocabulary", txt(text, []int{0}, vocab[:2], explain.Options{}), "a vocabulary of 2 tokens for model bigram, which has 3"},
		{"an empty context", txt(text, nil, vocab, explain.Options{}), "a context of 0 tokens"},
		{"a long context", txt(text, make([]int, train.MaxSeqLen+1), vocab, explain.Options{}), "a context of 4097 tokens: must be from 1 to 4096"},
		{"a token outside", txt(text, []int{0, 7}, vocab, explain.Options{}), "token 2 of the context is id 7"},
		{"a next token outside", txt(text, []int{0}, vocab, explain.Options{Target: explain.Class(3)}), "next token 3: model bigram has tokens 0 to 2"},
		{"text by saliency", txt(text, []int{0}, vocab, explain.Options{Method: explain.Saliency}), "not saliency"},
		{"blurred text", txt(text, []int{0}, vocab, explain.Options{Baseline: explain.Blur}), "text has no blur baseline"},

		{"a user outside", recommend(rec, 2, 0, rated), "user 2: model mf has users 0 to 1"},
		{"a movie outside", recommend(rec, 0, -1, rated), "movie -1: model mf has movies 0 to 2"},
		{"no ratings", recommend(rec, 0, 1, nil), "user 0 has no ratings"},
		{"a rated movie outside", recommend(rec, 0, 1, []explain.Rated{{Movie: 3, Rating: 1}}), "rating 1: movie 3: model mf has movies 0 to 2"},
		{"a NaN rating", recommend(rec, 0, 1, []explain.Rated{{Movie: 0, Rating: math.NaN()}}), "rating 1 (movie 0) is NaN"},
		{"a movie rated twice", recommend(rec, 0, 1, []explain.Rated{{Movie: 0, Rating: 1}, {Movie: 0, Rating: 2}}), "rating 2: movie 0 is rated twice"},
		{"a recommendation by occlusion", recommendWith(rec, explain.Options{Method: explain.Occlusion}), "not occlusion"},
		{"a recommendation from a blur", recommendWith(rec, explain.Options{Baseline: explain.Blur}), "no blur baseline"},
		{"a recommendation of a class", recommendWith(rec, explain.Options{Target: explain.Class(1)}), "no class to name"},
		{"a recommendation's probability", recommendWith(rec, explain.Options{Quantity: explain.Probability}), "it has no probability"},

		{"a class by an unknown name", func() error { _, err := explain.ClassNamed("Boot", []string{"Sandal", "Sneaker"}); return err }(), `class "Boot" is not one of the model's 2: "Sandal", "Sneaker"`},
		{"a nil trainer", func() error { _, err := explain.New(nil); return err }(), "nil trainer"},
		{"a heat map of a row", func() error {
			a, err := classifier.Attribute(row, explain.Options{})
			if err != nil {
				return err
			}
			_, err = explain.HeatMap(a, row)
			return err
		}(), "a heat map needs an image"},
		{"a heat map of another image", func() error {
			a, err := image.Attribute(img, explain.Options{})
			if err != nil {
				return err
			}
			_, err = explain.HeatMap(a, img[:15])
			return err
		}(), "15 pixel values and 16 attributions"},
		{"a heat map of nothing", func() error { _, err := explain.HeatMap(nil, img); return err }(), "nil attribution"},
		{"a bar chart of too few names", func() error { _, err := explain.BarChart("t", []string{"a"}, []float64{1, 2}); return err }(), "1 names and 2 values"},
		{"a bar chart of nothing", func() error { _, err := explain.BarChart("t", nil, nil); return err }(), "no values"},
		{"a bar chart of NaN", func() error { _, err := explain.BarChart("t", []string{"a"}, []float64{math.NaN()}); return err }(), `the value of "a" is NaN`},
		{"text of nothing", explain.WriteHTML(&strings.Builder{}, nil), "nil text attribution"},
		{"text of fewer tokens", explain.WriteANSI(&strings.Builder{}, &explain.TextAttribution{Tokens: []string{"a"}}), "1 tokens and 0 attributions"},
	} {
		wantError(t, c.name, c.err, c.want)
	}
	// A method asked of another kind of model says so in a way a
	// program can tell.
	for _, err := range []error{
		txt(classifier, []int{0}, vocab, explain.Options{}),
		recommend(text, 0, 0, rated),
		attr(rec, []float32{0, 0}, explain.Options{}),
	} {
		if !errors.Is(err, explain.ErrKind) {
			t.Errorf("%v: not explain.ErrKind", err)
		}
	}
	if err := attr(classifier, []float32{1}, explain.Options{}); errors.Is(err, explain.ErrKind) {
		t.Errorf("%v: explain.ErrKind for a wrong shape", err)
	}
}

func attr(e *explain.Explainer, x []float32, opt explain.Options) error {
	_, err := e.Attribute(x, opt)
	return err
}

func txt(e *explain.Explainer, ids []int, vocab []string, opt explain.Options) error {
	_, err := e.Text(ids, vocab, opt)
	return err
}

func recommendWith(e *explain.Explainer, opt explain.Options) error {
	_, err := e.Recommendation(0, 1, []explain.Rated{{Movie: 0, Rating: 4}}, opt)
	return err
}

func recommend(e *explain.Explainer, user, movie int, ratings []explain.Rated) error {
	_, err := e.Recommendation(user, movie, ratings, explain.Options{})
	return err
}
