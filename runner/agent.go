package runner

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"os"
	"path/filepath"

	"github.com/dlrun/dlrun/env"
	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/internal/atomicfile"
	"github.com/dlrun/dlrun/internal/safeio"
	"github.com/dlrun/dlrun/rl"
	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/rundir"
	"github.com/dlrun/dlrun/train"
	"github.com/pkg/errors"
)

// agentLearner is the learner of an agent's run: an agent of package rl
// (rl.New, by the kind's name) learning its game in chunks of environment
// steps.
type agentLearner struct {
	cfg   *run.Config
	kind  run.AgentKind
	agent rl.Agent
	game  string
	shape []int
	acts  int
	rows  []rl.Chunk
}

// agentInfo is agent.json: the algorithm and its settings, every default
// resolved, so that a later change of a default does not change what a
// saved run resumes as.
type agentInfo struct {
	Format   string `json:"format"`
	Agent    string `json:"agent"`
	Env      string `json:"env"`
	Seed     uint64 `json:"seed"`
	Settings any    `json:"settings"`
	Shape    []int  `json:"observation_shape"`
	Actions  int    `json:"actions"`
}

// agentFormat marks agent.json.
const agentFormat = "dlrun-agent-2"

// agentCheckpoint is what rundir.AgentCheckpoint holds: the agent's
// training state (rl.Agent.Checkpoint) and the chunks so far.
type agentCheckpoint struct {
	Agent []byte
	Rows  []rl.Chunk
}

// MaxAgentCheckpointBytes is the largest agent checkpoint Resume reads:
// 1 GiB.
const MaxAgentCheckpointBytes = 1 << 30

// newAgentLearner makes the agent of a run of c, resolved, of kind k: the
// algorithm's recipe for c's game, with c's learning rate and its
// schedule over the budget's environment steps.
func newAgentLearner(k run.AgentKind, c *run.Config, opts Options) (*agentLearner, error) {
	if opts.Collective != nil && opts.Collective.Size() > 1 {
		return nil, errors.Errorf("agent %s trains in one process, not data-parallel", c.Model)
	}
	if opts.Epochs != 0 {
		return nil, errors.Errorf("epochs %d does not apply to agent %s: its budget is its environment steps (--steps)", opts.Epochs, c.Model)
	}
	if opts.Steps != 0 {
		c.Agent.Steps = opts.Steps
	}
	sched, err := train.ScheduleByName(c.Schedule, c.StepEvery, c.Gamma, c.WarmupSteps)
	if err != nil {
		return nil, err
	}
	if sched == nil {
		sched = train.Constant{}
	}
	e, err := env.New(c.Agent.Env)
	if err != nil {
		return nil, err
	}
	a, err := rl.New(k.Name(), e, rl.Options{LearningRate: c.LearningRate, Schedule: sched}, c.Seed)
	if err != nil {
		return nil, err
	}
	return &agentLearner{cfg: c, kind: k, agent: a, game: c.Agent.Env, shape: e.ObservationShape(), acts: e.NumActions()}, nil
}

func (a *agentLearner) folderName() string { return a.cfg.Model + "-" + a.game }

func (a *agentLearner) checkpoint() string { return rundir.AgentCheckpoint }

func (a *agentLearner) newEnv() (env.Env, error) { return env.New(a.game) }

func (a *agentLearner) restore(path string) (bool, error) {
	b, err := safeio.ReadFile(path, MaxAgentCheckpointBytes)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	var ck agentCheckpoint
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&ck); err != nil {
		return false, errors.Errorf("%s: %v", path, err)
	}
	if err := a.agent.Restore(ck.Agent, a.newEnv); err != nil {
		return false, errors.Wrapf(err, "%s", path)
	}
	a.rows = ck.Rows
	return true, nil
}

// progress implements learner: the steps of the last chunk, counted as
// the budget where the last rollout passed it (an agent trains whole
// rollouts), more only where an earlier chunk had already reached it.
func (a *agentLearner) progress() (int, int, string, string) {
	done, budget := 0, a.cfg.Agent.Steps
	if n := len(a.rows); n > 0 {
		done = a.rows[n-1].Steps
		if done > budget && (n == 1 || a.rows[n-2].Steps < budget) {
			done = budget
		}
	}
	return done, budget, "step", "--steps"
}

func (a *agentLearner) finished(s *run.Summary) bool {
	done, budget, _, _ := a.progress()
	return s.Agent != nil && s.Agent.Steps == budget && done >= budget
}

