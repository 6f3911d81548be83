package train

import (
	"math"
	"math/rand/v2"
	"reflect"

	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/nn"
	"github.com/pkg/errors"
)

// Data is a split of a dataset as the loop sees it. Each task says what
// more it needs: Classify reads Examples (or a Source), NextToken reads
// Tokens, Rating reads Ratings, Regress reads Targets.
type Data interface {
	// Len returns the number of examples (or tokens).
	Len() int
}

// Examples are labelled examples of a fixed shape, what Classify trains
// on. datasets.Split implements it.
type Examples interface {
	Data
	// Shape returns the per-example input shape.
	Shape() []int
	// NumClasses returns the number of classes of the labels.
	NumClasses() int
	// Example copies example i into dst (prod(Shape) values) and returns
	// its label.
	Example(i int, dst []float32) int
}

// Tokens is a sequence of token ids, what NextToken trains on.
type Tokens []int

// Len implements Data.
func (t Tokens) Len() int { return len(t) }

// A Task is what differs between kinds of models, handed to the one
// training loop: which inputs the model reads and what its targets are,
// how a pass over the data is cut into batches and each batch filled, and
// how outputs are scored. Classify (image and feature classification),
// NextToken (language models), Rating (recommenders) and Regress (numbers
// from tables) are train's own
// tasks, each rebuilt from a model.json by the registration in its file. A
// task value serves one Trainer: Build binds it to that trainer's graph.
type Task interface {
	// Name returns the task's name, as config files write it.
	Name() string
	// InputShape returns the per-example shape of the model's input:
	// an image's [c h w], a sequence of ids' [steps].
	InputShape() []int
	// OutputSize returns the size of the model's output per example (per
	// step for a sequence): classes, or the vocabulary.
	OutputSize() int
	// Build declares the task's inputs on g for batches of batch rows,
	// builds model on them and adds the loss. It returns the model's
	// output and the scalar loss to minimise.
	Build(g *graph.Graph, model nn.Layer, batch int, loss Loss) (out, lossNode *graph.Node, err error)
	// Check reports whether d is data the task can run on; role ("training",
	// "test") names the split in the error.
	Check(d Data, role string) error
	// Pass starts a pass over d and returns its number of batches. rng, if
	// not nil, orders a training pass; nil keeps the data order.
	Pass(d Data, rng *rand.Rand) (batches int, err error)
	// Fill binds batch i of the current pass to the task's inputs and
	// returns how many examples (or tokens) it holds; the rest of the
	// batch is padding of weight 0, which the loss ignores.
	Fill(i int) (n int, err error)
	// Metrics names the figures a pass is scored by besides the loss
	// (Accuracy for classification; RMSE and MAE for ratings).
	Metrics() []Metric
	// Score reads the outputs of the batch just run and returns, for each
	// of Metrics in order, the sum over the batch's examples of its
	// per-example value (1 for a right prediction, the squared error, ...),
	// for a Ratio metric the batch's numerator and denominator, or for a
	// metric of counts (Metric.Counts) its Counts sums. With ev
	// not nil it may also append each example's label and prediction.
	Score(p *graph.Program, ev *Evaluation) (sums []float64, err error)
}

// Metric is a figure a task scores a pass by, besides the loss: the mean
// over the pass's examples of a per-example value, or its square root; or
// a figure of counts summed over the pass, such as an F1 score from true
// positives, false positives and false negatives, which no mean of
// per-example values gives.
type Metric struct {
	// Name is the figure's snake_case name: metrics.csv and summary.json
	// write it as train_<name> and test_<name>.
	Name string
	// HigherIsBetter says which way improves (early stopping, the best
	// epoch).
	HigherIsBetter bool
	// Root makes the figure the square root of the mean (RMSE).
	Root bool
	// Counts, when positive, makes the figure one of counts: Score
	// returns Counts sums for it, which are added up over the pass (and
	// over the processes of data-parallel training), and Of computes the
	// figure from their totals. Zero means a mean of one per-example value.
	Counts int
	// Of computes a figure of counts from the pass's totals (Counts of
	// them).
	Of func(totals []float64) float64
	// Ratio makes the figure a ratio of two sums over the pass rather
	// than a mean over its examples: Score gives two values for it, the
	// numerator's and the denominator's part of the batch (frame
	// accuracy's true positives, and its true positives, false positives
	// and false negatives together). A pass whose denominator is 0 scores 0.
	Ratio bool
}

// width returns the number of sums Score gives for m: two for a ratio,
// Counts for a metric of counts, one for a mean.
func (m Metric) width() int {
	if m.Ratio {
		return 2
	}
	return max(m.Counts, 1)
}

// Accuracy is the share of examples whose prediction is right.
var Accuracy = Metric{Name: "accuracy", HigherIsBetter: true}

