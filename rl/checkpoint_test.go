package rl

import (
	"fmt"
	"testing"

	"github.com/dlrun/dlrun/env"
)

// A checkpoint taken halfway, restored into a new agent, trains on to
// the same chunks and weights as training straight through: DQN and PPO
// on CartPole, PPO's self-play on Connect4.
func TestCheckpointResumesBitForBit(t *testing.T) {
	connect4 := func() (env.Env, error) { return env.New("connect4") }
	for _, c := range []struct {
		name   string
		newEnv func() (env.Env, error)
		make   func(e env.Env) (Agent, error)
		steps  int
	}{
		{"dqn", cartpole, func(e env.Env) (Agent, error) {
			return NewDQN(e, DQNConfig{LearningStart: 300, TrainEvery: 50, GradientSteps: 8, Hidden: []int{16}, Buffer: 1000}, 9)
		}, 2000},
		{"ppo", cartpole, func(e env.Env) (Agent, error) {
			return NewPPO(e, PPOConfig{Hidden: []int{8}, Epochs: 2, Envs: 4, RolloutSteps: 50, BatchSize: 64}, 9)
		}, 2000},
		{"ppo-selfplay", connect4, func(e env.Env) (Agent, error) {
			return NewPPO(e, PPOConfig{SelfPlay: true, Past: 0.5, Openings: 3, SnapshotEvery: 2, PoolSize: 3, Conv: []int{4}, Kernel: 4, Padding: "valid", Hidden: []int{8}, Epochs: 2, Envs: 4, RolloutSteps: 25, BatchSize: 50}, 9)
		}, 1000},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, err := c.newEnv()
			if err != nil {
				t.Fatal(err)
			}
			record := func(chunks *[]string) func(Chunk) error {
				return func(ch Chunk) error {
					ch.Seconds = 0
					*chunks = append(*chunks, fmt.Sprint(ch))
					return nil
				}
			}
			straight, err := c.make(e)
			if err != nil {
				t.Fatal(err)
			}
			defer straight.Close()
			var want []string
			if err := straight.Train(c.newEnv, c.steps, c.steps/10, 3, record(&want)); err != nil {
				t.Fatal(err)
			}
			first, _ := c.make(e)
			defer first.Close()
			var got []string
			var ck []byte
			if err := first.Train(c.newEnv, c.steps, c.steps/10, 3, func(ch Chunk) error {
				if err := record(&got)(ch); err != nil {
					return err
				}
				if len(got) == 4 {
					var err error
					if ck, err = first.Checkpoint(); err != nil {
						return err
					}
					return errStop
				}
				return nil
			}); err != errStop {
				t.Fatalf("the first half: %v", err)
			}
			resumed, _ := c.make(e)
			defer resumed.Close()
			if err := resumed.Restore(ck, c.newEnv); err != nil {
				t.Fatal(err)
			}
			if err := resumed.Train(c.newEnv, c.steps, c.steps/10, 3, record(&got)); err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("resumed chunks differ:\n%v\n%v", got, want)
			}
			if fmt.Sprint(params(resumed.Graph())) != fmt.Sprint(params(straight.Graph())) {
				t.Error("resumed weights differ")
			}
			if err := resumed.Restore([]byte("not a checkpoint"), c.newEnv); err == nil {
				t.Error("a malformed checkpoint: no error")
			}
		})
	}
}

type stopErr struct{}

func (stopErr) Error() string { return "stop" }

var errStop error = stopErr{}
