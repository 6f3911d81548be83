// Package train is dlrun's training loop: mini-batch training of an nn
// model on Gorgonia's tape machine (reverse-mode, tape-based backprop),
// with seeded shuffling, a held-out evaluation after each epoch, the
// losses and optimizers a Keras or PyTorch user expects, and a run folder
// that records what was done.
package train

import (
	"math"
	"math/rand/v2"
	"runtime"
	"time"

	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/internal/kernels"
	"github.com/dlrun/dlrun/nn"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Data is what the training loop needs of a dataset split.
type Data interface {
	// Len returns the number of examples.
	Len() int
	// Shape returns the per-example input shape.
	Shape() []int
	// NumClasses returns the number of classes of the labels.
	NumClasses() int
	// Example copies example i into dst (prod(Shape) values) and returns its label.
	Example(i int, dst []float32) int
}

// Config holds the hyperparameters of a training run.
type Config struct {
	Epochs    int         // passes over the training data (default 1)
	BatchSize int         // examples per step (default 32)
	Seed      uint64      // seeds initialisation, shuffling and dropout (default 1)
	DType     graph.DType // float32 (default) or float64
	Loss      Loss        // default CrossEntropy
	Optimizer Optimizer   // default Adam with learning rate 1e-3
	NoShuffle bool        // keep the data order instead of shuffling each epoch
	// Schedule, if set, sets the learning rate at the start of each epoch
	// from the optimizer's initial rate.
	Schedule Schedule
	// EarlyStopping stops Fit when the test metric stops improving.
	EarlyStopping EarlyStopping
	// OnBatch, if set, is called after every training step with the
	// number of steps done in the epoch, their total, and the step's loss.
	OnBatch func(done, total int, loss float64)
}

func (c *Config) defaults() error {
	if c.Epochs == 0 {
		c.Epochs = 1
	}
	if c.BatchSize == 0 {
		c.BatchSize = 32
	}
	if c.Epochs < 0 {
		return errors.Errorf("epochs %d: must be positive", c.Epochs)
	}
	if c.BatchSize < 0 {
		return errors.Errorf("batch size %d: must be positive", c.BatchSize)
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.DType == "" {
		c.DType = graph.Float32
	}
	if c.Loss.Name == "" {
		c.Loss = CrossEntropy
	}
	if c.Optimizer == nil {
		c.Optimizer = &Adam{LR: 1e-3}
	}
	return nil
}

// EpochStats are the metrics of one epoch.
type EpochStats struct {
	Epoch         int     `json:"epoch"`
	TrainLoss     float64 `json:"train_loss"`
	TrainAccuracy float64 `json:"train_accuracy"`
	TestLoss      float64 `json:"test_loss"`
	TestAccuracy  float64 `json:"test_accuracy"`
	Seconds       float64 `json:"seconds"`       // wall time of the epoch, evaluation included
	TrainSeconds  float64 `json:"train_seconds"` // wall time of the training steps alone
	Samples       int     `json:"samples"`       // training examples seen
}

// Trainer trains one model. It owns the graph, the tape machines and the
// optimizer; create it with New.
type Trainer struct {
	cfg     Config
	model   nn.Layer
	inShape []int
	outputs int

	machines
	x, y, w   *gorgonia.Node
	out, loss *gorgonia.Node

	xT, yT, wT *tensor.Dense
	example    []float32
	target     []float64
	row        []float64 // one row of outputs, for predictions

	shuffle *rand.Rand
	pcg     *rand.PCG
	epoch   int
	baseLR  float64
	hist    []EpochStats
	stopped bool
}

// New builds model on a new graph for per-example input shape inShape and
// the given number of model outputs, and compiles its training and
// evaluation machines.
func New(model nn.Layer, inShape []int, outputs int, cfg Config) (t *Trainer, err error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	out, err := model.OutputShape(inShape)
	if err != nil {
		return nil, err
	}
	if len(out) != 1 || out[0] != outputs {
		return nil, errors.Errorf("model %s outputs %v per example, want [%d]", model.Name(), out, outputs)
	}
	if err := cfg.Loss.check(outputs); err != nil {
		return nil, err
	}
	if err := cfg.EarlyStopping.check(); err != nil {
		return nil, err
	}
	t = &Trainer{cfg: cfg, model: model, inShape: append([]int(nil), inShape...), outputs: outputs}
	t.baseLR = cfg.Optimizer.LearningRate()
	t.g = graph.New(graph.WithDType(cfg.DType), graph.WithSeed(cfg.Seed))
	t.pcg = rand.NewPCG(cfg.Seed, 0x73687566) // "shuf"
	t.shuffle = rand.New(t.pcg)
	b := cfg.BatchSize
	if t.x, err = t.g.Input("x", append([]int{b}, inShape...)...); err != nil {
		return nil, err
	}
	if t.y, err = t.g.Input("y", b, outputs); err != nil {
		return nil, err
	}
	if t.w, err = t.g.Input("weights", b); err != nil {
		return nil, err
	}
	if t.out, err = model.Build(t.g, t.x); err != nil {
		return nil, err
	}
	if t.loss, err = graph.Loss(cfg.Loss.Kind, t.out, t.y, t.w); err != nil {
		return nil, err
	}
	if err := t.compile(t.loss, t.out); err != nil {
		return nil, errors.Wrapf(err, "model %s", model.Name())
	}
	bound, err := t.bind(t.x, t.y, t.w)
	if err != nil {
		return nil, err
	}
	t.xT, t.yT, t.wT = bound[0], bound[1], bound[2]
	t.example = make([]float32, tensor.Shape(inShape).TotalSize())
	t.target = make([]float64, outputs)
	t.row = make([]float64, outputs)
	return t, nil
}

// Config returns the resolved configuration.
func (t *Trainer) Config() Config { return t.cfg }

// Epoch returns the number of epochs trained so far.
func (t *Trainer) Epoch() int { return t.epoch }

// checkData verifies that d fits the model.
func (t *Trainer) checkData(d Data, what string) error {
	if d == nil || d.Len() == 0 {
		return errors.Errorf("%s data is empty", what)
	}
	if s := d.Shape(); !tensor.Shape(s).Eq(tensor.Shape(t.inShape)) {
		return errors.Errorf("%s data has examples of shape %v, the model takes %v", what, s, t.inShape)
	}
	if c := d.NumClasses(); c > t.outputs && !(t.outputs == 1 && c == 2) {
		return errors.Errorf("%s data has %d classes, the model has %d outputs", what, c, t.outputs)
	}
	return nil
}

// fill loads examples idx (at most BatchSize) into the input tensors and
// returns their labels; rows past len(idx) get weight 0.
func (t *Trainer) fill(d Data, idx []int, labels []int) []int {
	if t.xT.Dtype() == tensor.Float32 {
		return fillBatch(t, d, idx, labels[:0], t.xT.Float32s(), t.yT.Float32s(), t.wT.Float32s())
	}
	return fillBatch(t, d, idx, labels[:0], t.xT.Float64s(), t.yT.Float64s(), t.wT.Float64s())
}

func fillBatch[T kernels.Float](t *Trainer, d Data, idx, labels []int, xs, ys, ws []T) []int {
	n, k := len(t.example), t.outputs
	for r := 0; r < t.cfg.BatchSize; r++ {
		x, y := xs[r*n:(r+1)*n], ys[r*k:(r+1)*k]
		if r >= len(idx) {
			clear(x)
			clear(y)
			ws[r] = 0
			continue
		}
		var l int
		if x32, ok := any(x).([]float32); ok {
			l = d.Example(idx[r], x32) // straight into the batch
		} else {
			l = d.Example(idx[r], t.example)
			for j, v := range t.example {
				x[j] = T(v)
			}
		}
		labels = append(labels, l)
		t.cfg.Loss.target(t.target, l)
		for j, v := range t.target {
			y[j] = T(v)
		}
		ws[r] = 1
	}
	return labels
}

// predictions appends to preds the class each of the first n rows of the
// last batch's output stands for.
func (t *Trainer) predictions(n int, preds []int) []int {
	for r := 0; r < n; r++ {
		outputRow(t.outV, r, t.row)
		preds = append(preds, t.cfg.Loss.Predict(t.row))
	}
	return preds
}

// forward runs the evaluation machine over d in data order, one batch at
// a time, and calls fn with each batch's example indices, labels and loss.
func (t *Trainer) forward(d Data, fn func(idx, labels []int, loss float64)) error {
	idx := make([]int, 0, t.cfg.BatchSize)
	var labels []int
	for start := 0; start < d.Len(); start += t.cfg.BatchSize {
		idx = idx[:0]
		for i := start; i < min(start+t.cfg.BatchSize, d.Len()); i++ {
			idx = append(idx, i)
		}
		labels = t.fill(d, idx, labels)
		l, err := t.run(t.evalVM, false)
		if err != nil {
			return err
		}
		fn(idx, labels, l)
	}
	return nil
}

func outputRow(v gorgonia.Value, r int, row []float64) {
	k := len(row)
	t := v.(*tensor.Dense)
	if t.Dtype() == tensor.Float32 {
		d := t.Float32s()
		for j := range row {
			row[j] = float64(d[r*k+j])
		}
		return
	}
	copy(row, t.Float64s()[r*k:(r+1)*k])
}

// stepParams copies parameters and gradients into the optimizer's float64
// variables, applies one update and writes the parameters back.
func stepParams(params []*graph.Param, vars []Var, grads []gorgonia.Value, opt Optimizer) error {
	for i, p := range params {
		v := vars[i]
		w, g := data(p.Value()), data(grads[i].(*tensor.Dense))
		kernels.ParallelFor(len(v.Value), 1<<15, func(lo, hi int) {
			toF64(v.Value[lo:hi], w, lo, hi)
			toF64(v.Grad[lo:hi], g, lo, hi)
		})
	}
	if err := opt.Step(vars); err != nil {
		return err
	}
	for i, p := range params {
		v, w := vars[i].Value, data(p.Value())
		kernels.ParallelFor(len(v), 1<<15, func(lo, hi int) { fromF64(w, v[lo:hi], lo, hi) })
	}
	return nil
}

// data returns t's backing slice ([]float32 or []float64) without the
// reflection (and allocation) of tensor.Dense.Data.
func data(t *tensor.Dense) any {
	if t.Dtype() == tensor.Float32 {
		return t.Float32s()
	}
	return t.Float64s()
}

// toF64 copies src[lo:hi] (float32 or float64) into dst.
func toF64(dst []float64, src any, lo, hi int) {
	switch s := src.(type) {
	case []float32:
		for i, v := range s[lo:hi] {
			dst[i] = float64(v)
		}
	case []float64:
		copy(dst, s[lo:hi])
	}
}

// fromF64 copies src into dst[lo:hi] (float32 or float64).
func fromF64(dst any, src []float64, lo, hi int) {
	switch d := dst.(type) {
	case []float32:
		d = d[lo:hi]
		for i, v := range src {
			d[i] = float32(v)
		}
	case []float64:
		copy(d[lo:hi], src)
	}
}

// TrainEpoch runs one epoch of training steps over d and returns the mean
// loss and accuracy over its examples (as the weights changed during the
// epoch, like Keras's training metrics).
func (t *Trainer) TrainEpoch(d Data) (loss, acc float64, err error) {
	if err := t.checkData(d, "training"); err != nil {
		return 0, 0, err
	}
	order := make([]int, d.Len())
	for i := range order {
		order[i] = i
	}
	if !t.cfg.NoShuffle {
		t.shuffle.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	}
	var labels, preds []int
	sum, correct := 0.0, 0
	for start := 0; start < len(order); start += t.cfg.BatchSize {
		idx := order[start:min(start+t.cfg.BatchSize, len(order))]
		labels = t.fill(d, idx, labels)
		l, err := t.run(t.trainVM, true)
		if err != nil {
			return 0, 0, errors.Wrapf(err, "epoch %d, batch %d", t.epoch+1, start/t.cfg.BatchSize+1)
		}
		if math.IsNaN(l) || math.IsInf(l, 0) {
			return 0, 0, errors.Errorf("epoch %d, batch %d: the loss became %v", t.epoch+1, start/t.cfg.BatchSize+1, l)
		}
		sum += l * float64(len(idx))
		preds = t.predictions(len(labels), preds[:0])
		for r, p := range preds {
			if p == labels[r] {
				correct++
			}
		}
		if err := t.step(t.cfg.Optimizer); err != nil {
			return 0, 0, err
		}
		if t.cfg.OnBatch != nil {
			bs := t.cfg.BatchSize
			t.cfg.OnBatch(start/bs+1, (len(order)+bs-1)/bs, l)
		}
	}
	t.epoch++
	n := float64(len(order))
	return sum / n, float64(correct) / n, nil
}

// Evaluation holds the result of evaluating a model on a dataset split.
type Evaluation struct {
	Loss        float64
	Accuracy    float64
	Labels      []int // true label of each example, in data order
	Predictions []int // predicted class of each example
}

// Evaluate computes the loss and accuracy of the model on d, in data
// order, without training (dropout off).
func (t *Trainer) Evaluate(d Data) (*Evaluation, error) {
	if err := t.checkData(d, "evaluation"); err != nil {
		return nil, err
	}
	ev := &Evaluation{}
	sum := 0.0
	err := t.forward(d, func(idx, labels []int, loss float64) {
		sum += loss * float64(len(idx))
		ev.Labels = append(ev.Labels, labels...)
		ev.Predictions = t.predictions(len(labels), ev.Predictions)
	})
	if err != nil {
		return nil, errors.Wrap(err, "evaluating")
	}
	correct := 0
	for i, p := range ev.Predictions {
		if p == ev.Labels[i] {
			correct++
		}
	}
	ev.Loss = sum / float64(d.Len())
	ev.Accuracy = float64(correct) / float64(d.Len())
	return ev, nil
}

// History returns the metrics of every epoch trained so far (restored
// ones included).
func (t *Trainer) History() []EpochStats { return append([]EpochStats(nil), t.hist...) }

// Stopped reports whether early stopping ended the last Fit.
func (t *Trainer) Stopped() bool { return t.stopped }

// Fit trains until the configured number of epochs (counting epochs
// already trained, as after Restore), evaluating on test after each epoch,
// and calls onEpoch (if not nil) with each epoch's metrics; an error from
// onEpoch stops training. The learning-rate schedule is applied at the
// start of each epoch, and early stopping, if configured, ends training
// when the test metric has not improved for its patience (Stopped reports
// it). Fit runs the garbage collector after each epoch, so memory does not
// grow from epoch to epoch. It returns the metrics of the epochs it ran.
func (t *Trainer) Fit(train, test Data, onEpoch func(EpochStats) error) ([]EpochStats, error) {
	if err := t.checkData(train, "training"); err != nil {
		return nil, err
	}
	if err := t.checkData(test, "test"); err != nil {
		return nil, err
	}
	var hist []EpochStats
	t.stopped = false
	for t.epoch < t.cfg.Epochs {
		if t.cfg.EarlyStopping.stop(t.hist) {
			t.stopped = true
			break
		}
		if t.cfg.Schedule != nil {
			t.cfg.Optimizer.SetLearningRate(t.cfg.Schedule.LearningRate(t.epoch+1, t.cfg.Epochs, t.baseLR))
		}
		start := time.Now()
		loss, acc, err := t.TrainEpoch(train)
		if err != nil {
			return hist, err
		}
		trainSecs := time.Since(start).Seconds()
		ev, err := t.Evaluate(test)
		if err != nil {
			return hist, err
		}
		s := EpochStats{
			Epoch: t.epoch, TrainLoss: loss, TrainAccuracy: acc,
			TestLoss: ev.Loss, TestAccuracy: ev.Accuracy,
			Seconds: time.Since(start).Seconds(), TrainSeconds: trainSecs, Samples: train.Len(),
		}
		hist = append(hist, s)
		t.hist = append(t.hist, s)
		// Collect the epoch's small garbage now, so that the heap, and with
		// it the resident memory, stays flat from epoch to epoch.
		runtime.GC()
		if onEpoch != nil {
			if err := onEpoch(s); err != nil {
				return hist, err
			}
		}
	}
	if t.cfg.EarlyStopping.stop(t.hist) && t.epoch < t.cfg.Epochs {
		t.stopped = true
	}
	return hist, nil
}
