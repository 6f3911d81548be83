package datasets

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"hash/fnv"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pkg/errors"
)

// TableOptions say how LoadTable reads a CSV table. A zero field means its
// documented default.
type TableOptions struct {
	// Target is the name of the column to predict (required).
	Target string
	// Task is TaskClassify, TaskRegress, or "" to decide by the target's
	// values: text, or whole numbers of at most MaxIntegerClasses distinct
	// values, make a classification; other numbers a regression.
	Task string
	// Fill fills missing feature values: FillMean or FillZero (see
	// Preprocessing); "" makes one an error naming its row and column.
	Fill string
	// Categorical names numeric columns to read as categories (codes,
	// zip codes).
	Categorical []string
	// Ignore names columns to leave out (ids, free text).
	Ignore []string
	// HeldOut is the share of the rows held out for testing when Test is
	// "" (default DefaultHeldOut; at most 0.9).
	HeldOut float64
	// Test is a CSV file of test rows with the same columns (in any
	// order); "" holds out a share of the table's rows.
	Test string
}

// Table is a tabular dataset read from CSV: its rows as model inputs and
// targets, and the Preprocessing that made them from the text, which
// predictions on new rows apply in turn.
type Table struct {
	Name          string // the file
	Preprocessing *Preprocessing
	Train, Test   *TableSplit
	// SHA256 is the hex SHA-256 over the file as stored (and then the
	// test file's).
	SHA256 string
}

// TableSplit is rows of a table as model inputs of Width values and their
// targets: class labels (classification) or standardised numbers
// (regression). For a classification it is the labelled examples the
// training loop reads (Len, Shape, NumClasses, Example).
type TableSplit struct {
	X       []float32 // Len × Width inputs
	Labels  []int     // classification: each row's label
	Targets []float32 // regression: each row's standardised target
	width   int
	classes int
}

// Len returns the number of rows.
func (s *TableSplit) Len() int { return len(s.X) / s.width }

// Shape returns the per-row input shape, [Width].
func (s *TableSplit) Shape() []int { return []int{s.width} }

// NumClasses returns the number of classes (0 for a regression).
func (s *TableSplit) NumClasses() int { return s.classes }

// Example copies the inputs of row i into dst (Width values) and returns
// its label (0 for a regression).
func (s *TableSplit) Example(i int, dst []float32) int {
	copy(dst, s.X[i*s.width:(i+1)*s.width])
	if s.Labels == nil {
		return 0
	}
	return s.Labels[i]
}

// Target copies the inputs of row i into dst (Width values) and returns
// its standardised target (0 for a classification).
func (s *TableSplit) Target(i int, dst []float32) float32 {
	copy(dst, s.X[i*s.width:(i+1)*s.width])
	if s.Targets == nil {
		return 0
	}
	return s.Targets[i]
}

// LoadTable reads a table from the CSV file at path (RFC 4180, as
// encoding/csv reads it; gzipped or not, at most MaxTableBytes after
// decompression). The first record is the header: its names name the
// columns (an empty one is "column N"). Every record must have as many
// fields as the header; fields are trimmed of spaces, and must be UTF-8.
//
// A column is numeric when every value it has is a decimal number, else
// categorical (see Preprocessing for how each becomes inputs). Rows are
// split into training and test rows: by opt.Test, or by holding out
// round(HeldOut·n) rows, those with the smallest hashes of their text
// (for a classification, within each class): a split that depends only
// on the rows, not their order or a seed. The statistics and categories
// come from the training rows alone.
//
// A malformed table is a one-line error naming the file, and the row (its
// data row, 1 for the first after the header, and line) and column at
// fault: ragged rows, missing values without Fill, a value that is not a
// finite decimal number in a numeric column or the target of a
// regression, a header of more than MaxTableColumns columns (refused
// before any row is read), a column of more than MaxCategories
// categories, fewer than two classes.
func LoadTable(path string, opt TableOptions) (*Table, error) {
	open := func(p string) func() (source, func(), error) {
		return func() (source, func(), error) { return openSource(p) }
	}
	var test func() (source, func(), error)
	if opt.Test != "" {
		test = open(opt.Test)
	}
	return readTable(path, open(path), test, opt, MaxTableBytes)
}

// IsTable reports whether path names a CSV table: it ends in .csv or
// .csv.gz (in any case).
func IsTable(path string) bool {
	p := strings.ToLower(path)
	return strings.HasSuffix(p, ".csv") || strings.HasSuffix(p, ".csv.gz")
}

