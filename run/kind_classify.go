package run

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/dlrun/dlrun/datasets"
	"github.com/dlrun/dlrun/explain"
	"github.com/dlrun/dlrun/nn"
	"github.com/dlrun/dlrun/train"
	"github.com/pkg/errors"
)

func init() { Register(Classify) }

// Classify is the kind of run that classifies examples (images, points):
// labelled examples in, a class per example out, scored by accuracy.
var Classify = &classify{supervised{
	name: "classify",
	refs: map[string]Config{
		"xor":    {Dataset: "xor", Config: train.Config{Epochs: 300, BatchSize: 4, Optimizer: "adam", LearningRate: 0.05, Loss: "bce"}},
		"mlp":    {Dataset: "fashion-mnist", Config: imageRecipe},
		"cnn":    {Dataset: "fashion-mnist", Config: imageRecipe},
		"cnn-bn": {Dataset: "fashion-mnist", Config: train.Config{Epochs: 10, BatchSize: 64, Optimizer: "adam", LearningRate: 2e-3, Loss: "cce", Schedule: "cosine"}},
		"rnn":    {Dataset: "fashion-mnist", Cell: "lstm", Config: imageRecipe},
		"resnet": {Dataset: "fashion-mnist", Config: train.Config{Epochs: 10, BatchSize: 64, Optimizer: "adam", LearningRate: 2e-3, Loss: "cce", Schedule: "cosine"}},
	},
	file:   Config{Dataset: "fashion-mnist", Config: imageRecipe},
	images: true,
	tables: true,
	progress: Progress{Unit: "example", Rate: "samples",
		Headline: Headline{Name: "accuracy", Column: "test_accuracy", Summary: "test_accuracy", HigherIsBetter: true}},
}}

// imageRecipe is the image classifiers' recipe (the mlp's, the cnn's).
var imageRecipe = train.Config{Epochs: 10, BatchSize: 64, Optimizer: "adam", LearningRate: 1e-3, Loss: "cce"}

// classify is the kind of Classify.
type classify struct{ supervised }

var _ SupervisedKind = Classify

// Data implements SupervisedKind: a bundled dataset of labelled examples,
// a folder of IDX files or CIFAR-10 batches, an image folder read as
// c.Images says, or a CSV table whose target is a class, read as c.Table
// says.
func (*classify) Data(c *Config) (*Data, error) {
	if datasets.IsTable(c.Dataset) {
		return loadTable(c, datasets.TaskClassify)
	}
	if err := notTable(c); err != nil {
		return nil, err
	}
	return labelled(c.Dataset, c.Images, c.Workers, nil, true)
}

// Build implements SupervisedKind: one output per class (one for a
// two-class binary cross-entropy model); a model whose first layer is
// recurrent reads each image as the sequence of its rows.
func (k *classify) Build(c *Config, d *Data) (*nn.Sequential, train.Task, error) {
	if err := d.check(); err != nil {
		return nil, nil, err
	}
	if len(d.Classes) == 0 {
		return nil, nil, errors.Errorf("dataset %s has no classes: classification needs labelled examples", d.Name)
	}
	loss, err := train.LossByName(c.Loss)
	if err != nil {
		return nil, nil, err
	}
	outputs := train.Outputs(loss, len(d.Classes))
	model, err := network(c, d, d.Shape, outputs)
	if err != nil {
		return nil, nil, err
	}
	if err := k.Prepare(model, d); err != nil {
		return nil, nil, err
	}
	return model, &train.Classify{Shape: d.Shape, Outputs: outputs}, nil
}

