package run

import (
	"bytes"
	"encoding/csv"
	"encoding/gob"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dlrun/dlrun/env"
	"github.com/dlrun/dlrun/internal/atomicfile"
	"github.com/dlrun/dlrun/internal/safeio"
	"github.com/dlrun/dlrun/internal/version"
	"github.com/dlrun/dlrun/rl"
	"github.com/dlrun/dlrun/train"
	"github.com/pkg/errors"
)

// This file holds the runs of agents: dqn and ppo learning to play the
// games of package env (issue 15). Their run folder holds config.json,
// agent.json (what rebuilds the agent), metrics.csv (a row per chunk of
// training), curves.png (the return), model.safetensors (the acting
// network's weights) and summary.json (the greedy evaluation).

// Play is the task of an agent: learning to play a game.
const Play = "play"

// MaxAgentSteps is the largest training budget of an agent: 10⁹
// environment steps.
const MaxAgentSteps = 1_000_000_000

// EvalEpisodes is how many greedy episodes the summary's evaluation plays;
// their seeds start at EvalSeed, far from any training episode's.
const (
	EvalEpisodes = 100
	EvalSeed     = 1 << 40
)

// agentFile is the name of an agent's description in its run folder.
const agentFile = "agent.json"

// agentSteps are the agents' default budgets, by game.
var agentSteps = map[string]map[string]int{
	"dqn": {"cartpole": 50_000},
	"ppo": {"cartpole": 100_000, "connect4": 6_500_000},
}

// AgentModel is an agent as `dlrun models` lists it.
type AgentModel struct {
	Name, Envs, Description string
}

// Agents returns the agents dlrun trains.
func Agents() []AgentModel {
	return []AgentModel{
		{"dqn", "cartpole", "deep Q-network: replay buffer, target network, epsilon-greedy, Huber loss, double DQN (--env, --steps)"},
		{"ppo", "cartpole,connect4", "proximal policy optimisation: clipped objective, GAE, value network, entropy bonus; connect4 by self-play"},
	}
}

// IsAgent reports whether model names an agent: dqn or ppo.
func IsAgent(model string) bool { return agentSteps[model] != nil }

// resolveAgent is resolve for an agent: the game (default cartpole), the
// budget (the recipe's), the seed and the learning rate apply; every
// setting of supervised training is refused.
func (c *Config) resolveAgent() error {
	if c.Env == "" {
		c.Env = "cartpole"
	}
	budget, ok := agentSteps[c.Model][c.Env]
	if !ok {
		var envs []string
		for e := range agentSteps[c.Model] {
			envs = append(envs, e)
		}
		slices.Sort(envs)
		return errors.Errorf("env %q: %s plays %s", c.Env, c.Model, strings.Join(envs, " or "))
	}
	if c.Steps == 0 {
		c.Steps = budget
	}
	if c.Steps < 1 || c.Steps > MaxAgentSteps {
		return errors.Errorf("steps %d: must be 1 to %d", c.Steps, MaxAgentSteps)
	}
	for _, s := range []struct {
		name string
		set  bool
	}{
		{"dataset (--data)", c.Dataset != ""}, {"cell", c.Cell != ""}, {"seq_len", c.SeqLen != 0}, {"dim", c.Dim != 0},
		{"epochs", c.Epochs != 0}, {"batch_size", c.BatchSize != 0}, {"optimizer", c.Optimizer != ""}, {"loss", c.Loss != ""},
		{"weight_decay", c.WeightDecay != 0}, {"clip_norm", c.ClipNorm != 0}, {"clip_value", c.ClipValue != 0},
		{"lr_schedule", c.Schedule != ""}, {"patience", c.Patience != 0}, {"monitor", c.Monitor != ""}, {"no_shuffle", c.NoShuffle},
		{"dtype", c.DType != "" && c.DType != "float32"},
	} {
		if s.set {
			return errors.Errorf("%s does not apply to agent %s: an agent takes env, steps, seed and learning_rate", s.name, c.Model)
		}
	}
	if c.Task != "" && c.Task != Play {
		return errors.Errorf("task %s does not apply to agent %s, which learns to %s", c.Task, c.Model, Play)
	}
	c.Task = Play
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.LearningRate < 0 || math.IsNaN(c.LearningRate) || math.IsInf(c.LearningRate, 0) {
		return errors.Errorf("learning_rate %g: must be positive and finite", c.LearningRate)
	}
	if c.Version == "" {
		c.Version = version.Version
	}
	return nil
}

