package train

import (
	"math"
	"path/filepath"

	"github.com/pkg/errors"
)

// Model is a trained classifier loaded from its run folder, ready to
// evaluate and predict.
type Model struct {
	Config  RunConfig
	trainer *Trainer
}

// Load rebuilds the model of run folder dir from its config.json and loads
// its weights: model.safetensors (the last epoch's) or, with best set,
// best.safetensors (the best epoch's).
func Load(dir string, best bool) (*Model, error) {
	cfg, err := ReadRunConfig(dir)
	if err != nil {
		return nil, err
	}
	t, err := cfg.NewTrainer()
	if err != nil {
		return nil, errors.Wrapf(err, "run folder %s", dir)
	}
	name := "model.safetensors"
	if best {
		name = "best.safetensors"
	}
	if err := LoadWeights(filepath.Join(dir, name), t.Graph()); err != nil {
		t.Close()
		return nil, err
	}
	return &Model{Config: *cfg, trainer: t}, nil
}

// Close releases the model's machines.
func (m *Model) Close() { m.trainer.Close() }

// Classes returns the class names in label order.
func (m *Model) Classes() []string { return m.Config.Classes }

// InputShape returns the per-example input shape.
func (m *Model) InputShape() []int { return m.Config.InputShape }

// Report is an evaluation of a classifier: loss, accuracy, per-class
// precision, recall and F1, and the confusion matrix.
type Report struct {
	Loss      float64       `json:"loss"`
	Accuracy  float64       `json:"accuracy"`
	Examples  int           `json:"examples"`
	Classes   []ClassReport `json:"classes"`
	Confusion [][]int       `json:"confusion"` // [true class][predicted class]
}

// ClassReport holds the figures of one class.
type ClassReport struct {
	Name      string  `json:"name"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	Support   int     `json:"support"` // examples of the class
}

// Evaluate computes the model's Report on d.
func (m *Model) Evaluate(d Data) (*Report, error) {
	ev, err := m.trainer.Evaluate(d)
	if err != nil {
		return nil, err
	}
	return NewReport(ev, m.Config.Classes), nil
}

// NewReport computes per-class figures and the confusion matrix of ev.
func NewReport(ev *Evaluation, classes []string) *Report {
	k := len(classes)
	r := &Report{Loss: ev.Loss, Accuracy: ev.Accuracy, Examples: len(ev.Labels), Confusion: make([][]int, k)}
	for i := range r.Confusion {
		r.Confusion[i] = make([]int, k)
	}
	for i, l := range ev.Labels {
		if l < k && ev.Predictions[i] < k {
			r.Confusion[l][ev.Predictions[i]]++
		}
	}
	for c := 0; c < k; c++ {
		tp, predicted, actual := r.Confusion[c][c], 0, 0
		for j := 0; j < k; j++ {
			predicted += r.Confusion[j][c]
			actual += r.Confusion[c][j]
		}
		cr := ClassReport{Name: classes[c], Support: actual}
		if predicted > 0 {
			cr.Precision = float64(tp) / float64(predicted)
		}
		if actual > 0 {
			cr.Recall = float64(tp) / float64(actual)
		}
		if cr.Precision+cr.Recall > 0 {
			cr.F1 = 2 * cr.Precision * cr.Recall / (cr.Precision + cr.Recall)
		}
		r.Classes = append(r.Classes, cr)
	}
	return r
}

// Predict returns the class probabilities of each example of x (examples
// of InputShape, one after another): the softmax of the outputs for a
// cross-entropy model, sigmoid for a single-output binary one.
func (m *Model) Predict(x []float32) ([][]float64, error) {
	t := m.trainer
	size := len(t.example)
	if len(x) == 0 || len(x)%size != 0 {
		return nil, errors.Errorf("predict: %d values are not a whole number of examples of shape %v", len(x), t.inShape)
	}
	d := &rawData{x: x, shape: t.inShape, size: size}
	var out [][]float64
	err := t.forward(d, func(idx, _ []int, _ float64) {
		for r := range idx {
			row := make([]float64, t.outputs)
			outputRow(t.outV, r, row)
			out = append(out, probabilities(t.cfg.Loss, row))
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func probabilities(l Loss, row []float64) []float64 {
	if len(row) == 1 {
		p := row[0]
		if l.Name == BinaryCrossEntropy.Name {
			p = 1 / (1 + math.Exp(-p))
		}
		return []float64{1 - p, p}
	}
	if l.Name != CrossEntropy.Name {
		return row
	}
	m := row[0]
	for _, v := range row {
		m = math.Max(m, v)
	}
	sum := 0.0
	p := make([]float64, len(row))
	for i, v := range row {
		p[i] = math.Exp(v - m)
		sum += p[i]
	}
	for i := range p {
		p[i] /= sum
	}
	return p
}

// rawData presents unlabeled examples as Data.
type rawData struct {
	x     []float32
	shape []int
	size  int
}

func (d *rawData) Len() int        { return len(d.x) / d.size }
func (d *rawData) Shape() []int    { return d.shape }
func (d *rawData) NumClasses() int { return 1 }
func (d *rawData) Example(i int, dst []float32) int {
	copy(dst, d.x[i*d.size:(i+1)*d.size])
	return 0
}
