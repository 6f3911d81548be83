package rl

import (
	"bytes"
	"encoding/gob"
	"fmt"

	"github.com/dlrun/dlrun/env"
	"github.com/dlrun/dlrun/graph"
	"github.com/pkg/errors"
)

// An agent's checkpoint is everything its training needs to go on as if
// it had not stopped, bit for bit: the networks' parameters, the
// optimizers' states, the random stream, the counters, the replay buffer
// (DQN), self-play's snapshots (PPO), and the environments mid-episode
// (env.Snapshotter) with their observations and running returns. It is
// encoded with encoding/gob, and restored into an agent made with the
// same configuration and seed.

type dqnCheckpoint struct {
	Online, Target  [][]float64
	Opt             map[string][]float64
	PCG             []byte
	Steps, Updates  int
	BufObs, BufNext []float64
	BufAct          []int
	BufRew          []float64
	BufTerm         []bool
	BufPos, BufN    int
	Env             []byte
	Obs             []float32
	Episode         uint64
	Ret             float64
}

type ppoCheckpoint struct {
	Policy, Value         [][]float64
	OptPolicy, OptValue   map[string][]float64
	PCG                   []byte
	Steps, Rollouts, Last int
	Next                  uint64
	Envs                  [][]byte
	Obs                   [][]float32
	Rets                  []float64
	Pool                  [][][]float64 // self-play's snapshots
	Games                 [][]byte      // self-play's games
	Sides                 []int         // the trained policy's side in each
	Rand                  []int         // the random opening moves each has still to play
}

// params returns the values of g's parameters.
func params(g *graph.Graph) [][]float64 {
	var out [][]float64
	for _, p := range g.Params() {
		out = append(out, p.Values())
	}
	return out
}

// setParams sets g's parameters to v.
func setParams(g *graph.Graph, v [][]float64, what string) error {
	ps := g.Params()
	if len(v) != len(ps) {
		return errors.Errorf("%s: %d parameters for a network of %d", what, len(v), len(ps))
	}
	for i, p := range ps {
		if err := p.SetValues(v[i]); err != nil {
			return errors.Wrapf(err, "%s", what)
		}
	}
	return nil
}

// envState returns e's snapshot.
func envState(e env.Env) ([]byte, error) {
	s, ok := e.(env.Snapshotter)
	if !ok {
		return nil, errors.Errorf("environment %s cannot be saved (not an env.Snapshotter)", e.Name())
	}
	return s.MarshalBinary()
}

// restoreEnv makes an environment with newEnv and restores b into it.
func restoreEnv(newEnv func() (env.Env, error), b []byte) (env.Env, error) {
	e, err := newEnv()
	if err != nil {
		return nil, err
	}
	s, ok := e.(env.Snapshotter)
	if !ok {
		return nil, errors.Errorf("environment %s cannot be restored (not an env.Snapshotter)", e.Name())
	}
	return e, s.UnmarshalBinary(b)
}

func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Checkpoint returns the agent's training state (see the top of this file).
func (d *DQN) Checkpoint() ([]byte, error) {
	if d.e == nil {
		return nil, errors.New("dqn: nothing to save before training starts")
	}
	pcg, err := d.pcg.MarshalBinary()
	if err != nil {
		return nil, err
	}
	es, err := envState(d.e)
	if err != nil {
		return nil, err
	}
	b := d.buf
	return encode(dqnCheckpoint{params(d.online.g), params(d.target.g), d.online.opt.State(), pcg, d.steps, d.updates,
		b.obs[:b.n*b.width], b.next[:b.n*b.width], b.act[:b.n], b.rew[:b.n], b.term[:b.n], b.pos, b.n, es, d.obs, d.episode, d.ret})
}

// Restore restores a Checkpoint into d, made with the same configuration
// and seed; newEnv makes the environment the saved one is restored into.
func (d *DQN) Restore(data []byte, newEnv func() (env.Env, error)) error {
	var c dqnCheckpoint
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&c); err != nil {
		return fmt.Errorf("dqn checkpoint: %v", err)
	}
	b := d.buf
	if c.BufN < 0 || c.BufN > b.size || c.BufPos < 0 || c.BufPos >= b.size || len(c.BufObs) != c.BufN*b.width || len(c.BufNext) != len(c.BufObs) ||
		len(c.BufAct) != c.BufN || len(c.BufRew) != c.BufN || len(c.BufTerm) != c.BufN || len(c.Obs) != d.obsSize {
		return errors.New("dqn checkpoint: the replay buffer or the observation does not fit this agent")
	}
	if err := setParams(d.online.g, c.Online, "dqn checkpoint: online network"); err != nil {
		return err
	}
	if err := setParams(d.target.g, c.Target, "dqn checkpoint: target network"); err != nil {
		return err
	}
	if err := d.online.opt.SetState(c.Opt); err != nil {
		return errors.Wrap(err, "dqn checkpoint: optimizer")
	}
	if err := d.pcg.UnmarshalBinary(c.PCG); err != nil {
		return errors.Wrap(err, "dqn checkpoint: random stream")
	}
	e, err := restoreEnv(newEnv, c.Env)
	if err != nil {
		return errors.Wrap(err, "dqn checkpoint")
	}
	copy(b.obs, c.BufObs)
	copy(b.next, c.BufNext)
	copy(b.act, c.BufAct)
	copy(b.rew, c.BufRew)
	copy(b.term, c.BufTerm)
	b.pos, b.n = c.BufPos, c.BufN
	d.steps, d.updates, d.e, d.obs, d.episode, d.ret = c.Steps, c.Updates, e, c.Obs, c.Episode, c.Ret
	return nil
}

