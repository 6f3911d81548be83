package rl

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/dlrun/dlrun/env"
	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/nn"
	"github.com/dlrun/dlrun/train"
	"github.com/pkg/errors"
)

func init() {
	register("ppo", func(e env.Env, o Options, seed uint64) (Agent, error) {
		c := PPOConfig{}
		if e.Name() == "connect4" {
			c = connect4PPO
		}
		if o.LearningRate != 0 {
			c.LearningRate = o.LearningRate
		}
		c.Schedule = o.Schedule
		return NewPPO(e, c.WithDefaults(), seed)
	})
}

// connect4PPO is ppo's recipe for connect4 (docs/games.md): self-play, half
// the games against past versions, up to 12 random opening moves; a 4×4
// convolution of 64 filters over the board's planes (every line of four
// fits one), then 256-256 tanh; a discount γ = 0.75, which makes a win now
// worth clearly more than one later and so teaches winning and blocking at
// once; 8 passes over each rollout.
var connect4PPO = PPOConfig{SelfPlay: true, Past: 0.5, Openings: 12, Conv: []int{64}, Kernel: 4, Padding: "valid",
	Hidden: []int{256, 256}, Envs: 64, RolloutSteps: 32, BatchSize: 512, Epochs: 8, LearningRate: 1e-3, Discount: 0.75, Lambda: 0.9, EntCoef: 0.01}

// PPOConfig holds PPO's hyperparameters; a zero field takes the default
// in brackets, Stable-Baselines3's tuned CartPole-v1 settings (rl-zoo).
type PPOConfig struct {
	Hidden       []int   `json:"hidden,omitempty"`        // hidden layers of the policy and of the value network, tanh [64 64]
	Conv         []int   `json:"conv,omitempty"`          // filters of convolutions (ReLU) before the hidden layers, for planes of observations [none]
	Kernel       int     `json:"kernel,omitempty"`        // the convolutions' kernel size [3]
	Padding      string  `json:"padding,omitempty"`       // the convolutions' padding, same or valid [same]
	Envs         int     `json:"envs,omitempty"`          // environments stepped side by side [8]
	RolloutSteps int     `json:"rollout_steps,omitempty"` // steps of each environment per rollout [32]
	BatchSize    int     `json:"batch_size,omitempty"`    // samples per minibatch [256]
	Epochs       int     `json:"epochs,omitempty"`        // passes over each rollout [20]
	LearningRate float64 `json:"learning_rate,omitempty"` // Adam's, set at each rollout by Schedule [1e-3]
	Clip         float64 `json:"clip,omitempty"`          // the ratio's clip range, falling linearly to 0 [0.2]
	Discount     float64 `json:"discount,omitempty"`      // γ, the discount of future rewards [0.98]
	Lambda       float64 `json:"lambda,omitempty"`        // GAE's λ [0.8]
	EntCoef      float64 `json:"ent_coef,omitempty"`      // weight of the entropy bonus [0]
	// SelfPlay trains on Connect4 games against itself and past versions
	// of itself (see Train) instead of the environments newEnv makes.
	SelfPlay      bool    `json:"self_play,omitempty"`
	Past          float64 `json:"past,omitempty"`           // self-play: the fraction of games against a past version [0]
	Openings      int     `json:"openings,omitempty"`       // self-play: the most random moves opening a game [0]
	SnapshotEvery int     `json:"snapshot_every,omitempty"` // self-play: rollouts between snapshots of the policy [10]
	PoolSize      int     `json:"pool_size,omitempty"`      // self-play: the most recent snapshots kept [20]
	// Schedule sets the learning rate at each rollout from LearningRate,
	// over the environment steps of training (train.Schedule's epochs
	// counting steps) [train.Linear: falling linearly to 0].
	Schedule train.Schedule `json:"-"`
}

// WithDefaults returns c with every zero field set to its default.
func (c PPOConfig) WithDefaults() PPOConfig {
	if len(c.Hidden) == 0 {
		c.Hidden = []int{64, 64}
	}
	if len(c.Conv) > 0 && c.Kernel == 0 {
		c.Kernel = 3
	}
	if len(c.Conv) > 0 && c.Padding == "" {
		c.Padding = "same"
	}
	for _, f := range []struct {
		v *int
		d int
	}{{&c.Envs, 8}, {&c.RolloutSteps, 32}, {&c.BatchSize, 256}, {&c.Epochs, 20}, {&c.SnapshotEvery, 10}, {&c.PoolSize, 20}} {
		if *f.v == 0 {
			*f.v = f.d
		}
	}
	for _, f := range []struct {
		v *float64
		d float64
	}{{&c.LearningRate, 1e-3}, {&c.Clip, 0.2}, {&c.Discount, 0.98}, {&c.Lambda, 0.8}} {
		if *f.v == 0 {
			*f.v = f.d
		}
	}
	return c
}

