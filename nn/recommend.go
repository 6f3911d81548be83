package nn

import (
	"math"
	"slices"
	"strconv"

	"github.com/dlrun/dlrun/graph"
)

// This file holds the recommenders: rating prediction from a
// user and a movie. Per example the input is [2], a user index and a movie
// index (stored as floats, as every input is; dense indices 0..Users-1 and
// 0..Movies-1, exact in float32 up to 2^24), and the output [1], the
// predicted rating. Each model is
//
//	Mean + b_user + b_movie + f(user, movie)
//
// with biases b_user [Users, 1] and b_movie [Movies, 1] (zeros at first),
// Mean a constant (the training set's mean rating, say) and f zero
// (Biases), the dot product of the user's and the movie's embeddings (MF)
// or an MLP over both (NCF). An id outside its range is an error when the
// graph runs.
//
// Regularisation. With L2 > 0 a layer registers a penalty with
// graph.Graph.AddPenalty, which the trainer adds to the loss it minimises:
//
//	L2 · (Σ over the batch's rows of ||p_user||² + ||q_movie||² + b_user² + b_movie²) / batch
//
// the L2 of the embedding rows and biases each batch touches, as is usual
// for factorisation (and unlike weight decay, which shrinks every row at
// every step). Dividing by the batch size makes L2 the weight per example:
// the same L2 means the same thing at any batch size. A user with many
// ratings is regularised once per rating, as in Funk's SVD. The training
// loop pads a short last batch to the batch size (train's Rating task with
// user 0 and movie 0 at loss weight 0): the padded rows count in the
// penalty (and in the division), pulling the rows of user 0 and movie 0
// a little towards zero once per epoch, a small effect. The MLP of NCF is
// not in the penalty.
//
// Every layer here is PyTorch nn.Embedding-based; the parameter
// <name>.user_embedding is the state dict's user_embedding.weight, and so
// on. The embeddings are initialised N(0, 0.01²) (Init): predictions start
// at Mean, ⟨p, q⟩ being of order √32·10⁻⁴ ≈ 6·10⁻⁴ stars, so training
// starts from the global-mean predictor while the gradients still break
// the symmetry between dimensions; it is the initialisation of the NCF
// paper's reference code (He et al., 2017). PyTorch's nn.Embedding default
// N(0, 1) would start ⟨p, q⟩ at ±√32 ≈ ±5.7 stars.

// Every recommender is a Layer.
var (
	_ Layer = (*MF)(nil)
	_ Layer = (*Biases)(nil)
	_ Layer = (*NCF)(nil)
)

// The recommenders' defaults.
const (
	// DefaultRecDim is the embedding size of MF and NCF when Dim is 0.
	DefaultRecDim = 32
)

// DefaultNCFHidden returns NCF's default hidden layers, [64 32].
func DefaultNCFHidden() []int { return []int{64, 32} }

// defaultRecInit is the embeddings' default initialiser.
var defaultRecInit = graph.Normal(0.01)

// MF is biased matrix factorisation: the prediction for (user u, movie i)
// is
//
//	Mean + b_u + b_i + ⟨p_u, q_i⟩
//
// with p_u a row of <name>.user_embedding [Users, Dim], q_i a row of
// <name>.movie_embedding [Movies, Dim] (both N(0, 0.01²), Init) and the
// biases <name>.user_bias [Users, 1] and <name>.movie_bias [Movies, 1]
// (zeros). Per example the input is [2] (user index, movie index) and the
// output [1]. See the top of this file for L2. In PyTorch:
//
//	class MF(nn.Module):
//	    def __init__(self, users, movies, dim=32, mean=0.0):
//	        super().__init__()
//	        self.user_embedding = nn.Embedding(users, dim)    # normal_(std=0.01)
//	        self.movie_embedding = nn.Embedding(movies, dim)  # normal_(std=0.01)
//	        self.user_bias = nn.Embedding(users, 1)           # zeros_
//	        self.movie_bias = nn.Embedding(movies, 1)         # zeros_
//	        self.mean = mean
//	    def forward(self, x):                                 # x [batch, 2]
//	        u, i = x[:, 0].long(), x[:, 1].long()
//	        p, q = self.user_embedding(u), self.movie_embedding(i)
//	        bu, bi = self.user_bias(u), self.movie_bias(i)
//	        # penalty: l2 * (p.pow(2).sum() + q.pow(2).sum()
//	        #                + bu.pow(2).sum() + bi.pow(2).sum()) / len(x)
//	        return self.mean + bu + bi + (p * q).sum(-1, keepdim=True)
type MF struct {
	base
	Users, Movies int
	Dim           int     // embedding size; 0: DefaultRecDim (32)
	Mean          float64 // added to every prediction
	L2            float64 // weight of the batch's L2 penalty; 0: none
	// Init initialises the embeddings; default N(0, 0.01²).
	Init graph.Initializer
}

