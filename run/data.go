package run

import (
	"github.com/dlrun/dlrun/datasets"
	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/nn"
	"github.com/dlrun/dlrun/train"
	"github.com/pkg/errors"
)

// Data is a dataset ready for a run: its splits as the loop reads them
// and what config.json records of it.
type Data struct {
	Name    string
	SHA256  string
	Shape   []int    // classify: per-example input shape
	Classes []string // classify: class names in label order
	Vocab   []string // next-token: the tokens in id order
	// Rating: the numbers of users and movies and the training set's mean
	// rating.
	Users, Movies int
	Mean          float64
	Train         train.Data
	Test          train.Data

	set *datasets.Dataset // classify: the dataset, to read its images as rows
}

// FromDataset presents a labelled dataset for classification.
func FromDataset(d *datasets.Dataset) *Data {
	return &Data{Name: d.Name, SHA256: d.SHA256, Shape: d.Shape, Classes: d.Classes, Train: d.Train, Test: d.Test, set: d}
}

// FromText presents a text for next-token prediction: the training part
// and the held-out part.
func FromText(t *datasets.Text) *Data {
	return &Data{Name: t.Name, SHA256: t.SHA256, Vocab: t.Vocab, Train: train.Tokens(t.Train), Test: train.Tokens(t.HeldOut)}
}

// FromRatings presents ratings for rating prediction.
func FromRatings(r *datasets.Ratings) *Data {
	return &Data{Name: r.Name, SHA256: r.SHA256, Users: len(r.UserIDs), Movies: len(r.MovieIDs), Mean: r.Mean(),
		Train: ratings(r.Train), Test: ratings(r.Test)}
}

// ratings presents a split of datasets.Ratings as train.Ratings.
type ratings []datasets.Rating

func (r ratings) Len() int { return len(r) }
func (r ratings) Rating(i int) (user, movie int, value float32) {
	return r[i].User, r[i].Movie, r[i].Value
}

// LoadData loads the dataset a resolved configuration names, as its task
// reads it: labelled examples for classify (a bundled dataset or a folder
// of IDX files or CIFAR-10 batches), a text for next-token (the bundled
// novel, or a UTF-8 text file with its last 10% held out), ratings for
// rating (the bundled movielens, or a folder in MovieLens's CSV or ml-100k
// layout).
func LoadData(c *Config) (*Data, error) {
	if c.Task == Rating {
		r, err := LoadRatings(c.Dataset)
		if err != nil {
			return nil, err
		}
		return FromRatings(r), nil
	}
	if c.Task == NextToken {
		t, err := LoadText(c.Dataset)
		if err != nil {
			return nil, err
		}
		return FromText(t), nil
	}
	d, err := datasets.Load(c.Dataset)
	if err != nil {
		return nil, err
	}
	return FromDataset(d), nil
}

// LoadRatings returns the bundled MovieLens ratings (movielens) or the
// ratings in the folder at path (MovieLens's CSV or the ml-100k layout).
func LoadRatings(path string) (*datasets.Ratings, error) {
	if path == "movielens" {
		return datasets.MovieLens()
	}
	return datasets.LoadRatingsDir(path)
}

// LoadText returns the bundled novel (pride-and-prejudice) or the UTF-8
// text file at path with its last 10% held out: a regular file, gzipped
// or not, of at most datasets.MaxTextBytes of text with at most
// datasets.MaxTextVocab distinct characters (datasets.LoadTextFile).
func LoadText(path string) (*datasets.Text, error) {
	if path == "pride-and-prejudice" {
		return datasets.PrideAndPrejudice()
	}
	return datasets.LoadTextFile(path, 0.1)
}

// check reports the first thing about d that a run cannot train on, in one
// line naming the dataset: more classes or a larger vocabulary than
// train.MaxClasses and train.MaxVocab, a name longer than
// train.MaxNameLen, an input shape past train.CheckInputShape's limits,
// or a NaN or infinite input value or rating (which would train the
// weights to NaN), named by its split and index. It reads each split once
// and allocates at most one example.
func (d *Data) check() error {
	if err := train.CheckNames("classes", d.Classes, train.MaxClasses); err != nil {
		return errors.Wrapf(err, "dataset %s", d.Name)
	}
	if err := train.CheckNames("vocab", d.Vocab, train.MaxVocab); err != nil {
		return errors.Wrapf(err, "dataset %s", d.Name)
	}
	if d.Shape != nil {
		if err := train.CheckInputShape(d.Shape); err != nil {
			return errors.Wrapf(err, "dataset %s", d.Name)
		}
	}
	for _, s := range []struct {
		role string
		data train.Data
	}{{"training", d.Train}, {"test", d.Test}} {
		if err := checkValues(s.data); err != nil {
			return errors.Wrapf(err, "dataset %s: %s data", d.Name, s.role)
		}
	}
	return nil
}

