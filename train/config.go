package train

import (
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/dlrun/dlrun/graph"
	"github.com/pkg/errors"
)

// Limits on a run's configuration and on the description of its data that
// a run folder records (config.json; model.json adds its own). Each is far
// above what dlrun's runs need and far below what would exhaust memory
// before the first step: Config.Check, the tasks' Build and
// run.ReadConfig refuse a value past one with an error naming the
// setting, before any memory is reserved for it. Keras and PyTorch set no
// such limits; they fail when the allocation does.
const (
	// MaxEpochs is the most epochs a run may ask for (epochs).
	MaxEpochs = 1_000_000
	// MaxBatchSize is the largest batch (batch_size): 1<<20 examples, or
	// parallel streams for next-token prediction. What a batch holds is
	// bounded by MaxBatchValues too.
	MaxBatchSize = 1 << 20
	// MaxBatchValues is the most values a batch's input or targets (or, in
	// model.json's check, any layer's output) may hold: batch_size times
	// an example's values, or seq_len times the vocabulary for
	// next-token prediction's one-hot targets. 1<<28 is 1 GiB of float32;
	// the whole Fashion-MNIST training set (60000 × 784) fits in one
	// batch.
	MaxBatchValues = 1 << 28
	// MaxInputRank is the most dimensions of an example's input shape
	// (an image's is 3: [channels height width]).
	MaxInputRank = 8
	// MaxInputSize is the most values one example's input may hold: 1<<24
	// (a 3 × 2048 × 2048 image holds 12.6 million).
	MaxInputSize = 1 << 24
	// MaxSeqLen is the longest truncated-backpropagation window of
	// next-token prediction (seq_len): 4096 steps. The unrolled graph's
	// memory grows with seq_len × batch_size (about 40 KB per step and
	// stream for the charrnn); language models train with 35 to 512.
	MaxSeqLen = 1 << 12
	// MaxClasses is the most classes a classifier's data may have: every
	// dataset dlrun reads has at most 256 (IDX labels are bytes), and
	// ImageNet has 1000. An evaluation report's confusion matrix holds
	// MaxClasses² counts (128 MiB).
	MaxClasses = 1 << 12
	// MaxVocab is the largest vocabulary of next-token prediction: 65536
	// tokens (every character of Unicode's Basic Multilingual Plane, or a
	// word-piece vocabulary such as GPT-2's 50257).
	MaxVocab = 1 << 16
	// MaxNameLen is the longest class name or token, in bytes.
	MaxNameLen = 256
)

// CheckInputShape reports whether shape can be an example's input shape
// (input_shape): 1 to MaxInputRank dimensions, each positive, MaxInputSize
// values at most. The error names the shape and the bound it passes.
func CheckInputShape(shape []int) error {
	if len(shape) == 0 || len(shape) > MaxInputRank {
		return errors.Errorf("input_shape %s: %d dimensions, want 1 to %d", shortShape(shape), len(shape), MaxInputRank)
	}
	n := 1
	for _, d := range shape {
		if d < 1 {
			return errors.Errorf("input_shape %v: dimension %d must be positive", shape, d)
		}
		if d > MaxInputSize || n > MaxInputSize/d {
			return errors.Errorf("input_shape %v: more than the %d values an example may hold (train.MaxInputSize)", shape, MaxInputSize)
		}
		n *= d
	}
	return nil
}

// shortShape is shape for an error message: its first dimensions only,
// if it has too many.
func shortShape(shape []int) string {
	if len(shape) <= MaxInputRank {
		return fmt.Sprint(shape)
	}
	return strings.TrimSuffix(fmt.Sprint(shape[:MaxInputRank]), "]") + " ...]"
}

// CheckNames reports whether names can be the class names (what
// "classes") or the vocabulary (what "vocab") of a dataset: at most max
// of them, each valid UTF-8 of 1 to MaxNameLen bytes. The error names
// what and the first name at fault by its index.
func CheckNames(what string, names []string, max int) error {
	if len(names) > max {
		return errors.Errorf("%s: %d names, more than the %d allowed", what, len(names), max)
	}
	for i, s := range names {
		switch {
		case s == "":
			return errors.Errorf("%s: name %d is empty", what, i)
		case len(s) > MaxNameLen:
			return errors.Errorf("%s: name %d has %d bytes, more than the %d allowed", what, i, len(s), MaxNameLen)
		case !utf8.ValidString(s):
			return errors.Errorf("%s: name %d is not valid UTF-8", what, i)
		}
	}
	return nil
}

