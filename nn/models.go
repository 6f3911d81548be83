package nn

import (
	"sort"

	"github.com/dlrun/dlrun/graph"

	"github.com/pkg/errors"
)

// Reference is one of dlrun's reference models.
type Reference struct {
	Name        string
	Description string
	// Build builds the model for per-example input shape in, the given
	// number of outputs (classes) and options.
	Build func(in []int, outputs int, opt Options) (*Sequential, error)
}

// Options vary a reference model.
type Options struct {
	// Cell is the recurrent cell of the rnn models (default LSTM).
	Cell graph.Cell
}

// New builds the model with default options.
func (r Reference) New(in []int, outputs int) (*Sequential, error) {
	if r.Build == nil {
		return nil, errors.Errorf("reference model %q has no Build function", r.Name)
	}
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
		Build: func(in []int, outputs int, opt Options) (*Sequential, error) {
			return NewSequential("xor", NewDense(8), Tanh(), NewDense(outputs)), nil
		},
	})
	register(Reference{
		Name:        "cnn",
		Description: "convolutional classifier: conv 32 3x3 ReLU -> maxpool 2 -> conv 64 3x3 ReLU -> maxpool 2 -> dense 512 ReLU -> dense 10",
		Build: func(in []int, outputs int, opt Options) (*Sequential, error) {
			return NewSequential("cnn",
				NewConv2D(32, 3), ReLU(), NewMaxPool2D(2),
				NewConv2D(64, 3), ReLU(), NewMaxPool2D(2),
				NewFlatten(), NewDense(512), ReLU(), NewDense(outputs)), nil
		},
	})
	register(Reference{
		Name:        "cnn-bn",
		Description: "the cnn with batch normalisation: conv 32 3x3 -> batchnorm -> ReLU -> maxpool 2 -> conv 64 3x3 -> batchnorm -> ReLU -> maxpool 2 -> dense 512 ReLU -> dense 10",
		Build: func(in []int, outputs int, opt Options) (*Sequential, error) {
			return NewSequential("cnn-bn",
				&Conv2D{Filters: 32, KernelH: 3, KernelW: 3, NoBias: true}, NewBatchNorm(), ReLU(), NewMaxPool2D(2),
				&Conv2D{Filters: 64, KernelH: 3, KernelW: 3, NoBias: true}, NewBatchNorm(), ReLU(), NewMaxPool2D(2),
				NewFlatten(), NewDense(512), ReLU(), NewDense(outputs)), nil
		},
	})
	register(Reference{
		Name:        "rnn",
		Description: "recurrent classifier over image rows: LSTM 128 (or GRU with --cell gru) -> dense 128 ReLU -> dense 10",
		Build: func(in []int, outputs int, opt Options) (*Sequential, error) {
			return NewSequential("rnn", &Recurrent{Cell: opt.Cell, Hidden: 128}, NewDense(128), ReLU(), NewDense(outputs)), nil
		},
	})
	register(Reference{
		Name:        "charrnn",
		Description: "character language model: embedding 64 -> LSTM 256 -> LSTM 256 -> dense over the vocabulary",
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
		Build: func(in []int, outputs int, opt Options) (*Sequential, error) {
			return NewSequential("mlp", NewFlatten(), NewDense(256), ReLU(), NewDense(128), ReLU(), NewDense(outputs)), nil
		},
	})
}
