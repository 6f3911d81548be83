package datasets

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dlrun/dlrun/internal/safeio"
	"github.com/pkg/errors"
)

// Preprocessing is how a table's rows become a model's inputs and
// targets: which columns are read and how, with the statistics and
// categories of the training split. It is a value that a run saves (as
// JSON, WriteJSON) and applies to new rows (Encoder), so that training,
// prediction, serving and export read a row alike.
//
// Each feature column gives one or more input values, in column order:
//
//   - numeric: (x − Mean) / Std, standardised as scikit-learn's
//     StandardScaler does: Mean and Std (the population standard
//     deviation, 1 for a constant column) are those of the training rows;
//   - onehot: one value per category of the training rows, 1 for the
//     row's category and 0 for the others (all 0 for a category the
//     training rows lack, as scikit-learn's OneHotEncoder with
//     handle_unknown="ignore");
//   - embedding: one value, the category's index plus 1 (0 for a category
//     the training rows lack), for an embedding layer to look up: a
//     column of more than MaxOneHot categories.
//
// A missing value (empty, or one of MissingValues) is an error naming the
// row and column unless Fill says how to fill it: "mean" (a numeric
// column's training mean, so 0 once standardised) or "zero" (0 before
// standardising); either leaves a category column's value unknown (all 0,
// index 0).
//
// The target is a class (Task "classify": its label, the index of its
// value in Classes) or a number (Task "regress": standardised by
// TargetMean and TargetStd, which predictions are mapped back by).
type Preprocessing struct {
	// Task is TaskClassify or TaskRegress.
	Task string `json:"task"`
	// Target is the target column's name.
	Target string `json:"target"`
	// Classes are the target's values in label order (classification):
	// sorted, numerically for whole numbers.
	Classes []string `json:"classes,omitempty"`
	// TargetMean and TargetStd standardise a regression target.
	TargetMean float64 `json:"target_mean,omitempty"`
	TargetStd  float64 `json:"target_std,omitempty"`
	// Fill is how missing values are filled: "" (they are an error),
	// FillMean or FillZero.
	Fill string `json:"fill,omitempty"`
	// Columns are the feature columns, in input order.
	Columns []Column `json:"columns"`
}

// Column is one feature column of a Preprocessing.
type Column struct {
	Name string `json:"name"`
	// Kind is KindNumeric, KindOneHot or KindEmbedding.
	Kind string `json:"kind"`
	// Mean and Std standardise a numeric column.
	Mean float64 `json:"mean,omitempty"`
	Std  float64 `json:"std,omitempty"`
	// Categories are a category column's values in the training rows,
	// sorted.
	Categories []string `json:"categories,omitempty"`
}

// The tasks, column kinds and fills of a Preprocessing.
const (
	TaskClassify  = "classify"
	TaskRegress   = "regress"
	KindNumeric   = "numeric"
	KindOneHot    = "onehot"
	KindEmbedding = "embedding"
	FillMean      = "mean"
	FillZero      = "zero"
)

// The thresholds of a table's preprocessing (its limits are in
// limits.go).
const (
	// MaxOneHot is the most categories a column is one-hot encoded with
	// (32); a column of more gets an embedding index.
	MaxOneHot = 32
	// MaxIntegerClasses is the most distinct whole-number target values
	// that make a table a classification (20); a target of more, or of
	// any fractional value, is a regression.
	MaxIntegerClasses = 20
)

// MissingValues are the values that mean a value is missing, besides the
// empty field (pandas reads these as NaN too).
var MissingValues = []string{"NA", "N/A", "NaN", "nan", "null", "NULL", "None", "?"}

// ErrMissing is wrapped by the errors of missing values that are not
// filled.
var ErrMissing = errors.New("missing value")

// isMissing reports whether field (trimmed) is missing.
func isMissing(field string) bool {
	return field == "" || slices.Contains(MissingValues, field)
}

// Width returns the number of input values a row becomes.
func (p *Preprocessing) Width() int {
	n := 0
	for _, c := range p.Columns {
		n += c.Width()
	}
	return n
}

// Width returns the number of input values column c gives: one per
// category of a one-hot column, else one.
func (c *Column) Width() int {
	if c.Kind == KindOneHot {
		return len(c.Categories)
	}
	return 1
}