// batchValues reports whether a batch of batch rows of per values each
// stays within MaxBatchValues; what describes a row for the error.
func batchValues(task string, batch, per int, what string) error {
	if batch < 1 || per < 1 {
		return errors.Errorf("%s: batch of %d rows of %d values: both must be positive", task, batch, per)
	}
	if per > MaxBatchValues/batch {
		return errors.Errorf("%s: batch_size %d × %d values (%s) is more than the %d values a batch may hold (train.MaxBatchValues)", task, batch, per, what, MaxBatchValues)
	}
	return nil
}

// Config holds the hyperparameters of the training loop: everything a run
// needs besides the model, the task and the data. A zero field means its
// documented default. The snake_case names are the ones dlrun's experiment
// files and a run folder's config.json use; dlrun's flags set the same
// fields.
type Config struct {
	// Epochs is the number of passes over the training data (default 1,
	// at most MaxEpochs).
	Epochs int `json:"epochs" yaml:"epochs"`
	// BatchSize is the number of examples (or, for next-token prediction,
	// parallel streams) per step (default 32, at most MaxBatchSize).
	BatchSize int `json:"batch_size" yaml:"batch_size"`
	// Optimizer names the optimizer: sgd, momentum, adam (default),
	// adamw, rmsprop or adagrad.
	Optimizer string `json:"optimizer" yaml:"optimizer"`
	// LearningRate is the optimizer's base rate (default: the optimizer's
	// own, 1e-3 for Adam). Like every rate and factor here it must be a
	// finite number, not negative.
	LearningRate float64 `json:"learning_rate" yaml:"learning_rate"`
	// WeightDecay adds WeightDecay·w to each gradient (L2); for adamw it
	// is the decoupled decay of the weights (0: PyTorch's 0.01).
	WeightDecay float64 `json:"weight_decay" yaml:"weight_decay"`
	// ClipNorm clips the gradients to this global L2 norm (0: off).
	ClipNorm float64 `json:"clip_norm" yaml:"clip_norm"`
	// ClipValue clips each gradient element to ±ClipValue (0: off).
	ClipValue float64 `json:"clip_value" yaml:"clip_value"`
	// Loss names the loss: cce (default), bce or mse (LossByName).
	Loss string `json:"loss" yaml:"loss"`
	// Schedule names the learning-rate schedule: constant (default), step,
	// linear or cosine, applied at the start of each epoch, or
	// warmup_cosine, applied at every step (WarmupCosine).
	Schedule string `json:"lr_schedule,omitempty" yaml:"lr_schedule"`
	// WarmupSteps is warmup_cosine's linear warm-up, in steps (default
	// 0: none).
	WarmupSteps int `json:"warmup_steps,omitempty" yaml:"warmup_steps"`
	// StepEvery is the step schedule's period in epochs (PyTorch's
	// StepLR step_size): the step schedule needs it.
	StepEvery int `json:"lr_step_every,omitempty" yaml:"lr_step_every"`
	// Gamma is the step schedule's factor (default 0.1; positive).
	Gamma float64 `json:"lr_gamma,omitempty" yaml:"lr_gamma"`
	// Patience stops training when Monitor has not improved for this many
	// epochs (0: off).
	Patience int `json:"patience,omitempty" yaml:"patience"`
	// Monitor is the metric of early stopping and of the best epoch:
	// test_loss (default) or test_accuracy.
	Monitor string `json:"monitor,omitempty" yaml:"monitor"`
	// Seed seeds initialisation, shuffling and dropout (default 1).
	Seed uint64 `json:"seed" yaml:"seed"`
	// DType is the element type: float32 (default) or float64.
	DType string `json:"dtype" yaml:"dtype"`
	// NoShuffle keeps the data order instead of shuffling each epoch.
	NoShuffle bool `json:"no_shuffle" yaml:"no_shuffle"`
	// Workers is the number of goroutines that read a Source's examples
	// (decode image files) while the model trains (default
	// runtime.GOMAXPROCS(0), at most MaxWorkers), as PyTorch's
	// DataLoader num_workers. Data in memory needs none. It does not
	// change the results.
	Workers int `json:"workers,omitempty" yaml:"workers,omitempty"`
	// Prefetch is the number of batches of a Source read ahead of the one
	// training (default DefaultPrefetch, at most MaxPrefetch): memory
	// holds that many batches of examples. It does not change the
	// results.
	Prefetch int `json:"prefetch,omitempty" yaml:"prefetch,omitempty"`

	// OnBatch, if set, is called after every training step with the
	// number of steps done in the epoch, their total, and the step's loss.
	OnBatch func(done, total int, loss float64) `json:"-" yaml:"-"`
	// Collective, if set, trains data-parallel with the other processes
	// it joins (see Collective): BatchSize stays the global batch, of
	// which this process takes its share. Nil, or a Collective of one
	// process, trains alone.
	Collective Collective `json:"-" yaml:"-"`
}

