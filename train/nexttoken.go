package train

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/nn"
	"github.com/pkg/errors"
)

func init() {
	registerTask("next-token", func(info *ModelInfo) (Task, error) {
		if len(info.InputShape) != 1 || info.InputShape[0] > MaxSeqLen {
			return nil, errors.Errorf("input_shape %v: a next-token model's input shape is [steps], at most %d steps", info.InputShape, MaxSeqLen)
		}
		if info.Outputs < 2 || info.Outputs > MaxVocab {
			return nil, errors.Errorf("outputs %d: a next-token model's vocabulary has from 2 to %d tokens", info.Outputs, MaxVocab)
		}
		return &NextToken{Vocab: info.Outputs, SeqLen: info.InputShape[0]}, nil
	})
}

// NextToken is the task of predicting the next token of a sequence, such
// as the charrnn's next character, trained by truncated backpropagation
// through time: a pass cuts the tokens into BatchSize contiguous streams,
// each batch is the next SeqLen tokens of every stream, and stateful
// recurrent layers carry their state from one batch to the next within a
// pass (they start every pass from zeros). The model maps [SeqLen] token
// ids to [SeqLen, Vocab] logits per stream; the loss is categorical
// cross-entropy per token (nats), and a pass is scored by the accuracy of
// the most likely next token. Its derived figure is bits per token.
type NextToken struct {
	// Vocab is the number of distinct tokens.
	Vocab int
	// SeqLen is the number of steps per batch (default 100).
	SeqLen int

	batch int
	// global and first are set by shard in data-parallel training: the
	// text is cut into global streams, of which this process reads batch
	// from stream first on. Zero: batch streams from the first.
	global, first int
	xT, yT, wT    graph.Data
	row           []float64
	tokens        []int
	streamLen     int
}

var (
	_ Task    = (*NextToken)(nil)
	_ Deriver = (*NextToken)(nil)
)

// Name implements Task.
func (t *NextToken) Name() string { return "next-token" }

// shard implements sharded: this process reads streams [lo, hi) of the
// global streams.
func (t *NextToken) shard(global, lo, hi int) { t.global, t.first = global, lo }

// streams returns the number of streams the text is cut into.
func (t *NextToken) streams() int {
	if t.global == 0 {
		return t.batch
	}
	return t.global
}

// InputShape implements Task: [SeqLen] token ids.
func (t *NextToken) InputShape() []int { return []int{t.seqLen()} }

// OutputSize implements Task: Vocab.
func (t *NextToken) OutputSize() int { return t.Vocab }

func (t *NextToken) seqLen() int {
	if t.SeqLen == 0 {
		return 100
	}
	return t.SeqLen
}

// checkBuild implements buildChecker: what Build checks before it builds.
func (t *NextToken) checkBuild(model nn.Layer, batch int, loss Loss) error {
	if loss.Kind != graph.SoftmaxCrossEntropy {
		return errors.Errorf("next-token prediction trains with cce, not %s", loss.Name)
	}
	T, V := t.seqLen(), t.Vocab
	if T < 1 || V < 2 {
		return errors.Errorf("next-token: sequence length %d and vocabulary %d must be positive (vocabulary at least 2)", T, V)
	}
	if T > MaxSeqLen {
		return errors.Errorf("next-token: seq_len %d: more than the %d steps allowed (train.MaxSeqLen)", T, MaxSeqLen)
	}
	if V > MaxVocab {
		return errors.Errorf("next-token: vocabulary of %d tokens: more than the %d allowed (train.MaxVocab)", V, MaxVocab)
	}
	if err := batchValues("next-token", batch, T*V, fmt.Sprintf("seq_len %d × vocabulary %d, the one-hot targets of a stream", T, V)); err != nil {
		return err
	}
	shape, err := model.OutputShape([]int{T})
	if err != nil {
		return err
	}
	if len(shape) != 2 || shape[0] != T || shape[1] != V {
		return errors.Errorf("model %s maps [%d] ids to %v, want [%d %d] logits", model.Name(), T, shape, T, V)
	}
	return nil
}

