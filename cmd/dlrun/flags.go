package main

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/dlrun/dlrun/datasets"
	"github.com/dlrun/dlrun/run"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// runFlags declares the flags that set a run's configuration, bound to c:
// modelFlags, then the training's. `dlrun train` and `dlrun run` share
// this one declaration: train binds them to the run it starts, run applies
// the ones given to every experiment it loads (applyFlags), so a value
// refused by one is refused by the other. A flag left unset keeps the
// model's recipe (or the experiment file's value).
func runFlags(f *pflag.FlagSet, c *run.Config) {
	modelFlags(f, c)
	f.Var(positiveInt{&c.Epochs}, "epochs", "passes over the training data (default: the model's)")
	f.Var(positiveInt{&c.BatchSize}, "batch-size", "examples per training step, Keras's batch_size (default: the model's; alias --batch)")
	f.Var(positiveFloat{&c.LearningRate}, "lr", "learning rate (default: the model's)")
	f.StringVar(&c.Optimizer, "optimizer", "", "sgd, momentum, adam, adamw, rmsprop or adagrad (default: the model's)")
	f.StringVar(&c.Loss, "loss", "", "cce (categorical cross-entropy), bce (binary) or mse (default: the model's)")
	f.Var(nonNegativeFloat{&c.WeightDecay}, "weight-decay", "L2 weight decay added to the gradients (recommenders: L2 on each batch's embedding rows and biases)")
	f.Var(nonNegativeFloat{&c.ClipNorm}, "clip-norm", "clip gradients to this global L2 norm (0: off)")
	f.Var(nonNegativeFloat{&c.ClipValue}, "clip-value", "clip each gradient element to ±this value (0: off)")
	f.Var(agentSteps{c}, "steps", "agents: the training budget in environment steps (default: the agent's recipe)")
	f.Var(positiveUint{&c.Seed}, "seed", "seed for initialisation, shuffling and dropout (default 1)")
	f.StringVar(&c.DType, "dtype", "", "element type: float32 (default) or float64")
	f.BoolVar(&c.NoShuffle, "no-shuffle", false, "keep the data order instead of shuffling each epoch")
	f.StringVar(&c.Schedule, "lr-schedule", "", "learning-rate schedule per epoch (an agent's: per environment step): constant, step, cosine or linear; or per training step, warmup_cosine (default: the model's; constant, or linear for ppo)")
	f.Var(nonNegativeInt{&c.WarmupSteps}, "warmup-steps", "warmup_cosine schedule: training steps of linear warm-up (default: the model's; 0: none)")
	f.Var(positiveInt{&c.StepEvery}, "lr-step", "step schedule: epochs (an agent's: environment steps) between decays")
	f.Var(positiveFloat{&c.Gamma}, "lr-gamma", "step schedule: factor of each decay (default 0.1)")
	f.Var(nonNegativeInt{&c.Patience}, "patience", "early stopping: epochs without improvement of --monitor before stopping (0: off)")
	f.StringVar(&c.Monitor, "monitor", "", "metric for early stopping and best.safetensors: test_loss (default) or test_accuracy")
	f.Var(nonNegativeInt{&c.Workers}, "workers", "goroutines that read an image folder's images ahead of training (default: one per CPU)")
	f.Var(nonNegativeInt{&c.Prefetch}, "prefetch", "batches of an image folder read ahead of the one training (default 2)")
	f.SetNormalizeFunc(normalizeFlag)
}