// checkValues reports the first example or rating of data that holds a NaN or
// an infinite value. Data of other kinds (token ids) holds none.
func checkValues(data train.Data) error {
	bad := func(i int, v float32, j int) error {
		return errors.Errorf("example %d has value %v at position %d: inputs must be finite", i, v, j)
	}
	switch x := data.(type) {
	case *datasets.Split:
		n := max(values(x.Shape()), 1)
		for j, v := range x.X {
			if v-v != 0 { // NaN - NaN and Inf - Inf are NaN
				return bad(j/n, v, j%n)
			}
		}
	case train.Examples:
		if err := train.CheckInputShape(x.Shape()); err != nil {
			return err
		}
		buf := make([]float32, values(x.Shape()))
		for i := 0; i < x.Len(); i++ {
			x.Example(i, buf)
			for j, v := range buf {
				if v-v != 0 {
					return bad(i, v, j)
				}
			}
		}
	case train.Ratings:
		for i := 0; i < x.Len(); i++ {
			if _, _, v := x.Rating(i); v-v != 0 {
				return errors.Errorf("rating %d has value %v: ratings must be finite", i, v)
			}
		}
	}
	return nil
}

// values returns the number of values of a tensor of the given shape.
func values(shape []int) int {
	p := 1
	for _, d := range shape {
		p *= d
	}
	return p
}

// build checks data d (Data.check) and makes the model and the task of a
// resolved configuration for it. A classifier whose first layer is recurrent reads each image as the
// sequence of its rows (datasets.AsSequence), which changes d's shape.
func build(c *Config, d *Data) (*nn.Sequential, train.Task, error) {
	if err := d.check(); err != nil {
		return nil, nil, err
	}
	loss, err := train.LossByName(c.Loss)
	if err != nil {
		return nil, nil, err
	}
	in, outputs := d.Shape, len(d.Classes)
	switch {
	case c.Task == Rating:
		if d.Users == 0 || d.Movies == 0 {
			return nil, nil, errors.Errorf("dataset %s has no users or movies: rating prediction needs ratings", d.Name)
		}
		in, outputs = []int{2}, 1
	case c.Task == NextToken:
		if len(d.Vocab) == 0 {
			return nil, nil, errors.Errorf("dataset %s has no vocabulary: next-token prediction needs a text", d.Name)
		}
		in, outputs = []int{c.SeqLen}, len(d.Vocab)
	default:
		if len(d.Classes) == 0 {
			return nil, nil, errors.Errorf("dataset %s has no classes: classification needs labelled examples", d.Name)
		}
		outputs = train.Outputs(loss, outputs)
	}
	var model *nn.Sequential
	if IsModelFile(c.Model) {
		spec, err := nn.ReadSpec(c.Model)
		if err != nil {
			return nil, nil, err
		}
		if model, err = spec.Build(); err != nil {
			return nil, nil, err
		}
	} else {
		ref, err := nn.ReferenceByName(c.Model)
		if err != nil {
			return nil, nil, err
		}
		opt := nn.Options{Users: d.Users, Movies: d.Movies, Mean: d.Mean, Dim: c.Dim, L2: c.WeightDecay}
		if c.Cell == "gru" {
			opt.Cell = graph.GRUCell
		}
		if model, err = ref.Build(in, outputs, opt); err != nil {
			return nil, nil, err
		}
	}
	task, err := newTask(c, model, d, outputs)
	return model, task, err
}

// newTask returns the task of c for model on d, reading images as rows
// for a model whose first layer is recurrent.
func newTask(c *Config, model *nn.Sequential, d *Data, outputs int) (train.Task, error) {
	switch c.Task {
	case NextToken:
		return &train.NextToken{Vocab: len(d.Vocab), SeqLen: c.SeqLen}, nil
	case Rating:
		return &train.Rating{Users: d.Users, Movies: d.Movies}, nil
	}
	if err := readAsModelDoes(model, d); err != nil {
		return nil, err
	}
	return &train.Classify{Shape: d.Shape, Outputs: outputs}, nil
}

// readAsModelDoes is the one rule for reading images as sequences: a
// classifier whose first layer is recurrent reads each image as the
// sequence of its rows (datasets.AsSequence), which changes d's shape.
func readAsModelDoes(model nn.Layer, d *Data) error {
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

// BuildModel builds the model cfg names for its dataset without training
// it, and returns it with its per-example input shape (for summaries and
// parameter counts).
func BuildModel(cfg Config) (*nn.Sequential, []int, error) {
	if err := cfg.Resolve(); err != nil {
		return nil, nil, err
	}
	d, err := LoadData(&cfg)
	if err != nil {
		return nil, nil, errors.Wrap(err, "dataset")
	}
	model, task, err := build(&cfg, d)
	if err != nil {
		return nil, nil, err
	}
	return model, task.InputShape(), nil
}
