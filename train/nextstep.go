package train

import (
	"fmt"
	"math/rand/v2"

	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/nn"
	"github.com/pkg/errors"
)

func init() {
	registerTask("music", func(info *ModelInfo) (Task, error) {
		if len(info.InputShape) != 2 || info.InputShape[0] < 1 || info.InputShape[0] > MaxSeqLen {
			return nil, errors.Errorf("input_shape %v: a next-step model's input shape is [steps width], at most %d steps", info.InputShape, MaxSeqLen)
		}
		if info.Outputs < 1 || info.Outputs != info.InputShape[1] {
			return nil, errors.Errorf("outputs %d: a next-step model predicts the %d values of its input step", info.Outputs, info.InputShape[1])
		}
		return &NextStep{Width: info.Outputs, SeqLen: info.InputShape[0]}, nil
	})
}

// MaxStepWidth is the most values a step of a next-step sequence may have.
const MaxStepWidth = 1 << 12

// Sequences are sequences of steps of Width values each, 0 or 1 (a piano
// roll: the 88 keys sounding at each step of a piece), what NextStep
// trains on. Seqs[i] holds sequence i's steps one after another.
type Sequences struct {
	Width int
	Seqs  [][]float32
}

// Len implements Data: the number of predicted steps, every step of a
// sequence but its first.
func (s *Sequences) Len() int {
	n := 0
	for _, q := range s.Seqs {
		if k := len(q) / max(s.Width, 1); k > 1 {
			n += k - 1
		}
	}
	return n
}

// Steps returns the number of steps of sequence i.
func (s *Sequences) Steps(i int) int { return len(s.Seqs[i]) / s.Width }

// NextStep is the task called music: predicting each step of a sequence
// of sets (a piano roll's notes) from the steps before it: the model maps [SeqLen,
// Width] steps to [SeqLen, Width] logits, logit k at step t saying whether
// value k is on at step t+1, each an independent sigmoid. The loss is
// binary cross-entropy (a run reports it per step summed over the Width
// values: NLL per step, the polyphonic-music benchmark's measure in nats,
// the derived figure). A pass reads each sequence as windows of SeqLen
// predicted steps, one window per example, each from a zero recurrent
// state; a sequence of at most SeqLen+1 steps is one window, read whole.
// It is scored by frame accuracy (Bay et al. 2009): true positives over
// true positives, false positives and false negatives summed over every
// predicted step, a value predicted on when its logit is at least 0.
//
// A model whose last layer is an autoregressive output
// (nn.Autoregressive) models the values of a step jointly: Build gives
// that layer the next step's values (teacher forcing), so the model's
// logits are each value's conditional given the values before it in the
// step, and the loss summed over the Width values is exactly the negative
// log-likelihood of the joint distribution the model samples from. Its
// frame accuracy predicts a step's values one by one, each on when its
// conditional logit, given the values predicted before it, is at least 0
// (nn.JointWeights.Draw at temperature 0: what composing at temperature 0
// sounds).
type NextStep struct {
	// Width is the number of values of a step (88 keys).
	Width int
	// SeqLen is the number of predicted steps per example.
	SeqLen int

	pass     shuffledPass
	seqs     *Sequences
	windows  [][2]int // sequence, first step
	xT, yT   graph.Data
	wT       graph.Data
	row      []float64
	rowsUsed int

	joint          []*graph.Param   // the parameters of the model's autoregressive output, if any
	weights        *nn.JointWeights // their values, read for each batch scored
	want, z, guess []float64        // a step's values, logits and predicted values
}

var (
	_ Task    = (*NextStep)(nil)
	_ Deriver = (*NextStep)(nil)
	_ sharded = (*NextStep)(nil)
)

// FrameAccuracy is frame-level accuracy (Bay et al. 2009): true positives
// over true positives, false positives and false negatives, summed over
// every predicted step.
var FrameAccuracy = Metric{Name: "frame_accuracy", HigherIsBetter: true, Ratio: true}

// Name implements Task.
func (t *NextStep) Name() string { return "music" }

// InputShape implements Task: [SeqLen Width].
func (t *NextStep) InputShape() []int { return []int{t.SeqLen, t.Width} }

// OutputSize implements Task: Width logits per step.
func (t *NextStep) OutputSize() int { return t.Width }

// shard implements sharded.
func (t *NextStep) shard(global, lo, hi int) { t.pass.shard(global, lo, hi) }

