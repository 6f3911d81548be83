// Package run turns a run's configuration into a trained model and a run
// folder: it resolves one Config (from dlrun's flags, an experiment file or
// a run folder's config.json) into a model, its data and its task, trains
// it with train's one loop, and writes and reads run folders (config.json,
// model.json, weights, checkpoints, metrics.csv, curves.png,
// summary.json). It also loads trained runs for evaluation and prediction
// and generates text with a trained language model. cmd/dlrun and
// experiments call it; nothing else decides which kind of model a run is.
package run

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/dlrun/dlrun/internal/safeio"
	"github.com/dlrun/dlrun/internal/version"
	"github.com/dlrun/dlrun/nn"
	"github.com/dlrun/dlrun/train"
	"github.com/pkg/errors"
)

// The tasks a run can have.
const (
	Classify  = "classify"
	NextToken = "next-token"
	Rating    = "rating"
)

// Limits on a run's configuration besides those of train.Config (the
// data it records is bounded by train.MaxClasses, train.MaxVocab,
// train.MaxNameLen and train.CheckInputShape).
const (
	// MaxDim is the largest embedding size of the mf and ncf recommenders
	// (dim): 4096. Their tables hold (users + movies) × dim values;
	// factorisation models use 8 to 256.
	MaxDim = 1 << 12
	// MaxConfigSize is the largest config.json ReadConfig reads: 16 MiB.
	// One holding the largest vocabulary (train.MaxVocab characters) has
	// under 1 MiB.
	MaxConfigSize = 16 << 20
)

// Config is the one configuration of a training run: what `dlrun train`'s
// flags set, what an experiment file holds (with its seeds), and what a
// run folder's config.json records, under the same snake_case names. A
// zero field takes the model's recipe, then the loop's default; Resolve
// fills them in and refuses a setting that does not apply to the model.
type Config struct {
	// Model is a reference model's name (`dlrun models`) or the path of a
	// model file, YAML or JSON (docs/models.md).
	Model string `json:"model" yaml:"model"`
	// Task is classify or next-token (default: the model's; classify for a
	// model file).
	Task string `json:"task" yaml:"task"`
	// Dataset is a bundled dataset (fashion-mnist, xor,
	// pride-and-prejudice), a folder of IDX files or CIFAR-10 batches, or
	// for next-token prediction a UTF-8 text file (default: the model's).
	Dataset string `json:"dataset" yaml:"dataset"`
	// Cell is the recurrent cell of the rnn and charrnn reference models:
	// lstm (default) or gru.
	Cell string `json:"cell,omitempty" yaml:"cell"`
	// SeqLen is next-token prediction's steps of backpropagation through
	// time per batch (default: the model's, 100; at most train.MaxSeqLen).
	SeqLen int `json:"seq_len,omitempty" yaml:"seq_len"`
	// Dim is the embedding size of the mf and ncf recommenders (default
	// 32, at most MaxDim). For the recommenders, weight_decay is the L2 penalty on the
	// embedding rows and biases of each batch, as is usual for
	// factorisation, not a decay of every weight.
	Dim int `json:"dim,omitempty" yaml:"dim"`
	// Env is the game an agent (dqn, ppo) learns to play: cartpole or
	// connect4 (package env; default: the agent's).
	Env string `json:"env,omitempty" yaml:"env"`
	// Steps is an agent's training budget in environment steps (default:
	// the agent's recipe for its game; at most MaxAgentSteps).
	Steps int `json:"steps,omitempty" yaml:"steps"`

	train.Config `yaml:",inline"`

	// Recorded in config.json when the run starts.
	DatasetSHA256 string   `json:"dataset_sha256,omitempty" yaml:"-"`
	InputShape    []int    `json:"input_shape,omitempty" yaml:"-"`
	Classes       []string `json:"classes,omitempty" yaml:"-"`
	Vocab         []string `json:"vocab,omitempty" yaml:"-"` // next-token: the tokens in id order
	TrainExamples int      `json:"train_examples,omitempty" yaml:"-"`
	TestExamples  int      `json:"test_examples,omitempty" yaml:"-"`
	Params        int      `json:"params,omitempty" yaml:"-"`
	Version       string   `json:"dlrun_version,omitempty" yaml:"-"`
}