// modelFlags declares the flags that say what model a run builds, bound to
// c: the model, its task and data (or an agent's game), and the reference
// models' choices. `dlrun summary --model` takes these alone.
func modelFlags(f *pflag.FlagSet, c *run.Config) {
	f.StringVar(&c.Model, "model", "", "reference model (see 'dlrun models') or a model file, YAML or JSON (docs/models.md)")
	f.StringVar(&c.Task, "task", "", "the task: classify, next-token, rating, music, or regress for a CSV table's number (default: the model's; for a table, what its target holds; classify for a model file)")
	f.StringVar(&c.Dataset, "data", "", "bundled dataset ("+joinNames(datasets.Bundled())+"), a folder of IDX files, CIFAR-10 batches, images (one folder per class), ratings or MIDI files, a CSV table (with --target), or for next-token a UTF-8 text file (default: the model's)")
	f.StringVar(&c.Cell, "cell", "", "recurrent cell of the rnn and charrnn models: lstm or gru")
	f.Var(positiveInt{&c.SeqLen}, "seq-len", "next-token models: steps of backpropagation through time per batch (default: the model's)")
	f.Var(positiveInt{&c.Dim}, "dim", "embedding size of the mf and ncf recommenders (default 32)")
	f.StringVar(&c.Grid, "grid", "", "music models on a folder of MIDI files: the step of the piano roll, quarter, 8th or 16th (default quarter)")
	f.Var(agentEnv{c}, "env", "agents (dqn, ppo): the game to learn, cartpole or connect4 (default cartpole)")
	f.Var(imageSize{c}, "image-size", "image folders: resize every image to HxW pixels (default: the images' own size)")
	f.Var(imageChannels{c}, "channels", "image folders: 1 (grayscale) or 3 (RGB) (default: 1 if every image is gray)")
	f.Var(imageAugment{c}, "augment", "image folders: training-time augmentation, crop (random crop, 4 pixels of padding; crop=N), flip (horizontal), comma-separated")
	f.Var(skipBad{c}, "skip-bad", "image folders: skip unreadable images, counted in summary.json, instead of failing")
	f.Lookup("skip-bad").NoOptDefVal = "true"
	f.Var(tableTarget{c}, "target", "CSV tables: the column to predict (a class, or a number with --task regress)")
	f.Var(tableFill{c}, "fill", "CSV tables: fill missing values with the column's training mean or zero (default: a missing value is an error)")
	f.Var(tableIgnore{c}, "ignore", "CSV tables: columns to leave out (ids, free text), comma-separated")
	f.Var(tableTest{c}, "test", "CSV tables: a CSV file of test rows with the same columns (default: 20% of the table's rows held out, by a hash of each row)")
	f.SetNormalizeFunc(normalizeFlag)
}

// runDataFlag declares --data, bound to data, for the commands that use a
// trained run (eval, generate, recommend): the data to read instead of the
// run's, or, for a run that does not record its data (a model trained from
// Go), the data it was trained on.
func runDataFlag(f *pflag.FlagSet, data *string) {
	f.StringVar(data, "data", "", "dataset to read instead of the run's: eval's test split, or for a model trained from Go the text whose characters are its vocabulary or the ratings it was trained on (default: the run's)")
}

// profileFlags declares the process options that write pprof profiles
// of a training, bound to p (profile.go). They are not run settings:
// config.json does not record them and --resume accepts them.
func profileFlags(f *pflag.FlagSet, p *profiling) {
	f.StringVar(&p.cpu, "cpuprofile", "", "write a CPU profile of the training to this file, for 'go tool pprof'")
	f.StringVar(&p.mem, "memprofile", "", "write a heap profile to this file at the end of the training, for 'go tool pprof'")
}

// processFlags are the flags of profileFlags, which --resume accepts.
var processFlags = map[string]bool{"cpuprofile": true, "memprofile": true}

// flagAliases maps each other spelling of a flag to its name. An alias
// sets the same value as the name; help lists the name only, and its
// usage mentions the alias.
var flagAliases = map[string]string{"batch": "batch-size"}

// normalizeFlag is the pflag normalization that makes each alias of
// flagAliases the flag it stands for.
func normalizeFlag(_ *pflag.FlagSet, name string) pflag.NormalizedName {
	if to, ok := flagAliases[name]; ok {
		return pflag.NormalizedName(to)
	}
	return pflag.NormalizedName(name)
}