// Prepare implements SupervisedKind: the one rule for reading images as
// sequences: a classifier whose first layer is recurrent reads each image
// as the sequence of its rows (datasets.AsSequence), which changes d's
// shape.
func (*classify) Prepare(model nn.Layer, d *Data) error {
	s, ok := model.(*nn.Sequential)
	if !ok || len(s.Layers) == 0 || len(d.Shape) != 3 || d.set == nil {
		return nil
	}
	if _, ok := s.Layers[0].(*nn.Recurrent); !ok {
		return nil
	}
	rows, err := datasets.AsSequence(d.set)
	if err != nil {
		return err
	}
	*d = *FromDataset(rows)
	return nil
}

// NewTask implements Kind.
func (*classify) NewTask(info *train.ModelInfo) (train.Task, error) { return info.NewTask() }

// Check implements Kind: a classifier has a class name per output, or two
// for one sigmoid output; a table's columns fit the input (checkTable);
// its loop agrees with its model (checkLoop).
func (k *classify) Check(c *Config, info *train.ModelInfo, ck *train.Config) error {
	if err := checkTable(c, info.InputShape); err != nil {
		return err
	}
	if n, o := len(c.Classes), info.Outputs; n > 0 && n != o && !(o == 1 && n == 2) {
		return errors.Errorf("config.json: classes: %s, but model.json has %s", plural(n, "class name"), plural(o, "output"))
	}
	return checkLoop(k.Loop(c), info, ck)
}

// evalData loads dataset name (the run's if "") for evaluating classifier
// r, shaped as its model reads it (an image folder's images converted to
// its input, as the run's image options say).
func (k *classify) evalData(r *Run, name string) (*Data, error) {
	own := name == ""
	name, err := evalDataset(r, name)
	if err != nil {
		return nil, err
	}
	if datasets.IsTable(name) {
		return tableEvalData(r, name)
	}
	d, err := labelled(name, r.Config.Images, r.Config.Workers, r.InputShape(), false)
	if err != nil {
		if own {
			return nil, unloadable(r, err)
		}
		return nil, err
	}
	if name == r.Config.Dataset {
		if err := checkOwnData(&r.Config, d); err != nil {
			return nil, err
		}
	}
	return d, k.Prepare(r.Model.Trainer().Model(), d)
}

// Evaluate implements Kind: loss, accuracy, and per class precision,
// recall and F1 with the confusion matrix, on the test split.
func (k *classify) Evaluate(r *Run, o EvalOptions) (Report, error) {
	if err := agentOptions(k, o); err != nil {
		return nil, err
	}
	d, err := k.evalData(r, o.Data)
	if err != nil {
		return nil, err
	}
	ev, err := r.Model.Evaluate(d.Test)
	if err != nil {
		return nil, errors.Wrapf(err, "evaluating on %s", d.Name)
	}
	classes := d.Classes
	if len(classes) == 0 {
		classes = r.Classes()
	}
	rep := NewClassifierReport(ev, classes)
	rep.Dataset = d.Name
	return rep, nil
}

// Tensors implements Kind: examples in (values); the probabilities and the
// top classes served, the logits and probabilities exported.
func (*classify) Tensors(r *Run) (*Tensors, error) {
	info := r.Model.Info
	n := info.Outputs
	if n == 1 {
		n = 2 // Predict gives 1-p and p
	}
	classes := make([]string, n)
	for i := range classes {
		classes[i] = strconv.Itoa(i)
		if i < len(r.Classes()) {
			classes[i] = r.Classes()[i]
		}
	}
	in := info.InputShape
	meta := map[string]any{"classes": classes}
	var table *datasets.Preprocessing
	if tc := r.Config.Table; tc != nil && tc.Preprocessing != nil {
		table = tc.Preprocessing
		meta["preprocessing"], meta["feature_names"] = table, table.Inputs()
	}
	return &Tensors{
		Table:    table,
		Shape:    in,
		InputDoc: "examples of the model's input shape",
		Pad:      true,
		Images:   len(in) == 3 && (in[0] == 1 || in[0] == 3),
		Classes:  classes,
		Outputs: []Output{
			{Name: LogitsName, Head: Raw, Shape: []int{info.Outputs}, Doc: "the model's outputs", Export: true},
			{Name: ProbabilitiesName, Head: Probabilities, Shape: []int{n}, Doc: "the class probabilities, as dlrun predict gives them", Serve: true, Export: true},
			{Name: TopClassesName, Head: TopClasses, Shape: []int{-1}, Serve: true},
		},
		Meta: meta,
	}, nil
}