// check reports the first setting of c (defaults applied) out of its
// range, as a one-line error naming it.
func (c PPOConfig) check() error {
	err := checkSettings("ppo", []intSetting{{"envs", c.Envs, 1, maxSetting}, {"rollout_steps", c.RolloutSteps, 1, maxSetting}, {"batch_size", c.BatchSize, 1, maxSetting},
		{"epochs", c.Epochs, 1, maxSetting}, {"snapshot_every", c.SnapshotEvery, 1, maxSetting}, {"pool_size", c.PoolSize, 1, maxSetting}, {"openings", c.Openings, 0, 41}},
		[]floatSetting{{"learning_rate", c.LearningRate}, {"clip", c.Clip}, {"discount", c.Discount}, {"lambda", c.Lambda}, {"ent_coef", c.EntCoef}, {"past", c.Past}},
		append(append([]int{}, c.Hidden...), c.Conv...))
	if err == nil && len(c.Conv) > 0 && (c.Kernel < 1 || c.Kernel > 6 || (c.Padding != "same" && c.Padding != "valid")) {
		err = errors.Errorf("ppo: convolutions of kernel %d, padding %q: want a kernel of 1 to 6 and padding same or valid", c.Kernel, c.Padding)
	}
	return err
}

// PPO is proximal policy optimisation (Schulman et al., 2017) with a
// policy network (logits over the actions, illegal ones masked) and a
// separate value network, each trained by Adam: rollouts of Steps steps
// of Envs environments, advantages by GAE(γ, λ) normalised per minibatch,
// then Epochs passes of minibatches minimising
//
//	−min(ρ·Â, clip(ρ, 1−ε, 1+ε)·Â) − EntCoef·H(π)   and   (V(s) − R)²
//
// with ρ = π(a|s)/π_old(a|s). The policy's gradient with respect to its
// logits is computed here and applied through graph.Linear. As
// Stable-Baselines3's PPO, but for the shared optimizer and gradient
// clipping (separate networks and optimizers here, no clipping).
type PPO struct {
	cfg      PPOConfig
	pspec    nn.Spec // the policy's
	obsShape []int
	obsSize  int
	actions  int

	policy, value       *learner
	policyMB            *forward // the policy on a minibatch
	policyAct, valueAct *forward // on the Envs observations of a step
	policyOne           *forward // on one observation (greedy play)
	valueOne            *forward // on one observation (a truncated episode's last)
	pcg                 *rand.PCG
	rng                 *rand.Rand
	steps               int

	// The training loop's place, kept between Train calls and in
	// checkpoints: the environments, their observations and running
	// returns, the next episode's seed, the rollouts and the steps at the
	// last report, and self-play's snapshots.
	envs       []env.Env
	obs        [][]float32
	rets       []float64
	next       uint64
	rollouts   int
	lastReport int
	sp         *selfPlay
}

// NewPPO returns a PPO agent for environments of e's shape, its networks
// initialised and its randomness drawn from seed.
func NewPPO(e env.Env, cfg PPOConfig, seed uint64) (*PPO, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.check(); err != nil {
		return nil, err
	}
	in, actions := e.ObservationShape(), e.NumActions()
	if cfg.SelfPlay && (e.Name() != "connect4" || size(in) != 2*6*7 || actions != 7) {
		return nil, errors.Errorf("ppo: self-play plays connect4, not %s", e.Name())
	}
	p := &PPO{cfg: cfg, obsShape: in, obsSize: size(in), actions: actions, pcg: rand.NewPCG(seed, 0x70706f)} // "ppo"
	p.rng = rand.New(p.pcg)
	pspec := netSpec("policy", cfg.Conv, cfg.Kernel, cfg.Padding, cfg.Hidden, "tanh", actions)
	vspec := netSpec("value", cfg.Conv, cfg.Kernel, cfg.Padding, cfg.Hidden, "tanh", 1)
	p.pspec = pspec
	var err error
	adam := func() train.Optimizer { o, _ := train.OptimizerByName("adam", cfg.LearningRate); return o }
	if p.policy, _, err = newLearner(pspec, in, cfg.BatchSize, actions, graph.Linear, false, adam(), seed); err != nil {
		return nil, errors.Wrap(err, "ppo policy")
	}
	if p.value, _, err = newLearner(vspec, in, cfg.BatchSize, 1, graph.SquaredError, false, adam(), seed+1); err != nil {
		return nil, errors.Wrap(err, "ppo value")
	}
	share := func(spec nn.Spec, rows int, from *learner) (*forward, error) {
		f, err := newForward(spec, in, rows, seed)
		if err == nil {
			err = f.g.ShareValues(from.g)
		}
		return f, err
	}
	if p.policyMB, err = share(pspec, cfg.BatchSize, p.policy); err != nil {
		return nil, err
	}
	if p.policyAct, err = share(pspec, cfg.Envs, p.policy); err != nil {
		return nil, err
	}
	if p.valueAct, err = share(vspec, cfg.Envs, p.value); err != nil {
		return nil, err
	}
	if p.policyOne, err = share(pspec, 1, p.policy); err != nil {
		return nil, err
	}
	if p.valueOne, err = share(vspec, 1, p.value); err != nil {
		return nil, err
	}
	return p, nil
}

