// Package train is dlrun's training loop: one Trainer whose Fit trains any
// nn model on a Gorgonia graph (reverse-mode symbolic differentiation, run by
// graph.Program)
// for any Task — classification, next-token prediction, rating prediction
// for recommenders, and whatever kind of model comes next — with seeded shuffling, a held-out evaluation after
// each epoch, learning-rate schedules, early stopping, NaN detection and
// checkpoints that resume bit for bit. The losses and optimizers are the
// ones a Keras or PyTorch user expects; Minimizer trains a hand-built
// graph with them. Run folders (config.json, metrics.csv, ...) are the
// run package's business.
package train

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"time"

	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/nn"
	"github.com/pkg/errors"
)

// ErrClosed is returned by a Trainer used after Close.
var ErrClosed = errors.New("train: the trainer is closed")

// EpochStats are the metrics of one epoch.
type EpochStats struct {
	Epoch         int     `json:"epoch"`
	TrainLoss     float64 `json:"train_loss"`
	TrainAccuracy float64 `json:"train_accuracy"` // for a task scored by Accuracy
	TestLoss      float64 `json:"test_loss"`
	TestAccuracy  float64 `json:"test_accuracy"`
	// Metrics holds the task's other figures as train_<name> and
	// test_<name> (train_rmse, test_mae).
	Metrics      map[string]float64 `json:"metrics,omitempty"`
	LearningRate float64            `json:"learning_rate"` // the optimizer's rate during the epoch
	Seconds      float64            `json:"seconds"`       // wall time of the epoch, evaluation included
	TrainSeconds float64            `json:"train_seconds"` // wall time of the training steps alone
	Samples      int                `json:"samples"`       // training examples (tokens) seen
}

// Trainer trains one model on one task. It owns the graph, the compiled
// program and the optimizer; create it with New.
type Trainer struct {
	cfg   Config
	parts parts
	task  Task
	model nn.Layer
	g     *graph.Graph
	min   *Minimizer
	state []Stateful // layers reset at the start of every pass

	shuffle *rand.Rand
	pcg     *rand.PCG
	epoch   int
	baseLR  float64
	hist    []EpochStats
	stopped bool
	closed  bool

	red    *reducer // data-parallel training: the processes' sums
	filled int      // examples of the batch being stepped (reduce weighs by it)
}

// New builds model for task on a new graph seeded with cfg.Seed, with
// batches of cfg.BatchSize, and compiles it. Zero fields of cfg take their
// defaults (Config.Defaults).
func New(model nn.Layer, task Task, cfg Config) (t *Trainer, err error) {
	if isNil(model) {
		return nil, errors.New("train: nil model")
	}
	if isNil(task) {
		return nil, errors.New("train: nil task")
	}
	if err := checkJoint(model, task); err != nil {
		return nil, err
	}
	cfg = cfg.Defaults()
	p, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	if p.stopping, err = p.stopping.forTask(task.Name(), task.Metrics()); err != nil {
		return nil, err
	}
	t = &Trainer{cfg: cfg, parts: p, task: task, model: model}
	batch := cfg.BatchSize
	var lo, hi int
	if t.distributed() {
		c := cfg.Collective
		if lo, hi = share(batch, c.Rank(), c.Size()); hi <= lo {
			return nil, errors.Errorf("batch_size %d: smaller than the %d processes of data-parallel training, each of which takes a share of every batch", batch, c.Size())
		}
		if _, ok := task.(sharded); !ok {
			return nil, errors.Errorf("task %s cannot be trained data-parallel (built-in tasks can)", task.Name())
		}
		batch = hi - lo
	}
	// The memory the training needs is estimated from the shapes and
	// compared with what the process may use before anything is built:
	// a model far too large is refused before it reserves any of it.
	if c, ok := task.(buildChecker); ok {
		if err := c.checkBuild(model, batch, p.loss); err != nil {
			return nil, err
		}
	}
	est, err := estimate(model, task, batch, p)
	if err != nil {
		return nil, err
	}
	if err := est.check(model.Name(), batch, model.NumParams(task.InputShape())); err != nil {
		return nil, err
	}
	t.baseLR = p.opt.LearningRate()
	t.g = graph.New(graph.WithDType(p.dtype), graph.WithSeed(cfg.Seed))
	t.pcg = rand.NewPCG(cfg.Seed, 0x73687566) // "shuf"
	t.shuffle = rand.New(t.pcg)
	out, loss, err := task.Build(t.g, model, batch, p.loss)
	if err != nil {
		return nil, err
	}
	if t.distributed() {
		task.(sharded).shard(cfg.BatchSize, lo, hi)
	}
	if st, ok := task.(sourceTask); ok {
		st.readers(cfg.Workers, cfg.Prefetch)
	}
	// Layers may add penalties to the loss (the recommenders' L2 on the
	// rows of each batch); the loss trained and reported includes them,
	// as Keras's does.
	if loss, err = t.g.PenalisedLoss(loss); err != nil {
		return nil, err
	}
	if t.min, err = NewMinimizer(t.g, loss, p.opt, out); err != nil {
		return nil, errors.Wrapf(err, "model %s", model.Name())
	}
	if t.distributed() {
		t.red = &reducer{c: cfg.Collective}
		t.min.reduce = func() error { return t.red.reduceGradients(t.min.prog, t.filled) }
	}
	// Then the built graph's own estimate, before the first pass
	// reserves most of it.
	need := t.min.Program().MemoryEstimate() + est.State + est.Checkpoint
	if err := fits(need, fmt.Sprintf("model %s: a batch of %d", model.Name(), cfg.BatchSize), "", lowerTheBatch); err != nil {
		t.Close()
		return nil, err
	}
	t.state = StatefulLayers(model)
	return t, nil
}

