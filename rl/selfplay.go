package rl

import (
	"math"

	"github.com/dlrun/dlrun/env"
)

// selfPlay is PPO's self-play for Connect4: Envs games played side by
// side, a move of each per step. In the first Envs − round(Past·Envs) games
// the policy being trained plays both sides; in the others it plays one
// side (the first in games of even number, counting every game started)
// and a past version of itself the other: the snapshot drawn from the pool
// at the rollout's start, the latest PoolSize kept, one taken every
// SnapshotEvery rollouts. Each game opens with a number of uniformly random
// moves drawn from 0 to Openings; after them every move is sampled from
// its player's policy, one forward pass of each network serving all the
// games' moves.
//
// Every move is a sample seen from the side of its mover, with the reward
// +1 for a winning move and 0 otherwise; the value network estimates the
// mover's outcome, and since the game is zero-sum the next state is worth
// −V to the mover: GAE runs along the moves of a game with
//
//	δ_t = r_t − γ·V(s_{t+1}) − V(s_t),   Â_t = δ_t − γλ·Â_{t+1}
//
// (the loser's last move gets −γ in the limit λ = 1). The value network
// learns from every move, the policy only from its own (not the openings,
// not the past self's).
type selfPlay struct {
	p     *PPO
	pool  [][][]float64 // snapshots: each parameter's values
	past  *forward      // the rollout's past self, on the Envs boards
	games []env.Connect4
	side  []int // the trained policy's side in each game: 0, 1, or −1 for both
	rand  []int // random moves still to play at the start of each game
}

// snapshot adds the policy's current parameters to the pool.
func (s *selfPlay) snapshot() {
	s.pool = append(s.pool, params(s.p.policy.g))
	if len(s.pool) > s.p.cfg.PoolSize {
		s.pool = s.pool[1:]
	}
}

// newSelfPlay returns self-play's state for p, its games not yet started.
func newSelfPlay(p *PPO) (*selfPlay, error) {
	f, err := newForward(p.pspec, p.obsShape, p.cfg.Envs, 0)
	if err != nil {
		return nil, err
	}
	n := p.cfg.Envs
	return &selfPlay{p: p, past: f, games: make([]env.Connect4, n), side: make([]int, n), rand: make([]int, n)}, nil
}

// pastGames is how many of the games are against a past self.
func (s *selfPlay) pastGames() int {
	return int(math.Round(s.p.cfg.Past * float64(s.p.cfg.Envs)))
}

// start begins a new game k, numbered p.next.
func (s *selfPlay) start(k int) {
	s.games[k] = env.Connect4{}
	s.rand[k] = s.p.rng.IntN(s.p.cfg.Openings + 1)
	s.side[k] = -1
	if k >= len(s.games)-s.pastGames() {
		s.side[k] = int(s.p.next % 2)
	}
	s.p.next++
}

// drawPast loads a snapshot drawn from the pool into the past self.
func (s *selfPlay) drawPast() error {
	return setParams(s.past.g, s.pool[s.p.rng.IntN(len(s.pool))], "ppo self-play: a past self")
}

// collect plays one rollout of Steps moves in each game into ro.
func (s *selfPlay) collect(ro *rollout, c *chunkStats) error {
	p := s.p
	n, T, A, W := p.cfg.Envs, p.cfg.RolloutSteps, p.actions, p.obsSize
	if s.pastGames() > 0 {
		if err := s.drawPast(); err != nil {
			return err
		}
	}
	x := make([]float64, n*W)
	obs := make([]float32, W)
	legal := make([]bool, A)
	probs := make([]float64, A)
	for t := 0; t < T; t++ {
		pastMoves := false
		for k := range s.games {
			s.observe(k, obs, x[k*W:(k+1)*W])
			pastMoves = pastMoves || (!s.trained(k) && s.rand[k] == 0)
		}
		z, v, err := p.act(x)
		if err != nil {
			return err
		}
		var zp []float64
		if pastMoves {
			if zp, err = s.past.run(x); err != nil {
				return err
			}
		}
		for k := range s.games {
			g := &s.games[k]
			i := t*n + k
			copy(ro.obs[i*W:(i+1)*W], x[k*W:(k+1)*W])
			g.Legal(legal)
			copy(ro.legal[i*A:(i+1)*A], legal)
			opening := s.rand[k] > 0
			mine := s.trained(k) && !opening
			switch {
			case opening: // an opening move, uniform over the legal columns
				s.rand[k]--
				uniform(legal, probs)
			case mine:
				softmaxMasked(z[k*A:(k+1)*A], legal, probs)
			default:
				softmaxMasked(zp[k*A:(k+1)*A], legal, probs)
			}
			a := sample(p.rng, probs)
			ro.act[i], ro.logp[i], ro.val[i], ro.mine[i] = a, math.Log(probs[a]), v[k], mine
			mover := g.ToMove()
			if err := g.Play(a); err != nil {
				return err
			}
			ro.rew[i], ro.done[i] = 0, g.Over()
			if g.Over() {
				if g.Winner() == mover {
					ro.rew[i] = 1
				}
				if s.side[k] >= 0 { // the trained policy's result against its past self
					switch g.Winner() {
					case s.side[k]:
						c.episode(1)
					case -1:
						c.episode(0)
					default:
						c.episode(-1)
					}
				}
				s.start(k)
			}
			p.steps++
		}
	}
	for k := range s.games {
		s.observe(k, obs, x[k*W:(k+1)*W])
	}
	last, err := p.valueAct.run(x)
	if err != nil {
		return err
	}
	ro.gae(last, p.cfg.Discount, p.cfg.Lambda, -1)
	return nil
}

// trained reports whether the policy being trained moves next in game k.
func (s *selfPlay) trained(k int) bool {
	return s.side[k] < 0 || s.side[k] == s.games[k].ToMove()
}

// observe writes game k's board, from the side to move, into x.
func (s *selfPlay) observe(k int, obs []float32, x []float64) {
	s.games[k].Observe(obs)
	for j, v := range obs {
		x[j] = float64(v)
	}
}

// uniform writes the uniform distribution over the legal actions into p.
func uniform(legal []bool, p []float64) {
	n := 0
	for _, l := range legal {
		if l {
			n++
		}
	}
	for j, l := range legal {
		p[j] = 0
		if l {
			p[j] = 1 / float64(n)
		}
	}
}