// NewMF returns biased matrix factorisation of users × movies with
// embeddings of dim (0: 32) and the given mean rating.
func NewMF(users, movies, dim int, mean float64) *MF {
	return &MF{Users: users, Movies: movies, Dim: dim, Mean: mean}
}

// Kind implements Layer.
func (m *MF) Kind() string { return "MF" }

func (m *MF) dim() int { return recDim(m.Dim) }

// OutputShape implements Layer: [2] gives [1].
func (m *MF) OutputShape(in []int) ([]int, error) {
	if m == nil {
		return nil, nilLayer(m)
	}
	return checkRec(m, in, m.Users, m.Movies, m.Dim, m.Mean, m.L2)
}

// NumParams implements Layer: (Users + Movies)·(Dim + 1).
func (m *MF) NumParams([]int) int {
	if m == nil || m.Users <= 0 || m.Movies <= 0 || m.Dim < 0 {
		return 0
	}
	return (m.Users + m.Movies) * (m.dim() + 1)
}

// Build implements Layer.
func (m *MF) Build(g *graph.Graph, x *graph.Node) (*graph.Node, error) {
	if _, err := checkInput(m, g, x); err != nil {
		return nil, err
	}
	m.params = nil
	r, err := newRec(&m.base, g, x, m.Users, m.Movies, m.dim(), m.Init)
	if err != nil {
		return nil, err
	}
	pu, err := graph.Embedding(r.users, r.userEmb.Node)
	if err != nil {
		return nil, err
	}
	qi, err := graph.Embedding(r.movies, r.movieEmb.Node)
	if err != nil {
		return nil, err
	}
	dot, err := graph.RowDot(pu, qi)
	if err != nil {
		return nil, err
	}
	return r.finish(g, dot, m.Mean, m.L2)
}

// Biases predicts a rating from biases alone, the floor every recommender
// must beat:
//
//	Mean + b_u + b_i
//
// with <name>.user_bias [Users, 1] and <name>.movie_bias [Movies, 1]
// (zeros). Per example the input is [2] (user index, movie index) and the
// output [1]; with L2 > 0 the penalty is L2·Σ(b_u² + b_i²)/batch over the
// batch's rows (see the top of this file). Fitted with that penalty it is
// the ridge-fitted bias baseline. In PyTorch, MF without the embeddings:
// self.mean + self.user_bias(u) + self.movie_bias(i), each an
// nn.Embedding(n, 1) initialised with zeros_.
type Biases struct {
	base
	Users, Movies int
	Mean          float64 // added to every prediction
	L2            float64 // weight of the batch's L2 penalty; 0: none
}

// NewBiases returns the bias model of users × movies with the given mean.
func NewBiases(users, movies int, mean float64) *Biases {
	return &Biases{Users: users, Movies: movies, Mean: mean}
}

// Kind implements Layer.
func (b *Biases) Kind() string { return "Biases" }

// OutputShape implements Layer: [2] gives [1].
func (b *Biases) OutputShape(in []int) ([]int, error) {
	if b == nil {
		return nil, nilLayer(b)
	}
	return checkRec(b, in, b.Users, b.Movies, 0, b.Mean, b.L2)
}

// NumParams implements Layer: Users + Movies.
func (b *Biases) NumParams([]int) int {
	if b == nil || b.Users <= 0 || b.Movies <= 0 {
		return 0
	}
	return b.Users + b.Movies
}

// Build implements Layer.
func (b *Biases) Build(g *graph.Graph, x *graph.Node) (*graph.Node, error) {
	if _, err := checkInput(b, g, x); err != nil {
		return nil, err
	}
	b.params = nil
	r, err := newRec(&b.base, g, x, b.Users, b.Movies, 0, nil)
	if err != nil {
		return nil, err
	}
	return r.finish(g, nil, b.Mean, b.L2)
}