// Config returns the configuration, defaults applied.
func (t *Trainer) Config() Config { return t.cfg }

// Task returns the trainer's task.
func (t *Trainer) Task() Task { return t.task }

// Model returns the model the trainer built.
func (t *Trainer) Model() nn.Layer { return t.model }

// Graph returns the model's graph (parameters, buffers, RNG).
func (t *Trainer) Graph() *graph.Graph { return t.g }

// Optimizer returns the optimizer.
func (t *Trainer) Optimizer() Optimizer { return t.parts.opt }

// BaseLearningRate returns the optimizer's rate before any schedule: the
// configured one, or the optimizer's default.
func (t *Trainer) BaseLearningRate() float64 { return t.baseLR }

// Loss returns the loss the trainer minimises.
func (t *Trainer) Loss() Loss { return t.parts.loss }

// NumParams returns the number of trainable scalars.
func (t *Trainer) NumParams() int { return t.g.NumParams() }

// Epoch returns the number of epochs trained so far.
func (t *Trainer) Epoch() int { return t.epoch }

// History returns the metrics of every epoch trained so far (restored
// ones included).
func (t *Trainer) History() []EpochStats { return append([]EpochStats(nil), t.hist...) }

// Stopped reports whether early stopping ended the last Fit.
func (t *Trainer) Stopped() bool { return t.stopped }

// Best returns the index in History of the best epoch by the early-stopping
// metric (the first of equals), or -1 before the first epoch.
func (t *Trainer) Best() int { return t.parts.stopping.Best(t.hist) }

// Close releases the compiled program; the trainer returns ErrClosed after.
func (t *Trainer) Close() error {
	if t == nil || t.closed {
		return nil
	}
	t.closed = true
	if st, ok := t.task.(sourceTask); ok {
		st.close()
	}
	return t.min.Close()
}

func (t *Trainer) usable() error {
	if t == nil || t.min == nil {
		return errors.New("train: nil trainer: use train.New")
	}
	if t.closed {
		return ErrClosed
	}
	return nil
}

// Value returns the figure called name: train_loss, test_loss,
// train_accuracy, test_accuracy, learning_rate, or a task's
// train_<metric> and test_<metric>.
func (s EpochStats) Value(name string) (float64, bool) {
	switch name {
	case "train_loss":
		return s.TrainLoss, true
	case "test_loss":
		return s.TestLoss, true
	case "train_accuracy":
		return s.TrainAccuracy, true
	case "test_accuracy":
		return s.TestAccuracy, true
	case "learning_rate":
		return s.LearningRate, true
	}
	v, ok := s.Metrics[name]
	return v, ok
}