// Inputs names each input value: the column's name, or "name=category"
// for a one-hot value.
func (p *Preprocessing) Inputs() []string {
	var out []string
	for _, c := range p.Columns {
		if c.Kind != KindOneHot {
			out = append(out, c.Name)
			continue
		}
		for _, v := range c.Categories {
			out = append(out, c.Name+"="+v)
		}
	}
	return out
}

// Encoder encodes the rows of a table whose header is header: its columns
// may come in any order, and columns the preprocessing does not read (the
// target among them) are ignored; a feature column it lacks is an error.
type Encoder struct {
	p      *Preprocessing
	at     []int // the field of each feature column
	target int   // the field of the target, -1 if the header lacks it
	index  []map[string]int
}

// Encoder returns an encoder of the rows under header.
func (p *Preprocessing) Encoder(header []string) (*Encoder, error) {
	e := &Encoder{p: p, at: make([]int, len(p.Columns)), target: -1, index: make([]map[string]int, len(p.Columns))}
	pos := map[string]int{}
	for i, h := range header {
		h = columnName(h, i)
		if _, dup := pos[h]; !dup {
			pos[h] = i
		}
	}
	for i, c := range p.Columns {
		at, ok := pos[c.Name]
		if !ok {
			return nil, errors.Errorf("no column %q, which the model reads (its columns: %s)", c.Name, quotedList(p.columnNames()))
		}
		e.at[i] = at
		if c.Kind != KindNumeric {
			e.index[i] = make(map[string]int, len(c.Categories))
			for j, v := range c.Categories {
				e.index[i][v] = j
			}
		}
	}
	if at, ok := pos[p.Target]; ok {
		e.target = at
	}
	return e, nil
}

// columnNames lists the feature columns' names.
func (p *Preprocessing) columnNames() []string {
	names := make([]string, len(p.Columns))
	for i, c := range p.Columns {
		names[i] = c.Name
	}
	return names
}

// columnName is the name of header field h at index i: h trimmed, or
// "column N" (1-based) when empty, as an unnamed pandas index is.
func columnName(h string, i int) string {
	h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
	if h == "" {
		return "column " + strconv.Itoa(i+1)
	}
	return h
}

// Encode writes the inputs of record (a row under the encoder's header)
// into dst (Width values). An error names the column and what is wrong
// with its value (a missing value wraps ErrMissing).
func (e *Encoder) Encode(record []string, dst []float32) error {
	if len(dst) != e.p.Width() {
		return errors.Errorf("%d values to encode into, want %d", len(dst), e.p.Width())
	}
	k := 0
	for i, c := range e.p.Columns {
		if e.at[i] >= len(record) {
			return errors.Errorf("column %q: the row has %d fields, too few", c.Name, len(record))
		}
		field := strings.TrimSpace(record[e.at[i]])
		missing := isMissing(field)
		if missing && e.p.Fill == "" {
			return fmt.Errorf("column %q: %w (set fill to mean or zero to fill missing values)", c.Name, ErrMissing)
		}
		switch c.Kind {
		case KindNumeric:
			var v float64
			switch {
			case missing && e.p.Fill == FillMean:
				v = c.Mean
			case missing:
				v = 0
			default:
				var why string
				if v, why = parseDecimal(field); why != "" {
					return errors.Errorf("column %q: %q is %s", c.Name, field, why)
				}
			}
			z := (v - c.Mean) / c.Std
			if !(math.Abs(z) <= math.MaxFloat32) {
				return errors.Errorf("column %q: %q is %g standard deviations from the mean, out of a float32's range", c.Name, field, z)
			}
			dst[k] = float32(z)
			k++
		case KindOneHot:
			out := dst[k : k+len(c.Categories)]
			clear(out)
			if j, ok := e.index[i][field]; ok && !missing {
				out[j] = 1
			}
			k += len(out)
		default: // KindEmbedding
			dst[k] = 0
			if j, ok := e.index[i][field]; ok && !missing {
				dst[k] = float32(j + 1)
			}
			k++
		}
	}
	return nil
}

// HasTarget reports whether the header has the target column.
func (e *Encoder) HasTarget() bool { return e.target >= 0 }

