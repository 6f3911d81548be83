package nn

import (
	"sort"

	"github.com/dlrun/dlrun/graph"

	"github.com/pkg/errors"
)

// Recipe is how a reference model is trained by default: the dataset it
// is made for and the hyperparameters of its published runs.
type Recipe struct {
	Dataset string `json:"dataset"`
	// Sequence says the model reads each image as a sequence of its rows.
	Sequence bool `json:"sequence,omitempty"`
	// LanguageModel says the model predicts the next token of a text,
	// trained by truncated backpropagation through time over SeqLen steps.
	LanguageModel bool    `json:"language_model,omitempty"`
	SeqLen        int     `json:"seq_len,omitempty"`
	Epochs        int     `json:"epochs"`
	BatchSize     int     `json:"batch_size"`
	Optimizer     string  `json:"optimizer"`
	LearningRate  float64 `json:"learning_rate"`
	Loss          string  `json:"loss"`
}

// Reference is one of dlrun's reference models.
type Reference struct {
	Name        string
	Description string
	Recipe      Recipe
	// Build builds the model for per-example input shape in, the given
	// number of outputs (classes) and options.
	Build func(in []int, outputs int, opt Options) (*Sequential, error)
}

// Options vary a reference model.
type Options struct {
	// Cell is the recurrent cell of the rnn models (default LSTM).
	Cell graph.Cell
}

// InputShape returns the per-example input shape the model takes for data
// of shape data: for a sequence model, an image [c h w] is read as h steps of
// c·w features (datasets.AsSequence).
func (r Reference) InputShape(data []int) []int {
	if r.Recipe.Sequence && len(data) == 3 {
		return []int{data[1], data[0] * data[2]}
	}
	return data
}

// New builds the model with default options.
func (r Reference) New(in []int, outputs int) (*Sequential, error) {
	return r.Build(in, outputs, Options{})
}

var references = map[string]Reference{}

// register adds a reference model; it is called from init functions.
func register(r Reference) { references[r.Name] = r }

// References returns the reference models sorted by name.
func References() []Reference {
	out := make([]Reference, 0, len(references))
	for _, r := range references {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// ReferenceByName returns the named reference model.
func ReferenceByName(name string) (Reference, error) {
	r, ok := references[name]
	if !ok {
		names := make([]string, 0, len(references))
		for _, r := range References() {
			names = append(names, r.Name)
		}
		return Reference{}, errors.Errorf("unknown model %q (known: %v)", name, names)
	}
	return r, nil
}

func init() {
	register(Reference{
		Name:        "xor",
		Description: "the origin's first example: 2-8-1 with tanh, on the four XOR points",
		Recipe:      Recipe{Dataset: "xor", Epochs: 300, BatchSize: 4, Optimizer: "adam", LearningRate: 0.05, Loss: "bce"},
		Build: func(in []int, outputs int, opt Options) (*Sequential, error) {
			return NewSequential("xor", NewDense(8), Tanh(), NewDense(outputs)), nil
		},
	})
	register(Reference{
		Name:        "cnn",
		Description: "convolutional classifier: conv 32 3x3 ReLU -> maxpool 2 -> conv 64 3x3 ReLU -> maxpool 2 -> dense 512 ReLU -> dense 10",
		Recipe:      Recipe{Dataset: "fashion-mnist", Epochs: 10, BatchSize: 64, Optimizer: "adam", LearningRate: 1e-3, Loss: "cce"},
		Build: func(in []int, outputs int, opt Options) (*Sequential, error) {
			return NewSequential("cnn",
				NewConv2D(32, 3), ReLU(), NewMaxPool2D(2),
				NewConv2D(64, 3), ReLU(), NewMaxPool2D(2),
				NewFlatten(), NewDense(512), ReLU(), NewDense(outputs)), nil
		},
	})
	register(Reference{
		Name:        "rnn",
		Description: "recurrent classifier over image rows: LSTM 128 (or GRU with --cell gru) -> dense 128 ReLU -> dense 10",
		Recipe:      Recipe{Dataset: "fashion-mnist", Sequence: true, Epochs: 10, BatchSize: 64, Optimizer: "adam", LearningRate: 1e-3, Loss: "cce"},
		Build: func(in []int, outputs int, opt Options) (*Sequential, error) {
			return NewSequential("rnn", &Recurrent{Cell: opt.Cell, Hidden: 128}, NewDense(128), ReLU(), NewDense(outputs)), nil
		},
	})
	register(Reference{
		Name:        "charrnn",
		Description: "character language model: embedding 64 -> LSTM 256 -> LSTM 256 -> dense over the vocabulary",
		Recipe:      Recipe{Dataset: "pride-and-prejudice", LanguageModel: true, SeqLen: 100, Epochs: 3, BatchSize: 64, Optimizer: "adam", LearningRate: 2e-3, Loss: "cce"},
		Build: func(in []int, vocab int, opt Options) (*Sequential, error) {
			layers := []Layer{NewEmbedding(vocab, 64)}
			for i := 0; i < 2; i++ {
				layers = append(layers, &Recurrent{Cell: opt.Cell, Hidden: 256, ReturnSequences: true, Stateful: true})
			}
			return NewSequential("charrnn", append(layers, NewDense(vocab))...), nil
		},
	})
	register(Reference{
		Name:        "mlp",
		Description: "feedforward classifier: flatten -> dense 256 ReLU -> dense 128 ReLU -> dense 10",
		Recipe:      Recipe{Dataset: "fashion-mnist", Epochs: 10, BatchSize: 64, Optimizer: "adam", LearningRate: 1e-3, Loss: "cce"},
		Build: func(in []int, outputs int, opt Options) (*Sequential, error) {
			return NewSequential("mlp", NewFlatten(), NewDense(256), ReLU(), NewDense(128), ReLU(), NewDense(outputs)), nil
		},
	})
}
