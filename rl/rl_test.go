package rl

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/env"
)

func cartpole() (env.Env, error) { return env.New("cartpole") }

// trainChunks trains a new agent of kind for steps and returns its chunks.
func trainChunks(t *testing.T, kind string, steps int, seed uint64) ([]Chunk, Agent) {
	t.Helper()
	e, err := cartpole()
	if err != nil {
		t.Fatal(err)
	}
	var a Agent
	switch kind {
	case "dqn":
		a, err = NewDQN(e, DQNConfig{LearningStart: 500, TrainEvery: 64, GradientSteps: 16, Hidden: []int{32}}, seed)
	default:
		a, err = NewPPO(e, PPOConfig{Hidden: []int{16}, Epochs: 4}, seed)
	}
	if err != nil {
		t.Fatal(err)
	}
	var chunks []Chunk
	if err := a.Train(cartpole, steps, 1000, seed, func(c Chunk) error {
		c.Seconds = 0
		chunks = append(chunks, c)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return chunks, a
}

// The same seed gives the same training, chunk for chunk, and the same
// greedy play; another seed another.
func TestAgentsAreReproducible(t *testing.T) {
	for _, kind := range []string{"dqn", "ppo"} {
		t.Run(kind, func(t *testing.T) {
			c1, a1 := trainChunks(t, kind, 3000, 4)
			defer a1.Close()
			c2, a2 := trainChunks(t, kind, 3000, 4)
			defer a2.Close()
			c3, a3 := trainChunks(t, kind, 3000, 5)
			defer a3.Close()
			if fmt.Sprint(c1) != fmt.Sprint(c2) {
				t.Errorf("seed 4 twice:\n%v\n%v", c1, c2)
			}
			if fmt.Sprint(c1) == fmt.Sprint(c3) {
				t.Error("seeds 4 and 5 trained alike")
			}
			e, _ := cartpole()
			r1, err := Evaluate(a1, e, 5, 100)
			if err != nil {
				t.Fatal(err)
			}
			r2, _ := Evaluate(a2, e, 5, 100)
			if fmt.Sprint(r1) != fmt.Sprint(r2) {
				t.Errorf("greedy returns %v and %v", r1, r2)
			}
			t.Logf("%s: chunks %v", kind, c1)
		})
	}
}

// PPO on CartPole-v1 learns: with its default settings, 20,000 steps
// raise the mean return of greedy play well above a random policy's
// (about 22).
func TestPPOLearnsCartPole(t *testing.T) {
	e, _ := cartpole()
	a, err := NewPPO(e, PPOConfig{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := a.Train(cartpole, 20000, 20000, 1, func(Chunk) error { return nil }); err != nil {
		t.Fatal(err)
	}
	rets, err := Evaluate(a, e, 20, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	mean := 0.0
	for _, r := range rets {
		mean += r / float64(len(rets))
	}
	if mean < 100 {
		t.Errorf("mean greedy return %.1f after 20,000 steps, want at least 100", mean)
	}
	t.Logf("mean greedy return after 20,000 steps: %.1f", mean)
}

// The policy gradient PPO applies through graph.Linear is the gradient of
// its clipped objective with the entropy bonus: checked against central
// differences of the objective, for advantages of both signs, ratios
// inside and outside the clip range, and an illegal action.
func TestPPOPolicyGradient(t *testing.T) {
	legal := []bool{true, true, false, true}
	objective := func(z []float64, a int, oldLogp, adv, clip, ent float64) float64 {
		p := make([]float64, len(z))
		softmaxMasked(z, legal, p)
		ratio := math.Exp(math.Log(p[a]) - oldLogp)
		h := 0.0
		for _, pj := range p {
			if pj > 0 {
				h -= pj * math.Log(pj)
			}
		}
		return -math.Min(ratio*adv, math.Max(1-clip, math.Min(1+clip, ratio))*adv) - ent*h
	}
	for _, c := range []struct {
		oldLogp, adv float64
	}{{math.Log(0.3), 1.3}, {math.Log(0.3), -0.7}, {math.Log(0.05), 1.1}, {math.Log(0.9), -1.2}} {
		z := []float64{0.3, -0.4, 2, 0.9}
		a, clip, ent := 1, 0.2, 0.01
		g := make([]float64, len(z))
		policyTerms(z, legal, a, c.oldLogp, c.adv, clip, ent, make([]float64, len(z)), g)
		for j := range z {
			if !legal[j] {
				if g[j] != 0 {
					t.Errorf("gradient %v for the illegal action", g[j])
				}
				continue
			}
			const h = 1e-6
			zp, zm := append([]float64(nil), z...), append([]float64(nil), z...)
			zp[j] += h
			zm[j] -= h
			num := (objective(zp, a, c.oldLogp, c.adv, clip, ent) - objective(zm, a, c.oldLogp, c.adv, clip, ent)) / (2 * h)
			if math.Abs(num-g[j]) > 1e-6 {
				t.Errorf("old logp %.3f adv %.1f: ∂/∂z%d = %.8f, numerically %.8f", c.oldLogp, c.adv, j, g[j], num)
			}
		}
	}
}

// Self-play reports the trained policy's results against its past selves
// when some games are against them, and no return when none is.
func TestSelfPlayReturns(t *testing.T) {
	connect4, err := env.New("connect4")
	if err != nil {
		t.Fatal(err)
	}
	for _, past := range []float64{0, 0.5, 1} {
		a, err := NewPPO(connect4, PPOConfig{SelfPlay: true, Past: past, Openings: 2, Hidden: []int{8}, Epochs: 1, Envs: 4, RolloutSteps: 50, BatchSize: 100}, 1)
		if err != nil {
			t.Fatal(err)
		}
		var chunks []Chunk
		if err := a.Train(nil, 1000, 1000, 1, func(c Chunk) error { chunks = append(chunks, c); return nil }); err != nil {
			t.Fatal(err)
		}
		a.Close()
		c := chunks[len(chunks)-1]
		switch {
		case past == 0 && (c.Episodes != 0 || !math.IsNaN(c.MeanReturn)):
			t.Errorf("no games against past selves: %d episodes, mean return %v", c.Episodes, c.MeanReturn)
		case past > 0 && (c.Episodes == 0 || c.MeanReturn < -1 || c.MeanReturn > 1):
			t.Errorf("past %v: %d episodes, mean return %v", past, c.Episodes, c.MeanReturn)
		case math.IsNaN(c.Loss) || math.IsNaN(c.Entropy) || c.Steps != 1000:
			t.Errorf("past %v: %+v", past, c)
		}
	}
}

// Settings out of range are one-line errors naming the setting.
func TestConfigErrors(t *testing.T) {
	c4, _ := env.New("connect4")
	cp, _ := cartpole()
	for _, c := range []struct {
		e    env.Env
		cfg  PPOConfig
		want string
	}{
		{cp, PPOConfig{Envs: -5}, "ppo: envs -5: must be 1 to 16777216"},
		{cp, PPOConfig{Hidden: []int{8, 0}}, "a layer of 0 units"},
		{cp, PPOConfig{Discount: 1.5}, "ppo: discount 1.5: must be in [0, 1]"},
		{cp, PPOConfig{LearningRate: math.NaN()}, "ppo: learning_rate NaN"},
		{c4, PPOConfig{SelfPlay: true, Past: -0.5}, "ppo: past -0.5"},
		{c4, PPOConfig{SelfPlay: true, Openings: 50}, "ppo: openings 50: must be 0 to 41"},
		{c4, PPOConfig{Conv: []int{4}, Padding: "full"}, `padding "full"`},
		{cp, PPOConfig{SelfPlay: true}, "ppo: self-play plays connect4, not cartpole"},
	} {
		_, err := NewPPO(c.e, c.cfg, 1)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want one containing %q", c.cfg, err, c.want)
		}
	}
	for _, c := range []struct {
		cfg  DQNConfig
		want string
	}{
		{DQNConfig{Buffer: -1}, "dqn: buffer -1: must be 1 to 16777216"},
		{DQNConfig{EpsEnd: 2}, "dqn: eps_end 2: must be in [0, 1]"},
		{DQNConfig{Hidden: []int{-3}}, "dqn: a layer of -3 units"},
	} {
		_, err := NewDQN(cp, c.cfg, 1)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want one containing %q", c.cfg, err, c.want)
		}
	}
}
