package train

import (
	"fmt"
	"math"
	"strings"

	"github.com/pkg/errors"
)

// A Schedule sets the learning rate of each epoch from the base rate.
type Schedule interface {
	// LearningRate returns the rate for epoch (counted from 1) of epochs.
	LearningRate(epoch, epochs int, base float64) float64
	String() string
}

// StepDecay multiplies the learning rate by Gamma every Every epochs
// (PyTorch's StepLR).
type StepDecay struct {
	Every int
	Gamma float64
}

// LearningRate implements Schedule.
func (s StepDecay) LearningRate(epoch, _ int, base float64) float64 {
	if s.Every <= 0 {
		return base
	}
	return base * math.Pow(s.Gamma, float64((epoch-1)/s.Every))
}

// String describes the schedule.
func (s StepDecay) String() string { return fmt.Sprintf("step(every %d, gamma %g)", s.Every, s.Gamma) }

// Cosine anneals the learning rate from the base rate at the first epoch
// towards Min along a half cosine over the run (PyTorch's
// CosineAnnealingLR with T_max = epochs, stepped per epoch).
type Cosine struct{ Min float64 }

// LearningRate implements Schedule.
func (c Cosine) LearningRate(epoch, epochs int, base float64) float64 {
	if epochs <= 1 {
		return base
	}
	return c.Min + (base-c.Min)*(1+math.Cos(math.Pi*float64(epoch-1)/float64(epochs)))/2
}

// String describes the schedule.
func (c Cosine) String() string { return fmt.Sprintf("cosine(min %g)", c.Min) }

// Linear decays the learning rate linearly from the base rate at the start
// towards 0 at the end of the run: base·(1 − done/total), where done counts
// the epochs (or an agent's environment steps) before this one
// (PyTorch's LinearLR to 0; Stable-Baselines3's linear schedule, PPO's).
type Linear struct{}

// LearningRate implements Schedule.
func (Linear) LearningRate(epoch, epochs int, base float64) float64 {
	if epochs <= 0 {
		return base
	}
	return base * (1 - float64(epoch-1)/float64(epochs))
}

// String describes the schedule.
func (Linear) String() string { return "linear" }

// Constant keeps the base rate: the schedule ScheduleByName's nil stands
// for, for a caller that needs a value.
type Constant struct{}

// LearningRate implements Schedule.
func (Constant) LearningRate(_, _ int, base float64) float64 { return base }

// String describes the schedule.
func (Constant) String() string { return "constant" }

// A StepSchedule sets the learning rate of every training step (batch)
// rather than of every epoch: the loop asks it before each step.
type StepSchedule interface {
	Schedule
	// StepLearningRate returns the rate for step (counted from 0) of the
	// run's steps.
	StepLearningRate(step, steps int, base float64) float64
}

// WarmupCosine raises the learning rate linearly over the first Warmup
// steps, base·(s+1)/Warmup at step s, then anneals it along a half cosine
// towards Min, Min + (base−Min)·(1 + cos(π·p))/2 with
// p = (s − Warmup)/(steps − Warmup), which the step after the last would
// reach: the schedule transformers train with (Hugging Face's cosine
// schedule with warm-up; PyTorch's LambdaLR of this function, stepped per
// batch). Warmup 0 is a cosine over every step.
type WarmupCosine struct {
	Warmup int
	Min    float64
}

// StepLearningRate implements StepSchedule.
func (c WarmupCosine) StepLearningRate(step, steps int, base float64) float64 {
	if step < c.Warmup {
		return base * float64(step+1) / float64(c.Warmup)
	}
	rest := steps - c.Warmup
	if rest <= 0 {
		return base
	}
	p := float64(step-c.Warmup) / float64(rest)
	return c.Min + (base-c.Min)*(1+math.Cos(math.Pi*min(p, 1)))/2
}

// LearningRate implements Schedule for a caller that counts in whole
// units (an agent's environment steps, counted from 1): the rate
// StepLearningRate gives the step before epoch. Training's loop sets the
// rate of every batch through StepLearningRate instead.
func (c WarmupCosine) LearningRate(epoch, epochs int, base float64) float64 {
	return c.StepLearningRate(epoch-1, epochs, base)
}

