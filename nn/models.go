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
	register(Reference{
		Name:        "music-transformer",
		Description: "polyphonic music transformer: each step's 88 keys -> dense 128 + learned positions -> 2 pre-norm blocks (causal self-attention, 4 heads; MLP 512 with GELU; dropout 0.2) -> layer norm -> dense 88",
		Build: func(in []int, keys int, opt Options) (*Sequential, error) {
			context := 160 // the positions the model learns: a JSB chorale's steps
			if len(in) == 2 {
				context = in[0]
			}
			return MusicTransformer(keys, context, 2, 4, 128, 0.2), nil
		},
	})
	register(Reference{
		Name:        "music-lstm",
		Description: "polyphonic music model: each step's 88 keys -> LSTM 128 -> dropout 0.3 -> dense 88, a sigmoid per key of the next step",
		Build: func(in []int, keys int, opt Options) (*Sequential, error) {
			return NewSequential("music-lstm", &Recurrent{Cell: opt.Cell, Hidden: 128, ReturnSequences: true}, NewDropout(0.3), NewDense(keys)), nil
		},
	})
	register(Reference{
		Name:        "music-lstm-joint",
		Description: "polyphonic music model with a joint output: each step's 88 keys -> LSTM 128 -> dropout 0.3 -> dense 88 -> autoregressive with 128 hidden units (each key of the next step given the keys below it)",
		Build: func(in []int, keys int, opt Options) (*Sequential, error) {
			return NewSequential("music-lstm-joint", &Recurrent{Cell: opt.Cell, Hidden: 128, ReturnSequences: true}, NewDropout(0.3),
				NewDense(keys), &Autoregressive{Hidden: 128}), nil
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
		Description: "shot-boundary detector: per frame its 12 change and 4 structure signals beside dense 32 ReLU over its pixels -> temporal convolution 64x5 ReLU -> 3 residual ones dilated 2, 3, 6 -> dense 2 (middle of a transition here, part of one)",
		Build: func(in []int, outputs int, opt Options) (*Sequential, error) {
			return ShotNet(in, outputs)
		},
	})
	register(Reference{
		Name:        "gpt",
		Description: "character transformer: embedding 128 + learned positions (N(0, 0.02²)) -> 4 pre-norm blocks (causal self-attention, 4 heads; MLP 512 with tanh GELU) -> layer norm -> dense over the vocabulary",
		Build: func(in []int, vocab int, opt Options) (*Sequential, error) {
			context := 128 // the positions the model learns: the sequences' steps
			if len(in) == 1 {
				context = in[0]
			}
			return GPT(vocab, context, 4, 4, 128), nil
		},
	})
	register(Reference{
		Name:        "resnet",
		Description: "residual CNN: conv 32 3x3 -> 2 residual blocks of 32 -> 2 of 64 (the first strided, with a 1x1 projection) -> global average pool -> dense 10; batch norm after each convolution",
		Build: func(in []int, outputs int, opt Options) (*Sequential, error) {
			return ResNet(outputs, []int{32, 64}, 2), nil
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

// GPT returns a character transformer (a small GPT-2): token embedding
// and learned positions of width, both initialised N(0, 0.02²) as GPT-2's
// (with the N(0, 1) of nn.Embedding's default the blocks' first updates are
// lost in the embeddings and it learns more slowly), then blocks pre-norm
// transformer blocks
// — residual(layer norm, causal self-attention of heads) and
// residual(layer norm, dense 4·width, tanh GELU, dense width) — a final
// layer norm and a dense layer to vocab logits, for sequences of up to
// context steps.
func GPT(vocab, context, blocks, heads, width int) *Sequential {
	layers := []Layer{&Embedding{Vocab: vocab, Dim: width, Init: graph.Normal(0.02)}, NewPositionalEmbedding(context)}
	for range blocks {
		layers = append(layers,
			NewResidual(NewLayerNorm(), NewAttention(heads, true)),
			NewResidual(NewLayerNorm(), NewDense(4*width), &GELU{Tanh: true}, NewDense(width)))
	}
	return NewSequential("gpt", append(layers, NewLayerNorm(), NewDense(vocab))...)
}

// MusicTransformer returns a causal transformer over piano rolls: each
// step's keys projected to width by a dense layer, learned positions for
// up to context steps, then blocks pre-norm transformer blocks —
// residual(layer norm, causal self-attention of heads, dropout) and
// residual(layer norm, dense 4·width, GELU, dense width, dropout) — a
// final layer norm and a dense layer to a logit per key of the next step.
func MusicTransformer(keys, context, blocks, heads, width int, dropout float64) *Sequential {
	layers := []Layer{NewDense(width), NewPositionalEmbedding(context), NewDropout(dropout)}
	for range blocks {
		layers = append(layers,
			NewResidual(NewLayerNorm(), NewAttention(heads, true), NewDropout(dropout)),
			NewResidual(NewLayerNorm(), NewDense(4*width), NewGELU(), NewDense(width), NewDropout(dropout)))
	}
	return NewSequential("music-transformer", append(layers, NewLayerNorm(), NewDense(keys))...)
}

// ResNet returns a residual CNN for images (He et al.'s CIFAR ResNets, on
// a small scale): a 3×3 convolution of widths[0] filters, then for each
// width perStage basic blocks — residual(conv 3×3, batch norm, ReLU,
// conv 3×3, batch norm) followed by ReLU, the first block of each stage
// after the first strided by 2 with a 1×1 strided convolution and batch
// norm as its shortcut — then a global average pool and a dense layer to
// the outputs. The convolutions have no bias (the batch norms have one).
func ResNet(outputs int, widths []int, perStage int) *Sequential {
	conv := func(f, k, s int) *Conv2D {
		return &Conv2D{Filters: f, KernelH: k, KernelW: k, StrideH: s, StrideW: s, Padding: "same", NoBias: true}
	}
	layers := []Layer{conv(widths[0], 3, 1), NewBatchNorm(), ReLU()}
	for i, w := range widths {
		for b := range perStage {
			s := 1
			if i > 0 && b == 0 {
				s = 2
			}
			r := NewResidual(conv(w, 3, s), NewBatchNorm(), ReLU(), conv(w, 3, 1), NewBatchNorm())
			if s != 1 {
				r.Shortcut = []Layer{&Conv2D{Filters: w, KernelH: 1, KernelW: 1, StrideH: 2, StrideW: 2, NoBias: true}, NewBatchNorm()}
			}
			layers = append(layers, r, ReLU())
		}
	}
	return NewSequential("resnet", append(layers, NewGlobalAvgPool2D(), NewDense(outputs))...)
}
