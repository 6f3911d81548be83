package run

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"fmt"
	"html"
	"image"
	"image/png"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/dlrun/dlrun/datasets"
	"github.com/dlrun/dlrun/explain"
	"github.com/dlrun/dlrun/train"
	"github.com/pkg/errors"
)

// ImageExplanation is a classifier's answer for an image explained: the
// attribution of every pixel (explain.Attribution's fields), drawn over
// the image as a heat map (explain.HeatMap).
type ImageExplanation struct {
	ExplanationHead
	// ClassName names the class explained; Label, for a test example, its
	// true class.
	ClassName string `json:"class_name"`
	Label     string `json:"label,omitempty"`
	*explain.Attribution
	pixels []float32
}

// RowExplanation is a classifier's or a regression's answer for a row of
// features (a point, a table's row) explained: the attribution of each
// feature, drawn as a bar chart (explain.BarChart).
type RowExplanation struct {
	ExplanationHead
	// ClassName names a classifier's class explained; Label, for a test
	// example, its true class.
	ClassName string `json:"class_name,omitempty"`
	Label     string `json:"label,omitempty"`
	// A regression's target column, its prediction for the row in the
	// target's units (the Attribution's Output is the prediction less the
	// target's mean) and, for a test row, the true value.
	Target     string   `json:"target,omitempty"`
	Prediction *float64 `json:"prediction,omitempty"`
	Actual     *float64 `json:"actual,omitempty"`
	// Features names the features, in the row's order.
	Features []string `json:"features"`
	// Row is the row's values.
	Row []float32 `json:"row"`
	*explain.Attribution
}

var (
	_ Explanation = (*ImageExplanation)(nil)
	_ Explanation = (*RowExplanation)(nil)
)

// classifierInputs reads the inputs of dlrun explain for classifier r:
// image files for an image classifier (as dlrun predict reads them),
// otherwise rows of comma-separated numbers.
func classifierInputs(r *Run, inputs []string, o ExplainOptions) ([][]float32, error) {
	t, err := r.Tensors()
	if err != nil {
		return nil, err
	}
	shape := r.InputShape()
	xs := make([][]float32, len(inputs))
	for i, in := range inputs {
		if t.Images {
			if xs[i], err = datasets.ReadImage(in, shape, o.Invert); err != nil {
				if !strings.Contains(err.Error(), in) {
					err = errors.Wrap(err, in)
				}
				return nil, err
			}
			continue
		}
		if xs[i], err = parseRow(in, values(shape)); err != nil {
			return nil, errors.Wrapf(err, "input %d (%q)", i+1, clip(in))
		}
	}
	return xs, nil
}

// tableChunk is how many rows of a CSV table tableInputs encodes at a
// time.
const tableChunk = 256

// tableInputs reads the rows of the CSV files of inputs (.csv or .csv.gz,
// the columns a run trained on a table reads, in any order) as p encodes
// them, at most MaxExplainInputs rows in all, and names each by its file
// and row.
func tableInputs(r *Run, p *datasets.Preprocessing, inputs []string) ([]string, [][]float32, error) {
	var names []string
	var xs [][]float32
	w := p.Width()
	for _, in := range inputs {
		if !datasets.IsTable(in) {
			return nil, nil, errors.Errorf("run %s was trained on a table: name CSV files of rows to explain (.csv or .csv.gz), not %s", r.Dir, clip(in))
		}
		row := 0
		err := p.EachRows(in, tableChunk, func(_ []string, records [][]string, x []float32) error {
			if len(xs)+len(records) > MaxExplainInputs {
				return errors.Errorf("more than %d rows: explain takes at most %d at a time (run.MaxExplainInputs)", MaxExplainInputs, MaxExplainInputs)
			}
			for i := range records {
				row++
				names = append(names, fmt.Sprintf("%s row %d", in, row))
				xs = append(xs, slices.Clone(x[i*w:(i+1)*w]))
			}
			return nil
		})
		if err != nil {
			if !strings.Contains(err.Error(), in) {
				err = errors.Wrap(err, in)
			}
			return nil, nil, err
		}
	}
	return names, xs, nil
}

// parseRow reads a row of n comma-separated finite numbers.
func parseRow(s string, n int) ([]float32, error) {
	fields := strings.Split(s, ",")
	if len(fields) != n {
		return nil, errors.Errorf("%s, want the model's %d, separated by commas", plural(len(fields), "value"), n)
	}
	row := make([]float32, n)
	for i, f := range fields {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 32)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, errors.Errorf("value %d, %q, is not a finite number", i+1, clip(strings.TrimSpace(f)))
		}
		row[i] = float32(v)
	}
	return row, nil
}

