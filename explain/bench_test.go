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

// Integrated gradients' 51 points run as one batch.
func BenchmarkIntegratedGradientsCNN(b *testing.B) { benchExplain(b, "cnn", explain.Options{}) }

func BenchmarkSaliencyCNN(b *testing.B) {
	benchExplain(b, "cnn", explain.Options{Method: explain.Saliency})
}

func BenchmarkOcclusionCNN(b *testing.B) {
	benchExplain(b, "cnn", explain.Options{Method: explain.Occlusion})
}