// AgentInfo is agent.json: what rebuilds a trained agent.
type AgentInfo struct {
	Format string        `json:"format"`
	Agent  string        `json:"agent"`
	Env    string        `json:"env"`
	Seed   uint64        `json:"seed"`
	DQN    *rl.DQNConfig `json:"dqn,omitempty"`
	PPO    *rl.PPOConfig `json:"ppo,omitempty"`
	Shape  []int         `json:"observation_shape"`
	Acts   int           `json:"actions"`
}

// agentFormat marks agent.json.
const agentFormat = "dlrun-agent-1"

// agentConfigs returns the agent's hyperparameters for cfg: the agent's
// defaults (tuned for CartPole), Connect4's for ppo on connect4, the
// learning rate if set.
func agentConfigs(cfg Config) (*rl.DQNConfig, *rl.PPOConfig) {
	switch cfg.Model {
	case "dqn":
		return &rl.DQNConfig{LearningRate: cfg.LearningRate}, nil
	}
	p := &rl.PPOConfig{LearningRate: cfg.LearningRate}
	if cfg.Env == "connect4" {
		*p = connect4PPO
		if cfg.LearningRate != 0 {
			p.LearningRate = cfg.LearningRate
		}
	}
	return nil, p
}

// connect4PPO is ppo's recipe for connect4 (docs/games.md): self-play, half
// the games against past versions, up to 12 random opening moves; a 4×4
// convolution of 64 filters over the board's planes (every line of four
// fits one), then 256-256 tanh; γ = 0.75, which makes a win now worth
// clearly more than one later and so teaches winning and blocking at once;
// 8 passes over each rollout.
var connect4PPO = rl.PPOConfig{SelfPlay: true, Past: 0.5, Openings: 12, Conv: []int{64}, Kernel: 4, Padding: "valid",
	Hidden: []int{256, 256}, Envs: 64, Steps: 32, Batch: 512, Epochs: 8, LearningRate: 1e-3, Gamma: 0.75, Lambda: 0.9, EntCoef: 0.01}

// newAgent makes the agent info describes for game e.
func newAgent(info *AgentInfo, e env.Env) (rl.Agent, error) {
	switch info.Agent {
	case "dqn":
		if info.DQN == nil {
			return nil, errors.New("agent.json: a dqn agent without its dqn settings")
		}
		return rl.NewDQN(e, *info.DQN, info.Seed)
	case "ppo":
		if info.PPO == nil {
			return nil, errors.New("agent.json: a ppo agent without its ppo settings")
		}
		return rl.NewPPO(e, *info.PPO, info.Seed)
	}
	return nil, errors.Errorf("agent.json: unknown agent %q (known: dqn, ppo)", info.Agent)
}

// trainAgent trains the agent of cfg (resolved) into a new run folder.
func trainAgent(cfg Config, opts Options) (*Summary, error) {
	start := time.Now()
	log := logWriter(opts)
	f, err := newFolder(opts.Out, cfg.Model+"-"+cfg.Env, start, log)
	if err != nil {
		return nil, err
	}
	defer f.close()
	opts.started(f.dir)
	sum, err := trainAgentIn(cfg, f, opts, start, false)
	if err != nil {
		f.abandon()
	}
	return sum, err
}

// agentCheckpointFile is an agent's checkpoint in its run folder: its
// training state (rl.Agent.Checkpoint) and the chunks so far, written
// after every chunk.
const agentCheckpointFile = "checkpoint.gob"

// agentCheckpoint is what agentCheckpointFile holds.
type agentCheckpoint struct {
	Agent []byte
	Rows  []rl.Chunk
}

