package runner_test

import (
	"fmt"
	"os"

	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/runner"
	"github.com/dlrun/dlrun/train"
)

// Train a reference model by name and record the run in a folder, as
// `dlrun train` does.
func ExampleTrain() {
	dir, err := os.MkdirTemp("", "dlrun-run-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	cfg := run.Config{Model: "xor", Config: train.Config{Seed: 2}}
	summary, err := runner.Train(cfg, runner.Options{Out: dir})
	if err != nil {
		panic(err)
	}
	fmt.Println(summary.Model, summary.Epochs, summary.TestAccuracy)
	// Output: xor 300 1
}

// Train an agent for a few thousand steps, then continue it: the agent's
// run folder has the same life as a classifier's.
func ExampleResume() {
	dir, err := os.MkdirTemp("", "dlrun-agent-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	cfg := run.Config{Model: "dqn", Agent: &run.AgentConfig{Steps: 2000}}
	if _, err := runner.Train(cfg, runner.Options{Out: dir}); err != nil {
		panic(err)
	}
	summary, err := runner.Resume(dir, runner.Options{Steps: 3000})
	if err != nil {
		panic(err)
	}
	fmt.Println(summary.Model, summary.Task, summary.Agent.Env, summary.Agent.Steps)
	// Output: dqn play cartpole 3000
}