// recipes are the reference models' defaults: the data each is made for
// and the hyperparameters of its published run.
var recipes = map[string]Config{
	"xor":     {Task: Classify, Dataset: "xor", Config: train.Config{Epochs: 300, BatchSize: 4, Optimizer: "adam", LearningRate: 0.05, Loss: "bce"}},
	"mlp":     {Task: Classify, Dataset: "fashion-mnist", Config: imageRecipe},
	"cnn":     {Task: Classify, Dataset: "fashion-mnist", Config: imageRecipe},
	"cnn-bn":  {Task: Classify, Dataset: "fashion-mnist", Config: train.Config{Epochs: 10, BatchSize: 64, Optimizer: "adam", LearningRate: 2e-3, Loss: "cce", Schedule: "cosine"}},
	"rnn":     {Task: Classify, Dataset: "fashion-mnist", Cell: "lstm", Config: imageRecipe},
	"mf":      {Task: Rating, Dataset: "movielens", Dim: 32, Config: ratingRecipe},
	"ncf":     {Task: Rating, Dataset: "movielens", Dim: 32, Config: train.Config{Epochs: 3, BatchSize: 256, Optimizer: "adam", LearningRate: 1e-3, Loss: "mse", WeightDecay: 0.1}},
	"biases":  {Task: Rating, Dataset: "movielens", Config: train.Config{Epochs: 8, BatchSize: 256, Optimizer: "adam", LearningRate: 5e-3, Loss: "mse", WeightDecay: 0.05}},
	"charrnn": {Task: NextToken, Dataset: "pride-and-prejudice", Cell: "lstm", SeqLen: 100, Config: train.Config{Epochs: 3, BatchSize: 64, Optimizer: "adam", LearningRate: 2e-3, Loss: "cce"}},
}

var imageRecipe = train.Config{Epochs: 10, BatchSize: 64, Optimizer: "adam", LearningRate: 1e-3, Loss: "cce"}

// ratingRecipe is mf's: weight_decay is the L2 on each batch's embedding
// rows and biases (nn.MF.L2).
var ratingRecipe = train.Config{Epochs: 20, BatchSize: 256, Optimizer: "adam", LearningRate: 1e-3, Loss: "mse", WeightDecay: 0.1}

// fileRecipes are the defaults of a model file, by task.
var fileRecipes = map[string]Config{
	Classify:  {Task: Classify, Dataset: "fashion-mnist", Config: imageRecipe},
	Rating:    {Task: Rating, Dataset: "movielens", Config: ratingRecipe},
	NextToken: {Task: NextToken, Dataset: "pride-and-prejudice", SeqLen: 100, Config: train.Config{Epochs: 3, BatchSize: 64, Optimizer: "adam", LearningRate: 2e-3, Loss: "cce"}},
}

// Recipe returns the defaults of a reference model or, for a model file,
// of its task (classify unless task says otherwise).
func Recipe(model, task string) (Config, error) {
	if IsModelFile(model) {
		if task == "" {
			task = Classify
		}
		r, ok := fileRecipes[task]
		if !ok {
			return Config{}, errors.Errorf("unknown task %q (known: %s, %s, %s)", task, Classify, NextToken, Rating)
		}
		return r, nil
	}
	if _, err := nn.ReferenceByName(model); err != nil {
		return Config{}, errors.Errorf("%v, or a model file (.yaml, .yml, .json)", err)
	}
	r, ok := recipes[model]
	if !ok {
		return Config{}, errors.Errorf("reference model %s has no recipe", model)
	}
	return r, nil
}