// Checkpoint returns the agent's training state (see the top of this file).
func (p *PPO) Checkpoint() ([]byte, error) {
	if p.envs == nil && p.sp == nil {
		return nil, errors.New("ppo: nothing to save before training starts")
	}
	pcg, err := p.pcg.MarshalBinary()
	if err != nil {
		return nil, err
	}
	c := ppoCheckpoint{Policy: params(p.policy.g), Value: params(p.value.g), OptPolicy: p.policy.opt.State(), OptValue: p.value.opt.State(),
		PCG: pcg, Steps: p.steps, Rollouts: p.rollouts, Last: p.lastReport, Next: p.next, Obs: p.obs, Rets: p.rets}
	for _, e := range p.envs {
		es, err := envState(e)
		if err != nil {
			return nil, err
		}
		c.Envs = append(c.Envs, es)
	}
	if p.sp != nil {
		c.Pool, c.Sides, c.Rand = p.sp.pool, p.sp.side, p.sp.rand
		for k := range p.sp.games {
			b, err := p.sp.games[k].MarshalBinary()
			if err != nil {
				return nil, err
			}
			c.Games = append(c.Games, b)
		}
	}
	return encode(c)
}

// Restore restores a Checkpoint into p, made with the same configuration
// and seed; newEnv makes the environments the saved ones are restored
// into (self-play makes its own).
func (p *PPO) Restore(data []byte, newEnv func() (env.Env, error)) error {
	var c ppoCheckpoint
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&c); err != nil {
		return fmt.Errorf("ppo checkpoint: %v", err)
	}
	n := p.cfg.Envs
	if p.cfg.SelfPlay {
		if len(c.Pool) == 0 || len(c.Games) != n || len(c.Sides) != n || len(c.Rand) != n {
			return errors.Errorf("ppo checkpoint: %d self-play games saved, this agent has %d", len(c.Games), n)
		}
	} else if len(c.Envs) != n || len(c.Obs) != n || len(c.Rets) != n {
		return errors.Errorf("ppo checkpoint: %d environments saved, this agent has %d", len(c.Envs), n)
	}
	for _, o := range c.Obs {
		if len(o) != p.obsSize {
			return errors.New("ppo checkpoint: an observation does not fit this agent")
		}
	}
	if err := setParams(p.policy.g, c.Policy, "ppo checkpoint: policy"); err != nil {
		return err
	}
	if err := setParams(p.value.g, c.Value, "ppo checkpoint: value network"); err != nil {
		return err
	}
	if err := p.policy.opt.SetState(c.OptPolicy); err != nil {
		return errors.Wrap(err, "ppo checkpoint: policy's optimizer")
	}
	if err := p.value.opt.SetState(c.OptValue); err != nil {
		return errors.Wrap(err, "ppo checkpoint: value network's optimizer")
	}
	if err := p.pcg.UnmarshalBinary(c.PCG); err != nil {
		return errors.Wrap(err, "ppo checkpoint: random stream")
	}
	if p.cfg.SelfPlay {
		sp, err := newSelfPlay(p)
		if err != nil {
			return err
		}
		for k := range sp.games {
			if err := sp.games[k].UnmarshalBinary(c.Games[k]); err != nil {
				return errors.Wrap(err, "ppo checkpoint")
			}
			if c.Sides[k] < -1 || c.Sides[k] > 1 || c.Rand[k] < 0 || c.Rand[k] > p.cfg.Openings {
				return errors.Errorf("ppo checkpoint: game %d: side %d, %d random moves to play: not a game of this agent", k, c.Sides[k], c.Rand[k])
			}
		}
		for _, snap := range c.Pool {
			if err := setParams(sp.past.g, snap, "ppo checkpoint: a past self"); err != nil {
				return err
			}
		}
		sp.pool, sp.side, sp.rand = c.Pool, c.Sides, c.Rand
		p.sp = sp
	} else {
		if err := p.makeEnvs(newEnv); err != nil {
			return err
		}
		for k, e := range p.envs {
			s, ok := e.(env.Snapshotter)
			if !ok {
				return errors.Errorf("ppo checkpoint: environment %s cannot be restored", e.Name())
			}
			if err := s.UnmarshalBinary(c.Envs[k]); err != nil {
				return errors.Wrap(err, "ppo checkpoint")
			}
			copy(p.obs[k], c.Obs[k])
			p.rets[k] = c.Rets[k]
		}
	}
	p.steps, p.rollouts, p.lastReport, p.next = c.Steps, c.Rollouts, c.Last, c.Next
	return nil
}