// ClassifierReport is an evaluation of a classifier: loss, accuracy,
// per-class precision, recall and F1, and the confusion matrix.
type ClassifierReport struct {
	Dataset   string        `json:"dataset"`
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

// NewClassifierReport computes per-class figures and the confusion matrix
// of ev.
func NewClassifierReport(ev *train.Evaluation, classes []string) *ClassifierReport {
	k := len(classes)
	r := &ClassifierReport{Loss: ev.Loss, Accuracy: ev.Accuracy, Examples: len(ev.Labels), Confusion: make([][]int, k)}
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

// Print implements Report: the figures, a table of the classes and the
// confusion matrix.
func (r *ClassifierReport) Print(w io.Writer) {
	fmt.Fprintf(w, "%s: %s, loss %.4f, accuracy %.4f\n\n", r.Dataset, plural(r.Examples, "example"), r.Loss, r.Accuracy)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "class\tprecision\trecall\tf1\tsupport\t")
	for _, c := range r.Classes {
		fmt.Fprintf(tw, "%s\t%.4f\t%.4f\t%.4f\t%d\t\n", c.Name, c.Precision, c.Recall, c.F1, c.Support)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nconfusion matrix (rows: true class, columns: predicted)")
	tw = tabwriter.NewWriter(w, 0, 0, 1, ' ', tabwriter.AlignRight)
	head := []string{""}
	for i := range r.Classes {
		head = append(head, fmt.Sprint(i))
	}
	fmt.Fprintln(tw, strings.Join(head, "\t")+"\t")
	for i, row := range r.Confusion {
		cells := []string{fmt.Sprintf("%d %s", i, r.Classes[i].Name)}
		for _, v := range row {
			cells = append(cells, fmt.Sprint(v))
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
	}
	tw.Flush()
}

// runData implements dataLoading.
func (k *classify) runData(r *Run, name string) (*Data, error) { return k.evalData(r, name) }

// explainInputs implements explaining: image files, CSV files of a
// table's rows, or rows of numbers.
func (*classify) explainInputs(r *Run, x *explain.Explainer, inputs []string, o ExplainOptions) ([]Explanation, error) {
	if tc := r.Config.Table; tc != nil && tc.Preprocessing != nil {
		names, xs, err := tableInputs(r, tc.Preprocessing, inputs)
		if err != nil {
			return nil, err
		}
		return explainClassifier(r, x, names, xs, nil, o)
	}
	xs, err := classifierInputs(r, inputs, o)
	if err != nil {
		return nil, err
	}
	return explainClassifier(r, x, inputs, xs, nil, o)
}

// explainRows implements explaining.
func (*classify) explainRows(r *Run, x *explain.Explainer, rows int, in []float32, o ExplainOptions) ([]Explanation, error) {
	return explainClassifier(r, x, numbered("row", rows), splitRows(rows, in), nil, o)
}

// explainTests implements explaining.
func (*classify) explainTests(r *Run, x *explain.Explainer, n int, o ExplainOptions) ([]Explanation, error) {
	xs, labels, err := testRows(r, n)
	if err != nil {
		return nil, err
	}
	return explainClassifier(r, x, numbered("test", len(xs)), xs, labels, o)
}

// explainImportance implements explaining: a classifier of rows ranks its
// features over its test split.
func (*classify) explainImportance(r *Run, x *explain.Explainer, o ExplainOptions) (Explanation, error) {
	it, err := importanceOfRows(r, x, o)
	if err != nil {
		return nil, err
	}
	return it, nil
}
