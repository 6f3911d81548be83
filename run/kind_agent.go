package run

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"

	"github.com/dlrun/dlrun/nn"
	"github.com/dlrun/dlrun/train"
	"github.com/pkg/errors"
)

// The limits and defaults of an agent's run and evaluation.
const (
	// MaxAgentSteps is the largest training budget of an agent: 10⁹
	// environment steps.
	MaxAgentSteps = 1_000_000_000
	// EvalEpisodes is how many greedy episodes an agent's evaluation
	// plays (its summary's, and dlrun eval's by default); their seeds
	// start at EvalSeed, far from any training episode's.
	EvalEpisodes = 100
	EvalSeed     = 1 << 40
)

// agent is what the agent kinds (DQN, PPO) share: a kind named after its
// algorithm, whose task is play, whose runs learn a game of package env
// within a budget of environment steps, and whose model is the acting
// network.
type agent struct {
	name, description string
	games             map[string]int // the games played, and the default budget for each
	game              string         // the default game
	recipe            train.Config   // the loop settings of the recipe: the schedule
	// outputs names the policy's outputs (QValuesName, LogitsName), and
	// loss how model.json says to read them: mse as values as they are,
	// cce as logits whose softmax gives each action's probability.
	outputs, loss string
}

// Name implements Kind: the algorithm's name.
func (a *agent) Name() string { return a.name }

// Task implements Kind: an agent learns to play.
func (a *agent) Task() string { return "play" }

// References implements Kind: the agent is its one reference model.
func (a *agent) References() []string { return []string{a.name} }

// TrainsFiles implements Kind: no model file trains as an agent.
func (a *agent) TrainsFiles() bool { return false }

// Describe implements Kind.
func (a *agent) Describe(string) string { return a.description }

// Games implements AgentKind.
func (a *agent) Games() map[string]int { return a.games }

// Recipe implements Kind: the default game, the budget for c's game, the
// recipe's schedule.
func (a *agent) Recipe(c *Config) (Config, error) {
	game := a.game
	if c.Agent != nil && c.Agent.Env != "" {
		game = c.Agent.Env
	}
	budget, ok := a.games[game]
	if !ok {
		names := make([]string, 0, len(a.games))
		for g := range a.games {
			names = append(names, g)
		}
		sort.Strings(names)
		return Config{}, errors.Errorf("env %q: %s plays %s", game, a.name, strings.Join(names, " or "))
	}
	return Config{Agent: &AgentConfig{Env: game, Steps: budget}, Config: a.recipe}, nil
}

// agentTakes are the settings an agent takes besides seed and
// learning_rate.
var agentTakes = map[string]bool{"env": true, "steps": true, "lr_schedule": true, "lr_step_every": true, "lr_gamma": true}

// Takes implements Kind: an agent takes its game, its budget, and the
// learning rate's schedule, whose epochs are its environment steps.
func (a *agent) Takes(name string, _ *Config, _ Config) (bool, string) {
	if agentTakes[name] {
		return true, ""
	}
	return false, "it is an agent, which takes env, steps, seed, learning_rate and lr_schedule (with lr_step_every and lr_gamma, counted in environment steps)"
}

