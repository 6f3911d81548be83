package explain

import (
	"cmp"
	"math"
	"slices"
	"strings"

	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/nn"
	"github.com/pkg/errors"
)

// MaxRatingValues bounds the ratings a recommendation is explained by:
// their number times the user's parameters (33 for the mf of 32
// dimensions) may be at most 1<<25, 256 MiB of float64 for the gradients
// and as much for the pieces of the user's parameters.
const MaxRatingValues = 1 << 25

// Rated is one of a user's ratings: a movie index and its rating.
type Rated struct {
	Movie  int     `json:"movie"`
	Rating float64 `json:"rating"`
}

// Contribution is what one of the user's ratings adds to a movie's
// predicted rating.
type Contribution struct {
	Rated
	// Value is the stars of the prediction the rating accounts for
	// (negative: it holds the prediction down).
	Value float64 `json:"value"`
	// Share is Value over the sum of every contribution's and the rest's
	// absolute values: the shares' absolute values sum to 1.
	Share float64 `json:"share"`
}

// Recommendation explains a recommender's predicted rating of a movie for
// a user by the movies the user rated:
//
//	Score = Base + Σ Contributions' Values + Rest − Delta
//
// Base is the prediction for a user the model knows nothing of (user
// embedding and bias zero: the mean, the movie's bias and, for ncf, the
// network on the movie alone); the rest is the user's.
type Recommendation struct {
	User  int     `json:"user"`
	Movie int     `json:"movie"`
	Score float64 `json:"score"`
	Base  float64 `json:"base"`
	// Contributions holds every rated movie's, largest first (by
	// absolute value).
	Contributions []Contribution `json:"contributions"`
	// Rest is the part of the user's parameters that the ratings given do
	// not rebuild, and RestShare its share as Contribution.Share's.
	Rest      float64 `json:"rest"`
	RestShare float64 `json:"rest_share"`
	// Fit is the share of the user's parameters the ratings rebuild:
	// 1 - |u - û|²/|u|² (1: all of them; below 0 where û is farther from
	// u than zero is, as for a model trained far from convergence).
	Fit float64 `json:"fit"`
	// Delta is integrated gradients' quadrature error, as
	// Attribution.Delta: the contributions and the rest less the change
	// of the prediction (0 for mf and biases, whose prediction is linear
	// in the user's parameters).
	Delta float64 `json:"delta"`
	Steps int     `json:"steps"`
	Rule  Rule    `json:"rule"`
}

