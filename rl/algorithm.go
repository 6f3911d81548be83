package rl

import (
	"sort"
	"strings"

	"github.com/dlrun/dlrun/env"
	"github.com/dlrun/dlrun/train"
	"github.com/pkg/errors"
)

// Options are what a run sets of any agent: the learning rate (0: the
// algorithm's recipe) and its schedule (nil: the algorithm's default).
type Options struct {
	LearningRate float64
	Schedule     train.Schedule
}

// algorithms make agents by name, each registered by its own file: the
// algorithm's recipe for the game, with a run's options.
var algorithms = map[string]func(e env.Env, o Options, seed uint64) (Agent, error){}

// register makes algorithm name known to New; the algorithm's file calls
// it from its init.
func register(name string, newAgent func(e env.Env, o Options, seed uint64) (Agent, error)) {
	if _, dup := algorithms[name]; dup {
		panic("rl: algorithm " + name + " registered twice")
	}
	algorithms[name] = newAgent
}

// New makes an agent of the algorithm called name (Algorithms) for game
// e with seed: the algorithm's recipe for the game (its defaults, tuned
// for CartPole; ppo's self-play recipe for connect4), with o's learning
// rate and schedule where set.
func New(name string, e env.Env, o Options, seed uint64) (Agent, error) {
	newAgent, ok := algorithms[name]
	if !ok {
		return nil, errors.Errorf("unknown agent %q (known: %s)", name, strings.Join(Algorithms(), ", "))
	}
	return newAgent(e, o, seed)
}

// Algorithms returns the names of the algorithms New knows, sorted.
func Algorithms() []string {
	names := make([]string, 0, len(algorithms))
	for n := range algorithms {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
