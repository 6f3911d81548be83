package run

import (
	"math"

	"github.com/dlrun/dlrun/train"
	"github.com/pkg/errors"
)

// LanguageReport is an evaluation of a language model (next-token
// prediction, the charrnn) on held-out text, the figures PyTorch's
// word_language_model example and Karpathy's char-rnn report.
type LanguageReport struct {
	// Loss is the mean cross-entropy per predicted token, in nats: the
	// test_loss of metrics.csv and summary.json.
	Loss float64 `json:"loss"`
	// BitsPerChar is Loss in bits (Loss / ln 2): the test_bits_per_char
	// of summary.json.
	BitsPerChar float64 `json:"bits_per_char"`
	// Perplexity is exp(Loss).
	Perplexity float64 `json:"perplexity"`
	// Accuracy is the fraction of positions whose most likely next token
	// is the one that follows.
	Accuracy float64 `json:"accuracy"`
	// Characters is the number of held-out tokens (characters) read.
	Characters int `json:"characters"`
}

// LanguageData loads text (default: the run's) for evaluating language
// model m: the bundled novel (pride-and-prejudice) or a UTF-8 text file,
// with its last 10% held out as in training, each character encoded with
// the run's vocabulary (config.json). The run's own text must still have
// the SHA-256 the run recorded; another text may hold only characters of
// the run's vocabulary.
func (m *Model) LanguageData(text string) (*Data, error) {
	if m.Info.Task != NextToken {
		return nil, errors.Errorf("run %s is a %s model; language-model reports are for next-token models", m.Config.Model, m.Info.Task)
	}
	vocab := m.Config.Vocab
	if len(vocab) == 0 || len(vocab) != m.Info.Outputs {
		return nil, errors.Errorf("run %s: config.json has %s, model.json %s", m.Config.Model, plural(len(vocab), "token"), plural(m.Info.Outputs, "output"))
	}
	if text == "" {
		text = m.Config.Dataset
	}
	t, err := LoadText(text)
	if err != nil {
		return nil, err
	}
	if text == m.Config.Dataset && m.Config.DatasetSHA256 != "" && t.SHA256 != m.Config.DatasetSHA256 {
		return nil, errors.Errorf("dataset %s has changed since the run began (SHA-256 %s, was %s)", text, t.SHA256, m.Config.DatasetSHA256)
	}
	// t's ids index its own vocabulary; the model's index the run's.
	ids := make(map[string]int, len(vocab))
	for i, v := range vocab {
		ids[v] = i
	}
	toRun := make([]int, len(t.Vocab))
	for i, v := range t.Vocab {
		id, ok := ids[v]
		if !ok {
			return nil, errors.Errorf("dataset %s: character %q is not in the run's vocabulary of %s", text, v, plural(len(vocab), "character"))
		}
		toRun[i] = id
	}
	remap := func(s []int) train.Tokens {
		out := make(train.Tokens, len(s))
		for i, id := range s {
			out[i] = toRun[id]
		}
		return out
	}
	return &Data{Name: t.Name, SHA256: t.SHA256, Vocab: vocab, Train: remap(t.Train), Test: remap(t.HeldOut)}, nil
}

// LanguageReport evaluates language model m on the test split (the
// held-out text) of d, from LanguageData. The text is read as in training:
// cut into as many streams as the run's batch size, SeqLen steps at a
// time, the recurrent state carried from step to step; on the run's own
// text the loss is the run's last test_loss to the last digit.
func (m *Model) LanguageReport(d *Data) (*LanguageReport, error) {
	if m.Info.Task != NextToken {
		return nil, errors.Errorf("run %s is a %s model; language-model reports are for next-token models", m.Config.Model, m.Info.Task)
	}
	ev, err := m.Evaluate(d.Test)
	if err != nil {
		return nil, err
	}
	_, bits := (&train.NextToken{}).Derived(ev.Loss) // the one definition, as summary.json's
	return &LanguageReport{Loss: ev.Loss, BitsPerChar: bits, Perplexity: math.Exp(ev.Loss),
		Accuracy: ev.Accuracy, Characters: d.Test.Len()}, nil
}
