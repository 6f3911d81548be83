package rl

import (
	"math"
	"testing"
)

// GAE's advantages and returns, worked by hand for two environments of
// four steps (γ = 0.9, λ = 0.8): the first ends an episode at step 2 with
// reward 1, the second runs on and is bootstrapped from a value of 1. For
// self-play (the zero-sum form) each next state is the opponent's.
func TestGAE(t *testing.T) {
	for _, c := range []struct {
		name     string
		sign     float64
		adv, ret [2][4]float64 // environment, step
	}{
		{"single agent", 1,
			[2][4]float64{{0.16816, 0.428, 0.4, 0.07}, {0.3359232, 0.46656, 0.648, 0.9}},
			[2][4]float64{{0.66816, 0.828, 1.0, 0.27}, {0.3359232, 0.46656, 0.648, 0.9}}},
		{"zero-sum", -1,
			[2][4]float64{{0.02416, -1.228, 0.4, -0.47}, {0.3359232, -0.46656, 0.648, -0.9}},
			[2][4]float64{{0.52416, -0.828, 1.0, -0.27}, {0.3359232, -0.46656, 0.648, -0.9}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			// Step-major: step t of environment k at 2t+k.
			ro := rollout{
				rew:  []float64{0, 0, 0, 0, 1, 0, 0, 0},
				done: []bool{false, false, false, false, true, false, false, false},
				val:  []float64{0.5, 0, 0.4, 0, 0.6, 0, 0.2, 0},
				adv:  make([]float64, 8),
				ret:  make([]float64, 8),
			}
			ro.gae([]float64{0.3, 1}, 0.9, 0.8, c.sign)
			for k := range 2 {
				for s := range 4 {
					i := 2*s + k
					if math.Abs(ro.adv[i]-c.adv[k][s]) > 1e-12 || math.Abs(ro.ret[i]-c.ret[k][s]) > 1e-12 {
						t.Errorf("environment %d, step %d: advantage %.10g, return %.10g; want %.10g, %.10g", k, s, ro.adv[i], ro.ret[i], c.adv[k][s], c.ret[k][s])
					}
				}
			}
		})
	}
}