// Close releases the agent's compiled graphs.
func (p *PPO) Close() {
	p.policy.close()
	p.value.close()
	for _, f := range []*forward{p.policyMB, p.policyAct, p.policyOne, p.valueAct, p.valueOne} {
		f.close()
	}
	if p.sp != nil {
		p.sp.past.close()
	}
}

// Greedy returns the legal action of highest probability.
func (p *PPO) Greedy(obs []float32, legal []bool) (int, error) {
	z, err := p.policyOne.run(toFloat64(obs))
	if err != nil {
		return 0, err
	}
	return argmax(z, legal), nil
}

// rollout is the samples of one rollout, in step-major order (step t of
// environment k at t·Envs+k).
type rollout struct {
	obs            []float64
	act            []int
	legal          []bool
	logp, val, rew []float64
	done           []bool // the episode ended after this step
	mine           []bool // the policy being trained chose the action (self-play: not a past self)
	adv, ret       []float64
}

// Train runs the agent for steps environment steps (whole rollouts) over
// Envs environments made by newEnv, episodes seeded seed, seed+1, ... in
// the order they start, and calls report after every chunk steps (at the
// end of the rollout that passes them) with the figures of that chunk.
//
// With SelfPlay, the environments are Connect4 games that the policy plays
// against itself or, in a fraction Past of them, against a past version
// of itself (see selfPlay); a step is a move of either side, and the
// chunk's mean return is the trained policy's against its past selves
// (NaN without Past). newEnv is then not used.
func (p *PPO) Train(newEnv func() (env.Env, error), steps, chunk int, seed uint64, report func(Chunk) error) error {
	n, T, A, W := p.cfg.Envs, p.cfg.RolloutSteps, p.actions, p.obsSize
	if p.envs == nil && p.sp == nil {
		p.next = seed
		if p.cfg.SelfPlay {
			var err error
			if p.sp, err = newSelfPlay(p); err != nil {
				return err
			}
			p.sp.snapshot()
			for k := range p.sp.games {
				p.sp.start(k)
			}
		} else {
			if err := p.makeEnvs(newEnv); err != nil {
				return err
			}
			for k := range p.envs {
				p.envs[k].Reset(p.next, p.obs[k])
				p.next++
			}
		}
	}
	ro := rollout{obs: make([]float64, n*T*W), act: make([]int, n*T), legal: make([]bool, n*T*A),
		logp: make([]float64, n*T), val: make([]float64, n*T), rew: make([]float64, n*T), done: make([]bool, n*T),
		mine: make([]bool, n*T), adv: make([]float64, n*T), ret: make([]float64, n*T)}
	c := chunkStats{start: time.Now()}
	for p.steps < steps {
		lr := p.schedule().LearningRate(p.steps+1, steps, p.cfg.LearningRate)
		for _, l := range []*learner{p.policy, p.value} {
			l.opt.SetLearningRate(lr)
		}
		clip := train.Linear{}.LearningRate(p.steps+1, steps, p.cfg.Clip)
		var err error
		if p.sp != nil {
			err = p.sp.collect(&ro, &c)
		} else {
			err = p.collect(&ro, &c)
		}
		if err != nil {
			return err
		}
		if err := p.update(&ro, clip, &c); err != nil {
			return err
		}
		if p.rollouts++; p.sp != nil && p.rollouts%p.cfg.SnapshotEvery == 0 {
			p.sp.snapshot()
		}
		if p.steps-p.lastReport >= chunk || p.steps >= steps {
			p.lastReport = p.steps
			if err := report(c.done(p.steps, 0)); err != nil {
				return err
			}
			c = chunkStats{start: time.Now()}
		}
	}
	return nil
}