// Label returns the class of record's target (classification). A value
// that is not one of Classes, or missing, is an error naming the column.
func (e *Encoder) Label(record []string) (int, error) {
	field, err := e.targetField(record)
	if err != nil {
		return 0, err
	}
	name := field
	if v, why := parseDecimal(field); why == "" && v == math.Trunc(v) && math.Abs(v) < 1<<53 {
		name = strconv.FormatFloat(v, 'f', -1, 64) // "1.0" is class "1"
	}
	for _, n := range []string{field, name} {
		if i := slices.Index(e.p.Classes, n); i >= 0 {
			return i, nil
		}
	}
	return 0, errors.Errorf("target column %q: %q is not one of the %d classes", e.p.Target, field, len(e.p.Classes))
}

// Value returns the standardised value of record's target (regression).
func (e *Encoder) Value(record []string) (float32, error) {
	field, err := e.targetField(record)
	if err != nil {
		return 0, err
	}
	v, why := parseDecimal(field)
	if why != "" {
		return 0, errors.Errorf("target column %q: %q is %s", e.p.Target, field, why)
	}
	z := (v - e.p.TargetMean) / e.p.TargetStd
	if !(math.Abs(z) <= math.MaxFloat32) {
		return 0, errors.Errorf("target column %q: %q is %g standard deviations from the mean, out of a float32's range", e.p.Target, field, z)
	}
	return float32(z), nil
}

// targetField returns record's target field, trimmed; a missing one is
// an error, whatever Fill says.
func (e *Encoder) targetField(record []string) (string, error) {
	if e.target < 0 || e.target >= len(record) {
		return "", errors.Errorf("no target column %q", e.p.Target)
	}
	field := strings.TrimSpace(record[e.target])
	if isMissing(field) {
		return "", fmt.Errorf("target column %q: %w (a row's target cannot be filled)", e.p.Target, ErrMissing)
	}
	return field, nil
}

// Prediction maps a regression model's output back to the target's
// scale.
func (p *Preprocessing) Prediction(out float64) float64 { return out*p.TargetStd + p.TargetMean }

// WriteJSON returns p as indented JSON.
func (p *Preprocessing) WriteJSON() ([]byte, error) {
	if err := p.Check(); err != nil {
		return nil, err
	}
	return json.MarshalIndent(p, "", "  ")
}