// MaxAgentCheckpointBytes is the largest agent checkpoint ResumeAgent
// reads: 1 GiB.
const MaxAgentCheckpointBytes = 1 << 30

// trainAgentIn trains the agent of cfg in folder f; resuming, from the
// folder's checkpoint if it has one.
func trainAgentIn(cfg Config, f *folder, opts Options, start time.Time, resume bool) (*Summary, error) {
	log := logWriter(opts)
	e, err := env.New(cfg.Env)
	if err != nil {
		return nil, err
	}
	info := &AgentInfo{Format: agentFormat, Agent: cfg.Model, Env: cfg.Env, Seed: cfg.Seed, Shape: e.ObservationShape(), Acts: e.NumActions()}
	info.DQN, info.PPO = agentConfigs(cfg)
	// agent.json records every setting, the defaults resolved: a later
	// change of a default does not change what a saved agent rebuilds as.
	if info.DQN != nil {
		*info.DQN = info.DQN.WithDefaults()
	}
	if info.PPO != nil {
		*info.PPO = info.PPO.WithDefaults()
	}
	agent, err := newAgent(info, e)
	if err != nil {
		return nil, err
	}
	defer agent.Close()
	newEnv := func() (env.Env, error) { return env.New(cfg.Env) }
	var rows []rl.Chunk
	verb := "training"
	if resume {
		b, err := safeio.ReadFile(f.path(agentCheckpointFile), MaxAgentCheckpointBytes)
		switch {
		case err == nil:
			var ck agentCheckpoint
			if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&ck); err != nil {
				return nil, errors.Errorf("%s: %v", f.path(agentCheckpointFile), err)
			}
			if err := agent.Restore(ck.Agent, newEnv); err != nil {
				return nil, errors.Wrapf(err, "%s", f.path(agentCheckpointFile))
			}
			rows = ck.Rows
			if n := len(rows); n > 0 {
				done := rows[n-1].Steps
				if done > cfg.Steps {
					return nil, errors.Errorf("run folder %s has trained %d steps already, more than the %d asked for (--steps); it is left as it was", f.dir, done, cfg.Steps)
				}
				if s, err := readSummary(f.dir); err == nil && s.Steps == cfg.Steps && done >= cfg.Steps {
					fmt.Fprintf(log, "run folder %s is finished (%d steps): nothing to do\n", f.dir, done)
					return s, nil
				}
				verb = fmt.Sprintf("resuming after %d steps:", done)
			}
		case !errors.Is(err, os.ErrNotExist):
			return nil, err
		default:
			verb = "resuming from the first step (no checkpoint yet):"
		}
		if err := os.Remove(f.path(summaryFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	if err := writeJSON(f.path(configFile), cfg); err != nil {
		return nil, err
	}
	if err := writeJSON(f.path(agentFile), info); err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "%s %s on %s for %d steps, writing %s\n", verb, cfg.Model, cfg.Env, cfg.Steps, f.dir)
	chunk := max(1000, cfg.Steps/50)
	err = agent.Train(newEnv, cfg.Steps, chunk, cfg.Seed, func(c rl.Chunk) error {
		rows = append(rows, c)
		fmt.Fprintf(log, "steps %d  episodes %d  mean_return %.2f  loss %.4g  %s  %.1fs\n", c.Steps, c.Episodes, c.MeanReturn, c.Loss, agentFigure(cfg.Model, c), c.Seconds)
		state, err := agent.Checkpoint()
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		if err := gob.NewEncoder(&buf).Encode(agentCheckpoint{state, rows}); err != nil {
			return err
		}
		if err := atomicfile.WriteFile(f.path(agentCheckpointFile), buf.Bytes(), 0o644); err != nil {
			return err
		}
		if err := writeAgentMetrics(f.path(metricsFile), cfg.Model, rows); err != nil {
			return err
		}
		return writeReturnCurve(f.path(curvesFile), cfg.Model+" on "+cfg.Env, rows)
	})
	if err != nil {
		return nil, fmt.Errorf("training stopped: %w", err)
	}
	trainSecs := 0.0
	for _, r := range rows {
		trainSecs += r.Seconds
	}
	if err := train.SaveWeights(f.path(weightsFile), agent.Graph()); err != nil {
		return nil, err
	}
	ev, err := evaluateAgent(agent, cfg.Env, EvalEpisodes, EvalSeed, "")
	if err != nil {
		return nil, err
	}
	sum := &Summary{Model: cfg.Model, Task: Play, Env: cfg.Env, Seed: cfg.Seed, Steps: cfg.Steps, EvalEpisodes: EvalEpisodes,
		MeanReturn: ev.MeanReturn, Scores: ev.Scores}
	if trainSecs > 0 {
		sum.SamplesPerSec = float64(rows[len(rows)-1].Steps) / trainSecs
	}
	sum.WallSeconds = time.Since(start).Seconds()
	if err := writeJSON(f.path(summaryFile), sum); err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "%s\n", ev)
	return sum, nil
}