// figures returns how many values Score gives for metrics ms: each one's
// width.
func figures(ms []Metric) int {
	n := 0
	for _, m := range ms {
		n += m.width()
	}
	return n
}

// reduce turns a pass's sums for metrics ms (Score's values summed over
// its batches) over n examples into the metrics' figures.
func reduce(ms []Metric, sums []float64, n int) []float64 {
	out := make([]float64, len(ms))
	j := 0
	for i, m := range ms {
		out[i] = m.reduce(sums[j:j+m.width()], n)
		j += m.width()
	}
	return out
}

// reduce turns a pass's sums for m (its width of them) over n examples
// into the metric's figure.
func (m Metric) reduce(sums []float64, n int) float64 {
	switch {
	case m.Ratio:
		if sums[1] == 0 {
			return 0
		}
		return sums[0] / sums[1]
	case m.Counts > 0:
		return m.Of(sums)
	}
	v := sums[0] / float64(n)
	if m.Root {
		return math.Sqrt(v)
	}
	return v
}

// A Deriver is a task that derives a further figure from the mean loss of
// a pass, such as bits per character from a language model's loss in
// nats. Logs and summaries show it beside the loss.
type Deriver interface {
	// Derived returns the figure's name and its value for loss.
	Derived(loss float64) (name string, value float64)
}

// A Stateful layer carries state from one batch to the next (a stateful
// recurrent layer); the loop resets it at the start of every pass over
// data, training, evaluation or prediction, whatever the task.
type Stateful interface {
	ResetState()
}

// Evaluation holds the result of a pass over a dataset split without
// training.
type Evaluation struct {
	Loss     float64
	Accuracy float64 // for a task scored by Accuracy
	// Metrics holds the task's other figures by name (rmse, mae).
	Metrics map[string]float64
	// Labels and Predictions hold each example's true label and predicted
	// class, in data order (Classify only).
	Labels      []int
	Predictions []int
	// Probabilities holds each clip's per-frame probability that the
	// frame lies at the middle of a transition (Transition.Middle), in
	// clip order (Shots only).
	Probabilities [][]float64
}

// StatefulLayers returns the layers of model (looking inside Sequential
// models and residual blocks) that carry state between batches: what to
// reset before a run that must start from the zero state.
func StatefulLayers(model nn.Layer) []Stateful {
	var out []Stateful
	for _, l := range nn.AllLayers(model) {
		if s, ok := l.(Stateful); ok {
			out = append(out, s)
		}
	}
	return out
}

// isNil reports whether v is nil or a nil pointer in an interface.
func isNil(v any) bool {
	if v == nil {
		return true
	}
	r := reflect.ValueOf(v)
	return r.Kind() == reflect.Pointer && r.IsNil()
}

// shuffledPass cuts a pass over n examples into batches, in data order or
// in an order drawn from an RNG: what Classify and Rating share.
type shuffledPass struct {
	batch int // rows of the graph's batch
	// global, lo and hi are set by shard in data-parallel training: the
	// pass is cut into batches of global examples, of which this process
	// takes rows [lo, hi) (batch of them). Zero: batches of batch rows.
	global, lo, hi int
	order          []int
}

// shard implements sharded.
func (p *shuffledPass) shard(global, lo, hi int) { p.global, p.lo, p.hi = global, lo, hi }

// span returns the global batch and this process's rows of it.
func (p *shuffledPass) span() (global, lo, hi int) {
	if p.global == 0 {
		return p.batch, 0, p.batch
	}
	return p.global, p.lo, p.hi
}

// place returns the place in the pass of the first example of batch i
// that this process takes.
func (p *shuffledPass) place(i int) int {
	global, lo, _ := p.span()
	return i*global + lo
}

// start begins a pass over n examples, shuffled by rng unless it is nil,
// and returns the number of batches.
func (p *shuffledPass) start(n int, rng *rand.Rand) int {
	p.order = p.order[:0]
	for i := 0; i < n; i++ {
		p.order = append(p.order, i)
	}
	if rng != nil {
		rng.Shuffle(len(p.order), func(i, j int) { p.order[i], p.order[j] = p.order[j], p.order[i] })
	}
	global, _, _ := p.span()
	return (len(p.order) + global - 1) / global
}

// indices returns the examples of batch i of the pass that this process
// takes (the last batch may be short, or hold none of them); task names
// the task in the error.
func (p *shuffledPass) indices(i int, task string) ([]int, error) {
	global, lo, hi := p.span()
	base := i * global
	if base < 0 || base >= len(p.order) {
		return nil, errors.Errorf("%s: batch %d is outside the pass", task, i+1)
	}
	n := len(p.order)
	return p.order[min(base+lo, n):min(base+hi, n)], nil
}
