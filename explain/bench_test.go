package explain_test

import (
	"testing"

	"github.com/dlrun/dlrun/explain"
)

// benchExplain runs method on the first test image with the untrained
// reference model name: the cost of one explanation (the weights do not
// change it).
func benchExplain(b *testing.B, name string, opt explain.Options) {
	tr := trainReference(b, name, 1, 0)
	defer tr.Close()
	e, err := explain.New(tr)
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	x := testImages(b, name == "rnn", 1)[0]
	if _, err := e.Attribute(x, opt); err != nil { // builds the graphs
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := e.Attribute(x, opt); err != nil {
			b.Fatal(err)
		}
	}
}

// Integrated gradients' 52 points by the default adaptive rule: 27
// equally spaced in one batch, then 9 rounds of 3 (the last of 1).
func BenchmarkIntegratedGradientsCNN(b *testing.B) { benchExplain(b, "cnn", explain.Options{}) }

// Gauss–Legendre's 52 points (its 50 nodes and the two ends) in one batch.
func BenchmarkIntegratedGradientsGaussLegendreCNN(b *testing.B) {
	benchExplain(b, "cnn", explain.Options{Rule: explain.GaussLegendre})
}

func BenchmarkSaliencyCNN(b *testing.B) {
	benchExplain(b, "cnn", explain.Options{Method: explain.Saliency})
}

func BenchmarkOcclusionCNN(b *testing.B) {
	benchExplain(b, "cnn", explain.Options{Method: explain.Occlusion})
}

// A charrnn's next character after 64 characters of held-out text:
// integrated gradients over the embeddings.
func BenchmarkTextCharRNN(b *testing.B) {
	tr := trainReference(b, "charrnn", 1, 0)
	defer tr.Close()
	e, err := explain.New(tr)
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	text := austen(b)
	context := text.HeldOut[:64]
	if _, err := e.Text(context, text.Vocab, explain.Options{}); err != nil { // builds the graphs
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := e.Text(context, text.Vocab, explain.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// An ncf's predicted rating explained by the ratings of the first test
// user.
func BenchmarkRecommendationNCF(b *testing.B) {
	tr := trainReference(b, "ncf", 1, 0)
	defer tr.Close()
	e, err := explain.New(tr)
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	r := movieLens(b)
	x := firstTests(r, 1)[0]
	rated := ratedBy(r, x.User)
	for b.Loop() {
		if _, err := e.Recommendation(x.User, x.Movie, rated, explain.Options{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(rated)), "ratings")
}