// ResumeAgent continues the agent's run in folder dir from its checkpoint
// up to steps environment steps (0: the configured number), with exactly
// the weights and metrics a run straight through would have had.
func ResumeAgent(dir string, steps int, opts Options) (*Summary, error) {
	start := time.Now()
	f, err := openFolder(dir)
	if err != nil {
		return nil, err
	}
	defer f.close()
	opts.started(f.dir)
	cfg, err := ReadConfig(dir)
	if err != nil {
		return nil, err
	}
	if steps > 0 {
		cfg.Steps = steps
	}
	if err := cfg.resolveAgent(); err != nil {
		return nil, errors.Wrapf(err, "run folder %s: config.json", dir)
	}
	return trainAgentIn(*cfg, f, opts, start, true)
}

// agentFigure is the chunk's exploration figure: DQN's epsilon, PPO's
// policy entropy.
func agentFigure(model string, c rl.Chunk) string {
	if model == "dqn" {
		return fmt.Sprintf("epsilon %.3f", c.Epsilon)
	}
	return fmt.Sprintf("entropy %.3f", c.Entropy)
}

// writeAgentMetrics writes metrics.csv of an agent's run: a row per chunk.
func writeAgentMetrics(path, model string, rows []rl.Chunk) error {
	var b strings.Builder
	w := csv.NewWriter(&b)
	figure := "entropy"
	if model == "dqn" {
		figure = "epsilon"
	}
	w.Write([]string{"steps", "episodes", "mean_return", "loss", figure, "seconds"})
	for _, c := range rows {
		v := c.Entropy
		if model == "dqn" {
			v = c.Epsilon
		}
		w.Write([]string{strconv.Itoa(c.Steps), strconv.Itoa(c.Episodes), num(c.MeanReturn), num(c.Loss), num(v), strconv.FormatFloat(c.Seconds, 'f', 3, 64)})
	}
	w.Flush()
	return atomicfile.WriteFile(path, []byte(b.String()), 0o644)
}

func num(v float64) string {
	if math.IsNaN(v) {
		return ""
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// AgentEvaluation is a trained agent's greedy play: its mean return, and
// in Connect4 its score against each opponent (a win counts 1, a draw ½).
type AgentEvaluation struct {
	Env        string             `json:"env"`
	Episodes   int                `json:"episodes"`
	MeanReturn float64            `json:"mean_return"`
	Scores     map[string]float64 `json:"scores,omitempty"`
}

// String is the evaluation in one line.
func (e *AgentEvaluation) String() string {
	if len(e.Scores) == 0 {
		return fmt.Sprintf("evaluation: mean return %.2f over %d greedy episodes", e.MeanReturn, e.Episodes)
	}
	var parts []string
	for _, k := range sortedOpponents(e.Scores) {
		parts = append(parts, fmt.Sprintf("%s %.3f", k, e.Scores[k]))
	}
	return fmt.Sprintf("evaluation over %d games each (half first): score against %s", e.Episodes, strings.Join(parts, ", "))
}

// sortedOpponents orders random first, then alphabeta by depth.
func sortedOpponents(m map[string]float64) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if len(a) != len(b) {
			return len(a) - len(b) // "random" (6) before "alphabeta:D" (11)
		}
		return strings.Compare(a, b)
	})
	return keys
}

