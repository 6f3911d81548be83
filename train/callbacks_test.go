package train_test

import (
	"math"
	"testing"

	"github.com/dlrun/dlrun/train"
)

func TestSchedules(t *testing.T) {
	step := train.StepDecay{Every: 2, Gamma: 0.5}
	for e, want := range map[int]float64{1: 1, 2: 1, 3: 0.5, 4: 0.5, 5: 0.25} {
		if got := step.LearningRate(e, 5, 1); got != want {
			t.Errorf("step epoch %d: %g, want %g", e, got, want)
		}
	}
	cos := train.Cosine{}
	if got := cos.LearningRate(1, 4, 1); got != 1 {
		t.Errorf("cosine first epoch %g", got)
	}
	if got := cos.LearningRate(3, 4, 1); math.Abs(got-0.5) > 1e-15 {
		t.Errorf("cosine middle epoch %g, want 0.5", got)
	}
	if _, err := train.ScheduleByName("warmup", 0, 0, 0); err == nil {
		t.Error("unknown schedule accepted")
	}
	// Warm-up over 4 of 10 steps: 1/4, 2/4, 3/4, 1 of the base; then a
	// half cosine over the last 6 steps, from 1 towards Min, which the
	// step after the last would reach.
	wc := train.WarmupCosine{Warmup: 4, Min: 0.1}
	want := []float64{0.25, 0.5, 0.75, 1}
	for k := 0; k < 6; k++ {
		want = append(want, 0.1+0.9*(1+math.Cos(math.Pi*float64(k)/6))/2)
	}
	for s, w := range want {
		if got := wc.StepLearningRate(s, 10, 1); math.Abs(got-w) > 1e-15 {
			t.Errorf("warmup_cosine step %d: %g, want %g", s, got, w)
		}
	}
	if got := (train.WarmupCosine{}).StepLearningRate(0, 1, 2); got != 2 {
		t.Errorf("a one-step run: %g, want the base 2", got)
	}
	if _, err := train.ScheduleByName("warmup_cosine", 0, 0, -1); err == nil {
		t.Error("negative warm-up accepted")
	}
}

// warmup_cosine sets the rate at every step: an epoch's figure is its last
// step's.
func TestWarmupCosineSetsEveryStep(t *testing.T) {
	d := smallFashion(t, 128)
	model, task := reference(t, "mlp", d)
	tr, err := train.New(model, task, train.Config{Epochs: 2, BatchSize: 32, Optimizer: "adamw", LearningRate: 0.01,
		Schedule: "warmup_cosine", WarmupSteps: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	hist, err := tr.Fit(d.Train, d.Test, nil)
	if err != nil {
		t.Fatal(err)
	}
	// 4 steps an epoch, 8 in all: epoch 1 ends at step 3, the first after
	// the warm-up (the top of the cosine), epoch 2 at step 7, 4/5 of the
	// way down.
	if got := hist[0].LearningRate; math.Abs(got-0.01) > 1e-15 {
		t.Errorf("epoch 1 ends at rate %g, want 0.01", got)
	}
	if got, want := hist[1].LearningRate, 0.01*(1+math.Cos(0.8*math.Pi))/2; math.Abs(got-want) > 1e-15 {
		t.Errorf("epoch 2 ends at rate %g, want %g", got, want)
	}
	for _, c := range []train.Config{{WarmupSteps: 5}, {Schedule: "cosine", WarmupSteps: 5}} {
		if err := c.Check(); err == nil {
			t.Errorf("%+v: warm-up without warmup_cosine accepted", c)
		}
	}
}

// Linear is base·(1 − done/total), to the bit, the same arithmetic as a
// hand-written linear decay over progress (PPO's), and Constant keeps the
// base.
func TestLinearAndConstantSchedules(t *testing.T) {
	for _, c := range []struct{ done, total int }{{0, 100000}, {256, 100000}, {99840, 100000}, {3, 10}} {
		progress := float64(c.done) / float64(c.total)
		want := 1e-3 * (1 - progress)
		if got := (train.Linear{}).LearningRate(c.done+1, c.total, 1e-3); got != want {
			t.Errorf("after %d of %d: %v, want %v", c.done, c.total, got, want)
		}
	}
	if got := (train.Constant{}).LearningRate(7, 10, 0.5); got != 0.5 {
		t.Errorf("constant: %v", got)
	}
	if s, err := train.ScheduleByName("linear", 0, 0, 0); err != nil || s != (train.Linear{}) {
		t.Errorf("ScheduleByName(linear) = %v, %v", s, err)
	}
}