// NCF is neural collaborative filtering (the MLP of He et al., 2017, with
// biases): the user's and the movie's embeddings, concatenated, go through
// an MLP
//
//	[p_u, q_i] (2·Dim) → Dense Hidden[0] ReLU → Dense Hidden[1] ReLU → … → Dense 1
//
// and the prediction is Mean + b_u + b_i + the MLP's output. Parameters:
// <name>.user_embedding [Users, Dim] and <name>.movie_embedding
// [Movies, Dim] (N(0, 0.01²), Init), <name>.user_bias [Users, 1] and
// <name>.movie_bias [Movies, 1] (zeros), then <name>.mlp1.weight
// [2·Dim, Hidden[0]] and <name>.mlp1.bias [Hidden[0]], …, up to
// <name>.mlp<k>.weight [Hidden[k-2], 1] and <name>.mlp<k>.bias [1] for
// k = len(Hidden)+1, weights Glorot uniform and biases zeros as Dense's.
// Per example the input is [2] (user index, movie index) and the output
// [1]. L2 (see the top of this file) covers the embedding rows and biases
// of the batch, not the MLP. In PyTorch, MF's embeddings and biases and
//
//	self.mlp = nn.Sequential(nn.Linear(2*dim, 64), nn.ReLU(),
//	                         nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 1))
//	...
//	return self.mean + bu + bi + self.mlp(torch.cat([p, q], dim=-1))
//
// (mlp1.weight is the transpose of nn.Linear's weight, as for Dense).
type NCF struct {
	base
	Users, Movies int
	Dim           int     // embedding size; 0: DefaultRecDim (32)
	Hidden        []int   // hidden layer sizes; nil or empty: [64 32]
	Mean          float64 // added to every prediction
	L2            float64 // weight of the batch's L2 penalty; 0: none
	// Init initialises the embeddings; default N(0, 0.01²).
	Init graph.Initializer
}

// NewNCF returns neural collaborative filtering of users × movies with
// embeddings of dim (0: 32), the default hidden layers [64 32] and the
// given mean rating.
func NewNCF(users, movies, dim int, mean float64) *NCF {
	return &NCF{Users: users, Movies: movies, Dim: dim, Mean: mean}
}

// Kind implements Layer.
func (n *NCF) Kind() string { return "NCF" }

func (n *NCF) dim() int { return recDim(n.Dim) }

func (n *NCF) hidden() []int {
	if len(n.Hidden) == 0 {
		return DefaultNCFHidden()
	}
	return n.Hidden
}

// OutputShape implements Layer: [2] gives [1].
func (n *NCF) OutputShape(in []int) ([]int, error) {
	if n == nil {
		return nil, nilLayer(n)
	}
	out, err := checkRec(n, in, n.Users, n.Movies, n.Dim, n.Mean, n.L2)
	if err != nil {
		return nil, err
	}
	for _, h := range n.Hidden {
		if h <= 0 {
			return nil, shapeErr(n, in, "hidden sizes %v must be positive", n.Hidden)
		}
	}
	return out, nil
}

// NumParams implements Layer: the embeddings and biases,
// (Users + Movies)·(Dim + 1), and the MLP's weights and biases.
func (n *NCF) NumParams([]int) int {
	if n == nil || n.Users <= 0 || n.Movies <= 0 || n.Dim < 0 {
		return 0
	}
	total := (n.Users + n.Movies) * (n.dim() + 1)
	in := 2 * n.dim()
	for _, h := range append(slices.Clone(n.hidden()), 1) {
		if h <= 0 {
			return 0
		}
		total += in*h + h
		in = h
	}
	return total
}