// applyFlags sets in c the run flags given on cmd's command line, and only
// those: a flag left unset keeps c's value.
//
// A flag whose setting does not apply to c's model (--epochs for an agent,
// --steps for a classifier: run.Config.Applies) is not set, unless force
// names it; skipped lists such flags, each with why.
func applyFlags(cmd *cobra.Command, c *run.Config, force map[string]bool) (skipped []skippedFlag, err error) {
	to := pflag.NewFlagSet("overrides", pflag.ContinueOnError)
	kept := *c
	runFlags(to, c) // declaring sets c's fields to the flags' defaults
	*c = kept
	if fl := cmd.Flags().Lookup("model"); fl != nil && fl.Changed {
		if err := to.Set("model", fl.Value.String()); err != nil {
			return nil, err
		}
	}
	cmd.Flags().Visit(func(fl *pflag.Flag) {
		if err != nil || to.Lookup(fl.Name) == nil || fl.Name == "model" {
			return
		}
		ok, why, aerr := c.Applies(flagSetting(fl.Name))
		switch {
		case aerr != nil:
			err = aerr
		case !ok && !force["--"+fl.Name]:
			skipped = append(skipped, skippedFlag{"--" + fl.Name, why})
		default:
			err = to.Set(fl.Name, fl.Value.String())
		}
	})
	return skipped, err
}

// skippedFlag is a flag that applyFlags left unset, and why.
type skippedFlag struct{ flag, why string }

// flagSetting is the config-file name of the setting flag name sets.
func flagSetting(name string) string {
	for _, s := range settingFlags {
		if "--"+name == s.flag {
			return s.setting
		}
	}
	if name == "data" {
		return "dataset"
	}
	return strings.ReplaceAll(name, "-", "_")
}

// flagError turns pflag's errors into one line that names the flag at
// fault first: a value out of range ("--epochs 0: must be positive"), a
// value of the wrong type ("--epochs two: invalid argument, want an
// integer"), a missing value, or an unknown flag with the nearest known
// ones ("unknown flag --epoch; did you mean --epochs?").
func flagError(cmd *cobra.Command, err error) error {
	var inv *pflag.InvalidValueError
	var r rangeError
	var unknown *pflag.NotExistError
	var missing *pflag.ValueRequiredError
	switch {
	case errors.As(err, &inv) && errors.As(err, &r):
		return fmt.Errorf("--%s %s: %s", inv.GetFlag().Name, inv.GetValue(), r.why)
	case errors.As(err, &inv):
		return fmt.Errorf("--%s %s: invalid argument, want %s", inv.GetFlag().Name, inv.GetValue(), typeWanted(inv.GetFlag().Value.Type()))
	case errors.As(err, &missing):
		if s := missing.GetSpecifiedShortnames(); s != "" {
			return fmt.Errorf("-%s: needs a value", s)
		}
		return fmt.Errorf("--%s: needs a value", missing.GetSpecifiedName())
	case errors.As(err, &unknown):
		if s := unknown.GetSpecifiedShortnames(); s != "" {
			in := ""
			if len(s) > 1 {
				in = " in -" + s
			}
			return fmt.Errorf("unknown flag -%s%s (see '%s --help')", unknown.GetSpecifiedName(), in, cmd.CommandPath())
		}
		return unknownFlag(cmd, unknown.GetSpecifiedName())
	}
	return err
}

// typeWanted says in words what a flag of pflag type typ takes.
func typeWanted(typ string) string {
	switch typ {
	case "int", "int64":
		return "an integer"
	case "uint", "uint64":
		return "a whole number"
	case "float", "float64":
		return "a number"
	case "bool":
		return "true or false"
	case "duration":
		return "a duration such as 2ms or 30s"
	}
	return "a " + typ
}

// settingFlags are the run settings whose flag is spelled differently
// from their name in config files, or that errors name in words.
var settingFlags = []struct{ setting, flag string }{
	{"lr_step_every", "--lr-step"}, {"lr_gamma", "--lr-gamma"}, {"lr_schedule", "--lr-schedule"}, {"warmup_steps", "--warmup-steps"},
	{"seq_len", "--seq-len"}, {"batch_size", "--batch-size"}, {"learning_rate", "--lr"},
	{"weight_decay", "--weight-decay"}, {"clip_norm", "--clip-norm"}, {"clip_value", "--clip-value"},
	{"image_size", "--image-size"}, {"skip_bad", "--skip-bad"},
	// Errors from train that name a setting by what it is.
	{"learning-rate schedule", "--lr-schedule"}, {"unknown metric", "--monitor"},
}