// schedule returns the schedule of the learning rate: Schedule, or
// train.Linear.
func (p *PPO) schedule() train.Schedule {
	if p.cfg.Schedule == nil {
		return train.Linear{}
	}
	return p.cfg.Schedule
}

// collect plays one rollout of RolloutSteps steps of each environment into ro,
// with GAE's advantages bootstrapped from the value of each environment's
// last observation.
func (p *PPO) collect(ro *rollout, c *chunkStats) error {
	n, T, A, W := p.cfg.Envs, p.cfg.RolloutSteps, p.actions, p.obsSize
	envs, obs, rets := p.envs, p.obs, p.rets
	legal := make([]bool, A)
	x := make([]float64, n*W)
	probs := make([]float64, A)
	for t := 0; t < T; t++ {
		stack(obs, x)
		z, v, err := p.act(x)
		if err != nil {
			return err
		}
		for k := 0; k < n; k++ {
			i := t*n + k
			copy(ro.obs[i*W:(i+1)*W], x[k*W:(k+1)*W])
			envs[k].Legal(legal)
			copy(ro.legal[i*A:(i+1)*A], legal)
			softmaxMasked(z[k*A:(k+1)*A], legal, probs)
			a := sample(p.rng, probs)
			ro.act[i], ro.logp[i], ro.val[i], ro.mine[i] = a, math.Log(probs[a]), v[k], true
			r, term, trunc, err := envs[k].Step(a, obs[k])
			if err != nil {
				return err
			}
			rets[k] += r
			if trunc && !term { // bootstrap from the value of the state the limit cut
				vl, err := p.valueOne.run(toFloat64(obs[k]))
				if err != nil {
					return err
				}
				r += p.cfg.Discount * vl[0]
			}
			ro.rew[i], ro.done[i] = r, term || trunc
			if term || trunc {
				c.episode(rets[k])
				rets[k] = 0
				envs[k].Reset(p.next, obs[k])
				p.next++
			}
			p.steps++
		}
	}
	stack(obs, x)
	last, err := p.valueAct.run(x)
	if err != nil {
		return err
	}
	ro.gae(last, p.cfg.Discount, p.cfg.Lambda, 1)
	return nil
}

// act runs the policy and the value network on the Envs observations x
// of a step: the logits z and the values v.
func (p *PPO) act(x []float64) (z, v []float64, err error) {
	if z, err = p.policyAct.run(x); err != nil {
		return nil, nil, err
	}
	v, err = p.valueAct.run(x)
	return z, v, err
}

// stack writes the observations obs, one after another, into x as float64.
func stack(obs [][]float32, x []float64) {
	i := 0
	for _, o := range obs {
		for _, v := range o {
			x[i] = float64(v)
			i++
		}
	}
}

// gae writes GAE(γ, λ)'s advantages and returns into ro for its Envs
// environments, bootstrapped from the values last of their observations
// after the rollout. With sign 1, an environment's next state is the
// agent's own:
//
//	δ_t = r_t + γ·V(s_{t+1}) − V(s_t),   Â_t = δ_t + γλ·Â_{t+1};
//
// with sign −1 it is the opponent's in a zero-sum game of alternate moves,
// worth −V to the mover (self-play):
//
//	δ_t = r_t − γ·V(s_{t+1}) − V(s_t),   Â_t = δ_t − γλ·Â_{t+1}.
//
// After a step that ends an episode the next value is 0. The returns are
// Â_t + V(s_t).
func (ro *rollout) gae(last []float64, gamma, lambda, sign float64) {
	n := len(last)
	T := len(ro.rew) / n
	for k := 0; k < n; k++ {
		adv, nextV := 0.0, last[k]
		for t := T - 1; t >= 0; t-- {
			i := t*n + k
			if ro.done[i] {
				adv, nextV = 0, 0
			}
			delta := ro.rew[i] + sign*gamma*nextV - ro.val[i]
			adv = delta + sign*gamma*lambda*adv
			ro.adv[i], ro.ret[i] = adv, adv+ro.val[i]
			nextV = ro.val[i]
		}
	}
}

// makeEnvs makes the Envs environments with newEnv, and their
// observation buffers.
func (p *PPO) makeEnvs(newEnv func() (env.Env, error)) error {
	p.envs, p.obs, p.rets = make([]env.Env, p.cfg.Envs), make([][]float32, p.cfg.Envs), make([]float64, p.cfg.Envs)
	for k := range p.envs {
		var err error
		if p.envs[k], err = newEnv(); err != nil {
			return err
		}
		p.obs[k] = make([]float32, p.obsSize)
	}
	return nil
}