// String describes the schedule.
func (c WarmupCosine) String() string {
	return fmt.Sprintf("warmup_cosine(warmup %d steps, min %g)", c.Warmup, c.Min)
}

// ScheduleByName returns the schedule called name: "" or "constant"
// (nil), "step" (StepDecay with every and gamma, default 0.1), "cosine",
// "linear" or "warmup_cosine" (WarmupCosine over warmup steps, per step).
// The step schedule needs every, and a finite positive gamma.
func ScheduleByName(name string, every int, gamma float64, warmup int) (Schedule, error) {
	if warmup < 0 {
		return nil, errors.Errorf("warmup_steps %d: must not be negative", warmup)
	}
	switch strings.ToLower(name) {
	case "warmup_cosine":
		return WarmupCosine{Warmup: warmup}, nil
	case "", "constant":
		return nil, nil
	case "step":
		if gamma == 0 {
			gamma = 0.1
		}
		if every <= 0 {
			return nil, errors.Errorf("step schedule: every %d epochs (lr_step_every): must be positive", every)
		}
		if !(gamma > 0) || math.IsInf(gamma, 0) {
			return nil, errors.Errorf("step schedule: gamma %g (lr_gamma): must be a finite positive number", gamma)
		}
		return StepDecay{Every: every, Gamma: gamma}, nil
	case "cosine":
		return Cosine{}, nil
	case "linear":
		return Linear{}, nil
	}
	return nil, errors.Errorf("unknown learning-rate schedule %q (want constant, step, cosine, linear or warmup_cosine)", name)
}

// EarlyStopping stops training when the monitored test metric has not
// improved for Patience epochs.
type EarlyStopping struct {
	Patience int // epochs without improvement before stopping; 0: off
	// Monitor is "test_loss" (the default, lower is better) or test_<m>
	// for a metric m of the task (test_accuracy, test_rmse), which says
	// which way is better.
	Monitor string

	higher bool // the monitored figure improves upwards
}

// check reports a negative patience or a monitor that names no test
// figure; forTask checks it against a task's metrics.
func (e EarlyStopping) check() error {
	if e.Monitor != "" && !strings.HasPrefix(e.Monitor, "test_") {
		return errors.Errorf("early stopping: unknown metric %q (want test_loss, test_accuracy or test_<metric> of the task)", e.Monitor)
	}
	if e.Patience < 0 {
		return errors.Errorf("early stopping: patience %d must not be negative", e.Patience)
	}
	return nil
}

// forTask returns e set up for a task scored by metrics, or an error if
// its monitor names none of them.
func (e EarlyStopping) forTask(task string, metrics []Metric) (EarlyStopping, error) {
	if e.Monitor == "" || e.Monitor == "test_loss" {
		return e, nil
	}
	known := []string{"test_loss"}
	for _, m := range metrics {
		if e.Monitor == "test_"+m.Name {
			e.higher = m.HigherIsBetter
			return e, nil
		}
		known = append(known, "test_"+m.Name)
	}
	return e, errors.Errorf("early stopping: unknown metric %q for the %s task (known: %s)", e.Monitor, task, strings.Join(known, ", "))
}

// Best returns the index of the best epoch of hist by the monitored
// metric (the first of equals), or -1 for an empty history.
func (e EarlyStopping) Best(hist []EpochStats) int {
	best := -1
	for i, s := range hist {
		if best < 0 || e.better(s, hist[best]) {
			best = i
		}
	}
	return best
}

func (e EarlyStopping) better(a, b EpochStats) bool {
	if e.Monitor == "" || e.Monitor == "test_loss" {
		return a.TestLoss < b.TestLoss
	}
	va, _ := a.Value(e.Monitor)
	vb, _ := b.Value(e.Monitor)
	if e.higher || e.Monitor == "test_"+Accuracy.Name {
		return va > vb
	}
	return va < vb
}

// stop reports whether training should stop after hist.
func (e EarlyStopping) stop(hist []EpochStats) bool {
	if e.Patience <= 0 || len(hist) == 0 {
		return false
	}
	return len(hist)-1-e.Best(hist) >= e.Patience
}
