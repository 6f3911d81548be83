package run

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/dlrun/dlrun/datasets"
	"github.com/pkg/errors"
)

// PredictChunk is the most images PredictImages holds in memory at once:
// it reads and classifies the files this many at a time, so memory stays
// that of one chunk however many files are given.
const PredictChunk = 256

// ImagePrediction is an image classifier's prediction for one image file.
type ImagePrediction struct {
	File string
	// Probabilities holds the probability of each class, in label order
	// (as Keras's model.predict or PyTorch's softmax over the logits).
	Probabilities []float64
	// Err is why the file could not be classified (unreadable, not an
	// image); Probabilities is then nil. The message names the
	// file.
	Err error
}

// ClassProbability is one class of a prediction with its probability.
type ClassProbability struct {
	Class       string  `json:"class"` // its name, or its index if the run names no classes
	Index       int     `json:"index"`
	Probability float64 `json:"probability"`
}

// PredictImages classifies each image file (PNG, JPEG, GIF or WebP) with
// image classifier r, converting it to the model's input with
// datasets.ReadImage, exactly as training converts an image folder's
// images (invert inverts the brightness first). A file that cannot be read
// or decoded does not stop the others: its prediction's Err says why.
// The error is for the whole call: r is not an image classifier, or the
// model failed.
func (r *Run) PredictImages(files []string, invert bool) ([]ImagePrediction, error) {
	t, err := r.Tensors()
	if err != nil {
		return nil, err
	}
	if !t.Images {
		return nil, fmt.Errorf("%s: predicting images %w to a %s run over inputs of shape %v: it takes an image classifier", r.Dir, ErrDoesNotApply, r.Kind.Name(), r.InputShape())
	}
	out := make([]ImagePrediction, len(files))
	for start := 0; start < len(files); start += PredictChunk {
		end := min(start+PredictChunk, len(files))
		var x []float32
		var read []int // indices into files of the images in x
		for i := start; i < end; i++ {
			out[i].File = files[i]
			img, err := datasets.ReadImage(files[i], r.InputShape(), invert)
			if err != nil {
				if !strings.Contains(err.Error(), files[i]) {
					err = errors.Wrap(err, files[i])
				}
				out[i].Err = err
				continue
			}
			x = append(x, img...)
			read = append(read, i)
		}
		if len(read) == 0 {
			continue
		}
		probs, err := r.Model.Predict(x)
		if err != nil {
			return nil, err
		}
		if len(probs) != len(read) {
			return nil, errors.Errorf("predict: %d predictions for %d images", len(probs), len(read))
		}
		for j, i := range read {
			out[i].Probabilities = probs[j]
		}
	}
	return out, nil
}

// Top returns the k most probable classes of p, most probable first (ties
// in label order), named by classes (Run.Classes); fewer if p has fewer
// classes, none if p.Err is set.
func (p ImagePrediction) Top(k int, classes []string) []ClassProbability {
	order := make([]int, len(p.Probabilities))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return p.Probabilities[order[a]] > p.Probabilities[order[b]] })
	out := make([]ClassProbability, 0, min(max(k, 0), len(order)))
	for _, c := range order[:cap(out)] {
		name := strconv.Itoa(c)
		if c < len(classes) {
			name = classes[c]
		}
		out = append(out, ClassProbability{Class: name, Index: c, Probability: p.Probabilities[c]})
	}
	return out
}