// Recommendation explains the recommender's predicted rating of movie for
// user by ratings, the movies the user rated (in training) and how.
//
// The user's parameters u (the user's embedding and bias) are what
// training learnt from the user's ratings. With the rest of the model
// held, training's objective for u is Σ_j (r_j − s(u, j))² + λ|u|² over the
// user's ratings r_j of movies j, λ = l2·(number of ratings), the L2
// penalty of the layer (1e-6·trace(JᵀJ)/dim where it has none). Linearised
// at u, its minimum is
//
//	û = (JᵀJ + λI)⁻¹ Jᵀ ẽ = Σ_j v_j,   v_j = (JᵀJ + λI)⁻¹ J_jᵀ ẽ_j,
//
// with J_j = ∂s(u, j)/∂u and ẽ_j = r_j − s(u, j) + J_j·u: each rating's
// piece v_j of the user's parameters. For mf, whose prediction is linear
// in u, this is the explanation of Hu, Koren and Volinsky (2008) for
// matrix factorisation fitted by alternating least squares, exact where
// training converged; for ncf it is one Gauss–Newton step of that fit.
// Whatever training left that the ratings do not rebuild, u − û, is the
// rest.
//
// The prediction for movie is then attributed to the pieces by integrated
// gradients over u from zero (opt.Steps, opt.Rule): with G the mean
// gradient of s(·, movie) along the path, rating j contributes G·v_j and
// the rest G·(u − û), which sum to s(u, movie) − s(0, movie) up to the
// quadrature's error, Delta. Of opt only Steps and Rule apply.
func (e *Explainer) Recommendation(user, movie int, ratings []Rated, opt Options) (*Recommendation, error) {
	switch _, class := opt.Target.Index(); {
	case opt.Method != "" && opt.Method != IntegratedGradients && opt.Method != "ig":
		return nil, errors.Errorf("explain: a recommendation is explained by integrated gradients over the user's parameters, not %s", truncate(string(opt.Method)))
	case opt.Baseline != "" && opt.Baseline != Black:
		return nil, errors.Errorf("explain: a recommendation has no %s baseline: its baseline is the user's parameters at zero", truncate(string(opt.Baseline)))
	case class:
		return nil, errors.New("explain: a recommendation explains the predicted rating; it has no class to name")
	case opt.Quantity == Probability:
		return nil, errors.New("explain: a recommendation explains the predicted rating; it has no probability")
	}
	opt, err := opt.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := e.checkTask("rating", "rating prediction"); err != nil {
		return nil, err
	}
	if user < 0 || user >= e.info.Users {
		return nil, errors.Errorf("explain: user %d: model %s has users 0 to %d", user, e.info.Model.Name, e.info.Users-1)
	}
	if movie < 0 || movie >= e.info.Movies {
		return nil, errors.Errorf("explain: movie %d: model %s has movies 0 to %d", movie, e.info.Model.Name, e.info.Movies-1)
	}
	if len(ratings) == 0 {
		return nil, errors.Errorf("explain: user %d has no ratings to explain a prediction by", user)
	}
	seen := map[int]bool{}
	for i, r := range ratings {
		if r.Movie < 0 || r.Movie >= e.info.Movies {
			return nil, errors.Errorf("explain: rating %d: movie %d: model %s has movies 0 to %d", i+1, r.Movie, e.info.Model.Name, e.info.Movies-1)
		}
		if math.IsNaN(r.Rating) || math.IsInf(r.Rating, 0) {
			return nil, errors.Errorf("explain: rating %d (movie %d) is %v, not a finite number", i+1, r.Movie, r.Rating)
		}
		if seen[r.Movie] {
			return nil, errors.Errorf("explain: rating %d: movie %d is rated twice", i+1, r.Movie)
		}
		seen[r.Movie] = true
	}
	shape := []int{2}
	u, err := e.userParams(user)
	if err != nil {
		return nil, err
	}
	D := len(u)
	if len(ratings) > MaxRatingValues/D {
		return nil, errors.Errorf("explain: user %d: %d ratings of a user of %d parameters: more than the %d values an explanation may hold (explain.MaxRatingValues)", user, len(ratings), D, MaxRatingValues)
	}
	// J and s(u, j) over the rated movies.
	J := make([]float64, len(ratings)*D)
	etilde := make([]float64, len(ratings))
	err = e.do(request{
		shape: shape,
		rows:  len(ratings),
		input: func(r int, x []float64) { x[0], x[1] = float64(user), float64(ratings[r].Movie) },
		taps:  userTap,
		seed:  func(int) (int, float64) { return 0, 1 },
		visit: func(r int, out, g []float64) error {
			copy(J[r*D:], g)
			etilde[r] = ratings[r].Rating - out[0] + dot(g, u)
			return nil
		},
	})
	if err != nil {
		return nil, err
	}
	pieces, err := ridgePieces(J, etilde, D, e.l2()*float64(len(ratings)))
	if err != nil {
		return nil, errors.Wrapf(err, "explain: user %d", user)
	}
	rest := slices.Clone(u)
	for _, v := range pieces {
		for d := range rest {
			rest[d] -= v[d]
		}
	}
	sp := space{shape: shape, taps: userTap, ids: func(_ int, x []float64) { x[0], x[1] = float64(user), float64(movie) }}
	res, err := e.integrate(sp, [][]float64{u}, [][]float64{make([]float64, D)}, []pick{{index: 0, sign: 1}}, opt.Steps, opt.Rule)
	if err != nil {
		return nil, err
	}
	ig := res[0]
	rec := &Recommendation{User: user, Movie: movie, Score: ig.out, Base: ig.base, Rest: dot(ig.grad, rest),
		Delta: ig.delta(), Steps: opt.Steps, Rule: opt.Rule, Fit: 1}
	if uu := dot(u, u); uu > 0 {
		rec.Fit = 1 - dot(rest, rest)/uu
	}
	total := math.Abs(rec.Rest)
	for i, v := range pieces {
		c := Contribution{Rated: ratings[i], Value: dot(ig.grad, v)}
		total += math.Abs(c.Value)
		rec.Contributions = append(rec.Contributions, c)
	}
	if total > 0 {
		for i := range rec.Contributions {
			rec.Contributions[i].Share = rec.Contributions[i].Value / total
		}
		rec.RestShare = rec.Rest / total
	}
	slices.SortStableFunc(rec.Contributions, func(a, b Contribution) int {
		return cmp.Compare(math.Abs(b.Value), math.Abs(a.Value))
	})
	return rec, nil
}