// Value0 is Value with 0 for a figure the epoch lacks.
func (s EpochStats) Value0(name string) float64 {
	v, _ := s.Value(name)
	return v
}

// set records a task's figure for split ("train" or "test").
func (s *EpochStats) set(split string, m Metric, v float64) {
	switch {
	case m.Name == Accuracy.Name && split == "train":
		s.TrainAccuracy = v
	case m.Name == Accuracy.Name:
		s.TestAccuracy = v
	default:
		if s.Metrics == nil {
			s.Metrics = map[string]float64{}
		}
		s.Metrics[split+"_"+m.Name] = v
	}
}

// pass runs one pass of the task over d: training steps if training, else
// evaluation runs (recording labels and predictions into ev if not nil).
// It returns the mean loss and the task's metrics over the pass's
// examples.
func (t *Trainer) pass(d Data, training bool, ev *Evaluation) (loss float64, metrics []float64, err error) {
	var order *rand.Rand
	if training && !t.cfg.NoShuffle {
		order = t.shuffle
	}
	if st, ok := t.task.(sourceTask); ok && training && st.augments(d) {
		st.augmentNext(t.shuffle.Uint64())
	}
	n, err := t.start(d, order)
	if err != nil {
		return 0, nil, err
	}
	ms := t.task.Metrics()
	for _, m := range ms {
		if m.Counts > 0 && m.Of == nil {
			return 0, nil, errors.Errorf("task %s: metric %s of counts has no Of", t.task.Name(), m.Name)
		}
	}
	sum, count, sums := 0.0, 0, make([]float64, figures(ms))
	for i := 0; i < n; i++ {
		k, err := t.task.Fill(i)
		if err != nil { // an example that could not be read
			if training {
				return 0, nil, errors.Wrapf(err, "epoch %d, batch %d", t.epoch+1, i+1)
			}
			return 0, nil, errors.Wrap(err, "evaluating")
		}
		t.filled = k
		var l float64
		if training {
			if s, ok := t.parts.schedule.(StepSchedule); ok {
				t.parts.opt.SetLearningRate(s.StepLearningRate(t.epoch*n+i, t.cfg.Epochs*n, t.baseLR))
			}
			if l, err = t.min.Step(); err == nil && t.red != nil {
				err = t.red.broadcastBuffers(t.g)
			}
		} else {
			l, err = t.min.Loss()
		}
		if err != nil {
			if training {
				return 0, nil, errors.Wrapf(err, "epoch %d, batch %d", t.epoch+1, i+1)
			}
			return 0, nil, errors.Wrap(err, "evaluating")
		}
		sum += l * float64(k)
		count += k
		s, err := t.task.Score(t.min.prog, ev)
		if err != nil {
			return 0, nil, err
		}
		if len(s) != len(sums) {
			return 0, nil, errors.Errorf("task %s scored %d figures for %d metrics, which take %d", t.task.Name(), len(s), len(ms), len(sums))
		}
		for j, v := range s {
			sums[j] += v
		}
		if training && t.cfg.OnBatch != nil {
			t.cfg.OnBatch(i+1, n, l)
		}
	}
	if t.red != nil { // the figures of the whole pass, the same on every process
		all, err := t.red.sumFloats(append([]float64{sum, float64(count)}, sums...))
		if err != nil {
			return 0, nil, errors.Wrap(err, "summing the pass's figures")
		}
		sum, count, sums = all[0], int(all[1]), all[2:]
	}
	if count == 0 {
		return 0, nil, errors.New("the pass held no examples")
	}
	return sum / float64(count), reduce(ms, sums, count), nil
}

// start resets the stateful layers (they begin every pass from zeros) and
// starts the task's pass over d.
func (t *Trainer) start(d Data, order *rand.Rand) (int, error) {
	for _, s := range t.state {
		s.ResetState()
	}
	return t.task.Pass(d, order)
}

// TrainEpoch runs one epoch of training steps over d and returns the mean
// loss and the task's metrics over its examples, in the order of
// Task.Metrics (as the weights changed during the epoch, like Keras's
// training metrics).
func (t *Trainer) TrainEpoch(d Data) (loss float64, metrics []float64, err error) {
	if err := t.usable(); err != nil {
		return 0, nil, err
	}
	if err := t.task.Check(d, "training"); err != nil {
		return 0, nil, err
	}
	return t.trainEpoch(d)
}

