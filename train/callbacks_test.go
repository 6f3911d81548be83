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
	if _, err := train.ScheduleByName("warmup", 0, 0); err == nil {
		t.Error("unknown schedule accepted")
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
	if s, err := train.ScheduleByName("linear", 0, 0); err != nil || s != (train.Linear{}) {
		t.Errorf("ScheduleByName(linear) = %v, %v", s, err)
	}
}
