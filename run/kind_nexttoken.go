package run

import (
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/dlrun/dlrun/datasets"
	"github.com/dlrun/dlrun/explain"
	"github.com/dlrun/dlrun/nn"
	"github.com/dlrun/dlrun/train"
	"github.com/pkg/errors"
)

func init() { Register(NextToken) }

// NextToken is the kind of run that models text: a language model reads a
// text a token (a character) at a time and predicts the next, scored by
// held-out bits per character.
var NextToken = &nextToken{supervised{
	name: "next-token",
	refs: map[string]Config{
		"charrnn": {Dataset: "pride-and-prejudice", Cell: "lstm", SeqLen: 100, Config: lmRecipe},
		"gpt":     {Dataset: "pride-and-prejudice", SeqLen: 128, Config: gptRecipe},
	},
	file: Config{Dataset: "pride-and-prejudice", SeqLen: 100, Config: lmRecipe},
	loss: "cce",
	progress: Progress{Unit: "token", Rate: "chars",
		Headline: Headline{Name: "bits_per_char", Column: "test_bits_per_char", Summary: "test_bits_per_char"}},
}}

// lmRecipe is the language models' recipe (the charrnn's).
var lmRecipe = train.Config{Epochs: 3, BatchSize: 64, Optimizer: "adam", LearningRate: 2e-3, Loss: "cce"}

// gptRecipe is the character transformer's: AdamW with PyTorch's weight
// decay, a linear warm-up over 100 steps then a cosine to 0, clipping by
// global norm 1 (GPT-2's recipe, nanoGPT's for characters), 32 streams of
// 128 characters.
var gptRecipe = train.Config{Epochs: 8, BatchSize: 32, Optimizer: "adamw", LearningRate: 3e-3, WeightDecay: 0.01,
	ClipNorm: 1, Schedule: "warmup_cosine", WarmupSteps: 100, Loss: "cce"}

// nextToken is the kind of NextToken.
type nextToken struct{ supervised }

var _ SupervisedKind = NextToken

// generates implements generating: a language model writes text.
func (*nextToken) generates() {}

// Data implements SupervisedKind: the bundled novel or a UTF-8 text file,
// its last 10% held out.
func (*nextToken) Data(c *Config) (*Data, error) {
	t, err := LoadText(c.Dataset)
	if err != nil {
		return nil, err
	}
	return FromText(t), nil
}

// Build implements SupervisedKind: sequences of seq_len token ids in, the
// next token's logits over the vocabulary out.
func (*nextToken) Build(c *Config, d *Data) (*nn.Sequential, train.Task, error) {
	if err := d.check(); err != nil {
		return nil, nil, err
	}
	if len(d.Vocab) == 0 {
		return nil, nil, errors.Errorf("dataset %s has no vocabulary: next-token prediction needs a text", d.Name)
	}
	model, err := network(c, d, []int{c.SeqLen}, len(d.Vocab))
	if err != nil {
		return nil, nil, err
	}
	return model, &train.NextToken{Vocab: len(d.Vocab), SeqLen: c.SeqLen}, nil
}

// FitBatch implements SupervisedKind: the batch is the number of parallel
// streams, each needing a token and its successor in both the training
// text and the held-out one.
func (*nextToken) FitBatch(c *Config, d *Data) string {
	if d == nil || d.Train == nil || d.Test == nil {
		return ""
	}
	b := c.BatchSize
	split, n := "training", d.Train.Len()
	if d.Test.Len() < n {
		split, n = "held-out", d.Test.Len()
	}
	if n < 2 || b <= n-1 {
		return "" // too short a text is the task's error to report
	}
	c.BatchSize = n - 1
	return fmt.Sprintf("batch %d: more streams than the %d %s tokens can fill (each needs a token and its successor); using %d", b, n, split, n-1)
}

// NewTask implements Kind.
func (*nextToken) NewTask(info *train.ModelInfo) (train.Task, error) { return info.NewTask() }