// describe writes agent.json and model.json: the acting network, which
// is what using the run needs (run.Open).
func (a *agentLearner) describe(dir string) error {
	info := agentInfo{Format: agentFormat, Agent: a.kind.Name(), Env: a.game, Seed: a.cfg.Seed, Settings: a.agent.Settings(), Shape: a.shape, Actions: a.acts}
	if err := writeJSON(filepath.Join(dir, rundir.Agent), info); err != nil {
		return err
	}
	return a.kind.Policy(a.agent.Network(), a.shape, a.acts).Write(dir)
}

func (a *agentLearner) started(verb, dir string) string {
	return fmt.Sprintf("%s %s on %s for %d steps, writing %s", verb, a.cfg.Model, a.game, a.cfg.Agent.Steps, dir)
}

// chunk returns the steps between reports: a fiftieth of the budget, at
// least 1000.
func (a *agentLearner) chunk() int { return max(1000, a.cfg.Agent.Steps/50) }

func (a *agentLearner) fit(ck string, saving func(), saved func(string, int, int) error) error {
	steps, chunk := a.cfg.Agent.Steps, a.chunk()
	chunks := (steps + chunk - 1) / chunk
	return a.agent.Train(a.newEnv, steps, chunk, a.cfg.Seed, func(c rl.Chunk) error {
		a.rows = append(a.rows, c)
		if err := checkFiniteGraph(fmt.Sprintf("step %d", c.Steps), a.agent.Graph()); err != nil {
			return err
		}
		state, err := a.agent.Checkpoint()
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		if err := gob.NewEncoder(&buf).Encode(agentCheckpoint{state, a.rows}); err != nil {
			return err
		}
		saving()
		if err := atomicfile.WriteFile(ck, buf.Bytes(), 0o644); err != nil {
			return err
		}
		line := fmt.Sprintf("steps %d  episodes %d  mean_return %.2f  loss %.4g  %s %.3f  %.1fs", c.Steps, c.Episodes, c.MeanReturn, c.Loss, a.figureName(), a.figure(c), c.Seconds)
		step := len(a.rows)
		if c.Steps >= steps {
			step = chunks
		}
		return saved(line, step, chunks)
	})
}

// figureName names the chunk's exploration figure: DQN's epsilon, PPO's
// policy entropy; figure returns it.
func (a *agentLearner) figureName() string { return a.agent.Exploration() }

func (a *agentLearner) figure(c rl.Chunk) float64 {
	if a.agent.Exploration() == "epsilon" {
		return c.Epsilon
	}
	return c.Entropy
}

func (a *agentLearner) graph() *graph.Graph { return a.agent.Graph() }

func (a *agentLearner) isBest() bool { return false }

// table returns metrics.csv's rows: a row per chunk.
func (a *agentLearner) table() *rundir.Table {
	t := rundir.NewTable("steps", "episodes", "mean_return", "loss", a.figureName(), "seconds")
	for _, c := range a.rows {
		t.Append(float64(c.Steps), float64(c.Episodes), c.MeanReturn, c.Loss, a.figure(c), c.Seconds)
	}
	return t
}

func (a *agentLearner) curves() []panel {
	return []panel{{"mean episode return", "", "mean_return", false}}
}

// summary plays the greedy evaluation and returns the run's summary.
func (a *agentLearner) summary() (*run.Summary, []string, error) {
	mean, scores, err := env.Arena{}.Play(a.agent.Greedy, a.game, run.EvalEpisodes, run.EvalSeed, "")
	if err != nil {
		return nil, nil, err
	}
	ev := &run.AgentReport{Env: a.game, Episodes: run.EvalEpisodes, MeanReturn: mean, Scores: scores}
	sum := &run.Summary{Model: a.cfg.Model, Task: a.cfg.Task, Seed: a.cfg.Seed,
		Agent: &run.AgentSummary{Env: a.game, Steps: a.cfg.Agent.Steps, EvalEpisodes: run.EvalEpisodes, MeanReturn: mean, Scores: scores}}
	secs := 0.0
	for _, r := range a.rows {
		secs += r.Seconds
	}
	if secs > 0 {
		sum.SamplesPerSec = float64(a.rows[len(a.rows)-1].Steps) / secs
	}
	return sum, []string{ev.String()}, nil
}

func (a *agentLearner) proceed(bool) error { return nil }

func (a *agentLearner) close() { a.agent.Close() }