// Build implements Task. The loss must be categorical cross-entropy.
func (t *NextToken) Build(g *graph.Graph, model nn.Layer, batch int, loss Loss) (out, lossNode *graph.Node, err error) {
	if err := t.checkBuild(model, batch, loss); err != nil {
		return nil, nil, err
	}
	T, V := t.seqLen(), t.Vocab
	t.batch = batch
	x, err := g.Input("x", batch, T)
	if err != nil {
		return nil, nil, err
	}
	y, err := g.Input("y", batch*T, V)
	if err != nil {
		return nil, nil, err
	}
	w, err := g.Input("weights", batch*T)
	if err != nil {
		return nil, nil, err
	}
	logits, err := model.Build(g, x)
	if err != nil {
		return nil, nil, err
	}
	if out, err = graph.Reshape(logits, batch*T, V); err != nil {
		return nil, nil, err
	}
	if lossNode, err = graph.Loss(graph.SoftmaxCrossEntropy, out, y, w); err != nil {
		return nil, nil, err
	}
	if t.xT, t.yT, t.wT, err = inputData(g, x, y, w); err != nil {
		return nil, nil, err
	}
	t.row = make([]float64, V)
	return out, lossNode, nil
}

// Check implements Task: d must be Tokens, enough for one token per
// stream and its successor, each a valid id.
func (t *NextToken) Check(d Data, role string) error {
	tok, ok := d.(Tokens)
	if !ok {
		return errors.Errorf("%s data (%T) are not train.Tokens, which next-token prediction needs", role, d)
	}
	if t.batch == 0 {
		return errors.New("next-token: Check before Build")
	}
	if (len(tok)-1)/t.streams() < 1 {
		return errors.Errorf("%s data: %d tokens are too few for a batch of %d streams: each stream needs at least 2", role, len(tok), t.streams())
	}
	for i, id := range tok {
		if id < 0 || id >= t.Vocab {
			return errors.Errorf("%s data: token %d has id %d, outside the vocabulary of %d", role, i, id, t.Vocab)
		}
	}
	return nil
}

// Pass implements Task. The order of the streams is fixed, so rng is not
// used.
func (t *NextToken) Pass(d Data, _ *rand.Rand) (int, error) {
	tok, ok := d.(Tokens)
	if !ok || t.batch == 0 {
		return 0, errors.New("next-token: Pass needs Tokens, after Build")
	}
	t.tokens = tok
	t.streamLen = (len(t.tokens) - 1) / t.streams()
	T := t.seqLen()
	return (t.streamLen + T - 1) / T, nil
}

// Fill implements Task: chunk c of every stream, positions past the end
// of a stream padded with weight 0.
func (t *NextToken) Fill(c int) (int, error) {
	if t.xT.Float32s() != nil {
		return fillTokens(t, c, t.xT.Float32s(), t.yT.Float32s(), t.wT.Float32s()), nil
	}
	return fillTokens(t, c, t.xT.Float64s(), t.yT.Float64s(), t.wT.Float64s()), nil
}

func fillTokens[T float32 | float64](t *NextToken, c int, xd, yd, wd []T) int {
	B, S, V := t.batch, t.seqLen(), t.Vocab
	clear(yd)
	real := 0
	for b := 0; b < B; b++ {
		for s := 0; s < S; s++ {
			pos := c*S + s
			row := b*S + s
			if pos >= t.streamLen {
				xd[row] = 0
				wd[row] = 0
				continue
			}
			i := (t.first+b)*t.streamLen + pos
			xd[row] = T(t.tokens[i])
			yd[row*V+t.tokens[i+1]] = 1
			wd[row] = 1
			real++
		}
	}
	return real
}

// Metrics implements Task: the accuracy of the most likely next token.
func (t *NextToken) Metrics() []Metric { return []Metric{Accuracy} }

// Score implements Task: the positions whose most likely next token is
// the target.
func (t *NextToken) Score(p *graph.Program, _ *Evaluation) ([]float64, error) {
	var c int
	var err error
	if t.xT.Float32s() != nil {
		c, err = scoreTokens(t, p, t.yT.Float32s(), t.wT.Float32s())
	} else {
		c, err = scoreTokens(t, p, t.yT.Float64s(), t.wT.Float64s())
	}
	return []float64{float64(c)}, err
}

func scoreTokens[T float32 | float64](t *NextToken, p *graph.Program, yd, wd []T) (int, error) {
	V, c := t.Vocab, 0
	for r := range wd {
		if wd[r] == 0 {
			continue
		}
		if err := p.OutputRow(0, r, t.row); err != nil {
			return 0, err
		}
		if yd[r*V+CrossEntropy.Predict(t.row)] == 1 {
			c++
		}
	}
	return c, nil
}

// Derived implements Deriver: bits per token (per character for the
// charrnn), the loss in nats divided by ln 2.
func (t *NextToken) Derived(loss float64) (string, float64) { return "bits_per_char", loss / math.Ln2 }
