package rl_test

import (
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