// Defaults returns c with every zero field set to its default.
func (c Config) Defaults() Config {
	if c.Epochs == 0 {
		c.Epochs = 1
	}
	if c.BatchSize == 0 {
		c.BatchSize = 32
	}
	if c.Optimizer == "" {
		c.Optimizer = "adam"
	}
	if c.Loss == "" {
		c.Loss = CrossEntropy.Name
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.DType == "" {
		c.DType = string(graph.Float32)
	}
	if strings.EqualFold(c.Schedule, "step") && c.Gamma == 0 {
		c.Gamma = 0.1
	}
	return c
}

// parts are the objects a configuration names.
type parts struct {
	dtype    graph.DType
	loss     Loss
	opt      Optimizer
	schedule Schedule
	stopping EarlyStopping
}

// Check reports the first setting of c that is invalid, in one line naming
// it by its config-file name (lr_step_every, weight_decay): a count that is
// negative or past its limit (MaxEpochs, MaxBatchSize), a rate or factor
// that is negative, NaN or infinite, an unknown name, a setting that does
// not apply (lr_step_every or lr_gamma without the step schedule) or one
// missing (the step schedule without lr_step_every).
func (c Config) Check() error {
	_, err := c.resolve()
	return err
}

// resolve checks c (defaults applied) and makes the objects it names.
func (c Config) resolve() (parts, error) {
	var p parts
	c = c.Defaults()
	if c.Epochs < 0 || c.Epochs > MaxEpochs {
		return p, errors.Errorf("epochs %d: must be 1 to %d", c.Epochs, MaxEpochs)
	}
	if c.BatchSize < 0 || c.BatchSize > MaxBatchSize {
		return p, errors.Errorf("batch_size %d: must be 1 to %d", c.BatchSize, MaxBatchSize)
	}
	for _, v := range []struct {
		name string
		v    float64
	}{{"learning_rate", c.LearningRate}, {"weight_decay", c.WeightDecay}, {"clip_norm", c.ClipNorm}, {"clip_value", c.ClipValue}, {"lr_gamma", c.Gamma}} {
		if v.v < 0 || math.IsNaN(v.v) || math.IsInf(v.v, 0) {
			return p, errors.Errorf("%s %g: must be a finite number, not negative", v.name, v.v)
		}
	}
	if c.StepEvery < 0 {
		return p, errors.Errorf("lr_step_every %d: must be positive (epochs between decays)", c.StepEvery)
	}
	if c.Workers < 0 || c.Workers > MaxWorkers {
		return p, errors.Errorf("workers %d: must be 0 (one per CPU) to %d", c.Workers, MaxWorkers)
	}
	if c.Prefetch < 0 || c.Prefetch > MaxPrefetch {
		return p, errors.Errorf("prefetch %d: must be 0 (%d batches) to %d", c.Prefetch, DefaultPrefetch, MaxPrefetch)
	}
	if c.Patience < 0 {
		return p, errors.Errorf("patience %d: must not be negative (0: off)", c.Patience)
	}
	var err error
	if p.dtype, err = graph.ParseDType(c.DType); err != nil {
		return p, err
	}
	if p.loss, err = LossByName(c.Loss); err != nil {
		return p, err
	}
	if p.opt, err = OptimizerByName(c.Optimizer, c.LearningRate); err != nil { // rate 0: the optimizer's default
		return p, err
	}
	*p.opt.Options() = Regularization{WeightDecay: c.WeightDecay, ClipNorm: c.ClipNorm, ClipValue: c.ClipValue}
	step := strings.EqualFold(c.Schedule, "step")
	if !step && (c.StepEvery != 0 || c.Gamma != 0) {
		return p, errors.Errorf("lr_step_every and lr_gamma apply to the step schedule only, not to %q", scheduleName(c.Schedule))
	}
	if step && c.StepEvery == 0 {
		return p, errors.New("lr_schedule step needs lr_step_every, the epochs between decays (PyTorch's StepLR step_size)")
	}
	if c.WarmupSteps != 0 && !strings.EqualFold(c.Schedule, "warmup_cosine") {
		return p, errors.Errorf("warmup_steps applies to the warmup_cosine schedule only, not to %q", scheduleName(c.Schedule))
	}
	if p.schedule, err = ScheduleByName(c.Schedule, c.StepEvery, c.Gamma, c.WarmupSteps); err != nil {
		return p, err
	}
	p.stopping = EarlyStopping{Patience: c.Patience, Monitor: c.Monitor}
	return p, p.stopping.check()
}

func scheduleName(s string) string {
	if s == "" {
		return "constant"
	}
	return s
}
