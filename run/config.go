package run

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/dlrun/dlrun/internal/safeio"
	"github.com/dlrun/dlrun/internal/version"
	"github.com/dlrun/dlrun/nn"
	"github.com/dlrun/dlrun/rundir"
	"github.com/dlrun/dlrun/train"
	"github.com/pkg/errors"
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

// Config is the one configuration of a run: what `dlrun train`'s flags
// set, what an experiment file holds (with its seeds), and what a run
// folder's config.json records, under the same snake_case names. A zero
// field takes the model's recipe (its kind's), then the loop's default;
// Resolve fills them in and refuses a setting that does not apply to the
// model's kind.
type Config struct {
	// Model is a reference model's name (`dlrun models`: a network, or an
	// agent) or the path of a model file, YAML or JSON (docs/models.md).
	Model string `json:"model" yaml:"model"`
	// Task is the task of the run's kind (classify, next-token, rating;
	// an agent's is play); default: the model's, classify for a model
	// file. A model file trains as the kind its task names.
	Task string `json:"task" yaml:"task"`
	// Dataset is a bundled dataset (Datasets), a folder of IDX files or
	// CIFAR-10 batches, a folder of ratings, or for next-token prediction
	// a UTF-8 text file (default: the model's).
	Dataset string `json:"dataset" yaml:"dataset"`
	// Cell is the recurrent cell of the rnn and charrnn reference models:
	// lstm (default) or gru.
	Cell string `json:"cell,omitempty" yaml:"cell"`
	// SeqLen is next-token prediction's steps of backpropagation through
	// time per batch (default: the model's, 100; at most train.MaxSeqLen).
	SeqLen int `json:"seq_len,omitempty" yaml:"seq_len"`
	// Dim is the embedding size of the mf and ncf recommenders (default
	// 32, at most MaxDim). For the recommenders, weight_decay is the L2
	// penalty on the embedding rows and biases of each batch, as is usual
	// for factorisation, not a decay of every weight.
	Dim int `json:"dim,omitempty" yaml:"dim"`
	// Grid is the step of a music model's piano roll when it reads a
	// folder of MIDI files: quarter (default), 8th or 16th (the bundled
	// JSB Chorales are quarter notes).
	Grid string `json:"grid,omitempty" yaml:"grid"`
	// Agent holds the settings of an agent's run (dqn, ppo): its game and
	// its budget. Nil for the other kinds, which refuse it.
	Agent *AgentConfig `json:"agent,omitempty" yaml:"agent"`
	// Images says how a classifier reads an image folder (ImageConfig);
	// nil: the defaults.
	Images *ImageConfig `json:"images,omitempty" yaml:"images,omitempty"`
	// Table says how a classifier or a regressor reads a CSV table
	// (TableConfig); nil for other data.
	Table *TableConfig `json:"table,omitempty" yaml:"table,omitempty"`

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
	// Headline is the figure that scores runs of the kind (Kind.Progress),
	// for readers of run folders that do not know the kinds.
	Headline *Headline `json:"headline,omitempty" yaml:"-"`
}

// AgentConfig holds the settings of an agent's run.
type AgentConfig struct {
	// Env is the game the agent learns to play (package env): cartpole or
	// connect4 (default: the agent's first).
	Env string `json:"env,omitempty" yaml:"env"`
	// Steps is the training budget in environment steps (default: the
	// agent's recipe for its game; at most MaxAgentSteps).
	Steps int `json:"steps,omitempty" yaml:"steps"`
}

// Game returns the game of an agent's run ("" for a run that learns from
// a dataset).
func (c *Config) Game() string {
	if a := c.Agent; a != nil {
		return a.Env
	}
	return ""
}