// trainEpoch runs one epoch of training steps over checked data.
func (t *Trainer) trainEpoch(d Data) (loss float64, metrics []float64, err error) {
	if loss, metrics, err = t.pass(d, true, nil); err != nil {
		return 0, nil, err
	}
	t.epoch++
	return loss, metrics, nil
}

// Evaluate computes the loss and accuracy of the model on d, in data
// order, without training (layers in evaluation mode: dropout off,
// batch norm on its running statistics).
func (t *Trainer) Evaluate(d Data) (*Evaluation, error) {
	if err := t.usable(); err != nil {
		return nil, err
	}
	if err := t.task.Check(d, "evaluation"); err != nil {
		return nil, err
	}
	ev := &Evaluation{}
	loss, metrics, err := t.pass(d, false, ev)
	if err != nil {
		return nil, err
	}
	ev.Loss = loss
	var s EpochStats
	for j, m := range t.task.Metrics() {
		s.set("test", m, metrics[j])
	}
	ev.Accuracy = s.TestAccuracy
	for k, v := range s.Metrics {
		if ev.Metrics == nil {
			ev.Metrics = map[string]float64{}
		}
		ev.Metrics[k[len("test_"):]] = v
	}
	return ev, nil
}

// Fit trains until the configured number of epochs (counting epochs
// already trained, as after Restore), evaluating on test after each epoch,
// and calls onEpoch (if not nil) with each epoch's metrics; an error from
// onEpoch stops training. The learning-rate schedule is applied at the
// start of each epoch, and early stopping, if configured, ends training
// when the monitored metric has not improved for its patience (Stopped
// reports it). A NaN or infinite loss stops training with an error naming
// the epoch and batch. Fit runs the garbage collector after each epoch, so
// memory does not grow from epoch to epoch. It returns the metrics of the
// epochs it ran.
func (t *Trainer) Fit(train, test Data, onEpoch func(EpochStats) error) ([]EpochStats, error) {
	if err := t.usable(); err != nil {
		return nil, err
	}
	if err := t.task.Check(train, "training"); err != nil {
		return nil, err
	}
	if err := t.task.Check(test, "test"); err != nil {
		return nil, err
	}
	if t.red != nil {
		if err := t.syncState(t.red); err != nil {
			return nil, err
		}
	}
	var hist []EpochStats
	t.stopped = false
	stopping, opt := t.parts.stopping, t.parts.opt
	for t.epoch < t.cfg.Epochs {
		if stopping.stop(t.hist) {
			t.stopped = true
			break
		}
		if t.parts.schedule != nil {
			opt.SetLearningRate(t.parts.schedule.LearningRate(t.epoch+1, t.cfg.Epochs, t.baseLR))
		}
		start := time.Now()
		loss, metrics, err := t.trainEpoch(train)
		if err != nil {
			return hist, err
		}
		trainSecs := time.Since(start).Seconds()
		ev, err := t.Evaluate(test)
		if err != nil {
			return hist, err
		}
		s := EpochStats{
			Epoch: t.epoch, TrainLoss: loss, TestLoss: ev.Loss, LearningRate: opt.LearningRate(),
			Seconds: time.Since(start).Seconds(), TrainSeconds: trainSecs, Samples: train.Len(),
		}
		for j, m := range t.task.Metrics() {
			s.set("train", m, metrics[j])
			test := ev.Accuracy
			if m.Name != Accuracy.Name {
				test = ev.Metrics[m.Name]
			}
			s.set("test", m, test)
		}
		hist = append(hist, s)
		t.hist = append(t.hist, s)
		if t.red != nil {
			if err := t.checkSameWeights(t.red); err != nil {
				return hist, err
			}
		}
		// Collect the epoch's small garbage now, so that the heap, and with
		// it the resident memory, stays flat from epoch to epoch.
		runtime.GC()
		if onEpoch != nil {
			if err := onEpoch(s); err != nil {
				return hist, err
			}
		}
	}
	if stopping.stop(t.hist) && t.epoch < t.cfg.Epochs {
		t.stopped = true
	}
	return hist, nil
}
