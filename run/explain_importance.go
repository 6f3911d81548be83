package run

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/dlrun/dlrun/explain"
	"github.com/pkg/errors"
)

// MaxImportanceExamples is the most test examples ExplainImportance
// explains: the first ones of the test split.
const MaxImportanceExamples = 10_000

// ImportanceExplanation is a classifier of rows (a table's features)
// explained over a data set: each feature's mean absolute attribution
// over the examples (explain.Importance), drawn as a bar chart.
type ImportanceExplanation struct {
	ExplanationHead
	// Method is the attribution method averaged; Class the class
	// explained by name ("" for each example's predicted class), or
	// Target a regression's target column, whose prediction is explained.
	Method explain.Method `json:"method"`
	Class  string         `json:"class,omitempty"`
	Target string         `json:"target,omitempty"`
	// Examples is how many examples the means are over.
	Examples int `json:"examples"`
	// Features names the features, in the row's order; Values holds their
	// mean absolute attributions.
	Features []string  `json:"features"`
	Values   []float64 `json:"values"`
}

var _ Explanation = (*ImportanceExplanation)(nil)

// ExplainImportance explains a classifier or a regression of rows over
// its own test split (its first MaxImportanceExamples examples): the mean
// absolute attribution of each feature, for each example's predicted class
// or the one o names, or a regression's prediction. A run of another kind,
// or of images, is an error wrapping ErrDoesNotApply.
func (r *Run) ExplainImportance(o ExplainOptions) (*Explanations, error) {
	x, k, err := r.explainer()
	if err != nil {
		return nil, err
	}
	it, err := k.explainImportance(r, x, o)
	if err != nil {
		return nil, err
	}
	return r.explanations([]Explanation{it}, nil)
}

// importanceOfRows explains classifier or regression r's test rows with
// x, as ExplainImportance says.
func importanceOfRows(r *Run, x *explain.Explainer, o ExplainOptions) (*ImportanceExplanation, error) {
	t, err := r.Tensors()
	if err != nil {
		return nil, err
	}
	if t.Images || len(t.Shape) != 1 {
		return nil, fmt.Errorf("feature importance %w to a classifier of inputs of shape %v: it ranks the features of a row (explain images one at a time)", ErrDoesNotApply, t.Shape)
	}
	opt, err := classTarget(o, t.Classes)
	if err != nil {
		return nil, err
	}
	xs, _, err := testRows(r, MaxImportanceExamples)
	if err != nil {
		return nil, err
	}
	if len(xs) == 0 {
		return nil, errors.New("the run's test split is empty: no examples to average over")
	}
	mean, err := x.Importance(xs, opt)
	if err != nil {
		return nil, err
	}
	features := featureNames(r, len(mean))
	method := opt.Method
	if method == "" || method == "ig" {
		method = explain.IntegratedGradients
	}
	return &ImportanceExplanation{
		ExplanationHead: ExplanationHead{Type: "importance", Input: fmt.Sprintf("the first %s of the test split", plural(len(xs), "example")), stem: "importance"},
		Method:          method, Class: o.Class, Examples: len(xs), Features: features, Values: mean,
	}, nil
}

// what says what the means are of.
func (e *ImportanceExplanation) what() string {
	class := "each example's predicted class"
	switch {
	case e.Target != "":
		class = "the predicted " + e.Target
	case e.Class != "":
		class = "class " + e.Class
	}
	return fmt.Sprintf("mean |%s| of %s over %s", methodName(e.Method), class, plural(e.Examples, "example"))
}

// Print implements Explanation: what is averaged, then each feature's
// mean absolute attribution, the largest first.
func (e *ImportanceExplanation) Print(w io.Writer, _ bool) error {
	if _, err := fmt.Fprintf(w, "feature importance: %s\n", e.what()); err != nil {
		return err
	}
	row := RowExplanation{Features: e.Features, Attribution: &explain.Attribution{Values: e.Values}}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "  feature\timportance\t")
	for _, j := range row.order() {
		fmt.Fprintf(tw, "  %s\t%.4g\t\n", e.Features[j], e.Values[j])
	}
	return tw.Flush()
}

// Files implements Explanation: the bar chart, <stem>.png.
func (e *ImportanceExplanation) Files() ([]File, error) {
	b, err := e.chart()
	if err != nil {
		return nil, err
	}
	return []File{{Suffix: ".png", Data: b}}, nil
}

func (e *ImportanceExplanation) chart() ([]byte, error) {
	img, err := explain.BarChart("Feature importance: "+e.what(), e.Features, e.Values)
	if err != nil {
		return nil, err
	}
	return encodePNG(img)
}

// HTML implements Explanation: what is averaged and the bar chart.
func (e *ImportanceExplanation) HTML(w io.Writer) error {
	b, err := e.chart()
	if err != nil {
		return err
	}
	return htmlFigure(w, []string{strings.ToUpper(e.what()[:1]) + e.what()[1:]}, b, "feature importance")
}