// clip shortens an input quoted in an error.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// numbered returns the names of n explained rows or test examples:
// what-1 to what-n.
func numbered(what string, n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = what + "-" + strconv.Itoa(i+1)
	}
	return names
}

// splitRows splits in into rows rows.
func splitRows(rows int, in []float32) [][]float32 {
	per := len(in) / rows
	xs := make([][]float32, rows)
	for i := range xs {
		xs[i] = in[i*per : (i+1)*per]
	}
	return xs
}

// testRows returns the first n examples of classifier r's test split,
// shaped as its model reads them, and their labels.
func testRows(r *Run, n int) ([][]float32, []int, error) {
	d, err := r.Data("")
	if err != nil {
		return nil, nil, err
	}
	test, ok := d.Test.(train.Examples)
	if !ok {
		return nil, nil, errors.Errorf("dataset %s has no labelled test examples", d.Name)
	}
	n = min(n, test.Len())
	per := values(test.Shape())
	xs := make([][]float32, n)
	labels := make([]int, n)
	for i := range xs {
		xs[i] = make([]float32, per)
		labels[i] = test.Example(i, xs[i])
	}
	return xs, labels, nil
}

// explainClassifier explains classifier r's answers for xs, named by
// names (labels, for test examples, or nil) with x: an image's
// explanation where the model's input is an image or a grid, a row's
// otherwise.
func explainClassifier(r *Run, x *explain.Explainer, names []string, xs [][]float32, labels []int, o ExplainOptions) ([]Explanation, error) {
	t, err := r.Tensors()
	if err != nil {
		return nil, err
	}
	opt, err := classTarget(o, t.Classes)
	if err != nil {
		return nil, err
	}
	as, err := x.AttributeAll(xs, opt)
	if err != nil {
		return nil, err
	}
	className := func(c int) string {
		if c >= 0 && c < len(t.Classes) {
			return t.Classes[c]
		}
		return strconv.Itoa(c)
	}
	out := make([]Explanation, len(as))
	for i, a := range as {
		head := ExplanationHead{Input: names[i], stem: stemOf(names[i])}
		label := ""
		if labels != nil {
			label = className(labels[i])
		}
		if len(a.Shape) >= 2 {
			head.Type = "image"
			out[i] = &ImageExplanation{ExplanationHead: head, ClassName: className(a.Class), Label: label, Attribution: a, pixels: xs[i]}
			continue
		}
		head.Type = "row"
		out[i] = &RowExplanation{ExplanationHead: head, ClassName: className(a.Class), Label: label, Features: featureNames(r, len(xs[i])), Row: xs[i], Attribution: a}
	}
	return out, nil
}

// featureNames names the n input values of run r: a table's as its
// preprocessing makes them (a column's name, "name=category" for a
// one-hot value), otherwise x1 to xn.
func featureNames(r *Run, n int) []string {
	if tc := r.Config.Table; tc != nil && tc.Preprocessing != nil {
		if names := tc.Preprocessing.Inputs(); len(names) == n {
			return names
		}
	}
	names := make([]string, n)
	for j := range names {
		names[j] = "x" + strconv.Itoa(j+1)
	}
	return names
}

