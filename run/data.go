package run

import (
	"os"
	"strconv"

	"github.com/dlrun/dlrun/datasets"
	"github.com/dlrun/dlrun/train"
	"github.com/pkg/errors"
)

// Data is a dataset ready for a run: its splits as the loop reads them
// and what config.json records of it. Each kind fills what its data has
// (SupervisedKind.Data): the shape and class names of labelled examples,
// a text's vocabulary, the users and movies of ratings.
type Data struct {
	Name    string
	SHA256  string
	Shape   []int    // labelled examples: per-example input shape
	Classes []string // labelled examples: class names in label order
	Vocab   []string // a text: the tokens in id order
	// Rating: the numbers of users and movies and the training set's mean
	// rating.
	Users, Movies int
	Mean          float64
	Train         train.Data
	Test          train.Data
	// Skipped lists the images of an image folder skipped as unreadable
	// (ImageConfig.SkipBad), each as the one line that says why.
	Skipped []string
	// Preprocessing is a CSV table's: how its rows became the inputs.
	Preprocessing *datasets.Preprocessing

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

// LoadRatings returns the bundled MovieLens ratings (movielens) or the
// ratings in the folder at path (MovieLens's CSV or the ml-100k layout).
func LoadRatings(path string) (*datasets.Ratings, error) {
	if path == "movielens" {
		return datasets.MovieLens()
	}
	return datasets.LoadRatingsDir(path)
}

// LoadText returns the bundled novel (pride-and-prejudice), the UTF-8
// text file at path (datasets.LoadTextFile: a regular file, gzipped or
// not, of at most datasets.MaxTextBytes of text with at most
// datasets.MaxTextVocab distinct characters) or the text files of the
// folder at path, joined in the order of their paths
// (datasets.LoadTextDir), with the last 10% held out.
func LoadText(path string) (*datasets.Text, error) {
	if path == "pride-and-prejudice" {
		return datasets.PrideAndPrejudice()
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return datasets.LoadTextDir(path, 0.1)
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

// CheckDatasetSHA256 reports whether sha, the SHA-256 of the data loaded
// by the name config.json's dataset records, is not the dataset_sha256
// that c records (where it records one): the data changed since the run
// began, or config.json's dataset names other data than the run's.
func (c *Config) CheckDatasetSHA256(sha string) error {
	if c.DatasetSHA256 == "" || sha == c.DatasetSHA256 {
		return nil
	}
	return errors.Errorf("config.json: dataset: %s has SHA-256 %s, but dataset_sha256 records %s: the data changed since the run began, or dataset names other data than the run's", c.Dataset, sha, c.DatasetSHA256)
}

// Record sets what config.json records of the data a new run of c trains
// on, d, read by task: its name and SHA-256, the model's input shape, the
// class names or the vocabulary, the sizes of its splits, a table's
// preprocessing.
func (c *Config) Record(d *Data, task train.Task) {
	c.Dataset, c.DatasetSHA256 = d.Name, d.SHA256
	c.InputShape, c.Classes, c.Vocab = task.InputShape(), d.Classes, d.Vocab
	c.TrainExamples, c.TestExamples = d.Train.Len(), d.Test.Len()
	if d.Preprocessing != nil {
		if c.Table == nil {
			c.Table = &TableConfig{}
		}
		c.Table.Target, c.Table.Preprocessing = d.Preprocessing.Target, d.Preprocessing
	}
}

// plural returns "1 epoch", "2 epochs".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}
