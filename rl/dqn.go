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
	register("dqn", func(e env.Env, o Options, seed uint64) (Agent, error) {
		return NewDQN(e, DQNConfig{LearningRate: o.LearningRate, Schedule: o.Schedule}.WithDefaults(), seed)
	})
}

// DQNConfig holds DQN's hyperparameters; a zero field takes the default
// in brackets, Stable-Baselines3's tuned CartPole-v1 settings (rl-zoo).
type DQNConfig struct {
	Hidden        []int   `json:"hidden,omitempty"`         // the Q-network's hidden layers, ReLU [256 256]
	LearningRate  float64 `json:"learning_rate,omitempty"`  // Adam's [2.3e-3]
	BatchSize     int     `json:"batch_size,omitempty"`     // transitions per gradient step [64]
	Buffer        int     `json:"buffer,omitempty"`         // replay buffer capacity, in transitions [100000]
	LearningStart int     `json:"learning_start,omitempty"` // environment steps before learning starts [1000]
	Discount      float64 `json:"discount,omitempty"`       // γ, the discount of future rewards [0.99]
	TrainEvery    int     `json:"train_every,omitempty"`    // environment steps between rounds of gradient steps [256]
	GradientSteps int     `json:"gradient_steps,omitempty"` // gradient steps per round [128]
	TargetEvery   int     `json:"target_every,omitempty"`   // environment steps between copies of the online network into the target [10]
	EpsStart      float64 `json:"eps_start,omitempty"`      // exploration rate at first [1]
	EpsEnd        float64 `json:"eps_end,omitempty"`        // final exploration rate [0.04]
	EpsFraction   float64 `json:"eps_fraction,omitempty"`   // fraction of the training steps over which epsilon falls linearly [0.16]
	// Schedule, if set, sets the learning rate before each round of
	// gradient steps from LearningRate, over the environment steps of
	// training (train.Schedule's epochs counting steps) [nil: constant].
	Schedule train.Schedule `json:"-"`
}

// WithDefaults returns c with every zero field set to its default.
func (c DQNConfig) WithDefaults() DQNConfig {
	def := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	defi := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	if len(c.Hidden) == 0 {
		c.Hidden = []int{256, 256}
	}
	def(&c.LearningRate, 2.3e-3)
	defi(&c.BatchSize, 64)
	defi(&c.Buffer, 100000)
	defi(&c.LearningStart, 1000)
	def(&c.Discount, 0.99)
	defi(&c.TrainEvery, 256)
	defi(&c.GradientSteps, 128)
	defi(&c.TargetEvery, 10)
	def(&c.EpsStart, 1)
	def(&c.EpsEnd, 0.04)
	def(&c.EpsFraction, 0.16)
	return c
}

// DQN is a deep Q-network agent (Mnih et al., 2015) with double DQN's
// targets (van Hasselt et al., 2016): an online network Q learned from a
// replay buffer of transitions with the Huber loss of
//
//	Q(s, a)  against  r + γ·(1 − terminated)·Q_target(s', argmax_a' Q(s', a'))
//
// a target network Q_target copied from Q every TargetEvery steps, and an
// ε-greedy policy whose ε falls linearly from EpsStart to EpsEnd. As
// Stable-Baselines3's DQN.
type DQN struct {
	cfg     DQNConfig
	spec    nn.Spec
	obsSize int
	actions int

	online  *learner
	onehot  *graph.Node
	act     *forward // the online network on one observation
	next    *forward // the online network on a batch of next observations
	target  *forward // the target network on a batch of next observations
	buf     *replay
	pcg     *rand.PCG
	rng     *rand.Rand
	steps   int // environment steps taken
	updates int // gradient steps taken

	// The training loop's place, kept between Train calls and in
	// checkpoints: the environment, its observation, the running
	// episode's seed and return.
	e       env.Env
	obs     []float32
	episode uint64
	ret     float64
}

