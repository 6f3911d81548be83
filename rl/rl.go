// Package rl trains agents that learn to act in the games of package env
// by reinforcement learning, on dlrun's graph, nn and train packages: DQN
// (a Q-network learned from replayed transitions, double DQN's targets,
// the Huber loss) and PPO (a policy and a value network learned from
// rollouts, the clipped objective, GAE). Their hyperparameters default to
// Stable-Baselines3's tuned CartPole-v1 settings (rl-zoo), and everything
// random is drawn from seeded streams, so the same seed gives the same
// agent, bit for bit.
//
// An agent trains for a number of environment steps, reporting a Chunk of
// figures every so many steps; Evaluate plays greedy episodes with seeds
// of its own.
package rl

import (
	"math"
	"time"

	"github.com/dlrun/dlrun/env"
	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/nn"
)

// An Agent learns to act in an environment and then acts greedily.
type Agent interface {
	// Train runs steps environment steps in environments made by newEnv,
	// episodes seeded seed, seed+1, ... in the order they start, reporting
	// the figures of every chunk steps.
	Train(newEnv func() (env.Env, error), steps, chunk int, seed uint64, report func(Chunk) error) error
	// Greedy returns the agent's best legal action for observation obs.
	Greedy(obs []float32, legal []bool) (int, error)
	// Close releases the agent's compiled graphs.
	Close()
	// Graph returns the graph whose parameters are the acting network's
	// weights.
	Graph() *graph.Graph
	// Checkpoint returns the whole training state, from which Restore
	// (into an agent of the same configuration and seed) goes on with the
	// same bits; newEnv makes the environments restored into.
	Checkpoint() ([]byte, error)
	Restore(data []byte, newEnv func() (env.Env, error)) error
	// Network returns the spec of the acting network, whose parameters
	// Graph holds: observations in, a value per action out (Q-values or
	// logits), the greedy action being the largest legal one.
	Network() nn.Spec
	// Settings returns the agent's hyperparameters, every default
	// resolved (its *DQNConfig or *PPOConfig), for the record.
	Settings() any
	// Exploration names the Chunk figure that says how much the agent
	// explores: epsilon (DQN's ε-greedy) or entropy (PPO's policy).
	Exploration() string
}

var (
	_ Agent = (*DQN)(nil)
	_ Agent = (*PPO)(nil)
)

// Chunk holds the figures of a stretch of training.
type Chunk struct {
	Steps      int     `json:"steps"`       // environment steps so far
	Episodes   int     `json:"episodes"`    // episodes that ended in the chunk
	MeanReturn float64 `json:"mean_return"` // their mean return (NaN if none ended)
	Loss       float64 `json:"loss"`        // the mean training loss of the chunk (NaN if no step learned)
	Epsilon    float64 `json:"epsilon"`     // DQN's exploration rate at the chunk's end
	Entropy    float64 `json:"entropy"`     // PPO's mean policy entropy over the chunk's updates
	Seconds    float64 `json:"seconds"`     // wall time of the chunk
}

// chunkStats accumulates a chunk's figures.
type chunkStats struct {
	start    time.Time
	episodes int
	returns  float64
	losses   float64
	nloss    int
	entropy  float64
	nentropy int
}

func (c *chunkStats) episode(ret float64) { c.episodes++; c.returns += ret }
func (c *chunkStats) loss(l float64)      { c.losses += l; c.nloss++ }

func (c *chunkStats) done(steps int, eps float64) Chunk {
	out := Chunk{Steps: steps, Episodes: c.episodes, MeanReturn: math.NaN(), Loss: math.NaN(), Epsilon: eps, Entropy: math.NaN()}
	if c.episodes > 0 {
		out.MeanReturn = c.returns / float64(c.episodes)
	}
	if c.nloss > 0 {
		out.Loss = c.losses / float64(c.nloss)
	}
	if c.nentropy > 0 {
		out.Entropy = c.entropy / float64(c.nentropy)
	}
	if !c.start.IsZero() {
		out.Seconds = time.Since(c.start).Seconds()
	}
	return out
}

// Evaluate plays episodes greedy episodes of e with agent, the i-th seeded
// with seed+i, and returns their returns (env.Episodes).
func Evaluate(agent Agent, e env.Env, episodes int, seed uint64) ([]float64, error) {
	return env.Episodes(e, agent.Greedy, episodes, seed)
}

// Graph returns the graph of the DQN's online Q-network, whose parameters
// are the agent's weights (train.SaveWeights, train.LoadWeights).
func (d *DQN) Graph() *graph.Graph { return d.online.g }

// Graph returns the graph of the PPO's policy network, whose parameters
// are the agent's acting weights (train.SaveWeights, train.LoadWeights).
func (p *PPO) Graph() *graph.Graph { return p.policy.g }

// Network returns the spec of the DQN's Q-network.
func (d *DQN) Network() nn.Spec { return d.spec }

// Network returns the spec of the PPO's policy network.
func (p *PPO) Network() nn.Spec { return p.pspec }

// Exploration implements Agent: a DQN explores ε-greedily.
func (d *DQN) Exploration() string { return "epsilon" }

// Exploration implements Agent: a PPO explores by its policy's entropy.
func (p *PPO) Exploration() string { return "entropy" }

// Settings returns the DQN's hyperparameters, defaults resolved.
func (d *DQN) Settings() any { c := d.cfg; return &c }

// Settings returns the PPO's hyperparameters, defaults resolved.
func (p *PPO) Settings() any { c := p.cfg; return &c }

// ValueGraph returns the graph of the PPO's value network.
func (p *PPO) ValueGraph() *graph.Graph { return p.value.g }
