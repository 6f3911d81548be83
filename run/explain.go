package run

import (
	"fmt"
	"io"
	"strings"

	"github.com/dlrun/dlrun/explain"
	"github.com/pkg/errors"
)

// ExplainOptions say how Run.Explain explains a run's answers: the method
// and its settings (explain.Options; every zero field its default), and
// the class explained by name.
type ExplainOptions struct {
	explain.Options
	// Class names the class explained (a classifier's class, a language
	// model's next token); "" explains the predicted one. It sets
	// Options.Target.
	Class string
	// Invert inverts an image file's brightness before it is read, as
	// dlrun predict --invert does.
	Invert bool
}

// The bounds on what one call explains.
const (
	// MaxExplainInputs is the most inputs one call explains.
	MaxExplainInputs = 1024
	// MaxBoardExamples is the most test examples ExplainTests explains.
	MaxBoardExamples = 64
)

// Explanations are a run's answers explained: what dlrun explain prints,
// writes (Save) and encodes as JSON, and what dlrun serve answers.
type Explanations struct {
	// Model is the run's model; Kind its kind; Weights the weights file
	// explained.
	Model   string `json:"model"`
	Kind    string `json:"kind"`
	Weights string `json:"weights"`
	// Items holds one explanation per input, in the order of the inputs.
	Items []Explanation `json:"explanations"`
}

// An Explanation is one answer of a run explained, as its kind shows it:
// an image's heat map (ImageExplanation), a row's attribution per feature
// (RowExplanation), a text's per token (TextExplanation), a
// recommendation's rated movies (RatingExplanation). It encodes as JSON
// with its Head's fields first.
type Explanation interface {
	// Head returns what every explanation says: its type, its input, the
	// files it was saved to.
	Head() *ExplanationHead
	// Print writes it for a reader, in 24-bit colour if colour is set
	// (a terminal).
	Print(w io.Writer, colour bool) error
	// Files returns the files that show it (heat maps, bar charts, a text
	// in colour): what Save writes in a folder, each named by the
	// explanation's stem and the file's suffix.
	Files() ([]File, error)
	// HTML writes it as a section of an HTML page.
	HTML(w io.Writer) error
}

// ExplanationHead is what every Explanation says.
type ExplanationHead struct {
	// Type says what the explanation holds: image, row, text or rating.
	Type string `json:"type"`
	// Input names what was explained: an image file, a text, a user and
	// a movie, a test example.
	Input string `json:"input"`
	// Files are the names of the files Save wrote it to, in the folder
	// (or the page) it wrote.
	Files []string `json:"files,omitempty"`
	// stem is the start of the names of its files.
	stem string
}

// Head implements Explanation.
func (h *ExplanationHead) Head() *ExplanationHead { return h }

// File is a file that shows an explanation: its name's suffix after the
// explanation's stem ("-ig.png") and its content.
type File struct {
	Suffix string
	Data   []byte
}

// explaining is a kind whose runs explain their answers: it reads the
// inputs dlrun explain names, the rows of a served input tensor, and its
// test examples, and explains them with x.
type explaining interface {
	// explainInputs explains the inputs named on dlrun explain's command
	// line (image files, texts, user and movie ids, as the kind reads
	// them).
	explainInputs(r *Run, x *explain.Explainer, inputs []string, o ExplainOptions) ([]Explanation, error)
	// explainRows explains rows of the input the run is served with
	// (Tensors.Shape each, row-major in x).
	explainRows(r *Run, x *explain.Explainer, rows int, in []float32, o ExplainOptions) ([]Explanation, error)
	// explainTests explains the first n examples of the run's test split.
	explainTests(r *Run, x *explain.Explainer, n int, o ExplainOptions) ([]Explanation, error)
	// explainImportance explains the run's features over its test split
	// (ExplainImportance), or says why it does not apply.
	explainImportance(r *Run, x *explain.Explainer, o ExplainOptions) (Explanation, error)
}

// explainer returns the run's explainer, made at the first call, and its
// kind as it explains.
func (r *Run) explainer() (*explain.Explainer, explaining, error) {
	k, ok := r.explaining()
	if !ok {
		return nil, nil, doesNotApply("explaining", r.Kind, "a classifier, a regression, a language model or a recommender")
	}
	if r.expl == nil {
		x, err := explain.New(r.Model.Trainer())
		if err != nil {
			return nil, nil, err
		}
		r.expl = x
	}
	return r.expl, k, nil
}