// Kind returns the kind of c's run: the kind of its reference model, or
// for a model file the kind that trains files of its task (classify if it
// names none). An unknown model or task is an error naming it.
func (c *Config) Kind() (Kind, error) {
	if c.Model == "" {
		return nil, errors.New("no model: name a reference model (dlrun models) or a model file")
	}
	if IsModelFile(c.Model) {
		task := c.Task
		if task == "" {
			task = Classify.Task()
		}
		if k, ok := kindOfFile(task); ok {
			return k, nil
		}
		return nil, errors.Errorf("unknown task %q for a model file (known: %s)", task, fileTasks())
	}
	if k, ok := kindOfReference(c.Model); ok {
		if o, ok := kindOfFile(c.Task); ok && c.Task != k.Task() {
			if a, ok := o.(adopter); ok && a.adopts(c.Model) {
				return o, nil
			}
		}
		return k, nil
	}
	if _, err := nn.ReferenceByName(c.Model); err != nil {
		return nil, errors.Errorf("%v, or a model file (.yaml, .yml, .json)", err)
	}
	return nil, errors.Errorf("reference model %s has no recipe", c.Model)
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
// apply to the model's kind (cell for a model without a recurrent cell,
// seq_len for a classifier, epochs for an agent, lr_step_every without the
// step schedule) or one missing (the step schedule without lr_step_every)
// is a one-line error that names the setting by its config-file name and
// says why. Training calls it before it loads data or makes the run
// folder.
func (c *Config) Resolve() error { return c.resolve(true) }

// ResolveRecorded is Resolve for a configuration read from a run folder
// (ReadConfig), which resumes it: the model file is not read again (the
// folder's model.json is the model; the file it was first read from need
// not exist any more), and the dataset stays what the run recorded (none,
// for a model trained from Go on data in memory), not the recipe's.
func (c *Config) ResolveRecorded() error {
	dataset := c.Dataset
	err := c.resolve(false)
	c.Dataset = dataset
	return err
}

// resolve is Resolve; readFile says whether a model file is read (and
// checked) too.
func (c *Config) resolve(readFile bool) error {
	k, err := c.Kind()
	if err != nil {
		return err
	}
	if readFile && c.Task == "" { // a new run on a table: its target decides the task
		if r, err := k.Recipe(c); err == nil {
			if ok, _ := k.Takes("target", c, r); ok {
				if c.Task, err = tableTask(c); err != nil {
					return err
				}
				if k, err = c.Kind(); err != nil {
					return err
				}
			}
		}
	}
	switch {
	case c.Task == "":
		c.Task = k.Task()
	case c.Task != k.Task() && !knownTask(c.Task):
		return errors.Errorf("unknown task %q (known: %s)", c.Task, kindNames(func(Kind) bool { return true }, Kind.Task))
	case c.Task != k.Task():
		return errors.Errorf("task %s does not apply to model %s, which is trained for %s", c.Task, c.Model, k.Task())
	}
	r, err := k.Recipe(c)
	if err != nil {
		return err
	}
	for _, s := range settings {
		if !s.set(c) {
			continue
		}
		if ok, why := k.Takes(s.name, c, r); !ok {
			return errors.Errorf("%s does not apply to model %s: %s", s.show(c), c.Model, why)
		}
	}
	if readFile && IsModelFile(c.Model) {
		if _, err := nn.ReadSpec(c.Model); err != nil {
			return err
		}
	}
	fillZero(c, r)
	if err := k.Resolve(c); err != nil {
		return err
	}
	if c.Version == "" { // a resumed run keeps the version it began with
		c.Version = version.Version
	}
	h := k.Progress().Headline
	c.Headline = &h
	return nil
}

// Applies reports whether the setting called name (a config-file name,
// as Resolve's errors give it: epochs, steps, seq_len) applies to a run of
// c's model, and if not, why. `dlrun run` asks it before it overrides an
// experiment with a flag. An unknown model is an error.
func (c *Config) Applies(name string) (bool, string, error) {
	k, err := c.Kind()
	if err != nil {
		return false, "", err
	}
	r, err := k.Recipe(c)
	if err != nil {
		return false, "", err
	}
	ok, why := k.Takes(name, c, r)
	return ok, why, nil
}

// knownTask reports whether some kind's task is task.
func knownTask(task string) bool {
	for _, k := range Kinds() {
		if k.Task() == task {
			return true
		}
	}
	return false
}

// setting is a run setting that a kind may not take: its config-file
// name, whether c sets it, and how an error shows it.
type setting struct {
	name  string
	set   func(c *Config) bool
	value func(c *Config) any // nil: the name alone
}

func (s setting) show(c *Config) string {
	if s.value == nil {
		return s.name
	}
	switch v := s.value(c).(type) {
	case string:
		return fmt.Sprintf("%s %q", s.name, v)
	default:
		return fmt.Sprintf("%s %v", s.name, v)
	}
}

// settings are the run settings a kind may not take, in the order Resolve
// checks them. Seed and learning_rate apply to every kind.
var settings = []setting{
	{"dataset", func(c *Config) bool { return c.Dataset != "" }, func(c *Config) any { return c.Dataset }},
	{"cell", func(c *Config) bool { return c.Cell != "" }, func(c *Config) any { return c.Cell }},
	{"seq_len", func(c *Config) bool { return c.SeqLen != 0 }, func(c *Config) any { return c.SeqLen }},
	{"dim", func(c *Config) bool { return c.Dim != 0 }, func(c *Config) any { return c.Dim }},
	{"grid", func(c *Config) bool { return c.Grid != "" }, func(c *Config) any { return c.Grid }},
	{"env", func(c *Config) bool { return c.Agent != nil && c.Agent.Env != "" }, func(c *Config) any { return c.Agent.Env }},
	{"steps", func(c *Config) bool { return c.Agent != nil && c.Agent.Steps != 0 }, func(c *Config) any { return c.Agent.Steps }},
	{"image_size", func(c *Config) bool { return c.Images != nil && c.Images.Size != "" }, func(c *Config) any { return c.Images.Size }},
	{"channels", func(c *Config) bool { return c.Images != nil && c.Images.Channels != 0 }, func(c *Config) any { return c.Images.Channels }},
	{"augment", func(c *Config) bool { return c.Images != nil && c.Images.Augment != "" }, func(c *Config) any { return c.Images.Augment }},
	{"skip_bad", func(c *Config) bool { return c.Images != nil && c.Images.SkipBad }, nil},
	{"target", func(c *Config) bool { return c.Table != nil && c.Table.Target != "" }, func(c *Config) any { return c.Table.Target }},
	{"fill", func(c *Config) bool { return c.Table != nil && c.Table.Fill != "" }, func(c *Config) any { return c.Table.Fill }},
	{"ignore", func(c *Config) bool { return c.Table != nil && len(c.Table.Ignore) > 0 }, func(c *Config) any { return strings.Join(c.Table.Ignore, ",") }},
	{"test", func(c *Config) bool { return c.Table != nil && c.Table.Test != "" }, func(c *Config) any { return c.Table.Test }},
	{"epochs", func(c *Config) bool { return c.Epochs != 0 }, func(c *Config) any { return c.Epochs }},
	{"batch_size", func(c *Config) bool { return c.BatchSize != 0 }, func(c *Config) any { return c.BatchSize }},
	{"optimizer", func(c *Config) bool { return c.Optimizer != "" }, func(c *Config) any { return c.Optimizer }},
	{"loss", func(c *Config) bool { return c.Loss != "" }, func(c *Config) any { return c.Loss }},
	{"weight_decay", func(c *Config) bool { return c.WeightDecay != 0 }, func(c *Config) any { return c.WeightDecay }},
	{"clip_norm", func(c *Config) bool { return c.ClipNorm != 0 }, func(c *Config) any { return c.ClipNorm }},
	{"clip_value", func(c *Config) bool { return c.ClipValue != 0 }, func(c *Config) any { return c.ClipValue }},
	{"lr_schedule", func(c *Config) bool { return c.Schedule != "" }, func(c *Config) any { return c.Schedule }},
	{"lr_step_every", func(c *Config) bool { return c.StepEvery != 0 }, func(c *Config) any { return c.StepEvery }},
	{"lr_gamma", func(c *Config) bool { return c.Gamma != 0 }, func(c *Config) any { return c.Gamma }},
	{"warmup_steps", func(c *Config) bool { return c.WarmupSteps != 0 }, func(c *Config) any { return c.WarmupSteps }},
	{"patience", func(c *Config) bool { return c.Patience != 0 }, func(c *Config) any { return c.Patience }},
	{"monitor", func(c *Config) bool { return c.Monitor != "" }, func(c *Config) any { return c.Monitor }},
	{"no_shuffle", func(c *Config) bool { return c.NoShuffle }, nil},
	{"dtype", func(c *Config) bool { return c.DType != "" && c.DType != "float32" }, func(c *Config) any { return c.DType }},
}

// fillZero sets every zero exported field of dst, and of the structs
// inside it (an agent's settings, the loop's), to src's value.
func fillZero(dst *Config, src Config) {
	if dst.Agent == nil && src.Agent != nil {
		dst.Agent = &AgentConfig{}
	}
	var fill func(d, s reflect.Value)
	fill = func(d, s reflect.Value) {
		for i := 0; i < d.NumField(); i++ {
			f := d.Field(i)
			if !d.Type().Field(i).IsExported() || f.Kind() == reflect.Func {
				continue
			}
			switch {
			case f.Kind() == reflect.Struct:
				fill(f, s.Field(i))
			case f.Kind() == reflect.Pointer && f.Type().Elem().Kind() == reflect.Struct:
				if !f.IsNil() && !s.Field(i).IsNil() {
					fill(f.Elem(), s.Field(i).Elem())
				}
			case f.IsZero():
				f.Set(s.Field(i))
			}
		}
	}
	fill(reflect.ValueOf(dst).Elem(), reflect.ValueOf(src))
}

// ReadConfig reads the config.json of run folder dir: a regular file
// (safeio) of at most MaxConfigSize bytes, one JSON object that sets no
// key twice, whose settings pass train.Config.Check and the limits on
// seq_len and dim, and whose record of the data (classes, vocab,
// input_shape, example counts) passes train.MaxClasses, train.MaxVocab,
// train.MaxNameLen and train.CheckInputShape. The lists' lengths are
// checked before they are decoded, so nothing is allocated from a hostile
// count. Errors are one line naming the folder and the file.
//
// A folder that train's Trainer.Save wrote holds no config.json: its
// configuration is what its model.json and checkpoint say (the model is
// "model.json", the folder's; the dataset is not known).
func ReadConfig(dir string) (*Config, error) {
	b, err := safeio.ReadFile(filepath.Join(dir, rundir.Config), MaxConfigSize)
	if errors.Is(err, fs.ErrNotExist) {
		if info, ierr := train.ReadInfo(dir); ierr == nil {
			c, err := savedConfig(os.DirFS(dir), info)
			return c, errors.Wrapf(err, "run folder %s", dir)
		}
	}
	if err != nil {
		return nil, errors.Wrapf(err, "run folder %s", dir)
	}
	c, err := ParseConfig(b)
	if err != nil {
		return nil, errors.Wrapf(err, "run folder %s: %s", dir, rundir.Config)
	}
	return c, nil
}

// ParseConfig decodes and checks the bytes of a config.json, as
// ReadConfig does. The settings of an agent that an earlier dlrun wrote
// at the top level (env, steps) are read into Agent.
func ParseConfig(b []byte) (*Config, error) {
	if err := rundir.CheckDuplicateKeys(b); err != nil {
		return nil, err
	}
	// Count the lists first: json.Unmarshal checks the whole text before
	// it decodes, and hands each list to arrayLen undecoded.
	var pre struct {
		InputShape arrayLen `json:"input_shape"`
		Classes    arrayLen `json:"classes"`
		Vocab      arrayLen `json:"vocab"`
		Env        string   `json:"env"`
		Steps      int      `json:"steps"`
	}
	if err := json.Unmarshal(b, &pre); err != nil {
		return nil, rundir.OneLine(err)
	}
	if n := int(pre.InputShape); n > train.MaxInputRank {
		return nil, errors.Errorf("input_shape: %d dimensions, want 1 to %d", n, train.MaxInputRank)
	}
	for _, l := range []struct {
		name   string
		n, max int
	}{{"classes", int(pre.Classes), train.MaxClasses}, {"vocab", int(pre.Vocab), train.MaxVocab}} {
		if l.n > l.max {
			return nil, errors.Errorf("%s: %d names, more than the %d allowed", l.name, l.n, l.max)
		}
	}
	var c Config
	if err := rundir.DecodeJSON(b, &c); err != nil {
		return nil, err
	}
	if (pre.Env != "" || pre.Steps != 0) && c.Agent == nil {
		c.Agent = &AgentConfig{Env: pre.Env, Steps: pre.Steps}
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
	if c.Agent != nil && (c.Agent.Steps < 0 || c.Agent.Steps > MaxAgentSteps) {
		return errors.Errorf("agent.steps %d: must be 1 to %d", c.Agent.Steps, MaxAgentSteps)
	}
	if c.InputShape != nil {
		if err := train.CheckInputShape(c.InputShape); err != nil {
			return err
		}
	}
	if _, err := c.Images.options(); err != nil {
		return err
	}
	if err := c.Table.check(); err != nil {
		return err
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