// ReadPreprocessing reads a preprocessing saved by WriteJSON, named name
// in errors: at most MaxPreprocessingBytes of JSON whose fields pass
// Check. Unknown fields are an error.
func ReadPreprocessing(b []byte, name string) (*Preprocessing, error) {
	if len(b) > MaxPreprocessingBytes {
		return nil, fmt.Errorf("%s: %d bytes, more than the %d a preprocessing may hold (MaxPreprocessingBytes): %w", name, len(b), MaxPreprocessingBytes, safeio.ErrTooLarge)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var p Preprocessing
	if err := dec.Decode(&p); err != nil {
		return nil, errors.Errorf("%s: not a preprocessing (%s)", name, oneLine(err.Error()))
	}
	if dec.More() {
		return nil, errors.Errorf("%s: more than one JSON value", name)
	}
	if err := p.Check(); err != nil {
		return nil, errors.Wrap(err, name)
	}
	return &p, nil
}

// oneLine keeps the first line of s.
func oneLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// Check reports the first field of p that no table could have given: an
// unknown task, kind or fill; a column without a name or named twice,
// the target among them; a statistic that is not finite, or a standard
// deviation that is not positive; categories that are not sorted, or
// beyond the limits; classes not two to MaxClasses, or repeated.
func (p *Preprocessing) Check() error {
	switch {
	case p.Task != TaskClassify && p.Task != TaskRegress:
		return errors.Errorf("preprocessing: task %q: want %s or %s", p.Task, TaskClassify, TaskRegress)
	case p.Fill != "" && p.Fill != FillMean && p.Fill != FillZero:
		return errors.Errorf("preprocessing: fill %q: want %s, %s or none", p.Fill, FillMean, FillZero)
	case len(p.Columns) == 0:
		return errors.New("preprocessing: no feature columns")
	case len(p.Columns) > MaxTableColumns:
		return errors.Errorf("preprocessing: %d columns, more than the %d a table may have (MaxTableColumns)", len(p.Columns), MaxTableColumns)
	}
	if err := checkName("target", p.Target); err != nil {
		return err
	}
	if p.Task == TaskClassify {
		if len(p.Classes) < 2 || len(p.Classes) > MaxClasses {
			return errors.Errorf("preprocessing: %d classes: want 2 to %d (MaxClasses)", len(p.Classes), MaxClasses)
		}
		if err := checkValues("classes", p.Classes, false); err != nil {
			return err
		}
		if p.TargetMean != 0 || p.TargetStd != 0 {
			return errors.New("preprocessing: a classification has no target_mean or target_std")
		}
	} else {
		if len(p.Classes) != 0 {
			return errors.New("preprocessing: a regression has no classes")
		}
		if err := checkStats("target", p.TargetMean, p.TargetStd); err != nil {
			return err
		}
	}
	seen := map[string]bool{p.Target: true}
	for i, c := range p.Columns {
		what := fmt.Sprintf("column %d", i+1)
		if err := checkName(what, c.Name); err != nil {
			return err
		}
		if seen[c.Name] {
			return errors.Errorf("preprocessing: %s: %q is named twice (or is the target)", what, c.Name)
		}
		seen[c.Name] = true
		switch c.Kind {
		case KindNumeric:
			if len(c.Categories) != 0 {
				return errors.Errorf("preprocessing: numeric column %q has categories", c.Name)
			}
			if err := checkStats(fmt.Sprintf("column %q", c.Name), c.Mean, c.Std); err != nil {
				return err
			}
		case KindOneHot, KindEmbedding:
			if c.Mean != 0 || c.Std != 0 {
				return errors.Errorf("preprocessing: category column %q has a mean or standard deviation", c.Name)
			}
			if n := len(c.Categories); n == 0 || n > MaxCategories || (c.Kind == KindOneHot) != (n <= MaxOneHot) {
				return errors.Errorf("preprocessing: %s column %q has %d categories (one-hot: 1 to %d, MaxOneHot; embedding: %d to %d, MaxCategories)",
					c.Kind, c.Name, n, MaxOneHot, MaxOneHot+1, MaxCategories)
			}
			if err := checkValues(fmt.Sprintf("column %q", c.Name), c.Categories, true); err != nil {
				return err
			}
		default:
			return errors.Errorf("preprocessing: column %q: kind %q: want %s, %s or %s", c.Name, c.Kind, KindNumeric, KindOneHot, KindEmbedding)
		}
	}
	return nil
}

// checkName reports a name that is empty, too long or not UTF-8.
func checkName(what, s string) error {
	switch {
	case s == "":
		return errors.Errorf("preprocessing: %s has no name", what)
	case len(s) > MaxColumnNameBytes:
		return errors.Errorf("preprocessing: %s: a name of %d bytes, more than %d (MaxColumnNameBytes)", what, len(s), MaxColumnNameBytes)
	case !utf8.ValidString(s):
		return errors.Errorf("preprocessing: %s: a name that is not UTF-8", what)
	}
	return nil
}

// checkValues reports categories or classes that are repeated, empty,
// too long or not UTF-8, or (sorted) out of order.
func checkValues(what string, vs []string, sorted bool) error {
	seen := make(map[string]bool, len(vs))
	for i, v := range vs {
		if err := checkName(fmt.Sprintf("%s value %d", what, i+1), v); err != nil {
			return err
		}
		if seen[v] {
			return errors.Errorf("preprocessing: %s: %q listed twice", what, v)
		}
		seen[v] = true
		if sorted && i > 0 && vs[i-1] > v {
			return errors.Errorf("preprocessing: %s: categories out of order (%q after %q)", what, v, vs[i-1])
		}
	}
	return nil
}

// checkStats reports a mean that is not finite or a standard deviation
// that is not positive and finite.
func checkStats(what string, mean, std float64) error {
	if math.IsNaN(mean) || math.IsInf(mean, 0) || !(std > 0) || math.IsInf(std, 0) {
		return errors.Errorf("preprocessing: %s: mean %g and standard deviation %g: want a finite mean and a positive, finite deviation", what, mean, std)
	}
	return nil
}