// checkBuild implements buildChecker: what Build checks before it builds.
func (t *NextStep) checkBuild(model nn.Layer, batch int, loss Loss) error {
	if loss.Kind != graph.SigmoidCrossEntropy {
		return errors.Errorf("next-step prediction trains with bce, not %s", loss.Name)
	}
	T, W := t.SeqLen, t.Width
	if T < 1 || T > MaxSeqLen {
		return errors.Errorf("music: seq_len %d: must be 1 to %d (train.MaxSeqLen)", T, MaxSeqLen)
	}
	if W < 1 || W > MaxStepWidth {
		return errors.Errorf("music: steps of %d values: must be 1 to %d (train.MaxStepWidth)", W, MaxStepWidth)
	}
	if err := batchValues("music", batch, T*W, fmt.Sprintf("seq_len %d × %d values, the steps of an example", T, W)); err != nil {
		return err
	}
	shape, err := model.OutputShape([]int{T, W})
	if err != nil {
		return err
	}
	if len(shape) != 2 || shape[0] != T || shape[1] != W {
		return errors.Errorf("model %s maps [%d %d] steps to %v, want [%d %d] logits", model.Name(), T, W, shape, T, W)
	}
	return nil
}

// Build implements Task. The loss must be binary cross-entropy.
func (t *NextStep) Build(g *graph.Graph, model nn.Layer, batch int, loss Loss) (out, lossNode *graph.Node, err error) {
	if err := t.checkBuild(model, batch, loss); err != nil {
		return nil, nil, err
	}
	T, W := t.SeqLen, t.Width
	t.pass.batch = batch
	x, err := g.Input("x", batch, T, W)
	if err != nil {
		return nil, nil, err
	}
	y, err := g.Input("y", batch*T, W)
	if err != nil {
		return nil, nil, err
	}
	w, err := g.Input("weights", batch*T)
	if err != nil {
		return nil, nil, err
	}
	joint, err := nn.AutoregressiveOutput(model)
	if err != nil {
		return nil, nil, err
	}
	if joint != nil {
		next, err := graph.Reshape(y, batch, T, W)
		if err != nil {
			return nil, nil, err
		}
		joint.Condition(next)
		defer joint.Condition(nil)
	}
	logits, err := model.Build(g, x)
	if err != nil {
		return nil, nil, err
	}
	t.joint, t.weights = nil, nil
	if joint != nil {
		t.joint, t.weights = joint.Params(), nn.NewJointWeights(W, joint.Hidden)
	}
	if out, err = graph.Reshape(logits, batch*T, W); err != nil {
		return nil, nil, err
	}
	if lossNode, err = graph.Loss(graph.SigmoidCrossEntropy, out, y, w); err != nil {
		return nil, nil, err
	}
	if t.xT, t.yT, t.wT, err = inputData(g, x, y, w); err != nil {
		return nil, nil, err
	}
	t.row = make([]float64, W)
	t.want, t.z, t.guess = make([]float64, W), make([]float64, W), make([]float64, W)
	return out, lossNode, nil
}

// Check implements Task: d must be Sequences of the task's width, each
// value 0 or 1, with at least one step to predict.
func (t *NextStep) Check(d Data, role string) error {
	s, ok := d.(*Sequences)
	if !ok {
		return errors.Errorf("%s data (%T) are not *train.Sequences, which next-step prediction needs", role, d)
	}
	if s.Width != t.Width {
		return errors.Errorf("%s data: steps of %d values, but the model's have %d", role, s.Width, t.Width)
	}
	for i, q := range s.Seqs {
		if len(q)%t.Width != 0 {
			return errors.Errorf("%s data: sequence %d holds %d values, not whole steps of %d", role, i+1, len(q), t.Width)
		}
		for j, v := range q {
			if v != 0 && v != 1 {
				return errors.Errorf("%s data: sequence %d, step %d: value %g is not 0 or 1", role, i+1, j/t.Width+1, v)
			}
		}
	}
	if s.Len() == 0 {
		return errors.Errorf("%s data: no sequence has a step to predict (each needs at least 2 steps)", role)
	}
	return nil
}

// Pass implements Task: the windows of every sequence, shuffled by rng
// unless it is nil.
func (t *NextStep) Pass(d Data, rng *rand.Rand) (int, error) {
	s, ok := d.(*Sequences)
	if !ok || t.pass.batch == 0 {
		return 0, errors.New("music: Pass needs *Sequences, after Build")
	}
	t.seqs = s
	t.windows = t.windows[:0]
	for i := range s.Seqs {
		for first := 0; first < s.Steps(i)-1; first += t.SeqLen {
			t.windows = append(t.windows, [2]int{i, first})
		}
	}
	return t.pass.start(len(t.windows), rng), nil
}

