package train

import (
	"math"
	"strings"

	"github.com/dlrun/dlrun/graph"
	"github.com/pkg/errors"
)

// Config holds the hyperparameters of the training loop: everything a run
// needs besides the model, the task and the data. A zero field means its
// documented default. The snake_case names are the ones dlrun's experiment
// files and a run folder's config.json use; dlrun's flags set the same
// fields.
type Config struct {
	// Epochs is the number of passes over the training data (default 1).
	Epochs int `json:"epochs" yaml:"epochs"`
	// BatchSize is the number of examples (or, for next-token prediction,
	// parallel streams) per step (default 32).
	BatchSize int `json:"batch_size" yaml:"batch_size"`
	// Optimizer names the optimizer: sgd, momentum, adam (default),
	// rmsprop or adagrad.
	Optimizer string `json:"optimizer" yaml:"optimizer"`
	// LearningRate is the optimizer's base rate (default: the optimizer's
	// own, 1e-3 for Adam).
	LearningRate float64 `json:"learning_rate" yaml:"learning_rate"`
	// WeightDecay adds WeightDecay·w to each gradient (L2).
	WeightDecay float64 `json:"weight_decay" yaml:"weight_decay"`
	// ClipNorm clips the gradients to this global L2 norm (0: off).
	ClipNorm float64 `json:"clip_norm" yaml:"clip_norm"`
	// ClipValue clips each gradient element to ±ClipValue (0: off).
	ClipValue float64 `json:"clip_value" yaml:"clip_value"`
	// Loss names the loss: cce (default), bce or mse (LossByName).
	Loss string `json:"loss" yaml:"loss"`
	// Schedule names the learning-rate schedule: constant (default), step
	// or cosine, applied at the start of each epoch.
	Schedule string `json:"lr_schedule,omitempty" yaml:"lr_schedule"`
	// StepEvery is the step schedule's period in epochs.
	StepEvery int `json:"lr_step_every,omitempty" yaml:"lr_step_every"`
	// Gamma is the step schedule's factor (default 0.1).
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

	// OnBatch, if set, is called after every training step with the
	// number of steps done in the epoch, their total, and the step's loss.
	OnBatch func(done, total int, loss float64) `json:"-" yaml:"-"`
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
// it: a negative count or rate, an unknown name, or a setting that does
// not apply (lr_step_every or lr_gamma without the step schedule).
func (c Config) Check() error {
	_, err := c.resolve()
	return err
}

// resolve checks c (defaults applied) and makes the objects it names.
func (c Config) resolve() (parts, error) {
	var p parts
	c = c.Defaults()
	if c.Epochs < 0 {
		return p, errors.Errorf("epochs %d: must be positive", c.Epochs)
	}
	if c.BatchSize < 0 {
		return p, errors.Errorf("batch size %d: must be positive", c.BatchSize)
	}
	for _, v := range []struct {
		name string
		v    float64
	}{{"weight_decay", c.WeightDecay}, {"clip_norm", c.ClipNorm}, {"clip_value", c.ClipValue}} {
		if v.v < 0 || math.IsNaN(v.v) || math.IsInf(v.v, 0) {
			return p, errors.Errorf("%s %g: must not be negative", v.name, v.v)
		}
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
	if !strings.EqualFold(c.Schedule, "step") && (c.StepEvery != 0 || c.Gamma != 0) {
		return p, errors.Errorf("lr_step_every and lr_gamma apply to the step schedule only, not to %q", scheduleName(c.Schedule))
	}
	if p.schedule, err = ScheduleByName(c.Schedule, c.StepEvery, c.Gamma); err != nil {
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
