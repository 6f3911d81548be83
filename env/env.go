// Package env provides game environments for reinforcement learning: CartPole
// (Gymnasium's CartPole-v1) and Connect4, with the opponents an agent plays
// Connect4 against (Random, AlphaBeta, or any function, for self-play).
//
// Every environment implements Env: an agent resets it with a seed, reads an
// observation, and steps it with discrete actions until the episode
// terminates or is truncated. An episode depends only on its seed and the
// actions taken, so a run that replays both replays the episode bit for bit.
// New returns an environment by name; Register adds one.
//
// The package stands alone: it imports nothing of dlrun, and its randomness
// comes from math/rand/v2's PCG, seeded by the seed handed to Reset.
package env

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// An Env is a game an agent acts in, one episode at a time.
//
// An episode begins with Reset, which seeds all of the episode's randomness
// (the start state, an opponent's moves) from its seed alone, so that the
// same seed and the same actions give the same episode. Step then applies
// one action at a time, until it reports that the episode terminated (it
// reached a terminal state: the pole fell, the game was won) or was truncated
// (it was cut short by a time limit, with the game still going: a learner
// should bootstrap from the last observation). Step after the end of an
// episode, or before the first Reset, is an error wrapping both
// ErrIllegalAction and ErrEpisodeOver.
//
// Observations are float32 values in row-major order of ObservationShape;
// obs passed to Reset and Step must have exactly as many elements as the
// shape's product, and is overwritten (an Env never keeps it). Actions are
// the integers 0..NumActions()-1; Legal tells which of them may be played
// now (all of them, for most games; the columns that are not full, for
// Connect4).
//
// To write your own, implement the six methods on a pointer type that holds
// the episode's state, draw any randomness from a generator reseeded in
// Reset (rand.NewPCG(seed, a constant of your game's)), return a reward from
// each Step, and reject an illegal action with an error wrapping
// ErrIllegalAction before changing anything. Register makes it known to New.
// An Env need not be safe for concurrent use: use one per goroutine.
type Env interface {
	// Name is the environment's name, as New knows it: "cartpole", "connect4".
	Name() string
	// ObservationShape is the per-step observation shape: [4] for cartpole,
	// [2 6 7] for connect4. It is the same for every episode; the slice is
	// the caller's.
	ObservationShape() []int
	// NumActions is the number of discrete actions, 0..NumActions()-1.
	NumActions() int
	// Reset starts a new episode whose randomness comes from seed alone and
	// writes the first observation into obs (len = product of ObservationShape).
	Reset(seed uint64, obs []float32)
	// Step takes action, writes the next observation into obs and returns the
	// reward, and whether the episode terminated (a terminal state) or was
	// truncated (a time limit). An illegal action (out of range, or not legal now)
	// is an error wrapping ErrIllegalAction, and changes nothing.
	Step(action int, obs []float32) (reward float64, terminated, truncated bool, err error)
	// Legal writes into mask (len NumActions) whether each action is legal now.
	// Between episodes (before the first Reset, after the end) none is.
	Legal(mask []bool)
}

// ErrIllegalAction is wrapped by the error of a Step (or Connect4.Play)
// whose action is out of range or not legal now.
var ErrIllegalAction = errors.New("illegal action")

// ErrEpisodeOver is wrapped, beside ErrIllegalAction, by the error of a Step
// after the episode ended or before the first Reset.
var ErrEpisodeOver = errors.New("the episode is over")

// ErrUnknown is wrapped by the error of New for a name it does not know and
// of ParseOpponent for a string it cannot parse.
var ErrUnknown = errors.New("unknown")

var registry struct {
	sync.Mutex
	envs map[string]func() Env
}

var namePattern = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)

func init() {
	Register("cartpole", func() Env { return &CartPole{} })
	Register("connect4", func() Env {
		return &VsOpponent{Opponent: Random{}, AgentFirst: FirstOnEvenSeeds}
	})
}

// Register makes an environment known to New and Names under name (lower
// case letters, digits, '-' and '_', starting with a letter); newEnv returns
// a fresh environment each call. It panics if name is malformed or already
// registered, or newEnv is nil: registering is done once, from an init
// function.
func Register(name string, newEnv func() Env) {
	if !namePattern.MatchString(name) {
		panic(fmt.Sprintf("env.Register: name %q is not lower case letters, digits, '-' and '_'", name))
	}
	if newEnv == nil {
		panic(fmt.Sprintf("env.Register: %q has no constructor", name))
	}
	registry.Lock()
	defer registry.Unlock()
	if registry.envs == nil {
		registry.envs = map[string]func() Env{}
	}
	if _, dup := registry.envs[name]; dup {
		panic(fmt.Sprintf("env.Register: %q registered twice", name))
	}
	registry.envs[name] = newEnv
}

// New returns the named environment: "cartpole", or "connect4" (a Connect4 played
// against Random, the agent moving first in even-seeded episodes and second in odd ones — see VsOpponent).
// An unknown name is an error wrapping ErrUnknown that lists the known names.
func New(name string) (Env, error) {
	registry.Lock()
	f := registry.envs[name]
	registry.Unlock()
	if f == nil {
		return nil, fmt.Errorf("env: %w environment %q (known: %s)", ErrUnknown, name, strings.Join(Names(), ", "))
	}
	return f(), nil
}

// Names returns the names New knows, sorted.
func Names() []string {
	registry.Lock()
	defer registry.Unlock()
	names := make([]string, 0, len(registry.envs))
	for n := range registry.envs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// checkLen panics unless a slice handed to an Env has the length its shape
// asks for: a wrong length is a programming error, like an index out of range.
func checkLen(what string, got, want int) {
	if got != want {
		panic(fmt.Sprintf("env: %s has length %d, want %d", what, got, want))
	}
}