// tableFile reads the records of one CSV file of a table, limit bytes at
// most after decompression, feeding its stored bytes to h if not nil.
type tableFile struct {
	*records
	close  func()
	header []string
	row    int // the data row of the last record read
}

// openTable opens the table that open opens, and reads its header.
func openTable(open func() (source, func(), error), limit int64, h hash.Hash) (*tableFile, error) {
	s, done, err := open()
	if err != nil {
		return nil, err
	}
	if h != nil {
		s.r = io.TeeReader(s.r, h)
	}
	u, err := unpack(s, limit)
	if err != nil {
		done()
		return nil, err
	}
	t := &tableFile{
		records: newRecords(u, s.name, ',', limit, "a table may hold, decompressed (MaxTableBytes)"),
		close: func() {
			if h != nil { // hash whatever of the stored file is left unread
				io.Copy(io.Discard, s.r)
			}
			u.Close()
			done()
		},
	}
	rec, err := t.next()
	if err == io.EOF {
		err = errors.Errorf("%s: empty: want a header naming the columns, then rows", s.name)
	}
	if err != nil {
		t.close()
		return nil, err
	}
	if len(rec) > MaxTableColumns {
		t.close()
		return nil, errors.Errorf("%s:1: a header of %d columns, more than the %d a table may have (MaxTableColumns)", s.name, len(rec), MaxTableColumns)
	}
	seen := map[string]int{}
	for i, f := range rec {
		n := columnName(f, i)
		switch {
		case !utf8.ValidString(n):
			err = errors.Errorf("%s:1: column %d: a name that is not UTF-8", s.name, i+1)
		case len(n) > MaxColumnNameBytes:
			err = errors.Errorf("%s:1: column %d: a name of %d bytes, more than %d (MaxColumnNameBytes)", s.name, i+1, len(n), MaxColumnNameBytes)
		case seen[n] > 0:
			err = errors.Errorf("%s:1: columns %d and %d are both named %q", s.name, seen[n], i+1, n)
		}
		if err != nil {
			t.close()
			return nil, err
		}
		seen[n] = i + 1
		t.header = append(t.header, n)
	}
	return t, nil
}

// nextRow returns the next row, checked for its number of fields and
// UTF-8, and trimmed; io.EOF at the end.
func (t *tableFile) nextRow() ([]string, error) {
	rec, err := t.next()
	if err != nil {
		return nil, err
	}
	t.row++
	if len(rec) != len(t.header) {
		return nil, t.errorf("row %d has %d fields, but the header has %d columns", t.row, len(rec), len(t.header))
	}
	for i, f := range rec {
		if !utf8.ValidString(f) {
			return nil, t.errorf("row %d, column %q: not UTF-8 text", t.row, t.header[i])
		}
		rec[i] = strings.TrimSpace(f)
	}
	return rec, nil
}

// rows calls each with every row left, and closes the file.
func (t *tableFile) rows(each func(rec []string) error) error {
	defer t.close()
	for {
		rec, err := t.nextRow()
		if err == io.EOF {
			return nil
		}
		if err == nil {
			err = each(rec)
		}
		if err != nil {
			return err
		}
	}
}

// at returns an error about row's column col: "name:line: row R, column
// "C": ...".
func (t *tableFile) at(col int, format string, args ...any) error {
	return t.errorf("row %d, column %q: %s", t.row, t.header[col], fmt.Sprintf(format, args...))
}

// columnScan is what the first pass learns of a column.
type columnScan struct {
	text, bad   string // the first value that is not a number; the first number that is not a finite decimal
	textAt      error  // where text is, as an error
	badAt       error  // where bad is
	values      int    // values not missing
	missingAt   error  // the first missing value, as an error
	missingRow  int    // its row
	integral    bool   // every number is a whole number
	distinct    map[string]int32
	tooDistinct bool
}

