package explain

import (
	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/train"
	"github.com/pkg/errors"
)

// TextAttribution explains a next-token model's next token after a
// context: Values holds one attribution per token of the context (Shape
// [len(context)]), Class is the next token's id and Output its logit (or
// probability, as Quantity says).
type TextAttribution struct {
	Attribution
	// Tokens are the context's tokens, Next the token explained, as the
	// vocabulary writes them.
	Tokens []string `json:"tokens"`
	Next   string   `json:"next"`
}

// Text explains which tokens of context (token ids of a next-token model,
// such as the charrnn's characters) made the model predict the token after
// them: the predicted one, or opt.Target's. vocab names the model's
// tokens in id order. The method is integrated gradients over the
// embeddings: the context's embedding vectors move from zeros (the
// baseline: no token at all) to their values, and a token's attribution is
// the sum of its vector's attributions, so that the tokens' attributions
// sum to the logit less the logit from zero vectors. Recurrent layers
// start from the zero state, as a pass of training does.
func (e *Explainer) Text(context []int, vocab []string, opt Options) (*TextAttribution, error) {
	opt, err := opt.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := e.checkTask("next-token", "next-token prediction"); err != nil {
		return nil, err
	}
	if opt.Quantity == Prediction {
		return nil, errors.New("explain: a next token is explained by its logit or probability, not a prediction")
	}
	if opt.Method != IntegratedGradients {
		return nil, errors.Errorf("explain: text is explained by integrated gradients over the embeddings, not %s", opt.Method)
	}
	if opt.Baseline == Blur {
		return nil, errors.New("explain: text has no blur baseline: its baseline is the zero embedding")
	}
	V := e.info.Outputs
	if len(vocab) != V {
		return nil, errors.Errorf("explain: a vocabulary of %d tokens for model %s, which has %d", len(vocab), e.info.Model.Name, V)
	}
	T := len(context)
	if T == 0 || T > train.MaxSeqLen {
		return nil, errors.Errorf("explain: a context of %d tokens: must be from 1 to %d", T, train.MaxSeqLen)
	}
	for i, id := range context {
		if id < 0 || id >= V {
			return nil, errors.Errorf("explain: token %d of the context is id %d, not one of the vocabulary's 0 to %d", i+1, id, V-1)
		}
	}
	if c, ok := opt.Target.Index(); ok && (c < 0 || c >= V) {
		return nil, errors.Errorf("explain: next token %d: model %s has tokens 0 to %d", c, e.info.Model.Name, V-1)
	}
	shape := []int{T}
	ids := func(_ int, x []float64) {
		for i, id := range context {
			x[i] = float64(id)
		}
	}
	last := (T - 1) * V
	next, ok := opt.Target.Index()
	if !ok {
		err := e.do(request{shape: shape, quantity: opt.Quantity, rows: 1, input: ids, visit: func(_ int, out, _ []float64) error {
			next = argmax(out[last : last+V])
			return nil
		}})
		if err != nil {
			return nil, err
		}
	}
	table, err := e.tokenTable(shape)
	if err != nil {
		return nil, err
	}
	dim := len(table) / V
	value := make([]float64, T*dim)
	for i, id := range context {
		copy(value[i*dim:(i+1)*dim], table[id*dim:(id+1)*dim])
	}
	sp := space{shape: shape, quantity: opt.Quantity, taps: tokenTap, ids: ids}
	res, err := e.integrate(sp, [][]float64{value}, [][]float64{make([]float64, len(value))}, []pick{{index: last + next, sign: 1}}, opt.Steps, opt.Rule)
	if err != nil {
		return nil, err
	}
	r := res[0]
	a := &TextAttribution{
		Attribution: Attribution{Method: IntegratedGradients, Class: next, Shape: shape, Values: make([]float64, T),
			Quantity: opt.Quantity, Output: r.out, Steps: opt.Steps, Rule: opt.Rule},
		Tokens: make([]string, T), Next: vocab[next],
	}
	base, delta := r.base, r.delta()
	a.BaselineOutput, a.Delta = &base, &delta
	for i, id := range context {
		for _, v := range r.attr[i*dim : (i+1)*dim] {
			a.Values[i] += v
		}
		a.Tokens[i] = vocab[id]
	}
	return a, nil
}

// tokenTap selects the embeddings that look up the model's input: the
// tokens, not positions.
func tokenTap(t graph.Tap, x *graph.Node) bool { return t.IDs == x }

// tokenTable returns the values of the table of the one embedding that
// looks up the model's tokens, for input shape.
func (e *Explainer) tokenTable(shape []int) ([]float64, error) {
	n, err := e.net(1, shape, Logit)
	if err != nil {
		return nil, err
	}
	var table []float64
	for _, t := range n.taps {
		if !tokenTap(t, n.x) {
			continue
		}
		if table != nil {
			return nil, errors.Errorf("explain: model %s looks its tokens up in more than one embedding", e.info.Model.Name)
		}
		table = e.from.ParamByName(t.Table.Name()).Values()
	}
	if table == nil {
		return nil, errors.Errorf("explain: model %s has no embedding of its tokens to attribute to", e.info.Model.Name)
	}
	return table, nil
}

// argmax returns the index of the largest value of v (the first of equals).
func argmax(v []float64) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}