// Fill implements Task: the windows of batch i, each padded past its
// sequence's end with steps of weight 0; it returns the predicted steps.
func (t *NextStep) Fill(i int) (int, error) {
	idx, err := t.pass.indices(i, "music")
	if err != nil {
		return 0, err
	}
	if t.xT.Float32s() != nil {
		return fillSteps(t, idx, t.xT.Float32s(), t.yT.Float32s(), t.wT.Float32s()), nil
	}
	return fillSteps(t, idx, t.xT.Float64s(), t.yT.Float64s(), t.wT.Float64s()), nil
}

func fillSteps[T float32 | float64](t *NextStep, idx []int, xd, yd, wd []T) int {
	S, W := t.SeqLen, t.Width
	clear(xd)
	clear(yd)
	clear(wd)
	real := 0
	for b, k := range idx {
		seq, first := t.windows[k][0], t.windows[k][1]
		q := t.seqs.Seqs[seq]
		n := min(S, t.seqs.Steps(seq)-1-first)
		for s := 0; s < n; s++ {
			row := b*S + s
			in := q[(first+s)*W : (first+s+1)*W]
			next := q[(first+s+1)*W : (first+s+2)*W]
			for j := 0; j < W; j++ {
				xd[row*W+j] = T(in[j])
				yd[row*W+j] = T(next[j])
			}
			wd[row] = 1
		}
		real += n
	}
	t.rowsUsed = len(idx) * S
	return real
}

// Metrics implements Task: frame accuracy.
func (t *NextStep) Metrics() []Metric { return []Metric{FrameAccuracy} }

// Score implements Task: the batch's true positives, and its true
// positives, false positives and false negatives together.
func (t *NextStep) Score(p *graph.Program, _ *Evaluation) ([]float64, error) {
	if t.xT.Float32s() != nil {
		return scoreSteps(t, p, t.yT.Float32s(), t.wT.Float32s())
	}
	return scoreSteps(t, p, t.yT.Float64s(), t.wT.Float64s())
}

func scoreSteps[T float32 | float64](t *NextStep, p *graph.Program, yd, wd []T) ([]float64, error) {
	W := t.Width
	var tp, all float64
	var weights *nn.JointWeights
	if t.joint != nil {
		if err := t.weights.Read(t.joint); err != nil {
			return nil, err
		}
		weights = t.weights
	}
	for r := range wd[:min(len(wd), t.rowsUsed)] {
		if wd[r] == 0 {
			continue
		}
		if err := p.OutputRow(0, r, t.row); err != nil {
			return nil, err
		}
		for j := range t.want {
			t.want[j] = float64(yd[r*W+j])
		}
		if err := t.predict(weights); err != nil {
			return nil, err
		}
		for j, g := range t.guess {
			on, want := g == 1, t.want[j] == 1
			switch {
			case on && want:
				tp++
				all++
			case on || want:
				all++
			}
		}
	}
	return []float64{tp, all}, nil
}

// predict sets t.guess to the values predicted from the logits in t.row
// for a step whose values are t.want: each on where its logit is at least
// 0; with an autoregressive output (weights), one by one from the logits
// the layer was given (the conditionals, less what the step's values
// added), each from the values predicted before it.
func (t *NextStep) predict(weights *nn.JointWeights) error {
	if weights == nil {
		return weights.Draw(t.row, 0, nil, t.guess)
	}
	if err := weights.Added(t.want, t.z); err != nil {
		return err
	}
	for k, l := range t.row {
		t.z[k] = l - t.z[k]
	}
	return weights.Draw(t.z, 0, nil, t.guess)
}

// conditioning is implemented by the tasks that give a model's
// autoregressive output the values it predicts (NextStep).
type conditioning interface{ conditions() }

// conditions implements conditioning.
func (*NextStep) conditions() {}

// checkJoint refuses a model holding an autoregressive output for a task
// that would not give it the values it predicts: built without them the
// layer passes its input through and its weight would never train.
func checkJoint(model nn.Layer, task Task) error {
	if _, ok := task.(conditioning); ok {
		return nil
	}
	for _, l := range nn.AllLayers(model) {
		if a, ok := l.(*nn.Autoregressive); ok && a != nil {
			return errors.Errorf("%s (%s): an autoregressive output needs a task that gives it the values it predicts (music), not %s", a.Name(), a.Kind(), task.Name())
		}
	}
	return nil
}

// Derived implements Deriver: the NLL per step in nats, the loss (binary
// cross-entropy averaged over a step's values) times Width, the sum over
// the values.
func (t *NextStep) Derived(loss float64) (string, float64) { return "nll", loss * float64(t.Width) }