// update runs Epochs passes of minibatches over the rollout.
func (p *PPO) update(ro *rollout, clip float64, c *chunkStats) error {
	N, B, A, W := len(ro.act), p.cfg.BatchSize, p.actions, p.obsSize
	x := make([]float64, B*W)
	g := make([]float64, B*A)
	ret := make([]float64, B)
	w := make([]float64, B)  // the value network's row weights: 1 for every sample
	wp := make([]float64, B) // the policy's: 1 for the samples of its own moves
	probs := make([]float64, A)
	for epoch := 0; epoch < p.cfg.Epochs; epoch++ {
		order := p.rng.Perm(N)
		for lo := 0; lo < N; lo += B {
			idx := order[lo:min(lo+B, N)]
			clear(x)
			clear(w)
			clear(wp)
			mine := 0
			for r, i := range idx {
				copy(x[r*W:(r+1)*W], ro.obs[i*W:(i+1)*W])
				ret[r], w[r] = ro.ret[i], 1
				if ro.mine[i] {
					wp[r] = 1
					mine++
				}
			}
			vl, err := p.value.step(x, ret, w)
			if err != nil {
				return err
			}
			if mine == 0 { // a minibatch of a past self's moves only
				c.loss(vl)
				continue
			}
			// Normalised advantages of the policy's own samples.
			mean, sd := 0.0, 0.0
			for _, i := range idx {
				if ro.mine[i] {
					mean += ro.adv[i]
				}
			}
			mean /= float64(mine)
			for _, i := range idx {
				if ro.mine[i] {
					sd += (ro.adv[i] - mean) * (ro.adv[i] - mean)
				}
			}
			sd = math.Sqrt(sd/float64(max(mine-1, 1))) + 1e-8
			z, err := p.policyMB.run(x)
			if err != nil {
				return err
			}
			clear(g)
			loss, ent := 0.0, 0.0
			for r, i := range idx {
				if !ro.mine[i] {
					continue
				}
				l, h := policyTerms(z[r*A:(r+1)*A], ro.legal[i*A:(i+1)*A], ro.act[i], ro.logp[i], (ro.adv[i]-mean)/sd, clip, p.cfg.EntCoef, probs, g[r*A:(r+1)*A])
				loss += l
				ent += h
			}
			if _, err := p.policy.step(x, g, wp); err != nil {
				return err
			}
			c.loss(loss/float64(mine) + vl)
			c.entropy += ent / float64(mine)
			c.nentropy++
		}
	}
	return nil
}

// policyTerms returns one sample's PPO objective
//
//	−min(ρ·adv, clip(ρ, 1−clip, 1+clip)·adv) − entCoef·H(π)
//
// for logits z (illegal actions masked), action a taken with log-probability
// oldLogp, and the policy's entropy H; it writes the objective's gradient
// with respect to z into g (probs is scratch). Where the clipped term is
// the smaller, the objective does not depend on ρ and only the entropy
// has a gradient.
func policyTerms(z []float64, legal []bool, a int, oldLogp, adv, clip, entCoef float64, probs, g []float64) (loss, entropy float64) {
	softmaxMasked(z, legal, probs)
	ratio := math.Exp(math.Log(probs[a]) - oldLogp)
	clipped := max(1-clip, min(1+clip, ratio))
	loss = -min(ratio*adv, clipped*adv)
	for _, pj := range probs {
		if pj > 0 {
			entropy -= pj * math.Log(pj)
		}
	}
	loss -= entCoef * entropy
	clear(g)
	if ratio*adv <= clipped*adv { // the unclipped term is the min: its gradient flows
		for j, pj := range probs {
			ind := 0.0
			if j == a {
				ind = 1
			}
			g[j] = -adv * ratio * (ind - pj)
		}
	}
	if entCoef != 0 {
		for j, pj := range probs {
			if pj > 0 {
				g[j] += entCoef * pj * (math.Log(pj) + entropy)
			}
		}
	}
	return loss, entropy
}

// softmaxMasked writes the softmax of the legal logits of z into p (0 for
// the illegal ones).
func softmaxMasked(z []float64, legal []bool, p []float64) {
	m := math.Inf(-1)
	for j, v := range z {
		if legal[j] {
			m = math.Max(m, v)
		}
	}
	s := 0.0
	for j, v := range z {
		p[j] = 0
		if legal[j] {
			p[j] = math.Exp(v - m)
			s += p[j]
		}
	}
	for j := range p {
		p[j] /= s
	}
}

// sample draws an index with probabilities p.
func sample(rng *rand.Rand, p []float64) int {
	u := rng.Float64()
	last := 0
	for j, pj := range p {
		if pj > 0 {
			last = j
			if u < pj {
				return j
			}
			u -= pj
		}
	}
	return last
}
