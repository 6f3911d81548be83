package run

import (
	"fmt"

	"github.com/dlrun/dlrun/datasets"
	"github.com/dlrun/dlrun/explain"
	"github.com/dlrun/dlrun/train"
	"github.com/pkg/errors"
)

// A regression's answers are explained as a classifier's rows are: the
// attribution of each feature of a row to its prediction, in the target's
// units, and the mean absolute attribution per feature over the test rows.

// explainInputs implements explaining: the rows of CSV files.
func (*regress) explainInputs(r *Run, x *explain.Explainer, inputs []string, o ExplainOptions) ([]Explanation, error) {
	p, err := regressionTable(r)
	if err != nil {
		return nil, err
	}
	names, xs, err := tableInputs(r, p, inputs)
	if err != nil {
		return nil, err
	}
	return explainRegression(r, x, names, xs, nil, o)
}

// explainRows implements explaining.
func (*regress) explainRows(r *Run, x *explain.Explainer, rows int, in []float32, o ExplainOptions) ([]Explanation, error) {
	return explainRegression(r, x, numbered("row", rows), splitRows(rows, in), nil, o)
}

// explainTests implements explaining: the first n test rows, with their
// true values.
func (*regress) explainTests(r *Run, x *explain.Explainer, n int, o ExplainOptions) ([]Explanation, error) {
	p, err := regressionTable(r)
	if err != nil {
		return nil, err
	}
	d, err := r.Data("")
	if err != nil {
		return nil, err
	}
	test, ok := d.Test.(train.Targets)
	if !ok {
		return nil, errors.Errorf("dataset %s has no test rows with targets", d.Name)
	}
	n = min(n, test.Len())
	xs := make([][]float32, n)
	actual := make([]float64, n)
	for i := range xs {
		xs[i] = make([]float32, values(test.Shape()))
		actual[i] = p.Prediction(float64(test.Target(i, xs[i])))
	}
	return explainRegression(r, x, numbered("test", n), xs, actual, o)
}

// explainImportance implements explaining: the features ranked over the
// test rows.
func (*regress) explainImportance(r *Run, x *explain.Explainer, o ExplainOptions) (Explanation, error) {
	p, err := regressionTable(r)
	if err != nil {
		return nil, err
	}
	if o.Class != "" {
		return nil, errors.Errorf("class %q: a regression has no classes; explain its prediction", clip(o.Class))
	}
	it, err := importanceOfRows(r, x, o)
	if err != nil {
		return nil, err
	}
	it.Target = p.Target
	return it, nil
}

// regressionTable returns the preprocessing of regression r's table.
func regressionTable(r *Run) (*datasets.Preprocessing, error) {
	if tc := r.Config.Table; tc != nil && tc.Preprocessing != nil {
		return tc.Preprocessing, nil
	}
	return nil, errors.Errorf("run %s: config.json records no table preprocessing, which a regression's rows are read by", r.Dir)
}

// explainRegression explains regression r's predictions for rows xs,
// named by names, with their true values actual (test rows) or nil.
func explainRegression(r *Run, x *explain.Explainer, names []string, xs [][]float32, actual []float64, o ExplainOptions) ([]Explanation, error) {
	if o.Class != "" {
		return nil, errors.Errorf("class %q: a regression has no classes; explain its prediction", clip(o.Class))
	}
	p, err := regressionTable(r)
	if err != nil {
		return nil, err
	}
	as, err := x.AttributeAll(xs, o.Options)
	if err != nil {
		return nil, err
	}
	out := make([]Explanation, len(as))
	for i, a := range as {
		pred := a.Output + p.TargetMean
		e := &RowExplanation{ExplanationHead: ExplanationHead{Type: "row", Input: names[i], stem: stemOf(names[i])},
			Target: p.Target, Prediction: &pred, Features: featureNames(r, len(xs[i])), Row: xs[i], Attribution: a}
		if actual != nil {
			e.Actual = &actual[i]
		}
		out[i] = e
	}
	return out, nil
}

// lines says what the row's attribution explains and how it was made, on
// a line each.
func (e *RowExplanation) lines() []string {
	if e.Prediction == nil {
		return attributionLines(e.Attribution, e.ClassName, e.Label)
	}
	head := fmt.Sprintf("%s predicted %.4g", e.Target, *e.Prediction)
	if e.Actual != nil {
		head += fmt.Sprintf("; the true value is %.4g", *e.Actual)
	}
	return []string{head, methodLine(e.Attribution, "prediction", *e.Prediction-e.Output)}
}

// explained names what the row's attributions explain: a class, or a
// regression's prediction.
func (e *RowExplanation) explained() string {
	if e.Prediction != nil {
		return "the predicted " + e.Target
	}
	return e.ClassName
}