// Check implements Kind: the vocabulary, where the run records one (a
// model trained from Go may not), names every output; the loop agrees
// with the model (checkLoop).
func (k *nextToken) Check(c *Config, info *train.ModelInfo, ck *train.Config) error {
	if len(c.Vocab) > 0 && len(c.Vocab) != info.Outputs {
		return errors.Errorf("config.json: vocab: %s, but model.json has %s", plural(len(c.Vocab), "token"), plural(info.Outputs, "output"))
	}
	return checkLoop(k.Loop(c), info, ck)
}

// evalData loads text name (the run's if "") for evaluating language model
// r: the bundled novel or a UTF-8 text file, with its last 10% held out as
// in training, each character encoded with the run's vocabulary. The run's
// own text must still have the SHA-256 the run recorded; another text may
// hold only characters of the run's vocabulary.
func (*nextToken) evalData(r *Run, name string) (*Data, error) {
	t, name, err := runText(r, name)
	if err != nil {
		return nil, err
	}
	d := FromText(t)
	if name == r.Config.Dataset {
		if err := checkOwnData(&r.Config, d); err != nil {
			return nil, err
		}
	}
	vocab, err := vocabOf(r, name, t)
	if err != nil {
		return nil, err
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
			return nil, errors.Errorf("dataset %s: character %q is not in the run's vocabulary of %s", name, v, plural(len(vocab), "character"))
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

// Evaluate implements Kind: loss, bits per character, perplexity and
// next-character accuracy over the held-out text, read as in training:
// cut into as many streams as the run's batch size, seq_len steps at a
// time, the recurrent state carried from step to step; on the run's own
// text the loss is the run's last test_loss to the last digit.
func (k *nextToken) Evaluate(r *Run, o EvalOptions) (Report, error) {
	if err := agentOptions(k, o); err != nil {
		return nil, err
	}
	d, err := k.evalData(r, o.Data)
	if err != nil {
		return nil, err
	}
	ev, err := r.Model.Evaluate(d.Test)
	if err != nil {
		return nil, errors.Wrapf(err, "evaluating on %s", d.Name)
	}
	_, bits := (&train.NextToken{}).Derived(ev.Loss) // the one definition, as summary.json's
	return &LanguageReport{Dataset: d.Name, Loss: ev.Loss, BitsPerChar: bits, Perplexity: math.Exp(ev.Loss),
		Accuracy: ev.Accuracy, Characters: d.Test.Len()}, nil
}

// Tensors implements Kind: token ids in, seq_len at a time; the logits of
// the next token after each step out. Ids in and logits out need no
// vocabulary: the run's, where it records one (a model trained from Go may
// not), describes them.
func (*nextToken) Tensors(r *Run) (*Tensors, error) {
	steps, n := r.Model.Info.InputShape[0], r.Model.Info.Outputs
	t := &Tensors{
		Shape:    []int{steps},
		IDs:      true,
		Bound:    func(int) (string, int) { return "token id", n },
		InputDoc: "token ids, in the vocabulary's order",
		Steps:    true,
		Pad:      true,
		Outputs: []Output{{Name: LogitsName, Head: Raw, Shape: []int{steps, n}, Doc: "the next token's logits at each step",
			Serve: true, Export: true}},
	}
	if len(r.Config.Vocab) > 0 {
		t.Meta = map[string]any{"vocab": r.Config.Vocab}
	}
	return t, nil
}

// LanguageReport is an evaluation of a language model (next-token
// prediction, the charrnn) on held-out text, the figures PyTorch's
// word_language_model example and Karpathy's char-rnn report.
type LanguageReport struct {
	Dataset string `json:"dataset"`
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

// Print implements Report.
func (r *LanguageReport) Print(w io.Writer) {
	fmt.Fprintf(w, "%s: %s held out, loss %.4f, bits per char %.4f, perplexity %.3f, accuracy %.4f\n",
		r.Dataset, plural(r.Characters, "character"), r.Loss, r.BitsPerChar, r.Perplexity, r.Accuracy)
}

// runText loads text name for language model r (the run's own if ""):
// the bundled novel or a UTF-8 text file, and the name it loaded. A run
// that records no dataset (a model trained from Go) asks for one.
func runText(r *Run, name string) (*datasets.Text, string, error) {
	own := name == ""
	name, err := evalDataset(r, name)
	if err != nil {
		return nil, "", err
	}
	t, err := LoadText(name)
	if err != nil && own {
		return nil, "", unloadable(r, err)
	}
	return t, name, err
}

// vocabOf returns the vocabulary language model r reads, in id order: the
// one its config.json records, or, where it records none (a model trained
// from Go), that of t, the text name given for it, as training reads a
// text (a token per distinct character, in order), which must have a token
// per output of the model.
func vocabOf(r *Run, name string, t *datasets.Text) ([]string, error) {
	if len(r.Config.Vocab) > 0 {
		return r.Config.Vocab, nil
	}
	if n := r.Model.Info.Outputs; len(t.Vocab) != n {
		return nil, errors.Errorf("--data %s: %s, but the model of run folder %s, which records no vocabulary (config.json's vocab), has %s: it was trained on another text", name, plural(len(t.Vocab), "distinct character"), r.Dir, plural(n, "output"))
	}
	return t.Vocab, nil
}

// runData implements dataLoading.
func (k *nextToken) runData(r *Run, name string) (*Data, error) { return k.evalData(r, name) }

// explainInputs implements explaining: each input is a context, the text
// whose next character is explained.
func (*nextToken) explainInputs(r *Run, x *explain.Explainer, inputs []string, o ExplainOptions) ([]Explanation, error) {
	vocab, err := runVocab(r)
	if err != nil {
		return nil, err
	}
	contexts := make([][]int, len(inputs))
	for i, in := range inputs {
		if contexts[i], err = datasets.Encode(vocab, in); err != nil {
			return nil, errors.Wrapf(err, "input %d (%q)", i+1, clip(in))
		}
	}
	return explainTexts(r, x, inputs, contexts, o)
}

// explainRows implements explaining: each row holds a context's token
// ids.
func (*nextToken) explainRows(r *Run, x *explain.Explainer, rows int, in []float32, o ExplainOptions) ([]Explanation, error) {
	names := make([]string, rows)
	contexts := make([][]int, rows)
	for i, row := range splitRows(rows, in) {
		names[i] = "row " + strconv.Itoa(i+1)
		contexts[i] = make([]int, len(row))
		for j, v := range row {
			contexts[i][j] = int(v)
			if float32(contexts[i][j]) != v {
				return nil, errors.Errorf("row %d: token %d is %v, not a token id", i+1, j+1, v)
			}
		}
	}
	return explainTexts(r, x, names, contexts, o)
}

// explainTests implements explaining: n contexts of testContext tokens
// spread evenly over the run's held-out text.
func (*nextToken) explainTests(r *Run, x *explain.Explainer, n int, o ExplainOptions) ([]Explanation, error) {
	d, err := r.Data("")
	if err != nil {
		return nil, err
	}
	tokens, ok := d.Test.(train.Tokens)
	if !ok || len(tokens) < 2 {
		return nil, errors.Errorf("dataset %s has no held-out text to explain", d.Name)
	}
	size := min(testContext, len(tokens)-1)
	n = min(n, len(tokens)-size)
	names := make([]string, n)
	contexts := make([][]int, n)
	for i := range n {
		at := i * (len(tokens) - size) / n
		contexts[i] = tokens[at : at+size]
		names[i] = "held-out text at character " + strconv.Itoa(at+1)
	}
	return explainTexts(r, x, names, contexts, o)
}

// explainImportance implements explaining: a language model has no
// features to rank.
func (k *nextToken) explainImportance(*Run, *explain.Explainer, ExplainOptions) (Explanation, error) {
	return nil, doesNotApply("feature importance", k, "a classifier of rows")
}