// readTable reads the table that open opens (and the test rows that test
// opens, if not nil), named name: the three passes of LoadTable.
func readTable(name string, open, test func() (source, func(), error), opt TableOptions, limit int64) (*Table, error) {
	if err := opt.check(); err != nil {
		return nil, errors.Wrapf(err, "table %s", name)
	}
	h := sha256.New()
	// Pass 1: the columns' kinds, the target's values, each row's key.
	f, err := openTable(open, limit, h)
	if err != nil {
		return nil, err
	}
	target := slices.Index(f.header, opt.Target)
	if target < 0 {
		f.close()
		return nil, errors.Errorf("%s: no target column %q (its columns: %s)", f.name, opt.Target, quotedList(f.header))
	}
	for _, list := range [][]string{opt.Ignore, opt.Categorical} {
		for _, n := range list {
			if !slices.Contains(f.header, n) {
				f.close()
				return nil, errors.Errorf("%s: no column %q (its columns: %s)", f.name, n, quotedList(f.header))
			}
		}
	}
	header := f.header
	scans := make([]columnScan, len(header))
	for i := range scans {
		scans[i].integral = true
	}
	scans[target].distinct = map[string]int32{}
	var keys []uint64
	var targetIDs []int32
	kh := fnv.New64a()
	err = f.rows(func(rec []string) error {
		kh.Reset()
		for i, v := range rec {
			kh.Write([]byte(v))
			kh.Write([]byte{0})
			scanValue(&scans[i], f, i, v, i == target)
		}
		keys = append(keys, kh.Sum64())
		id, ok := scans[target].distinct[canonicalClass(rec[target])]
		if !ok {
			id = -1
		}
		targetIDs = append(targetIDs, id)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(keys) < 2 {
		return nil, errors.Errorf("%s: %d rows: a table needs at least two (one to train on, one to test)", name, len(keys))
	}
	p := &Preprocessing{Target: opt.Target, Fill: opt.Fill}
	if err := decideTarget(p, &scans[target], opt.Task, name); err != nil {
		return nil, err
	}
	kinds := make([]string, len(header))
	var missing *columnScan // the first missing feature value, by row
	for i, s := range scans {
		if i == target || slices.Contains(opt.Ignore, header[i]) {
			continue
		}
		switch {
		case s.values == 0:
			return nil, errors.Errorf("%s: column %q: every value is missing: ignore it", name, header[i])
		case s.text == "" && s.bad != "" && !slices.Contains(opt.Categorical, header[i]):
			return nil, s.badAt
		case s.text == "" && !slices.Contains(opt.Categorical, header[i]):
			kinds[i] = KindNumeric
		default:
			kinds[i] = KindOneHot // or embedding, once the categories are counted
		}
		if s.missingAt != nil && (missing == nil || s.missingRow < missing.missingRow) {
			missing = &scans[i]
		}
	}
	if missing != nil && opt.Fill == "" {
		return nil, missing.missingAt
	}
	if !slices.ContainsFunc(kinds, func(k string) bool { return k != "" }) {
		return nil, errors.Errorf("%s: no feature columns besides the target %q", name, opt.Target)
	}
	var isTest []bool
	if test == nil {
		isTest = holdOutRows(keys, targetIDs, p.Task == TaskClassify, opt.heldOut())
	} else {
		isTest = make([]bool, len(keys))
	}

	// Pass 2: statistics and categories of the training rows.
	if f, err = openTable(open, limit, nil); err != nil {
		return nil, err
	}
	stats := make([]welford, len(header))
	cats := make([]map[string]bool, len(header))
	for i, k := range kinds {
		if k == KindOneHot {
			cats[i] = map[string]bool{}
		}
	}
	err = f.rows(func(rec []string) error {
		switch r := f.row - 1; {
		case r >= len(isTest):
			return f.errorf("row %d: the file grew while it was read", f.row)
		case isTest[r]:
			return nil
		}
		for i, v := range rec {
			switch {
			case isMissing(v):
			case kinds[i] == KindNumeric || (i == target && p.Task == TaskRegress):
				x, _ := parseDecimal(v)
				stats[i].add(x)
			case cats[i] != nil && !cats[i][v]:
				if len(cats[i]) == MaxCategories {
					return errors.Errorf("%s: column %q: more than %d distinct values (MaxCategories): an id or free text? ignore it", name, header[i], MaxCategories)
				}
				cats[i][strings.Clone(v)] = true
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i, k := range kinds {
		c := Column{Name: header[i], Kind: k}
		switch k {
		case "":
			continue
		case KindNumeric:
			if stats[i].n == 0 {
				return nil, errors.Errorf("%s: column %q: no values in the training rows", name, header[i])
			}
			c.Mean, c.Std = stats[i].meanStd()
		default:
			if len(cats[i]) == 0 {
				return nil, errors.Errorf("%s: column %q: no values in the training rows", name, header[i])
			}
			c.Categories = slices.Sorted(maps.Keys(cats[i]))
			if len(c.Categories) > MaxOneHot {
				c.Kind = KindEmbedding
			}
		}
		p.Columns = append(p.Columns, c)
	}
	if p.Task == TaskRegress {
		p.TargetMean, p.TargetStd = stats[target].meanStd()
	}
	if err := p.Check(); err != nil {
		return nil, errors.Wrap(err, name)
	}

	// Pass 3: the inputs and targets, by the preprocessing a prediction
	// applies.
	t := &Table{Name: name, Preprocessing: p}
	t.Train, t.Test = p.newSplit(), p.newSplit()
	split := func(r int) *TableSplit {
		if r < len(isTest) && isTest[r] {
			return t.Test
		}
		return t.Train
	}
	if err := p.encodeFile(open, limit, nil, split); err != nil {
		return nil, err
	}
	if test != nil {
		if err := p.encodeFile(test, limit, h, func(int) *TableSplit { return t.Test }); err != nil {
			return nil, err
		}
	}
	if t.Train.Len() == 0 || t.Test.Len() == 0 {
		return nil, errors.Errorf("%s: %d training and %d test rows: too few to hold out a %g share for testing", name, t.Train.Len(), t.Test.Len(), opt.heldOut())
	}
	t.SHA256 = hex.EncodeToString(h.Sum(nil))
	return t, nil
}

// check reports the first option out of range.
func (o TableOptions) check() error {
	switch {
	case o.Target == "":
		return errors.New("no target column: name the column to predict")
	case o.Task != "" && o.Task != TaskClassify && o.Task != TaskRegress:
		return errors.Errorf("task %q: want %s, %s or none (decided by the target's values)", o.Task, TaskClassify, TaskRegress)
	case o.Fill != "" && o.Fill != FillMean && o.Fill != FillZero:
		return errors.Errorf("fill %q: want %s, %s or none (missing values are an error)", o.Fill, FillMean, FillZero)
	case !(o.HeldOut >= 0 && o.HeldOut <= 0.9):
		return errors.Errorf("held-out share %g: want a number from 0 to 0.9 (0: %g)", o.HeldOut, DefaultHeldOut)
	case slices.Contains(o.Ignore, o.Target) || slices.Contains(o.Categorical, o.Target):
		return errors.Errorf("target column %q: also ignored or categorical", o.Target)
	}
	return nil
}

// heldOut returns the held-out share, with its default.
func (o TableOptions) heldOut() float64 {
	if o.HeldOut == 0 {
		return DefaultHeldOut
	}
	return o.HeldOut
}

// scanValue records value v of column i (the target if isTarget) of the
// current row of f in s.
func scanValue(s *columnScan, f *tableFile, i int, v string, isTarget bool) {
	if isMissing(v) {
		if s.missingAt == nil {
			s.missingRow = f.row
			if isTarget {
				s.missingAt = f.at(i, "%v: a row's target cannot be filled", ErrMissing)
			} else {
				s.missingAt = f.at(i, "%v (set fill to mean or zero to fill missing values)", ErrMissing)
			}
		}
		return
	}
	s.values++
	x, why := parseDecimal(v)
	switch {
	case why == "not a number":
		if s.text == "" {
			s.text, s.textAt = v, f.at(i, "%q is not a number", v)
		}
	case why != "":
		if s.bad == "" {
			s.bad, s.badAt = v, f.at(i, "%q is %s", v, why)
		}
	case x != math.Trunc(x):
		s.integral = false
	}
	if s.distinct != nil && !s.tooDistinct {
		k := canonicalClass(v)
		if _, ok := s.distinct[k]; !ok {
			if len(s.distinct) == MaxClasses {
				s.tooDistinct = true
				return
			}
			s.distinct[strings.Clone(k)] = int32(len(s.distinct))
		}
	}
}

// canonicalClass is the class name of target value v: a whole number in
// its shortest form ("1.0" and "01" are "1"), else v.
func canonicalClass(v string) string {
	if x, why := parseDecimal(v); why == "" && x == math.Trunc(x) && math.Abs(x) < 1<<53 {
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return v
}

// decideTarget sets p's task and classes from the scan of the target
// column and the task asked for ("" to decide).
func decideTarget(p *Preprocessing, s *columnScan, task, name string) error {
	if s.missingAt != nil {
		return s.missingAt
	}
	numeric := s.text == "" && s.bad == ""
	if task == "" {
		if s.text == "" && s.bad != "" { // numbers, one of them not finite
			return s.badAt
		}
		task = TaskClassify
		if numeric && (!s.integral || s.tooDistinct || len(s.distinct) > MaxIntegerClasses) {
			task = TaskRegress
		}
	}
	p.Task = task
	if task == TaskRegress {
		switch {
		case s.text != "":
			return errors.Errorf("%v (a regression's target must be a number)", s.textAt)
		case s.bad != "":
			return s.badAt
		}
		return nil
	}
	if s.tooDistinct {
		return errors.Errorf("%s: target column %q: more than %d distinct values, more classes than a dataset may have (MaxClasses): a regression?", name, p.Target, MaxClasses)
	}
	classes := slices.Collect(maps.Keys(s.distinct))
	if numeric {
		slices.SortFunc(classes, func(a, b string) int {
			x, _ := parseDecimal(a)
			y, _ := parseDecimal(b)
			return cmp.Or(cmp.Compare(x, y), strings.Compare(a, b))
		})
	} else {
		slices.Sort(classes)
	}
	if len(classes) < 2 {
		return errors.Errorf("%s: target column %q: a single class (%s): a classifier needs at least two", name, p.Target, quotedList(classes))
	}
	// Renumber the rows' target ids by the classes' order.
	p.Classes = classes
	order := make([]int32, len(classes))
	for i, c := range classes {
		order[s.distinct[c]] = int32(i)
	}
	for k, id := range s.distinct {
		s.distinct[k] = order[id]
	}
	return nil
}

// holdOutRows marks the rows held out: of each class (or of all rows),
// round(share·n) rows with the smallest keys (ties by row).
func holdOutRows(keys []uint64, classes []int32, stratify bool, share float64) []bool {
	groups := map[int32][]int{}
	for r := range keys {
		g := int32(0)
		if stratify {
			g = classes[r]
		}
		groups[g] = append(groups[g], r)
	}
	isTest := make([]bool, len(keys))
	for _, rows := range groups {
		slices.SortFunc(rows, func(a, b int) int { return cmp.Or(cmp.Compare(keys[a], keys[b]), cmp.Compare(a, b)) })
		for _, r := range rows[:int(share*float64(len(rows))+0.5)] {
			isTest[r] = true
		}
	}
	return isTest
}

// newSplit returns an empty split of p's rows.
func (p *Preprocessing) newSplit() *TableSplit {
	return &TableSplit{width: p.Width(), classes: len(p.Classes)}
}

// encodeFile encodes every row of the table that open opens into the
// split that split(row index) returns, feeding its bytes to h if not nil.
func (p *Preprocessing) encodeFile(open func() (source, func(), error), limit int64, h hash.Hash, split func(int) *TableSplit) error {
	f, err := openTable(open, limit, h)
	if err != nil {
		return err
	}
	enc, err := p.Encoder(f.header)
	if err == nil && !enc.HasTarget() {
		err = errors.Errorf("no target column %q", p.Target)
	}
	if err != nil {
		f.close()
		return errors.Wrap(err, f.name)
	}
	w := p.Width()
	return f.rows(func(rec []string) error {
		s := split(f.row - 1)
		n := len(s.X)
		s.X = slices.Grow(s.X, w)[:n+w]
		if err := enc.Encode(rec, s.X[n:]); err != nil {
			return f.errorf("row %d, %v", f.row, err)
		}
		if p.Task == TaskClassify {
			l, err := enc.Label(rec)
			if err != nil {
				return f.errorf("row %d, %v", f.row, err)
			}
			s.Labels = append(s.Labels, l)
		} else {
			v, err := enc.Value(rec)
			if err != nil {
				return f.errorf("row %d, %v", f.row, err)
			}
			s.Targets = append(s.Targets, v)
		}
		return nil
	})
}

// welford accumulates a mean and variance (Welford's algorithm).
type welford struct {
	n       int
	mean, m float64
}

func (w *welford) add(x float64) {
	w.n++
	d := x - w.mean
	w.mean += d / float64(w.n)
	w.m += d * (x - w.mean)
}

// meanStd returns the mean and the population standard deviation, 1 for
// a constant column (or one of a single value).
func (w *welford) meanStd() (mean, std float64) {
	std = math.Sqrt(w.m / float64(w.n))
	if !(std > 0) || math.IsInf(std, 0) {
		std = 1
	}
	return w.mean, std
}