// Build implements Layer.
func (n *NCF) Build(g *graph.Graph, x *graph.Node) (*graph.Node, error) {
	if _, err := checkInput(n, g, x); err != nil {
		return nil, err
	}
	n.params = nil
	r, err := newRec(&n.base, g, x, n.Users, n.Movies, n.dim(), n.Init)
	if err != nil {
		return nil, err
	}
	pu, err := graph.Embedding(r.users, r.userEmb.Node)
	if err != nil {
		return nil, err
	}
	qi, err := graph.Embedding(r.movies, r.movieEmb.Node)
	if err != nil {
		return nil, err
	}
	h, err := graph.Concat(pu, qi)
	if err != nil {
		return nil, err
	}
	sizes := append(slices.Clone(n.hidden()), 1)
	in := 2 * n.dim()
	for k, units := range sizes {
		prefix := "mlp" + strconv.Itoa(k+1)
		w, err := n.param(g, prefix+".weight", []int{in, units}, graph.GlorotUniform)
		if err != nil {
			return nil, err
		}
		b, err := n.param(g, prefix+".bias", []int{units}, graph.Zeros)
		if err != nil {
			return nil, err
		}
		if h, err = graph.MatMul(h, w.Node); err != nil {
			return nil, err
		}
		if h, err = graph.AddBias(h, b.Node); err != nil {
			return nil, err
		}
		if k < len(sizes)-1 {
			if h, err = graph.ReLU(h); err != nil {
				return nil, err
			}
		}
		in = units
	}
	return r.finish(g, h, n.Mean, n.L2)
}

func recDim(d int) int {
	if d == 0 {
		return DefaultRecDim
	}
	return d
}

// checkRec checks a recommender's settings and its per-example input [2].
func checkRec(l Layer, in []int, users, movies, dim int, mean, l2 float64) ([]int, error) {
	if len(in) != 1 || in[0] != 2 {
		return nil, shapeErr(l, in, "want [2] per example: a user index and a movie index")
	}
	if users <= 0 || movies <= 0 {
		return nil, shapeErr(l, in, "the numbers of users %d and movies %d must be positive", users, movies)
	}
	if dim < 0 {
		return nil, shapeErr(l, in, "embedding size %d must be positive (0: the default %d)", dim, DefaultRecDim)
	}
	if math.IsNaN(mean) || math.IsInf(mean, 0) {
		return nil, shapeErr(l, in, "mean %v must be finite", mean)
	}
	if !(l2 >= 0) || math.IsInf(l2, 1) {
		return nil, shapeErr(l, in, "l2 %v must be finite and at least 0", l2)
	}
	return []int{1}, nil
}

// rec holds the parts the recommenders share while they are built: the id
// vectors and the parameters.
type rec struct {
	b                   *base
	batch               int
	users, movies       *graph.Node // [batch] ids
	userEmb, movieEmb   *graph.Param
	userBias, movieBias *graph.Param
}

// newRec splits x [batch, 2] into user and movie ids and declares the
// parameters on b: the embeddings (dim > 0) and the biases.
func newRec(b *base, g *graph.Graph, x *graph.Node, users, movies, dim int, init graph.Initializer) (*rec, error) {
	r := &rec{b: b, batch: x.Shape()[0]}
	var err error
	if r.users, err = graph.Column(x, 0); err != nil {
		return nil, err
	}
	if r.movies, err = graph.Column(x, 1); err != nil {
		return nil, err
	}
	if dim > 0 {
		if init == nil {
			init = defaultRecInit
		}
		if r.userEmb, err = b.param(g, "user_embedding", []int{users, dim}, init); err != nil {
			return nil, err
		}
		if r.movieEmb, err = b.param(g, "movie_embedding", []int{movies, dim}, init); err != nil {
			return nil, err
		}
	}
	if r.userBias, err = b.param(g, "user_bias", []int{users, 1}, graph.Zeros); err != nil {
		return nil, err
	}
	if r.movieBias, err = b.param(g, "movie_bias", []int{movies, 1}, graph.Zeros); err != nil {
		return nil, err
	}
	return r, nil
}

