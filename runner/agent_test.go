package runner_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/env"
	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/runner"
	"github.com/dlrun/dlrun/train"
)

// An agent's run writes its folder (config, agent, metrics per chunk,
// curves, weights, summary); the same seed gives the same metrics and
// weights, and the run loads back to the same evaluation.
func TestAgentRun(t *testing.T) {
	dir := t.TempDir()
	trainOne := func(name string, model, game string, steps int) string {
		t.Helper()
		out := filepath.Join(dir, name)
		if _, err := runner.Train(run.Config{Model: model, Agent: &run.AgentConfig{Env: game, Steps: steps}}, runner.Options{Out: out}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	a := trainOne("a", "dqn", "cartpole", 3000)
	b := trainOne("b", "dqn", "cartpole", 3000)
	for _, f := range []string{"config.json", "agent.json", "model.json", "metrics.csv", "curves.png", "model.safetensors", "summary.json"} {
		if _, err := os.Stat(filepath.Join(a, f)); err != nil {
			t.Errorf("the run folder lacks %s", f)
		}
	}
	ma, _ := os.ReadFile(filepath.Join(a, "metrics.csv"))
	mb, _ := os.ReadFile(filepath.Join(b, "metrics.csv"))
	lines := strings.Split(strings.TrimSpace(string(ma)), "\n")
	if lines[0] != "steps,episodes,mean_return,loss,epsilon,seconds" || len(lines) != 4 {
		t.Errorf("metrics.csv:\n%s", ma)
	}
	drop := func(b []byte) string { // the seconds column differs
		var out []string
		for _, l := range strings.Split(string(b), "\n") {
			if i := strings.LastIndexByte(l, ','); i >= 0 {
				l = l[:i]
			}
			out = append(out, l)
		}
		return strings.Join(out, "\n")
	}
	if drop(ma) != drop(mb) {
		t.Errorf("the same seed gave other metrics:\n%s\n%s", ma, mb)
	}
	wa, _ := os.ReadFile(filepath.Join(a, "model.safetensors"))
	wb, _ := os.ReadFile(filepath.Join(b, "model.safetensors"))
	if !bytes.Equal(wa, wb) {
		t.Error("the same seed gave other weights")
	}
	sum, _ := os.ReadFile(filepath.Join(a, "summary.json"))
	for _, want := range []string{`"task": "play"`, `"env": "cartpole"`, `"steps": 3000`, `"mean_return"`, `"eval_episodes": 100`} {
		if !strings.Contains(string(sum), want) {
			t.Errorf("summary.json lacks %s:\n%s", want, sum)
		}
	}
	if strings.Contains(string(sum), "test_loss") {
		t.Errorf("an agent's summary.json has supervised fields:\n%s", sum)
	}
	// The run opens as its policy network, without rl, and plays as the
	// agent did: the evaluation is the summary's.
	ag, err := run.Open(a, false)
	if err != nil {
		t.Fatal(err)
	}
	defer ag.Close()
	rep, err := ag.Evaluate(run.EvalOptions{Games: env.Arena{}})
	if err != nil {
		t.Fatal(err)
	}
	var recorded struct {
		Agent struct {
			MeanReturn float64 `json:"mean_return"`
		} `json:"agent"`
	}
	if err := json.Unmarshal(sum, &recorded); err != nil {
		t.Fatal(err)
	}
	if ev := rep.(*run.AgentReport); ev.MeanReturn != recorded.Agent.MeanReturn {
		t.Errorf("the opened run's mean return %v, the summary's %v", ev.MeanReturn, recorded.Agent.MeanReturn)
	}

	c4 := trainOne("c4", "ppo", "connect4", 3000)
	ag4, err := run.Open(c4, false)
	if err != nil {
		t.Fatal(err)
	}
	defer ag4.Close()
	rep4, err := ag4.Evaluate(run.EvalOptions{Episodes: 10, Seed: 7, Opponent: "alphabeta:1", Games: env.Arena{}})
	if err != nil {
		t.Fatal(err)
	}
	if ev4 := rep4.(*run.AgentReport); len(ev4.Scores) != 1 || ev4.Scores["alphabeta:1"] < 0 || ev4.Scores["alphabeta:1"] > 1 {
		t.Errorf("scores %v", ev4.Scores)
	}
	if _, err := ag.Evaluate(run.EvalOptions{Episodes: 5, Seed: 1, Opponent: "random", Games: env.Arena{}}); err == nil {
		t.Error("an opponent for cartpole: no error")
	}
	if _, err := ag.Evaluate(run.EvalOptions{}); err == nil || !strings.Contains(err.Error(), "needs its games") {
		t.Errorf("an agent evaluated without games: %v", err)
	}
}

// Settings of supervised training are refused for an agent, and agent
// settings for a supervised model, each naming the setting.
func TestAgentConfigRefusals(t *testing.T) {
	for _, c := range []struct {
		cfg  run.Config
		want string
	}{
		{run.Config{Model: "dqn", Agent: &run.AgentConfig{Env: "connect4"}}, `env "connect4": dqn plays cartpole`},
		{run.Config{Model: "ppo", Agent: &run.AgentConfig{Env: "pong"}}, `env "pong": ppo plays cartpole or connect4`},
		{run.Config{Model: "dqn", Dataset: "xor"}, `dataset "xor" does not apply to model dqn: it is an agent`},
		{run.Config{Model: "ppo", Config: train.Config{Epochs: 3}}, "epochs 3 does not apply to model ppo: it is an agent"},
		{run.Config{Model: "ppo", Config: train.Config{Gamma: 0.5}}, "lr_gamma apply to the step schedule only"},
		{run.Config{Model: "ppo", Config: train.Config{Schedule: "step"}}, "lr_schedule step needs lr_step_every"},
		{run.Config{Model: "ppo", Agent: &run.AgentConfig{Steps: -1}}, "steps -1: must be 1 to"},
		{run.Config{Model: "mlp", Agent: &run.AgentConfig{Env: "cartpole"}}, `env "cartpole" does not apply to model mlp: it is a classify model; env and steps are the settings of an agent`},
	} {
		err := c.cfg.Resolve()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", c.cfg, err, c.want)
		}
	}
}

// An agent trains whole rollouts, so its last may pass its budget: the run
// is finished all the same, and resuming it to its budget does nothing.
func TestAgentPastItsBudgetIsFinished(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ppo")
	cfg := run.Config{Model: "ppo", Agent: &run.AgentConfig{Steps: 3000}} // rollouts of 8×32 steps: 3072
	if _, err := runner.Train(cfg, runner.Options{Out: dir}); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	s, err := runner.Resume(dir, runner.Options{Log: &log})
	if err != nil || s.Agent.Steps != 3000 || !strings.Contains(log.String(), "is finished (3000 steps): nothing to do") {
		t.Fatalf("resuming a finished agent: %v\n%s", err, log.String())
	}
	if _, err := runner.Resume(dir, runner.Options{Steps: 2000}); err == nil || !strings.Contains(err.Error(), "more than the 2000 asked for (--steps)") {
		t.Errorf("resuming to fewer steps: %v", err)
	}
}
