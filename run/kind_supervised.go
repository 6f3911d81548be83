package run

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/dlrun/dlrun/datasets"
	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/nn"
	"github.com/dlrun/dlrun/rundir"
	"github.com/dlrun/dlrun/train"
	"github.com/pkg/errors"
)

// supervised is what the kinds trained by train's loop on a dataset share:
// their reference models' recipes and a model file's, the settings they
// take, and how a network is made for their data. Each such kind embeds
// it and adds its data, its task and its evaluation.
type supervised struct {
	name     string
	refs     map[string]Config // the reference models' recipes
	file     Config            // a model file's recipe
	loss     string            // the one loss the kind trains with ("": any)
	images   bool              // the kind reads image folders (Config.Images)
	tables   bool              // the kind reads CSV tables (Config.Table)
	progress Progress
}

// Name implements Kind.
func (s *supervised) Name() string { return s.name }

// Task implements Kind: a supervised kind's task is its name.
func (s *supervised) Task() string { return s.name }

// References implements Kind.
func (s *supervised) References() []string {
	names := make([]string, 0, len(s.refs))
	for n := range s.refs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// TrainsFiles implements Kind: a model file trains as any supervised kind.
func (s *supervised) TrainsFiles() bool { return true }

// Describe implements Kind: the reference network's description.
func (s *supervised) Describe(model string) string {
	if ref, err := nn.ReferenceByName(model); err == nil {
		return ref.Description
	}
	return ""
}

// Progress implements Kind.
func (s *supervised) Progress() Progress { return s.progress }

// Recipe implements Kind.
func (s *supervised) Recipe(c *Config) (Config, error) {
	if IsModelFile(c.Model) {
		return s.file, nil
	}
	r, ok := s.refs[c.Model]
	if !ok {
		return Config{}, errors.Errorf("reference model %s has no recipe", c.Model)
	}
	return r, nil
}

// Takes implements Kind: every setting of the loop applies; cell, seq_len
// and dim where the model's recipe has them; an agent's none.
func (s *supervised) Takes(name string, c *Config, r Config) (bool, string) {
	switch name {
	case "env", "steps":
		return false, fmt.Sprintf("it is a %s model; env and steps are the settings of an agent (dqn, ppo)", s.name)
	case "cell":
		if r.Cell == "" {
			return false, "only the rnn and charrnn reference models have a cell to choose (a model file names lstm or gru per layer)"
		}
	case "seq_len":
		if r.SeqLen == 0 {
			return false, fmt.Sprintf("it is a %s model, and seq_len sets next-token prediction's steps per batch", s.name)
		}
	case "dim":
		if r.Dim == 0 {
			return false, "only the mf and ncf recommenders have an embedding size to choose"
		}
	case "grid":
		return false, fmt.Sprintf("it is a %s model, and grid sets the step of a music model's piano roll", s.name)
	case "image_size", "channels", "augment", "skip_bad":
		if !s.images {
			return false, fmt.Sprintf("it is a %s model; %s reads an image folder for a classifier", s.name, name)
		}
	case "target", "fill", "ignore", "test":
		if !s.tables {
			return false, fmt.Sprintf("it is a %s model; %s reads a CSV table for a classifier or a regressor", s.name, name)
		}
	}
	return true, ""
}

// Resolve implements Kind: the limits on seq_len and dim, the cell, the
// loop's defaults and checks, and the kind's one loss.
func (s *supervised) Resolve(c *Config) error {
	if c.SeqLen < 0 || c.SeqLen > train.MaxSeqLen {
		return errors.Errorf("seq_len %d: must be 1 to %d", c.SeqLen, train.MaxSeqLen)
	}
	if c.Dim < 0 || c.Dim > MaxDim {
		return errors.Errorf("dim %d: must be 1 to %d", c.Dim, MaxDim)
	}
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
	if _, err := c.Images.options(); err != nil {
		return err
	}
	if c.Table.set() {
		if _, err := c.Table.options(""); err != nil {
			return err
		}
	}
	if l, _ := train.LossByName(c.Loss); s.loss != "" && l.Name != s.loss {
		return errors.Errorf("loss %s does not apply to model %s: %s prediction trains with %s", c.Loss, c.Model, s.name, s.loss)
	}
	return nil
}

// Loop returns the loop's configuration of a run of c: c's own.
func (s *supervised) Loop(c *Config) train.Config { return c.Config }

// Prepare presents d as the model reads it: as it is.
func (s *supervised) Prepare(model nn.Layer, d *Data) error { return nil }

// FitBatch lowers c.BatchSize to the training examples d holds, and says
// so in a line for the log (empty if the batch fits): a batch larger than
// the training set would reserve memory for examples that do not exist.
// Keras clamps it the same way (one batch per epoch).
func (s *supervised) FitBatch(c *Config, d *Data) string {
	if d == nil || d.Train == nil {
		return ""
	}
	b, n := c.BatchSize, d.Train.Len()
	if n < 1 || b <= n {
		return ""
	}
	c.BatchSize = n
	return fmt.Sprintf("batch %d is larger than the %s: using batches of %d, one per epoch", b, plural(n, "training "+s.progress.Unit), n)
}

// network builds the model of c, resolved, for inputs of shape in and
// outputs outputs on d: a model file's spec, with the data's sizes where it
// names them (outputs, a text's vocab, the classes: nn.Spec.BuildFor), or
// the reference model built for the data (a recommender's users, movies
// and mean rating, its embedding size and L2; a recurrent model's cell).
func network(c *Config, d *Data, in []int, outputs int) (*nn.Sequential, error) {
	if IsModelFile(c.Model) {
		spec, err := nn.ReadSpec(c.Model)
		if err != nil {
			return nil, err
		}
		sizes := map[string]int{nn.SizeOutputs: outputs}
		if len(d.Vocab) > 0 {
			sizes[nn.SizeVocab] = len(d.Vocab)
		}
		if len(d.Classes) > 0 {
			sizes[nn.SizeClasses] = len(d.Classes)
		}
		m, err := spec.BuildFor(sizes)
		return m, errors.Wrap(err, c.Model)
	}
	ref, err := nn.ReferenceByName(c.Model)
	if err != nil {
		return nil, err
	}
	opt := nn.Options{Users: d.Users, Movies: d.Movies, Mean: d.Mean, Dim: c.Dim, L2: c.WeightDecay}
	if c.Cell == "gru" {
		opt.Cell = graph.GRUCell
	}
	m, err := ref.Build(in, outputs, opt)
	if err != nil || d.Preprocessing == nil {
		return m, err
	}
	return withColumnEmbedding(m, d.Preprocessing), nil
}

// checkOwnData checks that d, loaded by the name run r's config.json
// records, is still the data the run was trained on (its SHA-256), where
// the run recorded one.
func checkOwnData(c *Config, d *Data) error { return c.CheckDatasetSHA256(d.SHA256) }

// unloadable rewords the error of loading the dataset that run r records,
// err (a file moved or deleted since, or data given in memory under a name
// no reader knows): it blames the run folder, whose config.json named the
// dataset, not --data, which the user did not give, and asks for the data
// by name.
func unloadable(r *Run, err error) error {
	return errors.Errorf("--run %s: its config.json names dataset %q, which cannot be loaded here (%v): name the data with --data", r.Dir, r.Config.Dataset, err)
}

// agentOptions refuses the evaluation options of an agent's run for a run
// of kind k.
func agentOptions(k Kind, o EvalOptions) error {
	for _, f := range []struct {
		name string
		set  bool
	}{{"--episodes", o.Episodes != 0}, {"--seed", o.Seed != 0}, {"--opponent", o.Opponent != ""}} {
		if f.set {
			return errors.Errorf("%s %v to a %s run: it applies to an agent's (dqn, ppo)", f.name, ErrDoesNotApply, k.Name())
		}
	}
	return nil
}

// evalDataset returns the name of the dataset to evaluate r on: name, or
// the run's own. A run that records none (a model trained from Go on data
// in memory) asks for it.
func evalDataset(r *Run, name string) (string, error) {
	if name != "" {
		return name, nil
	}
	if r.Config.Dataset == "" {
		return "", errors.Errorf("--data: run folder %s does not record its dataset (its model was trained on data given in memory): name it, a bundled dataset (%s) or a path", r.Dir, strings.Join(datasets.Bundled(), ", "))
	}
	return r.Config.Dataset, nil
}

// checkLoop reports what of loop, the loop's configuration of a run
// (Loop of its config.json), disagrees with the model it trained: with
// model.json's loss, dtype and batch size, and with ck, the configuration
// the trainer recorded in the checkpoint (nil: none), setting by setting
// but the epochs, which a resumed run may raise. Each is one line naming
// config.json's field.
func checkLoop(loop train.Config, info *train.ModelInfo, ck *train.Config) error {
	loop = loop.Defaults()
	lossName := func(name string) string {
		if l, err := train.LossByName(name); err == nil {
			return l.Name
		}
		return name
	}
	batch := info.BatchSize
	if batch == 0 {
		batch = train.Config{}.Defaults().BatchSize
	}
	for _, d := range []struct {
		field         string
		config, model any
	}{
		{"loss", lossName(loop.Loss), lossName(train.Config{Loss: info.Loss}.Defaults().Loss)},
		{"dtype", loop.DType, train.Config{DType: info.DType}.Defaults().DType},
		{"batch_size", loop.BatchSize, batch},
	} {
		if d.config != d.model {
			return errors.Errorf("config.json: %s: %v, but model.json's is %v", d.field, d.config, d.model)
		}
	}
	if ck == nil {
		return nil
	}
	rec := ck.Defaults()
	rec.Epochs = loop.Epochs
	a, b := reflect.ValueOf(loop), reflect.ValueOf(rec)
	for i := range a.NumField() {
		f := a.Type().Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		if x, y := a.Field(i).Interface(), b.Field(i).Interface(); x != y {
			return errors.Errorf("config.json: %s: %v, but %s records %v", name, x, rundir.Checkpoint, y)
		}
	}
	return nil
}