// finish returns mean + b_user + b_movie + y (y [batch, 1], or nil for
// none) and registers the L2 penalty if l2 > 0.
func (r *rec) finish(g *graph.Graph, y *graph.Node, mean, l2 float64) (*graph.Node, error) {
	bu, err := graph.Embedding(r.users, r.userBias.Node)
	if err != nil {
		return nil, err
	}
	bi, err := graph.Embedding(r.movies, r.movieBias.Node)
	if err != nil {
		return nil, err
	}
	out, err := graph.Add(bu, bi)
	if err != nil {
		return nil, err
	}
	if y != nil {
		if out, err = graph.Add(y, out); err != nil {
			return nil, err
		}
	}
	if mean != 0 {
		if out, err = graph.AddScalar(out, mean); err != nil {
			return nil, err
		}
	}
	if l2 > 0 {
		if err := r.penalty(g, l2); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// penalty registers l2·(Σ ||p_u||² + ||q_i||² + b_u² + b_i²)/batch over
// the batch's rows.
func (r *rec) penalty(g *graph.Graph, l2 float64) error {
	terms := [][2]*graph.Node{{r.users, r.userBias.Node}, {r.movies, r.movieBias.Node}}
	if r.userEmb != nil {
		terms = append([][2]*graph.Node{{r.users, r.userEmb.Node}, {r.movies, r.movieEmb.Node}}, terms...)
	}
	var sum *graph.Node
	for _, t := range terms {
		s, err := graph.RowsSquaredNorm(t[0], t[1])
		if err != nil {
			return err
		}
		if sum == nil {
			sum = s
		} else if sum, err = graph.Add(sum, s); err != nil {
			return err
		}
	}
	p, err := graph.Scale(sum, l2/float64(r.batch))
	if err != nil {
		return err
	}
	if err := g.AddPenalty(p); err != nil {
		return err
	}
	return nil
}

// intsSetting returns the setting key, a non-empty list of positive
// integers, or nil if it is absent.
func intsSetting(s *Settings, key string) []int {
	out, _ := s.ints(key, "a list of positive integers, as in [64, 32]", func(n int) bool { return n > 0 })
	return out
}

// recSettings reads the settings the recommenders share.
func recSettings(s *Settings) (users, movies int, mean, l2 float64) {
	users, movies = s.Int("users"), s.Int("movies")
	mean, l2 = s.Float("mean", 0), s.Float("l2", 0)
	if l2 < 0 {
		s.Invalid("l2", "at least 0")
	}
	return users, movies, mean, l2
}

// setRec writes the settings the recommenders share.
func setRec(s *Settings, users, movies int, mean, l2 float64) {
	s.Set("users", users)
	s.Set("movies", movies)
	if mean != 0 {
		s.Set("mean", mean)
	}
	if l2 != 0 {
		s.Set("l2", l2)
	}
}

func setDim(s *Settings, dim int) {
	if dim != 0 && dim != DefaultRecDim {
		s.Set("dim", dim)
	}
}

// Model files (spec.go) name these layers mf, biases and ncf, with the
// settings users and movies (required), mean and l2 (default 0), and for
// mf and ncf dim (default 32) and init (the embeddings' initialiser;
// default N(0, 0.01²)), for ncf hidden (default [64, 32]):
//
//	layers:
//	  - mf: {users: 671, movies: 9066, dim: 64, mean: 3.54, l2: 0.05}
func init() {
	RegisterLayer("mf",
		func(s *Settings) *MF {
			m := &MF{Dim: s.Int("dim", 0), Init: s.Init("init")}
			m.Users, m.Movies, m.Mean, m.L2 = recSettings(s)
			return m
		},
		func(m *MF, s *Settings) bool {
			setRec(s, m.Users, m.Movies, m.Mean, m.L2)
			setDim(s, m.Dim)
			s.SetInit("init", m.Init, defaultRecInit)
			return true
		})
	RegisterLayer("biases",
		func(s *Settings) *Biases {
			b := &Biases{}
			b.Users, b.Movies, b.Mean, b.L2 = recSettings(s)
			return b
		},
		func(b *Biases, s *Settings) bool {
			setRec(s, b.Users, b.Movies, b.Mean, b.L2)
			return true
		})
	RegisterLayer("ncf",
		func(s *Settings) *NCF {
			n := &NCF{Dim: s.Int("dim", 0), Hidden: intsSetting(s, "hidden"), Init: s.Init("init")}
			n.Users, n.Movies, n.Mean, n.L2 = recSettings(s)
			return n
		},
		func(n *NCF, s *Settings) bool {
			setRec(s, n.Users, n.Movies, n.Mean, n.L2)
			setDim(s, n.Dim)
			if len(n.Hidden) > 0 && !slices.Equal(n.Hidden, DefaultNCFHidden()) {
				s.Set("hidden", slices.Clone(n.Hidden))
			}
			s.SetInit("init", n.Init, defaultRecInit)
			return true
		})
}
