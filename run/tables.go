package run

import (
	"slices"
	"strings"

	"github.com/dlrun/dlrun/datasets"
	"github.com/dlrun/dlrun/nn"
	"github.com/pkg/errors"
)

// TableConfig says how a run reads a CSV table (docs/data.md): what
// `dlrun train`'s --target, --fill and --ignore set, and, recorded in
// config.json under "table" when the run starts, the preprocessing made
// from the training rows, which evaluation, prediction, serving and a
// resumed run apply as it is.
type TableConfig struct {
	// Target is the column to predict (required for a table).
	Target string `json:"target,omitempty" yaml:"target,omitempty"`
	// Fill fills missing feature values: mean (a numeric column's
	// training mean) or zero; "": a missing value is an error naming its
	// row and column.
	Fill string `json:"fill,omitempty" yaml:"fill,omitempty"`
	// Ignore names columns to leave out (ids, free text).
	Ignore []string `json:"ignore,omitempty" yaml:"ignore,omitempty"`
	// Test is a CSV file of test rows with the same columns; "": 20%
	// of the table's rows are held out (datasets.TableOptions.HeldOut).
	Test string `json:"test,omitempty" yaml:"test,omitempty"`
	// Preprocessing is recorded when the run starts: the columns, their
	// statistics and categories, the classes or the target's scale.
	Preprocessing *datasets.Preprocessing `json:"preprocessing,omitempty" yaml:"-"`
}

// options returns the table options tc says for a table of task
// (datasets.TaskClassify, TaskRegress or "" to decide by the target),
// checked: a one-line error names the setting at fault.
func (tc *TableConfig) options(task string) (datasets.TableOptions, error) {
	if tc == nil || tc.Target == "" {
		return datasets.TableOptions{}, errors.New("target: a CSV table needs the column to predict (--target COLUMN)")
	}
	switch tc.Fill {
	case "", datasets.FillMean, datasets.FillZero:
	default:
		return datasets.TableOptions{}, errors.Errorf("fill %q: want mean or zero", tc.Fill)
	}
	return datasets.TableOptions{Target: tc.Target, Task: task, Fill: tc.Fill, Ignore: tc.Ignore, Test: tc.Test}, nil
}

// set reports whether tc sets any of the settings (not the record).
func (tc *TableConfig) set() bool {
	return tc != nil && (tc.Target != "" || tc.Fill != "" || len(tc.Ignore) > 0 || tc.Test != "")
}

// check checks what config.json records of a table.
func (tc *TableConfig) check() error {
	if tc == nil {
		return nil
	}
	if tc.Fill != "" && tc.Fill != datasets.FillMean && tc.Fill != datasets.FillZero {
		return errors.Errorf("table.fill %q: want mean or zero", tc.Fill)
	}
	if p := tc.Preprocessing; p != nil {
		if err := p.Check(); err != nil {
			return errors.Wrap(err, "table.preprocessing")
		}
		if p.Target != tc.Target {
			return errors.Errorf("table.preprocessing: target %q, but table.target is %q", p.Target, tc.Target)
		}
	}
	return nil
}

// tableTask returns the task of a new run of c on its CSV table: c's own,
// or, if it names none, the one the table's target makes
// (datasets.TableOptions.Task: text or few whole numbers make a
// classification, other numbers a regression). It reads the table.
func tableTask(c *Config) (string, error) {
	if c.Task != "" || !datasets.IsTable(c.Dataset) || c.Table == nil || c.Table.Target == "" {
		return c.Task, nil
	}
	opt, err := c.Table.options("")
	if err != nil {
		return "", err
	}
	t, err := datasets.LoadTable(c.Dataset, opt)
	if err != nil {
		return "", err
	}
	return t.Preprocessing.Task, nil
}