// explaining returns the run's kind as it explains, if it does.
func (r *Run) explaining() (explaining, bool) {
	k, ok := capability[explaining](r)
	return k, ok
}

// Explains reports whether the run's kind explains its answers: whether
// Explain applies to it.
func (r *Run) Explains() bool {
	_, ok := r.explaining()
	return ok
}

// Explain explains the run's answers for inputs, as its kind reads them:
// image files (PNG or JPEG) for an image classifier, CSV files of rows
// for one trained on a table, rows of comma-separated numbers for a
// classifier of other inputs, texts (the
// context whose next token is explained) for a language model, USER or
// USER:MOVIE (the dataset's ids; USER alone explains the user's top
// recommendation) for a recommender. A run of another kind is an error
// wrapping ErrDoesNotApply. The Run is not safe for concurrent use.
func (r *Run) Explain(inputs []string, o ExplainOptions) (*Explanations, error) {
	if len(inputs) == 0 {
		return nil, errors.New("nothing to explain: name at least one input")
	}
	if len(inputs) > MaxExplainInputs {
		return nil, errors.Errorf("%d inputs: explain takes at most %d at a time (run.MaxExplainInputs)", len(inputs), MaxExplainInputs)
	}
	x, k, err := r.explainer()
	if err != nil {
		return nil, err
	}
	items, err := k.explainInputs(r, x, inputs, o)
	return r.explanations(items, err)
}

// ExplainRows explains rows of the input the run is served with
// (Tensors: its shape per row, ids as whole numbers), row-major in in, as
// dlrun serve's explain endpoint does.
func (r *Run) ExplainRows(rows int, in []float32, o ExplainOptions) (*Explanations, error) {
	x, k, err := r.explainer()
	if err != nil {
		return nil, err
	}
	if rows < 1 || rows > MaxExplainInputs {
		return nil, errors.Errorf("%d rows: explain takes 1 to %d at a time (run.MaxExplainInputs)", rows, MaxExplainInputs)
	}
	if len(in)%rows != 0 {
		return nil, errors.Errorf("%d values for %d rows", len(in), rows)
	}
	items, err := k.explainRows(r, x, rows, in, o)
	return r.explanations(items, err)
}

// ExplainTests explains the first n examples of the run's own test split
// (its held-out text, for a language model; the first test rating of each
// of the first n users, for a recommender), at most MaxBoardExamples:
// what dlrun explain --board writes into the run folder for the board.
func (r *Run) ExplainTests(n int, o ExplainOptions) (*Explanations, error) {
	if n < 1 || n > MaxBoardExamples {
		return nil, errors.Errorf("%d test examples: explain 1 to %d (run.MaxBoardExamples)", n, MaxBoardExamples)
	}
	x, k, err := r.explainer()
	if err != nil {
		return nil, err
	}
	items, err := k.explainTests(r, x, n, o)
	return r.explanations(items, err)
}

// explanations returns items as the run's Explanations, their stems made
// unique, or err.
func (r *Run) explanations(items []Explanation, err error) (*Explanations, error) {
	if err != nil {
		return nil, err
	}
	seen := map[string]int{}
	for _, it := range items {
		h := it.Head()
		h.stem = fileStem(h.stem)
		if n := seen[h.stem]; n > 0 {
			seen[h.stem]++
			h.stem = fmt.Sprintf("%s-%d", h.stem, n+1)
		}
		seen[h.stem]++
	}
	return &Explanations{Model: r.Config.Model, Kind: r.Kind.Name(), Weights: r.Weights, Items: items}, nil
}

// fileStem returns s as the start of a file name: letters, digits, '.',
// '-' and '_' kept, anything else '_', at most 64 bytes, never empty or
// hidden.
func fileStem(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.':
			b.WriteRune(c)
		default:
			b.WriteByte('_')
		}
		if b.Len() >= 64 {
			break
		}
	}
	out := strings.TrimLeft(b.String(), ".")
	if out == "" {
		out = "input"
	}
	return out
}

// classTarget returns o with its Target set from o.Class among names (a
// classifier's classes, a language model's vocabulary).
func classTarget(o ExplainOptions, names []string) (explain.Options, error) {
	if o.Class == "" {
		return o.Options, nil
	}
	t, err := explain.ClassNamed(o.Class, names)
	if err != nil {
		return o.Options, err
	}
	o.Target = t
	return o.Options, nil
}
