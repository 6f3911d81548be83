package rl_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/env"
	"github.com/dlrun/dlrun/rl"
	"github.com/dlrun/dlrun/train"
)

// New makes each algorithm's recipe for a game, with a run's rate and
// schedule; its Network and Settings describe what it built.
func TestNewMakesTheRecipe(t *testing.T) {
	if got := strings.Join(rl.Algorithms(), ","); got != "dqn,ppo" {
		t.Fatalf("algorithms %s", got)
	}
	cart, _ := env.New("cartpole")
	a, err := rl.New("dqn", cart, rl.Options{LearningRate: 0.01}, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	d := a.Settings().(*rl.DQNConfig)
	if d.LearningRate != 0.01 || d.BatchSize != 64 || d.Discount != 0.99 {
		t.Fatalf("dqn settings %+v", d)
	}
	if n := a.Network(); n.Name != "q" || len(n.Layers) == 0 {
		t.Fatalf("dqn network %+v", n)
	}
	c4, _ := env.New("connect4")
	p, err := rl.New("ppo", c4, rl.Options{Schedule: train.Constant{}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	s := p.Settings().(*rl.PPOConfig)
	if !s.SelfPlay || s.Discount != 0.75 || s.RolloutSteps != 32 || s.LearningRate != 1e-3 || s.Schedule != (train.Constant{}) {
		t.Fatalf("ppo on connect4: %+v", s)
	}
	if _, err := rl.New("a2c", cart, rl.Options{}, 1); err == nil || !strings.Contains(err.Error(), `unknown agent "a2c" (known: dqn, ppo)`) {
		t.Fatalf("unknown algorithm: %v", err)
	}
}

// PPO's learning rate follows the schedule it is given over environment
// steps: a step decay to 1e-33 after the first rollout leaves the weights of
// the second as the first left them.
func TestPPOFollowsItsSchedule(t *testing.T) {
	weights := func(steps int, s train.Schedule) []float64 {
		cart, _ := env.New("cartpole")
		a, err := rl.New("ppo", cart, rl.Options{Schedule: s}, 1)
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		if err := a.Train(func() (env.Env, error) { return env.New("cartpole") }, steps, 1000, 1, func(rl.Chunk) error { return nil }); err != nil {
			t.Fatal(err)
		}
		var w []float64
		for _, p := range a.Graph().Params() {
			w = append(w, p.Values()...)
		}
		return w
	}
	stop := train.StepDecay{Every: 256, Gamma: 1e-30} // one rollout is 8 × 32 steps; a rate of 0 would be Adam's default
	one, two := weights(256, stop), weights(512, stop)
	if fmt.Sprint(one) != fmt.Sprint(two) {
		t.Error("a rollout at a learning rate of 1e-33 changed the weights")
	}
	if fmt.Sprint(weights(512, train.Constant{})) == fmt.Sprint(two) {
		t.Error("the second rollout at the constant rate left the weights as they were")
	}
}
