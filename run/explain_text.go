package run

import (
	"bytes"
	"io"
	"strconv"

	"github.com/dlrun/dlrun/explain"
	"github.com/pkg/errors"
)

// TextExplanation is a language model's next token after a context
// explained: the attribution of each token of the context
// (explain.TextAttribution's fields), shown in colour.
type TextExplanation struct {
	ExplanationHead
	*explain.TextAttribution
}

var _ Explanation = (*TextExplanation)(nil)

// testContext is the most tokens of held-out text ExplainTests gives a
// language model as a context.
const testContext = 64

// runVocab returns language model r's vocabulary: the one config.json
// records, or that of the run's own text (a model trained from Go).
func runVocab(r *Run) ([]string, error) {
	if len(r.Config.Vocab) > 0 {
		return r.Config.Vocab, nil
	}
	t, name, err := runText(r, "")
	if err != nil {
		return nil, err
	}
	return vocabOf(r, name, t)
}

// explainTexts explains language model r's next token after each context
// (token ids), named by names, with x.
func explainTexts(r *Run, x *explain.Explainer, names []string, contexts [][]int, o ExplainOptions) ([]Explanation, error) {
	vocab, err := runVocab(r)
	if err != nil {
		return nil, err
	}
	opt, err := classTarget(o, vocab)
	if err != nil {
		return nil, err
	}
	out := make([]Explanation, len(contexts))
	for i, c := range contexts {
		a, err := x.Text(c, vocab, opt)
		if err != nil {
			if len(contexts) > 1 {
				err = errors.Wrap(err, names[i])
			}
			return nil, err
		}
		out[i] = &TextExplanation{ExplanationHead{Type: "text", Input: names[i], stem: "text-" + strconv.Itoa(i+1)}, a}
	}
	return out, nil
}

// Print implements Explanation: in colour on a terminal
// (explain.WriteANSI), otherwise the context and its tokens of largest
// attribution (explain.WritePlain).
func (e *TextExplanation) Print(w io.Writer, colour bool) error {
	if colour {
		return explain.WriteANSI(w, e.TextAttribution)
	}
	return explain.WritePlain(w, e.TextAttribution)
}

// Files implements Explanation: the context in colour as an HTML page,
// <stem>.html.
func (e *TextExplanation) Files() ([]File, error) {
	var b bytes.Buffer
	if err := explain.WriteHTML(&b, e.TextAttribution); err != nil {
		return nil, err
	}
	return []File{{Suffix: ".html", Data: b.Bytes()}}, nil
}

// HTML implements Explanation: the context in colour.
func (e *TextExplanation) HTML(w io.Writer) error {
	return explain.WriteHTMLSection(w, e.TextAttribution)
}
