package run

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/dlrun/dlrun/datasets"
	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/nn"
	"github.com/dlrun/dlrun/train"
	"github.com/pkg/errors"
)

// MaxGenerateLength is the most tokens Generate writes, and the most
// bytes of prime it reads, at one call (1 MiB of text).
const MaxGenerateLength = 1 << 20

// GenerateOptions control text generation.
type GenerateOptions struct {
	Prime       string  // text the model reads before it writes (default DefaultPrime)
	Length      int     // tokens (characters) to write
	Temperature float64 // sampling temperature; 0 picks the most likely token
	Seed        uint64  // seeds sampling: the same seed writes the same text
	// Data names the text whose characters are the vocabulary of a run
	// that records none (a model trained from Go), as training read it
	// (default: the run's dataset). A run that records its vocabulary
	// reads no text.
	Data string
}

// DefaultPrime is the prime of a generation given none: a new line, as
// a text begins.
const DefaultPrime = "\n"

// generating is a kind whose runs write text: a language model's.
type generating interface {
	generates()
}

// Generates reports whether r writes text (Generate, Continue): whether
// it is a language model's run.
func (r *Run) Generates() bool {
	_, ok := capability[generating](r)
	return ok
}

// Generate writes text with language model r (its chosen weights): it
// reads the prime, then samples Length tokens one at a time, each fed
// back as the next input, and returns the prime and what it wrote
// (Continue).
func (r *Run) Generate(o GenerateOptions) (string, error) {
	if o.Prime == "" {
		o.Prime = DefaultPrime
	}
	text, err := r.Continue(context.Background(), o)
	if err != nil {
		return "", err
	}
	return o.Prime + text, nil
}

// Continue is Generate returning only the Length tokens written after the
// prime, and stopping with ctx's error when ctx ends. The model is rebuilt
// for one stream of one step, incrementally (nn.SetIncremental): stateful
// recurrent layers carry their state from step to step, and a
// transformer's attentions keep the keys and values of the steps so far,
// so each token costs the same however long the text. A model with such a
// window (attention or positions: as many steps as it was trained on) that
// fills it starts again on the last half of the text it holds.
func (r *Run) Continue(ctx context.Context, o GenerateOptions) (string, error) {
	if !r.Generates() {
		return "", doesNotApply("generating text", r.Kind, "a language model (next-token)")
	}
	if err := o.Check(); err != nil {
		return "", err
	}
	vocab := r.Config.Vocab
	if len(vocab) == 0 { // a model trained from Go: the vocabulary of its text
		t, name, err := runText(r, o.Data)
		if err != nil {
			return "", err
		}
		if vocab, err = vocabOf(r, name, t); err != nil {
			return "", err
		}
	}
	if o.Prime == "" {
		o.Prime = DefaultPrime
	}
	prime, err := datasets.Encode(vocab, o.Prime)
	if err != nil {
		return "", errors.Wrap(err, "--prime")
	}
	info := r.Model.Info
	dt, err := graph.ParseDType(info.DType)
	if err != nil {
		return "", err
	}
	model, err := info.Model.Build()
	if err != nil {
		return "", errors.Wrapf(err, "run folder %s: model.json", r.Dir)
	}
	window := 0
	if len(info.InputShape) > 0 {
		window = info.InputShape[0]
	}
	if err := nn.SetIncremental(model, window); err != nil {
		return "", errors.Wrapf(err, "model %s cannot write a token at a time", model.Name())
	}
	if !nn.Windowed(model) {
		window = 0 // no limit
	}
	cfg := r.Config
	g := graph.New(graph.WithDType(dt), graph.WithSeed(cfg.Seed))
	x, err := g.Input("x", 1, 1)
	if err != nil {
		return "", err
	}
	y, err := model.Build(g, x)
	if err != nil {
		return "", err
	}
	if err := train.LoadWeights(r.Weights, g); err != nil {
		return "", err
	}
	prog, err := g.CompileForward(y)
	if err != nil {
		return "", err
	}
	defer prog.Close()
	rng := rand.New(rand.NewPCG(o.Seed, 0x67656e)) // "gen"
	logits := make([]float64, len(vocab))
	in := []float64{0}
	var held []int // the tokens the model holds, for a windowed one
	var step func(id int) error
	step = func(id int) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if window > 0 {
			if len(held) == window {
				keep := slices.Clone(held[window-window/2:])
				held = held[:0]
				nn.ResetState(model)
				for _, k := range keep {
					if err := step(k); err != nil {
						return err
					}
				}
			}
			held = append(held, id)
		}
		in[0] = float64(id)
		if err := g.SetInput(x, in); err != nil {
			return err
		}
		if _, err := prog.Run(false); err != nil {
			return err
		}
		return prog.OutputRow(0, 0, logits)
	}
	for _, id := range prime {
		if err := step(id); err != nil {
			return "", err
		}
	}
	var b strings.Builder
	for i := 0; i < o.Length; i++ {
		next := Sample(logits, o.Temperature, rng)
		b.WriteString(vocab[next])
		if err := step(next); err != nil {
			return "", err
		}
	}
	return b.String(), nil
}

// Check reports the first of o's settings out of its range.
func (o GenerateOptions) Check() error {
	if o.Length < 0 || o.Length > MaxGenerateLength {
		return errors.Errorf("--length %d: must be 0 to %d (run.MaxGenerateLength)", o.Length, MaxGenerateLength)
	}
	if len(o.Prime) > MaxGenerateLength {
		return errors.Errorf("--prime: %d bytes, more than %d (run.MaxGenerateLength)", len(o.Prime), MaxGenerateLength)
	}
	if o.Temperature < 0 || math.IsNaN(o.Temperature) || math.IsInf(o.Temperature, 0) {
		return errors.Errorf("--temperature %g: must be a finite number, not negative", o.Temperature)
	}
	return nil
}

// Sample draws the next token from logits divided by temperature (0 or
// less: the most likely token) using rng.
func Sample(logits []float64, temperature float64, rng *rand.Rand) int {
	best := 0
	for i, v := range logits {
		if v > logits[best] {
			best = i
		}
	}
	if temperature <= 0 {
		return best
	}
	p := make([]float64, len(logits))
	sum := 0.0
	for i, v := range logits {
		p[i] = math.Exp((v - logits[best]) / temperature)
		sum += p[i]
	}
	u := rng.Float64() * sum
	for i, v := range p {
		if u < v {
			return i
		}
		u -= v
	}
	return best
}