// IsModelFile reports whether model names a model file rather than a
// reference model: a path ending in .yaml, .yml or .json.
func IsModelFile(model string) bool {
	switch strings.ToLower(filepath.Ext(model)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

// Resolve fills the zero fields of c from its model's recipe and the
// loop's defaults, and checks every setting: an unknown name, a bad value
// (a rate that is NaN, infinite or negative, a count past its limit:
// train.Config.Check, train.MaxSeqLen, MaxDim), a setting that does not
// apply to the model (cell for a model without a recurrent cell, seq_len
// for a classifier, lr_step_every without the step schedule) or one
// missing (the step schedule without lr_step_every) is a one-line error
// that names the setting by its config-file name and says why. Train
// calls it before it loads data or makes the run folder.
func (c *Config) Resolve() error { return c.resolve(true) }

// resolve is Resolve; readFile says whether a model file is read (and
// checked) too.
func (c *Config) resolve(readFile bool) error {
	if c.Model == "" {
		return errors.New("no model: name a reference model (dlrun models) or a model file")
	}
	if IsAgent(c.Model) {
		return c.resolveAgent()
	}
	if c.Env != "" || c.Steps != 0 {
		return errors.Errorf("env and steps do not apply to model %s: they are the settings of an agent (dqn, ppo)", c.Model)
	}
	r, err := Recipe(c.Model, c.Task)
	if err != nil {
		return err
	}
	switch {
	case c.Task == "":
		c.Task = r.Task
	case c.Task != Classify && c.Task != NextToken && c.Task != Rating:
		return errors.Errorf("unknown task %q (known: %s, %s, %s)", c.Task, Classify, NextToken, Rating)
	case c.Task != r.Task:
		return errors.Errorf("task %s does not apply to model %s, which is trained for %s", c.Task, c.Model, r.Task)
	}
	if c.Cell != "" && r.Cell == "" {
		return errors.Errorf("cell %q does not apply to model %s: only the rnn and charrnn reference models have a cell to choose (a model file names lstm or gru per layer)", c.Cell, c.Model)
	}
	if c.SeqLen != 0 && c.Task != NextToken {
		return errors.Errorf("seq_len %d does not apply to model %s: it is a %s model, and seq_len sets next-token prediction's steps per batch", c.SeqLen, c.Model, c.Task)
	}
	if c.SeqLen < 0 || c.SeqLen > train.MaxSeqLen {
		return errors.Errorf("seq_len %d: must be 1 to %d", c.SeqLen, train.MaxSeqLen)
	}
	if c.Dim != 0 && r.Dim == 0 {
		return errors.Errorf("dim %d does not apply to model %s: only the mf and ncf recommenders have an embedding size to choose", c.Dim, c.Model)
	}
	if c.Dim < 0 || c.Dim > MaxDim {
		return errors.Errorf("dim %d: must be 1 to %d", c.Dim, MaxDim)
	}
	if readFile && IsModelFile(c.Model) {
		if _, err := nn.ReadSpec(c.Model); err != nil {
			return err
		}
	}
	fillZero(c, r)
	switch strings.ToLower(c.Cell) {
	case "", "lstm", "gru":
		c.Cell = strings.ToLower(c.Cell)
	default:
		return errors.Errorf("unknown cell %q (want lstm or gru)", c.Cell)
	}
	c.Config = c.Config.Defaults()
	if err := c.Config.Check(); err != nil {
		return err
	}
	if l, _ := train.LossByName(c.Loss); c.Task == NextToken && l.Name != train.CrossEntropy.Name {
		return errors.Errorf("loss %s does not apply to model %s: next-token prediction trains with cce", c.Loss, c.Model)
	} else if c.Task == Rating && l.Name != train.MeanSquaredError.Name {
		return errors.Errorf("loss %s does not apply to model %s: rating prediction trains with mse", c.Loss, c.Model)
	}
	if c.Version == "" { // a resumed run keeps the version it began with
		c.Version = version.Version
	}
	return nil
}

// fillZero sets every zero exported field of dst, and of the train.Config
// inside it, to src's value.
func fillZero(dst *Config, src Config) {
	var fill func(d, s reflect.Value)
	fill = func(d, s reflect.Value) {
		for i := 0; i < d.NumField(); i++ {
			f := d.Field(i)
			if !d.Type().Field(i).IsExported() || f.Kind() == reflect.Func {
				continue
			}
			if f.Kind() == reflect.Struct {
				fill(f, s.Field(i))
				continue
			}
			if f.IsZero() {
				f.Set(s.Field(i))
			}
		}
	}
	fill(reflect.ValueOf(dst).Elem(), reflect.ValueOf(src))
}

// ReadConfig reads the config.json of run folder dir: a regular file
// (safeio) of at most MaxConfigSize bytes, whose settings pass
// train.Config.Check and the limits on seq_len and dim, and whose record
// of the data (classes, vocab, input_shape, example counts) passes
// train.MaxClasses, train.MaxVocab, train.MaxNameLen and
// train.CheckInputShape. The lists' lengths are checked before they are
// decoded, so nothing is allocated from a hostile count. Errors are one
// line naming the folder and the file.
func ReadConfig(dir string) (*Config, error) {
	b, err := safeio.ReadFile(filepath.Join(dir, "config.json"), MaxConfigSize)
	if err != nil {
		return nil, errors.Wrapf(err, "run folder %s", dir)
	}
	c, err := parseConfig(b)
	if err != nil {
		return nil, errors.Wrapf(err, "run folder %s: config.json", dir)
	}
	return c, nil
}

// parseConfig decodes and checks the bytes of a config.json.
func parseConfig(b []byte) (*Config, error) {
	// Count the lists first: json.Unmarshal checks the whole text before
	// it decodes, and hands each list to arrayLen undecoded.
	var lens struct {
		InputShape arrayLen `json:"input_shape"`
		Classes    arrayLen `json:"classes"`
		Vocab      arrayLen `json:"vocab"`
	}
	if err := json.Unmarshal(b, &lens); err != nil {
		return nil, oneLine(err)
	}
	if n := int(lens.InputShape); n > train.MaxInputRank {
		return nil, errors.Errorf("input_shape: %d dimensions, want 1 to %d", n, train.MaxInputRank)
	}
	for _, l := range []struct {
		name   string
		n, max int
	}{{"classes", int(lens.Classes), train.MaxClasses}, {"vocab", int(lens.Vocab), train.MaxVocab}} {
		if l.n > l.max {
			return nil, errors.Errorf("%s: %d names, more than the %d allowed", l.name, l.n, l.max)
		}
	}
	var c Config
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, oneLine(err)
	}
	if err := c.checkRecorded(); err != nil {
		return nil, err
	}
	return &c, nil
}

// checkRecorded checks what a config.json holds: the settings as
// train.Config.Check and Resolve's limits do, and the record of the data.
func (c *Config) checkRecorded() error {
	if err := c.Config.Check(); err != nil {
		return err
	}
	if c.SeqLen < 0 || c.SeqLen > train.MaxSeqLen {
		return errors.Errorf("seq_len %d: must be 1 to %d", c.SeqLen, train.MaxSeqLen)
	}
	if c.Dim < 0 || c.Dim > MaxDim {
		return errors.Errorf("dim %d: must be 1 to %d", c.Dim, MaxDim)
	}
	if c.InputShape != nil {
		if err := train.CheckInputShape(c.InputShape); err != nil {
			return err
		}
	}
	if err := train.CheckNames("classes", c.Classes, train.MaxClasses); err != nil {
		return err
	}
	if err := train.CheckNames("vocab", c.Vocab, train.MaxVocab); err != nil {
		return err
	}
	for _, n := range []struct {
		name string
		v    int
	}{{"train_examples", c.TrainExamples}, {"test_examples", c.TestExamples}, {"params", c.Params}} {
		if n.v < 0 {
			return errors.Errorf("%s %d: must not be negative", n.name, n.v)
		}
	}
	return nil
}

// oneLine is a decoding error on one line.
func oneLine(err error) error {
	return errors.New(strings.Join(strings.Fields(err.Error()), " "))
}

// arrayLen is the number of elements of a JSON array, counted without
// decoding them (0 for null or for a value that is not an array, which
// the full decoding then refuses).
type arrayLen int

// UnmarshalJSON implements json.Unmarshaler: it counts the elements of
// the outermost array of b, which encoding/json has checked is valid JSON.
func (n *arrayLen) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '[' {
		*n = 0
		return nil
	}
	commas, depth, inString, escaped, empty := 0, 0, false, false, true
	for _, ch := range b {
		if inString {
			switch {
			case escaped:
				escaped = false
			case ch == '\\':
				escaped = true
			case ch == '"':
				inString = false
			}
			continue
		}
		switch ch {
		case ' ', '\t', '\n', '\r':
			continue
		case ',':
			if depth == 1 {
				commas++
			}
			continue
		case ']', '}':
			depth--
			continue
		}
		if depth == 1 {
			empty = false // an element starts (or goes on) in the outermost array
		}
		switch ch {
		case '"':
			inString = true
		case '[', '{':
			depth++
		}
	}
	*n = 0
	if !empty {
		*n = arrayLen(commas + 1)
	}
	return nil
}
