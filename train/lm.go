package train

import (
	"math"
	"math/rand/v2"

	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/nn"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// LMConfig holds the hyperparameters of language-model training.
type LMConfig struct {
	Epochs    int         // passes over the training tokens (default 1)
	BatchSize int         // parallel streams (default 32)
	SeqLen    int         // steps of backpropagation through time per batch (default 100)
	Seed      uint64      // seeds initialisation (default 1)
	DType     graph.DType // default float32
	Optimizer Optimizer   // default Adam, learning rate 2e-3
	// OnBatch, if set, is called after every training step.
	OnBatch func(done, total int, loss float64)
}

// LM trains a next-token model, such as the charrnn, with truncated
// backpropagation through time: the training tokens are cut into
// BatchSize contiguous streams, each batch is the next SeqLen tokens of
// every stream, and stateful recurrent layers carry their state from one
// batch to the next within an epoch. The model maps [SeqLen] token ids to
// [SeqLen, vocab] logits per stream.
type LM struct {
	machines
	cfg      LMConfig
	vocab    int
	x, y, w  *gorgonia.Node
	out      *gorgonia.Node
	xT, yT   *tensor.Dense
	wT       *tensor.Dense
	stateful []*nn.Recurrent
	epoch    int
	hist     []EpochStats
}

// SaveCheckpoint writes the model's weights, the optimizer's state, the
// epoch and the history to path, atomically (see Trainer.SaveCheckpoint).
func (m *LM) SaveCheckpoint(path string) error { return saveCheckpoint(path, m.resumable()) }

// Restore loads a checkpoint written by SaveCheckpoint. Stateful layers
// start every epoch from zeros, so training resumes exactly.
func (m *LM) Restore(path string) error { return restoreCheckpoint(path, m.resumable()) }

// Epoch returns the number of epochs trained so far.
func (m *LM) Epoch() int { return m.epoch }

// History returns the metrics of every epoch recorded with Record.
func (m *LM) History() []EpochStats { return append([]EpochStats(nil), m.hist...) }

// Record appends an epoch's metrics to the history that checkpoints keep.
func (m *LM) Record(s EpochStats) { m.hist = append(m.hist, s) }

func (m *LM) resumable() resumable {
	return resumable{&m.machines, m.cfg.Optimizer, &m.epoch, &m.hist, nil}
}

// NewLM builds model for a vocabulary of vocab tokens and compiles its
// training and evaluation machines.
func NewLM(model *nn.Sequential, vocab int, cfg LMConfig) (*LM, error) {
	if cfg.Epochs == 0 {
		cfg.Epochs = 1
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = 32
	}
	if cfg.SeqLen == 0 {
		cfg.SeqLen = 100
	}
	if cfg.Epochs < 0 || cfg.BatchSize < 0 || cfg.SeqLen < 0 {
		return nil, errors.Errorf("epochs %d, batch %d and sequence length %d must be positive", cfg.Epochs, cfg.BatchSize, cfg.SeqLen)
	}
	if cfg.Seed == 0 {
		cfg.Seed = 1
	}
	if cfg.DType == "" {
		cfg.DType = graph.Float32
	}
	if cfg.Optimizer == nil {
		cfg.Optimizer = &Adam{LR: 2e-3}
	}
	B, T := cfg.BatchSize, cfg.SeqLen
	shape, err := model.OutputShape([]int{T})
	if err != nil {
		return nil, err
	}
	if len(shape) != 2 || shape[0] != T || shape[1] != vocab {
		return nil, errors.Errorf("model %s maps [%d] ids to %v, want [%d %d] logits", model.Name(), T, shape, T, vocab)
	}
	m := &LM{cfg: cfg, vocab: vocab}
	m.g = graph.New(graph.WithDType(cfg.DType), graph.WithSeed(cfg.Seed))
	if m.x, err = m.g.Input("x", B, T); err != nil {
		return nil, err
	}
	if m.y, err = m.g.Input("y", B*T, vocab); err != nil {
		return nil, err
	}
	if m.w, err = m.g.Input("weights", B*T); err != nil {
		return nil, err
	}
	logits, err := model.Build(m.g, m.x)
	if err != nil {
		return nil, err
	}
	if m.out, err = graph.Reshape(logits, B*T, vocab); err != nil {
		return nil, err
	}
	loss, err := graph.Loss(graph.SoftmaxCrossEntropy, m.out, m.y, m.w)
	if err != nil {
		return nil, err
	}
	for _, l := range model.Layers {
		if r, ok := l.(*nn.Recurrent); ok && r.Stateful {
			m.stateful = append(m.stateful, r)
		}
	}
	if err := m.compile(loss, m.out); err != nil {
		return nil, errors.Wrapf(err, "model %s", model.Name())
	}
	bound, err := m.bind(m.x, m.y, m.w)
	if err != nil {
		return nil, err
	}
	m.xT, m.yT, m.wT = bound[0], bound[1], bound[2]
	return m, nil
}

// batches returns the number of batches an epoch over tokens takes: the
// streams are (len-1)/B tokens long, cut into chunks of SeqLen (the last
// one padded with weight-0 positions).
func (m *LM) batches(tokens []int) (streamLen, n int) {
	streamLen = (len(tokens) - 1) / m.cfg.BatchSize
	return streamLen, (streamLen + m.cfg.SeqLen - 1) / m.cfg.SeqLen
}

// fill loads chunk c of every stream; it returns the number of real positions.
func (m *LM) fill(tokens []int, streamLen, c int) int {
	B, T, V := m.cfg.BatchSize, m.cfg.SeqLen, m.vocab
	real := 0
	setF := func(d any, i int, v float64) {
		if f, ok := d.([]float32); ok {
			f[i] = float32(v)
		} else {
			d.([]float64)[i] = v
		}
	}
	xd, yd, wd := data(m.xT), data(m.yT), data(m.wT)
	if f, ok := yd.([]float32); ok {
		clear(f)
	} else {
		clear(yd.([]float64))
	}
	for b := 0; b < B; b++ {
		for s := 0; s < T; s++ {
			pos := c*T + s
			row := b*T + s
			if pos >= streamLen {
				setF(xd, row, 0)
				setF(wd, row, 0)
				continue
			}
			i := b*streamLen + pos
			setF(xd, row, float64(tokens[i]))
			setF(yd, row*V+tokens[i+1], 1)
			setF(wd, row, 1)
			real++
		}
	}
	return real
}

// correct counts the positions whose most likely next token is the target.
func (m *LM) correct() int {
	n, V := m.cfg.BatchSize*m.cfg.SeqLen, m.vocab
	row := make([]float64, V)
	yd := data(m.yT)
	wd := data(m.wT)
	c := 0
	for r := 0; r < n; r++ {
		if valueAt(wd, r) == 0 {
			continue
		}
		outputRow(m.outV, r, row)
		if valueAt(yd, r*V+CrossEntropy.Predict(row)) == 1 {
			c++
		}
	}
	return c
}

func valueAt(d any, i int) float64 {
	if f, ok := d.([]float32); ok {
		return float64(f[i])
	}
	return d.([]float64)[i]
}

func (m *LM) resetStates() {
	for _, r := range m.stateful {
		r.ResetState()
	}
}

// TrainEpoch runs one epoch of truncated backpropagation through time over
// tokens and returns the mean loss per token (nats) and the accuracy of
// the next-token predictions.
func (m *LM) TrainEpoch(tokens []int) (loss, acc float64, err error) {
	streamLen, n := m.batches(tokens)
	if streamLen < 1 {
		return 0, 0, errors.Errorf("%d tokens are too few for %d streams", len(tokens), m.cfg.BatchSize)
	}
	m.resetStates()
	sum, correct, count := 0.0, 0, 0
	for c := 0; c < n; c++ {
		real := m.fill(tokens, streamLen, c)
		l, err := m.run(m.trainVM, true)
		if err != nil {
			return 0, 0, errors.Wrapf(err, "epoch %d, batch %d", m.epoch+1, c+1)
		}
		if math.IsNaN(l) || math.IsInf(l, 0) {
			return 0, 0, errors.Errorf("epoch %d, batch %d: the loss became %v", m.epoch+1, c+1, l)
		}
		sum += l * float64(real)
		count += real
		correct += m.correct()
		if err := m.step(m.cfg.Optimizer); err != nil {
			return 0, 0, err
		}
		if m.cfg.OnBatch != nil {
			m.cfg.OnBatch(c+1, n, l)
		}
	}
	m.epoch++
	return sum / float64(count), float64(correct) / float64(count), nil
}

// Evaluate returns the mean loss per token (nats) and next-token accuracy
// over tokens, read as BatchSize streams from a zero state.
func (m *LM) Evaluate(tokens []int) (loss, acc float64, err error) {
	streamLen, n := m.batches(tokens)
	if streamLen < 1 {
		return 0, 0, errors.Errorf("%d tokens are too few for %d streams", len(tokens), m.cfg.BatchSize)
	}
	m.resetStates()
	defer m.resetStates()
	sum, correct, count := 0.0, 0, 0
	for c := 0; c < n; c++ {
		real := m.fill(tokens, streamLen, c)
		l, err := m.run(m.evalVM, false)
		if err != nil {
			return 0, 0, errors.Wrap(err, "evaluating")
		}
		sum += l * float64(real)
		count += real
		correct += m.correct()
	}
	return sum / float64(count), float64(correct) / float64(count), nil
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