// NewDQN returns a DQN agent for environments of e's shape, its networks
// initialised and its randomness drawn from seed.
func NewDQN(e env.Env, cfg DQNConfig, seed uint64) (*DQN, error) {
	cfg = cfg.WithDefaults()
	if err := checkSettings("dqn", []intSetting{{"batch_size", cfg.BatchSize, 1, maxSetting}, {"buffer", cfg.Buffer, 1, maxSetting}, {"learning_start", cfg.LearningStart, 0, maxSetting},
		{"train_every", cfg.TrainEvery, 1, maxSetting}, {"gradient_steps", cfg.GradientSteps, 1, maxSetting}, {"target_every", cfg.TargetEvery, 1, maxSetting}},
		[]floatSetting{{"learning_rate", cfg.LearningRate}, {"discount", cfg.Discount}, {"eps_start", cfg.EpsStart}, {"eps_end", cfg.EpsEnd}, {"eps_fraction", cfg.EpsFraction}},
		cfg.Hidden); err != nil {
		return nil, err
	}
	in, actions := e.ObservationShape(), e.NumActions()
	d := &DQN{cfg: cfg, spec: mlpSpec("q", cfg.Hidden, "relu", actions), obsSize: size(in), actions: actions,
		pcg: rand.NewPCG(seed, 0x64716e)} // "dqn"
	d.rng = rand.New(d.pcg)
	opt, err := train.OptimizerByName("adam", cfg.LearningRate)
	if err != nil {
		return nil, err
	}
	*opt.Options() = train.Regularization{ClipNorm: 10} // SB3's max_grad_norm
	if d.online, d.onehot, err = newLearner(d.spec, in, cfg.BatchSize, actions, graph.Huber, true, opt, seed); err != nil {
		return nil, errors.Wrap(err, "dqn")
	}
	if d.act, err = newForward(d.spec, in, 1, seed); err != nil {
		return nil, err
	}
	if d.next, err = newForward(d.spec, in, cfg.BatchSize, seed); err != nil {
		return nil, err
	}
	if d.target, err = newForward(d.spec, in, cfg.BatchSize, seed); err != nil {
		return nil, err
	}
	for _, f := range []*forward{d.act, d.next} {
		if err := f.g.ShareValues(d.online.g); err != nil {
			return nil, err
		}
	}
	if err := copyValues(d.target.g, d.online.g); err != nil {
		return nil, err
	}
	d.buf = newReplay(cfg.Buffer, d.obsSize)
	return d, nil
}

// Close releases the agent's compiled graphs.
func (d *DQN) Close() {
	d.online.close()
	d.act.close()
	d.next.close()
	d.target.close()
}

// epsilon returns the exploration rate after step of total steps.
func (d *DQN) epsilon(step, total int) float64 {
	f := float64(step) / (d.cfg.EpsFraction * float64(total))
	if f >= 1 {
		return d.cfg.EpsEnd
	}
	return d.cfg.EpsStart + f*(d.cfg.EpsEnd-d.cfg.EpsStart)
}

// Greedy returns the legal action of highest Q for observation obs.
func (d *DQN) Greedy(obs []float32, legal []bool) (int, error) {
	q, err := d.act.run(toFloat64(obs))
	if err != nil {
		return 0, err
	}
	return argmax(q, legal), nil
}

// Train runs the agent for steps environment steps of one environment
// made by newEnv, episodes seeded seed, seed+1, ..., and calls report
// after every chunk steps (and after the last) with the figures of that
// chunk.
func (d *DQN) Train(newEnv func() (env.Env, error), steps, chunk int, seed uint64, report func(Chunk) error) error {
	if d.e == nil {
		e, err := newEnv()
		if err != nil {
			return err
		}
		d.e, d.obs, d.episode = e, make([]float32, d.obsSize), seed
		e.Reset(d.episode, d.obs)
	}
	next := make([]float32, d.obsSize)
	legal := make([]bool, d.actions)
	c := chunkStats{start: time.Now()}
	for d.steps < steps {
		eps := d.epsilon(d.steps, steps)
		d.e.Legal(legal)
		var a int
		if d.rng.Float64() < eps {
			a = randomLegal(d.rng, legal)
		} else {
			var err error
			if a, err = d.Greedy(d.obs, legal); err != nil {
				return err
			}
		}
		r, term, trunc, err := d.e.Step(a, next)
		if err != nil {
			return err
		}
		d.buf.add(d.obs, a, r, next, term)
		d.ret += r
		d.steps++
		copy(d.obs, next)
		if term || trunc {
			c.episode(d.ret)
			d.ret = 0
			d.episode++
			d.e.Reset(d.episode, d.obs)
		}
		if d.steps > d.cfg.LearningStart && d.steps%d.cfg.TrainEvery == 0 {
			if d.cfg.Schedule != nil {
				d.online.opt.SetLearningRate(d.cfg.Schedule.LearningRate(d.steps, steps, d.cfg.LearningRate))
			}
			for g := 0; g < d.cfg.GradientSteps; g++ {
				l, err := d.learn()
				if err != nil {
					return err
				}
				c.loss(l)
			}
		}
		if d.steps%d.cfg.TargetEvery == 0 {
			if err := copyValues(d.target.g, d.online.g); err != nil {
				return err
			}
		}
		if d.steps%chunk == 0 || d.steps == steps {
			if err := report(c.done(d.steps, eps)); err != nil {
				return err
			}
			c = chunkStats{start: time.Now()}
		}
	}
	return nil
}

