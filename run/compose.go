package run

import (
	"math"
	"math/rand/v2"

	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/music"
	"github.com/dlrun/dlrun/nn"
	"github.com/dlrun/dlrun/train"
	"github.com/pkg/errors"
)

// MaxComposeSteps is the most steps Compose reads and writes at one call,
// prime and composed steps together.
const MaxComposeSteps = 2048

// ComposeOptions control composing.
type ComposeOptions struct {
	// Prime holds the steps the model reads before it composes, on the
	// run's grid (Run.Grid); nil primes with the first step of a training piece of
	// the run's own data, drawn by Seed.
	Prime *music.Roll
	// Steps is the number of steps to compose after the prime.
	Steps int
	// Temperature divides the logits before each key is drawn on with its
	// probability; 0 sounds exactly the keys whose probability is at
	// least 0.5 (with an autoregressive output, given the keys below it
	// as decided). dlrun compose's default is 1: the model's own
	// distribution.
	Temperature float64
	// Seed seeds the draws: the same seed composes the same piece.
	Seed uint64
}

// composing is a kind whose runs compose music.
type composing interface {
	composes()
}

// composes implements composing.
func (*musicKind) composes() {}

// Check reports the first of o's settings out of its range.
func (o ComposeOptions) Check() error {
	if o.Steps < 1 || o.Steps > MaxComposeSteps {
		return errors.Errorf("--steps %d: must be 1 to %d (run.MaxComposeSteps)", o.Steps, MaxComposeSteps)
	}
	if o.Prime != nil && len(o.Prime.Steps)+o.Steps > MaxComposeSteps {
		return errors.Errorf("--prime of %d steps and --steps %d: more than the %d steps composing reads and writes at once (run.MaxComposeSteps)", len(o.Prime.Steps), o.Steps, MaxComposeSteps)
	}
	if o.Prime != nil && len(o.Prime.Steps) == 0 {
		return errors.New("--prime holds no steps")
	}
	if o.Temperature < 0 || math.IsNaN(o.Temperature) || math.IsInf(o.Temperature, 0) {
		return errors.Errorf("--temperature %g: must be a finite number, not negative", o.Temperature)
	}
	return nil
}

// Composes reports whether r composes music (Compose): whether it is a
// music model's run.
func (r *Run) Composes() bool {
	_, ok := capability[composing](r)
	return ok
}

// Compose writes a piece with music model r (its chosen weights): it
// reads the prime, then draws Steps steps one at a time, each key of a
// step on with the probability the model gives it (its logit divided by
// the temperature; with an autoregressive output, key by key from the
// lowest, each given the keys drawn below it: nn.JointWeights.Draw), each step fed
// back as the next input. The piece
// returned is the prime followed by the composed steps, on the run's
// quarter-note grid at music's default tempo.
func (r *Run) Compose(o ComposeOptions) (*music.Roll, error) {
	if !r.Composes() {
		return nil, doesNotApply("composing", r.Kind, "a music model")
	}
	if err := o.Check(); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x636f6d)) // "com"
	prime := o.Prime
	if prime == nil {
		var err error
		if prime, err = r.openingStep(rng); err != nil {
			return nil, err
		}
	}
	n := len(prime.Steps) + o.Steps
	info := r.Model.Info
	dt, err := graph.ParseDType(info.DType)
	if err != nil {
		return nil, err
	}
	model, err := info.Model.Build()
	if err != nil {
		return nil, errors.Wrapf(err, "run folder %s: model.json", r.Dir)
	}
	g := graph.New(graph.WithDType(dt), graph.WithSeed(r.Config.Seed))
	x, err := g.Input("x", 1, n, music.Keys)
	if err != nil {
		return nil, err
	}
	y, err := model.Build(g, x)
	if err != nil {
		return nil, errors.Wrapf(err, "run folder %s: its model reading %d steps", r.Dir, n)
	}
	if err := train.LoadWeights(r.Weights, g); err != nil {
		return nil, err
	}
	// A joint output draws a step's keys one by one, each given those
	// below it; without one each key is drawn on its own (weights nil).
	joint, err := nn.AutoregressiveOutput(model)
	if err != nil {
		return nil, errors.Wrapf(err, "run folder %s: model.json", r.Dir)
	}
	var weights *nn.JointWeights
	if joint != nil {
		if weights, err = joint.Weights(music.Keys); err != nil {
			return nil, err
		}
	}
	prog, err := g.CompileForward(y)
	if err != nil {
		return nil, err
	}
	defer prog.Close()
	// The model is causal: the logits after step t read steps 1..t only,
	// so the steps not yet composed may stay silent in the input.
	in := make([]float64, n*music.Keys)
	out := &music.Roll{Steps: make([]music.Step, 0, n), Grid: prime.Grid, Tempo: prime.Tempo, Meter: prime.Meter}
	put := func(t int, s music.Step) {
		for k := 0; k < music.Keys; k++ {
			in[t*music.Keys+k] = 0
			if s.Has(music.Lowest + k) {
				in[t*music.Keys+k] = 1
			}
		}
		out.Steps = append(out.Steps, s)
	}
	for t, s := range prime.Steps {
		put(t, s)
	}
	logits, keys := make([]float64, music.Keys), make([]float64, music.Keys)
	for t := len(prime.Steps); t < n; t++ {
		if err := g.SetInput(x, in); err != nil {
			return nil, err
		}
		if _, err := prog.Run(false); err != nil {
			return nil, err
		}
		if err := prog.OutputRow(0, t-1, logits); err != nil {
			return nil, err
		}
		if err := weights.Draw(logits, o.Temperature, rng.Float64, keys); err != nil {
			return nil, err
		}
		var s music.Step
		for k, on := range keys {
			if on == 1 {
				if err := s.Add(music.Lowest + k); err != nil {
					return nil, err
				}
			}
		}
		put(t, s)
	}
	return out, nil
}

// Grid returns the step of music run r's piano rolls (config.json's
// grid; quarter notes when it records none).
func (r *Run) Grid() (music.Grid, error) { return parseGrid(r.Config.Grid) }

// openingStep returns a roll of one step, the first step of a training
// piece of r's own data drawn by rng: what Compose starts from when
// given no prime.
func (r *Run) openingStep(rng *rand.Rand) (*music.Roll, error) {
	name, err := evalDataset(r, "")
	if err != nil {
		return nil, errors.Wrap(err, "composing without --prime starts from a training piece's first step")
	}
	m, err := LoadMusic(name, r.Config.Grid)
	if err != nil {
		return nil, errors.Wrapf(unloadable(r, err), "composing without --prime starts from a training piece's first step")
	}
	if len(m.Train) == 0 {
		return nil, errors.Errorf("dataset %s has no training pieces to start from: give --prime", m.Name)
	}
	p := m.Train[rng.IntN(len(m.Train))].Roll
	return &music.Roll{Steps: p.Steps[:1], Grid: p.Grid, Tempo: p.Tempo, Meter: p.Meter}, nil
}
