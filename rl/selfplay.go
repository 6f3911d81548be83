package rl

import (
	"math/rand/v2"

	"github.com/dlrun/dlrun/env"
)

// selfPlay is PPO's self-play for Connect4: every environment is a game
// against a past version of the agent's own policy, drawn at the start of
// each game from a pool of snapshots taken every SnapshotEvery rollouts
// (the most recent PoolSize kept), playing by sampling its policy.
type selfPlay struct {
	p      *PPO
	pool   [][][]float64 // snapshots: each parameter's values
	selves []*pastSelf   // the opponents, in the order of the environments
}

// snapshot adds the policy's current parameters to the pool.
func (s *selfPlay) snapshot() {
	var snap [][]float64
	for _, prm := range s.p.policy.g.Params() {
		snap = append(snap, prm.Values())
	}
	s.pool = append(s.pool, snap)
	if len(s.pool) > s.p.cfg.PoolSize {
		s.pool = s.pool[1:]
	}
}

// newEnv returns a Connect4 game against a past self, with a policy
// network of its own into which each game loads its snapshot.
func (s *selfPlay) newEnv() (env.Env, error) {
	f, err := newForward(s.p.pspec, s.p.obsShape, 1, 0)
	if err != nil {
		return nil, err
	}
	o := &pastSelf{s: s, f: f, obs: make([]float32, s.p.obsSize), legal: make([]bool, s.p.actions), probs: make([]float64, s.p.actions)}
	s.selves = append(s.selves, o)
	return &env.VsOpponent{Opponent: env.OpponentFunc{Label: "past self", Func: o.move}, AgentFirst: env.FirstOnEvenSeeds}, nil
}

// pastSelf is one game's opponent.
type pastSelf struct {
	s     *selfPlay
	f     *forward
	obs   []float32
	legal []bool
	probs []float64
}

// move loads a snapshot drawn by rng at the game's first move of this
// side, then samples the snapshot's policy over the legal columns.
func (o *pastSelf) move(g *env.Connect4, rng *rand.Rand) int {
	if g.Moves() < 2 {
		snap := o.s.pool[rng.IntN(len(o.s.pool))]
		for i, prm := range o.f.g.Params() {
			if err := prm.SetValues(snap[i]); err != nil {
				panic(err)
			}
		}
	}
	g.Observe(o.obs)
	g.Legal(o.legal)
	z, err := o.f.run(toFloat64(o.obs))
	if err != nil {
		panic(err)
	}
	softmaxMasked(z, o.legal, o.probs)
	return sample(rng, o.probs)
}