// userTap selects the embeddings that hold a user's parameters: a
// recommender's user embedding and user bias (nn.MF, nn.NCF, nn.Biases).
func userTap(t graph.Tap, _ *graph.Node) bool {
	name := t.Table.Name()
	return strings.HasSuffix(name, ".user_embedding") || strings.HasSuffix(name, ".user_bias")
}

// userParams returns the user's parameters: the rows of the user taps'
// tables, in the order the taps are built.
func (e *Explainer) userParams(user int) ([]float64, error) {
	n, err := e.net(1, []int{2}, Logit)
	if err != nil {
		return nil, err
	}
	var u []float64
	for _, t := range n.taps {
		if userTap(t, n.x) {
			dim := t.Table.Shape()[1]
			table := e.from.ParamByName(t.Table.Name()).Values()
			u = append(u, table[user*dim:(user+1)*dim]...)
		}
	}
	if u == nil {
		return nil, errors.Errorf("explain: model %s has no user embedding or user bias to explain by", e.info.Model.Name)
	}
	return u, nil
}

// l2 returns the weight of the recommender's L2 penalty (0 for none or a
// model of another kind).
func (e *Explainer) l2() float64 {
	model, err := e.info.Model.Build()
	if err != nil {
		return 0
	}
	for _, l := range model.Layers {
		switch r := l.(type) {
		case *nn.MF:
			return r.L2
		case *nn.NCF:
			return r.L2
		case *nn.Biases:
			return r.L2
		}
	}
	return 0
}

// ridgePieces returns, for the n rows J_j of J (n×D) and targets ẽ_j, the
// pieces v_j = (JᵀJ + λI)⁻¹ J_jᵀ ẽ_j, whose sum is the ridge regression's
// solution; λ = 1e-6·trace(JᵀJ)/D (at least 1e-12) where lambda is 0.
func ridgePieces(J, etilde []float64, D int, lambda float64) ([][]float64, error) {
	n := len(etilde)
	A := make([]float64, D*D)
	for j := range n {
		row := J[j*D : (j+1)*D]
		for a := range D {
			for b := range D {
				A[a*D+b] += row[a] * row[b]
			}
		}
	}
	if lambda <= 0 {
		trace := 0.0
		for a := range D {
			trace += A[a*D+a]
		}
		lambda = max(1e-6*trace/float64(D), 1e-12)
	}
	for a := range D {
		A[a*D+a] += lambda
	}
	L, err := cholesky(A, D)
	if err != nil {
		return nil, err
	}
	pieces := make([][]float64, n)
	for j := range n {
		v := make([]float64, D)
		for d := range D {
			v[d] = J[j*D+d] * etilde[j]
		}
		choleskySolve(L, D, v)
		pieces[j] = v
	}
	return pieces, nil
}

// cholesky returns the lower-triangular L with L·Lᵀ = A (D×D, symmetric
// positive definite), or an error.
func cholesky(A []float64, D int) ([]float64, error) {
	L := make([]float64, D*D)
	for i := range D {
		for j := 0; j <= i; j++ {
			s := A[i*D+j]
			for k := range j {
				s -= L[i*D+k] * L[j*D+k]
			}
			if i == j {
				if !(s > 0) {
					return nil, errors.New("the least-squares system of the user's ratings is singular")
				}
				L[i*D+i] = math.Sqrt(s)
			} else {
				L[i*D+j] = s / L[j*D+j]
			}
		}
	}
	return L, nil
}

// choleskySolve solves L·Lᵀ·x = b in place (b becomes x).
func choleskySolve(L []float64, D int, b []float64) {
	for i := range D {
		s := b[i]
		for k := range i {
			s -= L[i*D+k] * b[k]
		}
		b[i] = s / L[i*D+i]
	}
	for i := D - 1; i >= 0; i-- {
		s := b[i]
		for k := i + 1; k < D; k++ {
			s -= L[k*D+i] * b[k]
		}
		b[i] = s / L[i*D+i]
	}
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i, v := range a {
		s += v * b[i]
	}
	return s
}