// learn takes one gradient step on a batch drawn from the replay buffer.
func (d *DQN) learn() (float64, error) {
	B, A := d.cfg.BatchSize, d.actions
	s, a, r, s2, term := d.buf.sample(d.rng, B)
	qNext, err := d.next.run(s2)
	if err != nil {
		return 0, err
	}
	qTarget, err := d.target.run(s2)
	if err != nil {
		return 0, err
	}
	y := make([]float64, B)
	onehot := make([]float64, B*A)
	for i := 0; i < B; i++ {
		y[i] = r[i]
		if !term[i] {
			best := argmax(qNext[i*A:(i+1)*A], nil)
			y[i] += d.cfg.Discount * qTarget[i*A+best]
		}
		onehot[i*A+a[i]] = 1
	}
	if err := d.online.g.SetInput(d.onehot, onehot); err != nil {
		return 0, err
	}
	l, err := d.online.step(s, y, ones(B))
	d.updates++
	return l, err
}

// replay is a ring buffer of transitions.
type replay struct {
	obs, next []float64
	act       []int
	rew       []float64
	term      []bool
	size, n   int
	pos       int
	width     int
}

func newReplay(capacity, width int) *replay {
	return &replay{obs: make([]float64, capacity*width), next: make([]float64, capacity*width), act: make([]int, capacity),
		rew: make([]float64, capacity), term: make([]bool, capacity), size: capacity, width: width}
}

func (b *replay) add(obs []float32, a int, r float64, next []float32, term bool) {
	i := b.pos
	for j := 0; j < b.width; j++ {
		b.obs[i*b.width+j] = float64(obs[j])
		b.next[i*b.width+j] = float64(next[j])
	}
	b.act[i], b.rew[i], b.term[i] = a, r, term
	b.pos = (b.pos + 1) % b.size
	b.n = min(b.n+1, b.size)
}

// sample draws n transitions uniformly, with replacement.
func (b *replay) sample(rng *rand.Rand, n int) (s []float64, a []int, r []float64, s2 []float64, term []bool) {
	s, s2 = make([]float64, n*b.width), make([]float64, n*b.width)
	a, r, term = make([]int, n), make([]float64, n), make([]bool, n)
	for k := 0; k < n; k++ {
		i := rng.IntN(b.n)
		copy(s[k*b.width:], b.obs[i*b.width:(i+1)*b.width])
		copy(s2[k*b.width:], b.next[i*b.width:(i+1)*b.width])
		a[k], r[k], term[k] = b.act[i], b.rew[i], b.term[i]
	}
	return
}

// argmax returns the index of the largest of v among the legal ones (all
// if legal is nil), the first of equals.
func argmax(v []float64, legal []bool) int {
	best, bv := -1, math.Inf(-1)
	for i, x := range v {
		if (legal == nil || legal[i]) && (best < 0 || x > bv) {
			best, bv = i, x
		}
	}
	return best
}

// randomLegal returns a legal action drawn uniformly.
func randomLegal(rng *rand.Rand, legal []bool) int {
	n := 0
	for _, l := range legal {
		if l {
			n++
		}
	}
	k := rng.IntN(n)
	for i, l := range legal {
		if l {
			if k == 0 {
				return i
			}
			k--
		}
	}
	return 0
}

func toFloat64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

func ones(n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = 1
	}
	return v
}

func size(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}
