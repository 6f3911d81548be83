package run

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/dlrun/dlrun/nn"
	"github.com/dlrun/dlrun/train"
)

// A Kind is one kind of run: what its runs train on and how, how they are
// scored, evaluated, served and exported. Each kind is one value in a file
// of its own, which registers it with Register; everything else asks the
// kind of a run (Config.Kind, Run.Kind) rather than deciding by its name.
//
// The kinds are classify, next-token, rating and music, trained by
// train's loop on a dataset (SupervisedKind), and the agents dqn and ppo,
// which learn to play a game (AgentKind). A kind that a command does not apply to says so
// in one line naming the kind (ErrDoesNotApply).
type Kind interface {
	// Name names the kind: classify, next-token, rating; an agent's is its
	// algorithm, dqn or ppo.
	Name() string
	// Task is what config.json's task records for a run of the kind: the
	// kind's name, or play for an agent.
	Task() string
	// References lists the reference models (dlrun models) whose runs are
	// of this kind.
	References() []string
	// TrainsFiles reports whether a model file (docs/models.md) trains as
	// this kind, when its task is the kind's Task.
	TrainsFiles() bool
	// Recipe returns the defaults of a run of c's model, a reference
	// model of the kind or a model file: its data and hyperparameters
	// (an agent's game, and its budget for c's game).
	Recipe(c *Config) (Config, error)
	// Takes reports whether the setting called name (a config-file name:
	// seq_len, epochs, env) applies to a run of c's model, whose recipe
	// is r, and if not, why, as the end of a sentence.
	Takes(name string, c *Config, r Config) (bool, string)
	// Resolve checks and completes c, its recipe's defaults filled in, as
	// the kind runs it: the values the kind constrains (next-token trains
	// with cce; an agent's budget), the loop's defaults where the kind
	// uses them.
	Resolve(c *Config) error
	// Progress describes how a run of the kind advances and is scored.
	Progress() Progress
	// Describe says in a line what reference model (of References)
	// trains, for `dlrun models`.
	Describe(model string) string
	// NewTask rebuilds the task of a run's model from its model.json.
	NewTask(info *train.ModelInfo) (train.Task, error)
	// Check reports what in run r's configuration does not agree with
	// its model (class names against outputs, a vocabulary against the
	// outputs; the loss, dtype and batch size the model was trained with)
	// or with ck, the configuration of the trainer that wrote the run's
	// checkpoint (nil: none), naming the file and the field.
	Check(c *Config, info *train.ModelInfo, ck *train.Config) error
	// Evaluate scores opened run r as `dlrun eval` reports it.
	Evaluate(r *Run, o EvalOptions) (Report, error)
	// Tensors says how opened run r is served (dlrun serve) and exported
	// (dlrun export): its input, its outputs and what describes them.
	Tensors(r *Run) (*Tensors, error)
}

// A SupervisedKind trains with train's loop on a dataset.
type SupervisedKind interface {
	Kind
	// Data loads the dataset c names (resolved), as the kind trains on it.
	Data(c *Config) (*Data, error)
	// Build makes the model and the task of a new run of c (resolved) on
	// d, which it may reshape as the model reads it (a recurrent
	// classifier reads images as sequences of rows).
	Build(c *Config, d *Data) (*nn.Sequential, train.Task, error)
	// Prepare presents d as model reads it, for a resumed run: Build's
	// reshaping.
	Prepare(model nn.Layer, d *Data) error
	// FitBatch lowers c's batch size to what d can fill, before any model
	// is built for it, and returns a line for the log saying so (empty
	// if the batch fits).
	FitBatch(c *Config, d *Data) string
	// Loop returns the training loop's configuration of a run of c.
	Loop(c *Config) train.Config
}

// An AgentKind learns to play a game of package env with an algorithm of
// package rl (rl.New, by the kind's name). What trains it is not linked
// here: the runs of an agent are opened, evaluated, served and exported
// through its policy, an nn model described by model.json.
type AgentKind interface {
	Kind
	// Policy returns the model.json of an agent's acting network: spec
	// builds it, from observations of the given shape to a value per
	// action.
	Policy(spec nn.Spec, observations []int, actions int) *train.ModelInfo
	// Games lists the games the agent plays, and its default budget in
	// environment steps for each.
	Games() map[string]int
}

// Progress describes how a run of a kind advances and what scores it.
type Progress struct {
	// Unit is what the data's length counts (example, token, rating; an
	// agent's environment step), as the log says "6000 train, 1000 test
	// examples".
	Unit string
	// Rate names the samples of the log's rate: samples/s, chars/s.
	Rate string
	// Headline is the figure that scores a run.
	Headline Headline
}

// Headline is the figure that scores a run of a kind: what the board
// ranks and draws first, and what an experiment's table leads with.
// config.json records it, so readers of run folders (the board) need not
// know the kinds.
type Headline struct {
	// Name is the figure's short name: accuracy, rmse, bits_per_char,
	// return.
	Name string `json:"name"`
	// Column is its column in metrics.csv: test_accuracy, mean_return.
	Column string `json:"column"`
	// Summary is its key in summary.json, a dot for a nested object:
	// test_accuracy, agent.mean_return.
	Summary string `json:"summary"`
	// HigherIsBetter says which way the figure improves.
	HigherIsBetter bool `json:"higher_is_better"`
}