// stemOf returns the stem of an input's files: a file's base name without
// its extension, or the input itself.
func stemOf(input string) string {
	base := input
	if i := strings.LastIndexAny(base, `/\`); i >= 0 {
		base = base[i+1:]
	}
	if i := strings.LastIndexByte(base, '.'); i > 0 {
		base = base[:i]
	}
	return base
}

// methodName names a method in a sentence.
func methodName(m explain.Method) string {
	return strings.ReplaceAll(string(m), "-", " ")
}

// attributionLines says what a classifier's attribution a explains and
// how it was made, on a line each: the class and its output, then the
// method's figures.
func attributionLines(a *explain.Attribution, class, label string) []string {
	quantity := "logit"
	if a.Quantity == explain.Probability {
		quantity = "probability"
	}
	head := fmt.Sprintf("%s (class %d): %s %.4g", class, a.Class, quantity, a.Output)
	if label != "" {
		head += fmt.Sprintf("; the true class is %s", label)
	}
	return []string{head, methodLine(a, quantity, 0)}
}

// methodLine says how attribution a was made and its figures, the output
// explained named quantity; offset is added to the outputs printed (a
// regression's target mean).
func methodLine(a *explain.Attribution, quantity string, offset float64) string {
	gradient := "|gradient|"
	if a.Signed {
		gradient = "gradient"
	}
	switch a.Method {
	case explain.Saliency:
		return fmt.Sprintf("saliency: %s up to %.4g", gradient, maxAbs(a.Values))
	case explain.Occlusion:
		return fmt.Sprintf("occlusion, a %d-wide window every %d over a %s baseline: the %s falls by up to %.4g", a.Window, a.Stride, a.Baseline, quantity, maxAbs(a.Values))
	}
	base, delta := 0.0, 0.0
	if a.BaselineOutput != nil && a.Delta != nil {
		base, delta = *a.BaselineOutput, *a.Delta
	}
	return fmt.Sprintf("integrated gradients, %d steps (%s) from a %s baseline: the attributions sum to %.4g, the %s moves %.4g from %.4g (%.2f%% off)",
		a.Steps, a.Rule, a.Baseline, a.Sum(), quantity, a.Output-base, base+offset, 100*math.Abs(delta)/math.Abs(a.Output-base))
}

func maxAbs(v []float64) float64 {
	m := 0.0
	for _, x := range v {
		m = math.Max(m, math.Abs(x))
	}
	return m
}

// Print implements Explanation: what is explained, how, and the pixel
// with the largest attribution.
func (e *ImageExplanation) Print(w io.Writer, _ bool) error {
	lines := attributionLines(e.Attribution, e.ClassName, e.Label)
	h, wd := e.Shape[len(e.Shape)-2], e.Shape[len(e.Shape)-1]
	best := 0
	for i, v := range e.Values {
		if math.Abs(v) > math.Abs(e.Values[best]) {
			best = i
		}
	}
	p := best % (h * wd)
	lines = append(lines, fmt.Sprintf("the largest attribution, %.4g, is at row %d, column %d of %d×%d", e.Values[best], p/wd+1, p%wd+1, h, wd))
	_, err := fmt.Fprintf(w, "%s: %s\n", e.Input, strings.Join(lines, "\n  "))
	return err
}

// Files implements Explanation: the heat map, <stem>-<method>.png.
func (e *ImageExplanation) Files() ([]File, error) {
	b, err := e.heatMap()
	if err != nil {
		return nil, err
	}
	return []File{{Suffix: "-" + string(e.Method) + ".png", Data: b}}, nil
}

func (e *ImageExplanation) heatMap() ([]byte, error) {
	img, err := explain.HeatMap(e.Attribution, e.pixels)
	if err != nil {
		return nil, err
	}
	return encodePNG(img)
}

// HTML implements Explanation: the lines Print writes and the heat map.
func (e *ImageExplanation) HTML(w io.Writer) error {
	b, err := e.heatMap()
	if err != nil {
		return err
	}
	return htmlFigure(w, attributionLines(e.Attribution, e.ClassName, e.Label), b, "heat map of "+e.Input)
}

// Print implements Explanation: what is explained and how, then each
// feature's value and attribution, the largest attribution first.
func (e *RowExplanation) Print(w io.Writer, _ bool) error {
	lines := e.lines()
	if _, err := fmt.Fprintf(w, "%s: %s\n", e.Input, strings.Join(lines, "\n  ")); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "  feature\tvalue\tattribution\t")
	for _, j := range e.order() {
		fmt.Fprintf(tw, "  %s\t%.4g\t%+.4g\t\n", e.Features[j], e.Row[j], e.Values[j])
	}
	return tw.Flush()
}

// order returns the features' indices, the largest attribution (in
// absolute value) first.
func (e *RowExplanation) order() []int {
	idx := make([]int, len(e.Values))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(math.Abs(e.Values[b]), math.Abs(e.Values[a])) })
	return idx
}

// Files implements Explanation: the bar chart, <stem>-<method>.png.
func (e *RowExplanation) Files() ([]File, error) {
	b, err := e.chart()
	if err != nil {
		return nil, err
	}
	return []File{{Suffix: "-" + string(e.Method) + ".png", Data: b}}, nil
}

func (e *RowExplanation) chart() ([]byte, error) {
	img, err := explain.BarChart(fmt.Sprintf("%s: %s of %s", e.Input, methodName(e.Method), e.explained()), e.Features, e.Values)
	if err != nil {
		return nil, err
	}
	return encodePNG(img)
}

// HTML implements Explanation: the lines Print writes and the bar chart.
func (e *RowExplanation) HTML(w io.Writer) error {
	b, err := e.chart()
	if err != nil {
		return err
	}
	return htmlFigure(w, e.lines(), b, "attributions of "+e.Input)
}

// encodePNG encodes img as PNG.
func encodePNG(img image.Image) ([]byte, error) {
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// htmlFigure writes lines as paragraphs and the PNG picture pic inline,
// described by alt, everything escaped.
func htmlFigure(w io.Writer, lines []string, pic []byte, alt string) error {
	for _, l := range lines {
		if _, err := fmt.Fprintf(w, "<p>%s</p>\n", html.EscapeString(l)); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintf(w, "<img src=\"data:image/png;base64,%s\" alt=\"%s\">\n", base64.StdEncoding.EncodeToString(pic), html.EscapeString(alt))
	return err
}
