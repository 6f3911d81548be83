package env_test

import (
	"fmt"

	"github.com/dlrun/dlrun/env"
)

// An agent's loop: reset with a seed, step until the episode ends. The
// policy here pushes the cart towards the side the pole leans to.
func Example() {
	e, err := env.New("cartpole")
	if err != nil {
		panic(err)
	}
	obs := make([]float32, 4)
	e.Reset(1, obs)
	total := 0.0
	for {
		action := 0
		if obs[2]+0.25*obs[3] > 0 {
			action = 1
		}
		reward, terminated, truncated, err := e.Step(action, obs)
		if err != nil {
			panic(err)
		}
		total += reward
		if terminated || truncated {
			fmt.Printf("return %.0f, terminated %v, truncated %v\n", total, terminated, truncated)
			break
		}
	}
	// Output:
	// return 500, terminated false, truncated true
}

// Connect4 against Random, as New("connect4") plays it, the agent choosing
// its columns with a four-ply search and moving second (seed 1 is odd).
func ExampleVsOpponent() {
	opp, err := env.ParseOpponent("random")
	if err != nil {
		panic(err)
	}
	v := &env.VsOpponent{Opponent: opp, AgentFirst: env.FirstOnEvenSeeds}
	agent := env.AlphaBeta{Depth: 4}
	obs := make([]float32, 2*6*7)
	v.Reset(1, obs)
	for {
		reward, terminated, _, err := v.Step(agent.Move(v.Game(), nil), obs)
		if err != nil {
			panic(err)
		}
		if terminated {
			fmt.Print(v.Game())
			fmt.Println("agent plays", "XO"[v.Agent():v.Agent()+1], "reward", reward)
			break
		}
	}
	// Output:
	// . . . . . . .
	// . . . . . . .
	// . . . O . . .
	// . . . O . . .
	// . . . O . . .
	// X . X O . X X
	// 1 2 3 4 5 6 7
	// agent plays O reward 1
}