// A Report is an evaluation of a run, what `dlrun eval` prints; it
// encodes as JSON for --json.
type Report interface {
	// Print writes the report for a reader.
	Print(w io.Writer)
}

// EvalOptions say how Kind.Evaluate scores a run.
type EvalOptions struct {
	// Data names the dataset (a bundled one or a path) whose test split is
	// evaluated on; "" is the run's own.
	Data string
	// An agent's: Episodes greedy episodes (0: EvalEpisodes) seeded from
	// Seed (0: EvalSeed), against Opponent in Connect4 ("": each
	// reference opponent), played by Games (env.Arena{}).
	Episodes int
	Seed     uint64
	Opponent string
	Games    Games
}

// Games plays a policy at a game by name: env.Arena satisfies it. An
// agent's evaluation takes it from its caller, so that run, which serve
// and onnx link, does not link the games.
type Games interface {
	// Play plays episodes greedy episodes of game, seeded from seed
	// (against opponent, where the game has one; "" for each reference
	// opponent), and returns the mean return and the score against each
	// opponent.
	Play(policy func(obs []float32, legal []bool) (int, error), game string, episodes int, seed uint64, opponent string) (meanReturn float64, scores map[string]float64, err error)
}

// adopter is a kind that also trains reference networks of other kinds
// when a run names its task (`--model mlp --task regress`).
type adopter interface {
	adopts(model string) bool
}

// ErrDoesNotApply is wrapped by the error of a command or method that does
// not apply to a run's kind: recommendations from a classifier, text from
// an agent.
var ErrDoesNotApply = errors.New("does not apply")

// doesNotApply returns the error of what, which does not apply to kind k
// (the one-line reason says what it takes).
func doesNotApply(what string, k Kind, takes string) error {
	return fmt.Errorf("%s %w to a %s run: it takes %s", what, ErrDoesNotApply, k.Name(), takes)
}

var (
	kindsMu sync.RWMutex
	kinds   = map[string]Kind{} // by name
)

// Register makes kind k known: Config.Kind finds it by its reference
// models (References) and, for model files, by its task. Each kind's file
// calls it once from its init. Registering a name, a reference model or a
// model file's task twice panics: it is a programmer's error.
func Register(k Kind) {
	kindsMu.Lock()
	defer kindsMu.Unlock()
	if _, dup := kinds[k.Name()]; dup {
		panic("run: kind " + k.Name() + " registered twice")
	}
	for _, o := range kinds {
		for _, m := range o.References() {
			for _, n := range k.References() {
				if m == n {
					panic("run: reference model " + n + " registered by kinds " + o.Name() + " and " + k.Name())
				}
			}
		}
		if k.TrainsFiles() && o.TrainsFiles() && k.Task() == o.Task() {
			panic("run: kinds " + o.Name() + " and " + k.Name() + " both train model files of task " + k.Task())
		}
	}
	kinds[k.Name()] = k
}

// Kinds returns the registered kinds, by name.
func Kinds() []Kind {
	kindsMu.RLock()
	defer kindsMu.RUnlock()
	out := make([]Kind, 0, len(kinds))
	for _, k := range kinds {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out
}

// KindByName returns the registered kind called name.
func KindByName(name string) (Kind, error) {
	kindsMu.RLock()
	k, ok := kinds[name]
	kindsMu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("unknown kind of run %q (known: %s)", name, kindNames(func(Kind) bool { return true }, Kind.Name))
	}
	return k, nil
}

// kindNames lists, sorted and without repeats, what name says of each kind
// that keep keeps.
func kindNames(keep func(Kind) bool, name func(Kind) string) string {
	var names []string
	for _, k := range Kinds() {
		if keep(k) && !contains(names, name(k)) {
			names = append(names, name(k))
		}
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// kindOfReference returns the kind whose runs train reference model name.
func kindOfReference(name string) (Kind, bool) {
	for _, k := range Kinds() {
		if contains(k.References(), name) {
			return k, true
		}
	}
	return nil, false
}

// kindOfFile returns the kind that trains model files of task.
func kindOfFile(task string) (Kind, bool) {
	for _, k := range Kinds() {
		if k.TrainsFiles() && k.Task() == task {
			return k, true
		}
	}
	return nil, false
}

// fileTasks lists the tasks a model file may name.
func fileTasks() string { return kindNames(Kind.TrainsFiles, Kind.Task) }

// References returns every reference model dlrun trains, sorted: nn's
// reference networks and the agents.
func References() []string {
	var names []string
	for _, k := range Kinds() {
		names = append(names, k.References()...)
	}
	sort.Strings(names)
	return names
}

// capability returns the kind of run r as C, a capability a kind may
// implement in its own file (recommending, generating, composing, explaining,
// dataLoading: an interface of unexported methods), and whether it does.
// A command that does not apply to r's kind says so with doesNotApply.
func capability[C any](r *Run) (C, bool) {
	c, ok := r.Kind.(C)
	return c, ok
}