// connect4Opponents are the reference opponents a Connect4 agent's
// summary is scored against.
var connect4Opponents = []string{"random", "alphabeta:1", "alphabeta:2", "alphabeta:3", "alphabeta:4"}

// evaluateAgent plays episodes greedy episodes of game with agent, seeds
// from seed: in Connect4 against opponent, or if it is "" against each
// reference opponent.
func evaluateAgent(agent rl.Agent, game string, episodes int, seed uint64, opponent string) (*AgentEvaluation, error) {
	ev := &AgentEvaluation{Env: game, Episodes: episodes}
	if game != "connect4" {
		e, err := env.New(game)
		if err != nil {
			return nil, err
		}
		rets, err := rl.Evaluate(agent, e, episodes, seed)
		if err != nil {
			return nil, err
		}
		for _, r := range rets {
			ev.MeanReturn += r / float64(len(rets))
		}
		return ev, nil
	}
	opps := connect4Opponents
	if opponent != "" {
		opps = []string{opponent}
	}
	ev.Scores = map[string]float64{}
	for _, name := range opps {
		opp, err := env.ParseOpponent(name)
		if err != nil {
			return nil, errors.Wrap(err, "--opponent")
		}
		e := &env.VsOpponent{Opponent: opp, AgentFirst: env.FirstOnEvenSeeds}
		rets, err := rl.Evaluate(agent, e, episodes, seed)
		if err != nil {
			return nil, err
		}
		s := 0.0
		for _, r := range rets {
			s += (r + 1) / 2
		}
		ev.Scores[name] = s / float64(episodes)
		if name == opps[0] {
			ev.MeanReturn = 2*ev.Scores[name] - 1
		}
	}
	return ev, nil
}

// LoadedAgent is a trained agent loaded from its run folder.
type LoadedAgent struct {
	rl.Agent
	Info AgentInfo
}

// LoadAgent rebuilds the agent of run folder dir from its agent.json and
// loads its weights.
func LoadAgent(dir string) (*LoadedAgent, error) {
	b, err := safeio.ReadFile(filepath.Join(dir, agentFile), 1<<20)
	if err != nil {
		return nil, errors.Wrapf(err, "run folder %s", dir)
	}
	var info AgentInfo
	if err := json.Unmarshal(b, &info); err != nil {
		return nil, errors.Errorf("%s: %v", filepath.Join(dir, agentFile), err)
	}
	if info.Format != agentFormat {
		return nil, errors.Errorf("%s: format %q, want %q", filepath.Join(dir, agentFile), info.Format, agentFormat)
	}
	e, err := env.New(info.Env)
	if err != nil {
		return nil, errors.Wrapf(err, "%s", filepath.Join(dir, agentFile))
	}
	if !slices.Equal(e.ObservationShape(), info.Shape) || e.NumActions() != info.Acts {
		return nil, errors.Errorf("%s: observations %v and %d actions, but %s has %v and %d", filepath.Join(dir, agentFile), info.Shape, info.Acts, info.Env, e.ObservationShape(), e.NumActions())
	}
	a, err := newAgent(&info, e)
	if err != nil {
		return nil, err
	}
	if err := train.LoadWeights(filepath.Join(dir, weightsFile), a.Graph()); err != nil {
		a.Close()
		return nil, err
	}
	return &LoadedAgent{Agent: a, Info: info}, nil
}

// IsAgentRun reports whether run folder dir holds an agent.
func IsAgentRun(dir string) bool {
	_, err := os.Lstat(filepath.Join(dir, agentFile))
	return err == nil
}

// Evaluate plays episodes greedy episodes with seeds from seed (in
// Connect4 against opponent, or each reference opponent if it is "").
func (a *LoadedAgent) Evaluate(episodes int, seed uint64, opponent string) (*AgentEvaluation, error) {
	if opponent != "" && a.Info.Env != "connect4" {
		return nil, errors.Errorf("--opponent %s: %s has no opponent", opponent, a.Info.Env)
	}
	return evaluateAgent(a.Agent, a.Info.Env, episodes, seed, opponent)
}
