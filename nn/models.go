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

	// The recommenders' options (mf, ncf, biases), which the data gives:
	// the numbers of users and movies (dense indices 0..Users-1 and
	// 0..Movies-1; 0: the bundled MovieLens's, MovieLensUsers and
	// MovieLensMovies), the mean rating that predictions start from (the
	// training set's), the embedding size (0: 32) and the weight of the L2
	// penalty on the embedding rows and biases of each batch (0: none; see
	// MF).
	Users, Movies int
	Mean          float64
	Dim           int
	L2            float64
}

// The numbers of users and movies of the bundled MovieLens ratings
// (datasets.MovieLens), the recommenders' defaults.
const (
	MovieLensUsers  = 671
	MovieLensMovies = 9066
)

// recOptions returns the users and movies of opt, with the defaults.
func recOptions(opt Options) (users, movies int) {
	users, movies = opt.Users, opt.Movies
	if users == 0 {
		users = MovieLensUsers
	}
	if movies == 0 {
		movies = MovieLensMovies
	}
	return users, movies
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
	// The recommenders take [2] (user index, movie index) per example and
	// predict one rating; outputs is not used.
	register(Reference{
		Name:        "mf",
		Description: "biased matrix factorisation: mean + user bias + movie bias + <user, movie> embeddings (32, --dim)",
		Build: func(in []int, outputs int, opt Options) (*Sequential, error) {
			users, movies := recOptions(opt)
			return NewSequential("mf", &MF{Users: users, Movies: movies, Dim: opt.Dim, Mean: opt.Mean, L2: opt.L2}), nil
		},
	})
	register(Reference{
		Name:        "ncf",
		Description: "neural collaborative filtering: user and movie embeddings 32 concatenated -> dense 64 ReLU -> dense 32 ReLU -> dense 1, plus mean + user bias + movie bias",
		Build: func(in []int, outputs int, opt Options) (*Sequential, error) {
			users, movies := recOptions(opt)
			return NewSequential("ncf", &NCF{Users: users, Movies: movies, Dim: opt.Dim, Mean: opt.Mean, L2: opt.L2}), nil
		},
	})
	register(Reference{
		Name:        "biases",
		Description: "mean + user bias + movie bias alone: the floor every recommender must beat",
		Build: func(in []int, outputs int, opt Options) (*Sequential, error) {
			users, movies := recOptions(opt)
			return NewSequential("biases", &Biases{Users: users, Movies: movies, Mean: opt.Mean, L2: opt.L2}), nil
		},
	})
	// The shot detector takes windows of frames [frames, 3, h, w] and gives
	// its logits per frame [frames, outputs].
	register(Reference{
		Name:        "shots",
		Description: "shot-boundary detector: per frame its 12 change signals (frame_changes) -> dense 64 ReLU -> dense 64 ReLU -> dense 2 (transition centred here, part of one)",
		Build: func(in []int, outputs int, opt Options) (*Sequential, error) {
			return NewSequential("shots", NewFrameChanges(), NewDense(64), ReLU(), NewDense(64), ReLU(), NewDense(outputs)), nil
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