// Resolve implements Kind: the budget's limits, the seed's default and the
// checks of the learning rate and its schedule.
func (a *agent) Resolve(c *Config) error {
	if c.Agent.Steps < 1 || c.Agent.Steps > MaxAgentSteps {
		return errors.Errorf("steps %d: must be 1 to %d", c.Agent.Steps, MaxAgentSteps)
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	if math.IsNaN(c.LearningRate) || math.IsInf(c.LearningRate, 0) || c.LearningRate < 0 {
		return errors.Errorf("learning_rate %g: must be positive and finite", c.LearningRate)
	}
	if c.Gamma == 0 && strings.EqualFold(c.Schedule, "step") {
		c.Gamma = 0.1
	}
	return c.Config.Check()
}

// Progress implements Kind: environment steps, scored by the mean return
// of greedy episodes.
func (a *agent) Progress() Progress {
	return Progress{Unit: "step", Rate: "steps",
		Headline: Headline{Name: "return", Column: "mean_return", Summary: "agent.mean_return", HigherIsBetter: true}}
}

// Policy implements AgentKind.
func (a *agent) Policy(spec nn.Spec, observations []int, actions int) *train.ModelInfo {
	return &train.ModelInfo{Format: train.ModelFormat, Task: a.Task(), InputShape: observations, Outputs: actions,
		Loss: a.loss, DType: "float32", BatchSize: 1, Model: spec}
}

// NewTask implements Kind: the policy reads observations as a classifier
// reads examples, an output per action.
func (a *agent) NewTask(info *train.ModelInfo) (train.Task, error) {
	if info.Outputs < 1 || info.Outputs > train.MaxClasses {
		return nil, errors.Errorf("outputs %d: an agent has from 1 to %d actions", info.Outputs, train.MaxClasses)
	}
	return &train.Classify{Shape: info.InputShape, Outputs: info.Outputs}, nil
}

// Check implements Kind: an agent's config.json names its game. Its
// model.json describes the acting network, not the agent's training, and
// it has no trainer's checkpoint.
func (a *agent) Check(c *Config, info *train.ModelInfo, _ *train.Config) error {
	if c.Agent == nil || c.Agent.Env == "" {
		return errors.New("config.json: agent.env: an agent's run names its game")
	}
	return nil
}

// Evaluate implements Kind: the mean return of greedy episodes, and in
// Connect4 the score against each opponent, played by o.Games.
func (a *agent) Evaluate(r *Run, o EvalOptions) (Report, error) {
	if o.Data != "" {
		return nil, errors.Errorf("--data %s: agent %s plays %s; it has no dataset", o.Data, a.name, r.Config.Agent.Env)
	}
	if o.Games == nil {
		return nil, errors.New("evaluating an agent needs its games: EvalOptions.Games (env.Arena{})")
	}
	if o.Episodes == 0 {
		o.Episodes = EvalEpisodes
	}
	if o.Episodes < 1 || o.Episodes > 1_000_000 {
		return nil, errors.Errorf("--episodes %d: must be 1 to 1000000", o.Episodes)
	}
	if o.Seed == 0 {
		o.Seed = EvalSeed
	}
	game := r.Config.Agent.Env
	mean, scores, err := o.Games.Play(r.Act, game, o.Episodes, o.Seed, o.Opponent)
	if err != nil {
		return nil, err
	}
	return &AgentReport{Env: game, Episodes: o.Episodes, MeanReturn: mean, Scores: scores}, nil
}

// Tensors implements Kind: observations in; the policy's outputs and the
// greedy action out.
func (a *agent) Tensors(r *Run) (*Tensors, error) {
	info := r.Model.Info
	return &Tensors{
		Shape:    info.InputShape,
		InputDoc: "observations of the game, as package env writes them",
		Pad:      true,
		Outputs: []Output{
			{Name: a.outputs, Head: Raw, Shape: []int{info.Outputs}, Doc: "the policy's value of each action", Serve: true, Export: true},
			{Name: ActionName, Head: Action, Shape: []int{}, Doc: "the greedy action: the index of the largest output", Serve: true, Export: true},
		},
		Meta: map[string]any{"env": r.Config.Agent.Env, "actions": info.Outputs},
	}, nil
}

// Act returns the greedy action of agent run r for observation obs: the
// legal action whose output is largest (the first of equals), as the
// agent chose while it trained.
func (r *Run) Act(obs []float32, legal []bool) (int, error) {
	if _, ok := r.Kind.(AgentKind); !ok {
		return 0, doesNotApply("acting", r.Kind, "an agent (dqn, ppo)")
	}
	out, err := r.Model.Outputs(obs)
	if err != nil {
		return 0, err
	}
	return Greedy(out[0], legal), nil
}

// Greedy returns the index of the largest of values whose action is legal
// (every one, if legal is nil), the first of equals; -1 if none is legal.
func Greedy(values []float64, legal []bool) int {
	best := -1
	for i, v := range values {
		if legal != nil && i < len(legal) && !legal[i] {
			continue
		}
		if best < 0 || v > values[best] {
			best = i
		}
	}
	return best
}

// AgentReport is a trained agent's greedy play: its mean return, and in
// Connect4 its score against each opponent (a win counts 1, a draw ½).
type AgentReport struct {
	Env        string             `json:"env"`
	Episodes   int                `json:"episodes"`
	MeanReturn float64            `json:"mean_return"`
	Scores     map[string]float64 `json:"scores,omitempty"`
}

// Print implements Report.
func (e *AgentReport) Print(w io.Writer) { fmt.Fprintln(w, e) }

// String is the evaluation in one line.
func (e *AgentReport) String() string {
	if len(e.Scores) == 0 {
		return fmt.Sprintf("evaluation: mean return %.2f over %d greedy episodes", e.MeanReturn, e.Episodes)
	}
	var parts []string
	for _, k := range opponentOrder(e.Scores) {
		parts = append(parts, fmt.Sprintf("%s %.3f", k, e.Scores[k]))
	}
	return fmt.Sprintf("evaluation over %d games each (half first): score against %s", e.Episodes, strings.Join(parts, ", "))
}

// opponentOrder orders opponents as their names sort in play: random
// first, then alphabeta by depth.
func opponentOrder(m map[string]float64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if len(keys[i]) != len(keys[j]) {
			return len(keys[i]) < len(keys[j]) // "random" (6) before "alphabeta:D" (11)
		}
		return keys[i] < keys[j]
	})
	return keys
}
