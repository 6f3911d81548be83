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