// loadTable loads the CSV table c names for a new or resumed run of task
// (datasets.TaskClassify or TaskRegress), as c.Table says. A run that
// recorded a preprocessing must get the same again (its table has not
// changed: its SHA-256 says so first).
func loadTable(c *Config, task string) (*Data, error) {
	if c.Images.set() {
		return nil, errors.Errorf("%s: the image options read an image folder, and dataset %s is a CSV table", c.Images.first(), c.Dataset)
	}
	opt, err := c.Table.options(task)
	if err != nil {
		return nil, err
	}
	t, err := datasets.LoadTable(c.Dataset, opt)
	if err != nil {
		return nil, err
	}
	return FromTable(t), nil
}

// FromTable presents a CSV table for classification or regression: its
// rows as model inputs, with the preprocessing that made them.
func FromTable(t *datasets.Table) *Data {
	p := t.Preprocessing
	return &Data{Name: t.Name, SHA256: t.SHA256, Shape: t.Train.Shape(), Classes: p.Classes,
		Train: t.Train, Test: t.Test, Preprocessing: p}
}

// notTable refuses the table options for dataset name, which is not a CSV
// table.
func notTable(c *Config) error {
	if c.Table.set() && !datasets.IsTable(c.Dataset) {
		return errors.Errorf("target %q: the table options read a CSV table (a .csv file), and dataset %s is not one", c.Table.Target, c.Dataset)
	}
	return nil
}

// tableEvalData loads table name for evaluating run r, which trained on a
// table: its own (its held-out rows, split as training split them, and
// checked against the SHA-256 the run recorded) or another table holding
// the run's columns (every row, read with the run's preprocessing).
func tableEvalData(r *Run, name string) (*Data, error) {
	tc := r.Config.Table
	if tc == nil || tc.Preprocessing == nil {
		return nil, errors.Errorf("dataset %s is a CSV table, and run %s was not trained on one", name, r.Dir)
	}
	p := tc.Preprocessing
	if name == r.Config.Dataset {
		d, err := loadTable(&r.Config, p.Task)
		if err != nil {
			return nil, unloadable(r, err)
		}
		if err := checkOwnData(&r.Config, d); err != nil {
			return nil, err
		}
		d.Preprocessing = p
		return d, nil
	}
	s, sha, err := p.ReadTable(name)
	if err != nil {
		return nil, err
	}
	return &Data{Name: name, SHA256: sha, Shape: s.Shape(), Classes: p.Classes, Train: s, Test: s, Preprocessing: p}, nil
}

// checkTable reports what in a table run's config.json disagrees with its
// model.json: the preprocessing's width against the model's input, its
// classes against the outputs.
func checkTable(c *Config, inputShape []int) error {
	if c.Table == nil || c.Table.Preprocessing == nil {
		return nil
	}
	p := c.Table.Preprocessing
	if want := []int{p.Width()}; !slices.Equal(inputShape, want) {
		return errors.Errorf("config.json: table.preprocessing makes %d inputs (%s), but model.json's input_shape is %v", p.Width(), strings.Join(firstNames(p.Inputs(), 5), ", "), inputShape)
	}
	return nil
}

// firstNames returns the first n names of list, with "..." after them if
// there are more.
func firstNames(list []string, n int) []string {
	if len(list) <= n {
		return list
	}
	return append(slices.Clone(list[:n]), "...")
}

// withColumnEmbedding returns reference network m reading a table's rows
// made by p: if p has embedding columns (categories past
// datasets.MaxOneHot), an nn.ColumnEmbedding first looks each up, a vector
// of nn.DefaultColumnDim values, as fastai's tabular models do; otherwise m.
func withColumnEmbedding(m *nn.Sequential, p *datasets.Preprocessing) *nn.Sequential {
	e := &nn.ColumnEmbedding{}
	at := 0
	for _, c := range p.Columns {
		if c.Kind == datasets.KindEmbedding {
			e.Columns = append(e.Columns, at)
			e.Sizes = append(e.Sizes, len(c.Categories)+1)
		}
		at += c.Width()
	}
	if len(e.Columns) == 0 {
		return m
	}
	return nn.NewSequential(m.Name(), append([]nn.Layer{e}, m.Layers...)...)
}