// withFlagNames adds the flag to each setting an error names by its
// config-file name, so a command-line user sees what to change:
// "seq_len (--seq-len) 10 does not apply ...".
func withFlagNames(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	for _, s := range settingFlags {
		if i := strings.Index(msg, s.setting); i >= 0 && !strings.Contains(msg, s.flag) {
			j := i + len(s.setting)
			if (i == 0 || !isWordByte(msg[i-1])) && (j == len(msg) || !isWordByte(msg[j])) {
				msg = msg[:j] + " (" + s.flag + ")" + msg[j:]
			}
		}
	}
	return errors.New(msg)
}

func isWordByte(b byte) bool {
	return b == '_' || b == '-' || 'a' <= b && b <= 'z' || '0' <= b && b <= '9'
}

// rangeError is a value outside the range a flag allows.
type rangeError struct{ why string }

func (e rangeError) Error() string { return e.why }

type positiveInt struct{ p *int }

func (v positiveInt) String() string { return strconv.Itoa(*v.p) }
func (v positiveInt) Type() string   { return "int" }
func (v positiveInt) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return err
	}
	if n <= 0 {
		return rangeError{"must be positive"}
	}
	*v.p = n
	return nil
}

type nonNegativeInt struct{ p *int }

func (v nonNegativeInt) String() string { return strconv.Itoa(*v.p) }
func (v nonNegativeInt) Type() string   { return "int" }
func (v nonNegativeInt) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return err
	}
	if n < 0 {
		return rangeError{"must not be negative"}
	}
	*v.p = n
	return nil
}

type positiveUint struct{ p *uint64 }

func (v positiveUint) String() string { return strconv.FormatUint(*v.p, 10) }
func (v positiveUint) Type() string   { return "uint" }
func (v positiveUint) Set(s string) error {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return err
	}
	if n == 0 {
		return rangeError{"must be positive (seeds count from 1)"}
	}
	*v.p = n
	return nil
}

type positiveFloat struct{ p *float64 }

func (v positiveFloat) String() string { return strconv.FormatFloat(*v.p, 'g', -1, 64) }
func (v positiveFloat) Type() string   { return "float" }
func (v positiveFloat) Set(s string) error {
	x, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return err
	}
	if !(x > 0) || math.IsInf(x, 0) {
		return rangeError{"must be positive"}
	}
	*v.p = x
	return nil
}

type nonNegativeFloat struct{ p *float64 }

func (v nonNegativeFloat) String() string { return strconv.FormatFloat(*v.p, 'g', -1, 64) }
func (v nonNegativeFloat) Type() string   { return "float" }
func (v nonNegativeFloat) Set(s string) error {
	x, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return err
	}
	if !(x >= 0) || math.IsInf(x, 0) {
		return rangeError{"must be a finite number, not negative"}
	}
	*v.p = x
	return nil
}

func joinNames(names []string) string {
	s := ""
	for i, n := range names {
		if i > 0 {
			s += ", "
		}
		s += n
	}
	return s
}

// agentEnv sets the game of an agent's settings, making them.
type agentEnv struct{ c *run.Config }

func (v agentEnv) String() string {
	if v.c.Agent == nil {
		return ""
	}
	return v.c.Agent.Env
}
func (v agentEnv) Type() string { return "string" }
func (v agentEnv) Set(s string) error {
	if v.c.Agent == nil {
		v.c.Agent = &run.AgentConfig{}
	}
	v.c.Agent.Env = s
	return nil
}

// agentSteps sets the budget of an agent's settings, making them.
type agentSteps struct{ c *run.Config }

func (v agentSteps) String() string {
	if v.c.Agent == nil {
		return "0"
	}
	return strconv.Itoa(v.c.Agent.Steps)
}
func (v agentSteps) Type() string { return "int" }
func (v agentSteps) Set(s string) error {
	n := 0
	if err := (positiveInt{&n}).Set(s); err != nil {
		return err
	}
	if v.c.Agent == nil {
		v.c.Agent = &run.AgentConfig{}
	}
	v.c.Agent.Steps = n
	return nil
}
