package run

import (
	"github.com/dlrun/dlrun/datasets"
	"github.com/dlrun/dlrun/train"
	"github.com/pkg/errors"
)

// Model is a trained run loaded from its folder: the model (rebuilt from
// model.json, without the Go code that built it) with the run's
// configuration, which names its dataset and classes. Each task has its
// evaluation: Data and Report for a classifier, RatingData and
// RatingReport for a rating model, LanguageData and LanguageReport for a
// language model; PredictImages classifies image files.
type Model struct {
	*train.Model
	Config Config
}

// Load loads the model of run folder dir: model.json and model.safetensors
// (the last epoch's weights) or, with best set, best.safetensors.
func Load(dir string, best bool) (*Model, error) {
	cfg, err := ReadConfig(dir)
	if err != nil {
		return nil, err
	}
	m, err := train.Load(dir, best)
	if err != nil {
		return nil, err
	}
	// A classifier has a name per output, or two for one sigmoid output.
	if n, o := len(cfg.Classes), m.Info.Outputs; n > 0 && m.Info.Task == Classify && n != o && !(o == 1 && n == 2) {
		return nil, errors.Errorf("run folder %s: config.json has %s, model.json %s", dir, plural(n, "class name"), plural(m.Info.Outputs, "output"))
	}
	return &Model{Model: m, Config: *cfg}, nil
}

// Classes returns the class names in label order.
func (m *Model) Classes() []string { return m.Config.Classes }

// InputShape returns the per-example input shape.
func (m *Model) InputShape() []int { return m.Info.InputShape }

// Data loads dataset (default: the run's) for evaluating classifier m,
// shaped as the model reads it (images as rows for a recurrent
// classifier).
func (m *Model) Data(dataset string) (*Data, error) {
	if dataset == "" {
		dataset = m.Config.Dataset
	}
	if m.Info.Task != Classify {
		return nil, errors.Errorf("run %s is a %s model; Data and Report are for classifiers (RatingData and LanguageData load the data of the others)", m.Config.Model, m.Info.Task)
	}
	set, err := datasets.Load(dataset)
	if err != nil {
		return nil, err
	}
	d := FromDataset(set)
	return d, readAsModelDoes(m.Trainer().Model(), d)
}

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

// Report evaluates m on the test split of d and computes the Report.
func (m *Model) Report(d *Data) (*Report, error) {
	ev, err := m.Evaluate(d.Test)
	if err != nil {
		return nil, err
	}
	classes := d.Classes
	if len(classes) == 0 {
		classes = m.Classes()
	}
	return NewReport(ev, classes), nil
}

// NewReport computes per-class figures and the confusion matrix of ev.
func NewReport(ev *train.Evaluation, classes []string) *Report {
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
