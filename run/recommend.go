package run

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/dlrun/dlrun/datasets"
	"github.com/dlrun/dlrun/graph"
	"github.com/pkg/errors"
)

// MovieInfo is a movie of a rating dataset as recommendations show it: its
// original id (MovieLens's movieId), title and genres.
type MovieInfo struct {
	ID     int      `json:"movie_id"`
	Title  string   `json:"title"`
	Genres []string `json:"genres"`
}

// Recommendation is a movie recommended to a user, with the rating the
// model predicts the user would give it.
type Recommendation struct {
	MovieInfo
	PredictedRating float64 `json:"predicted_rating"`
}

// SimilarMovie is a movie near another in the model's learned movie
// embeddings, with the cosine similarity of the two embeddings.
type SimilarMovie struct {
	MovieInfo
	Similarity float64 `json:"similarity"`
}

// Recommender is an opened rating model with the ratings it was trained
// on, whose ids, titles and genres name the movies it recommends.
type Recommender struct {
	*Run
	// Ratings is the run's dataset, checked against the SHA-256 in its
	// config.json. Callers must not modify it.
	Ratings *datasets.Ratings
}

// recommending is a kind whose runs recommend: it loads the ratings a run
// was trained on.
type recommending interface {
	ratings(r *Run, data string) (*datasets.Ratings, error)
}

// ErrNoRatings is wrapped by the error of Recommender for a run that does
// not record the ratings it was trained on (its model was trained from Go,
// on data in memory) when none are named: the run itself is usable,
// recommendations from it are not.
var ErrNoRatings = errors.New("it does not record its dataset (its model was trained on data given in memory): recommendations need the ratings it was trained on (--data)")

// Recommender returns the run with the ratings it was trained on, which
// its config.json names (the bundled movielens or a ratings folder,
// datasets.LoadRatingsDir) and which must still have the SHA-256 the run
// recorded, since the model's user and movie indices are positions in
// them. data, if not empty, names those ratings instead, for a run that
// does not record them (ErrNoRatings): they must fit the model's users and
// movies. Only a rating model recommends; closing the Recommender closes
// the run.
func (r *Run) Recommender(data string) (*Recommender, error) {
	k, ok := capability[recommending](r)
	if !ok {
		return nil, doesNotApply("recommending", r.Kind, "a rating model (mf, ncf, biases)")
	}
	rs, err := k.ratings(r, data)
	if err != nil {
		return nil, fmt.Errorf("run folder %s: %w", r.Dir, err)
	}
	return &Recommender{Run: r, Ratings: rs}, nil
}

// Index returns the model's index of value i of a (user, movie) pair
// given in the dataset's own ids (MovieLens's userId and movieId): the
// user's dense index for an even i, the movie's for an odd one, as
// train.Model.Predict takes them. An id the run's ratings lack is an error
// naming it ("user id 99999"); what names the value in it ("row 3's").
func (r *Recommender) Index(i int, id float64, what string) (float32, error) {
	kind, index := "user", r.Ratings.UserIndex
	if i%2 == 1 {
		kind, index = "movie", r.Ratings.MovieIndex
	}
	if id != math.Trunc(id) || math.Abs(id) > 1<<53 {
		return 0, errors.Errorf("%s %s id %v is not a whole number", what, kind, id)
	}
	j, ok := index(int(id))
	if !ok {
		return 0, errors.Errorf("%s %s id %d: dataset %s has no ratings of it", what, kind, int(id), r.Ratings.Name)
	}
	return float32(j), nil
}

// Recommend returns the top movies for the user with original id userID
// that the user has not rated (in the training or the test split): the
// top with the highest predicted ratings, highest first, ties by movie id.
// An unknown user is an error naming the id.
func (r *Recommender) Recommend(userID, top int) ([]Recommendation, error) {
	if top < 1 {
		return nil, errors.Errorf("top %d: must be positive", top)
	}
	u, ok := r.Ratings.UserIndex(userID)
	if !ok {
		return nil, errors.Errorf("unknown user id %d: dataset %s has no ratings by it", userID, r.Ratings.Name)
	}
	rated := make([]bool, len(r.Ratings.MovieIDs))
	for _, split := range [][]datasets.Rating{r.Ratings.Train, r.Ratings.Test} {
		for _, x := range split {
			if x.User == u {
				rated[x.Movie] = true
			}
		}
	}
	var movies []int
	var x []float32
	for i, done := range rated {
		if !done {
			movies = append(movies, i)
			x = append(x, float32(u), float32(i))
		}
	}
	if len(movies) == 0 {
		return []Recommendation{}, nil
	}
	pred, err := r.Model.Predict(x)
	if err != nil {
		return nil, err
	}
	if len(pred) != len(movies) {
		return nil, errors.Errorf("recommend: %s for %s", plural(len(pred), "prediction"), plural(len(movies), "movie"))
	}
	out := make([]Recommendation, len(movies))
	for k, i := range movies {
		out[k] = Recommendation{MovieInfo: r.movie(i), PredictedRating: pred[k][0]}
	}
	slices.SortFunc(out, func(a, b Recommendation) int {
		if c := cmp.Compare(b.PredictedRating, a.PredictedRating); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out[:min(top, len(out))], nil
}

// Similar returns the top movies whose learned movie embeddings (the
// model's parameter <layer>.movie_embedding) are nearest to that of the
// movie with original id movieID by cosine similarity, most similar first,
// ties by movie id. The movie itself is left out, and so are movies
// without training ratings, whose embeddings were never trained; asking
// for such a movie, or an unknown one, is an error naming it, as is a
// model without movie embeddings (biases).
func (r *Recommender) Similar(movieID, top int) ([]SimilarMovie, error) {
	if top < 1 {
		return nil, errors.Errorf("top %d: must be positive", top)
	}
	emb, err := r.movieEmbedding()
	if err != nil {
		return nil, err
	}
	q, ok := r.Ratings.MovieIndex(movieID)
	if !ok {
		return nil, errors.Errorf("unknown movie id %d: dataset %s has no ratings of it", movieID, r.Ratings.Name)
	}
	trained := make([]bool, len(r.Ratings.MovieIDs))
	for _, x := range r.Ratings.Train {
		trained[x.Movie] = true
	}
	if !trained[q] {
		return nil, errors.Errorf("movie id %d has no training ratings in dataset %s: its embedding was never trained", movieID, r.Ratings.Name)
	}
	shape := emb.Shape()
	if len(shape) != 2 || shape[0] != len(r.Ratings.MovieIDs) {
		return nil, errors.Errorf("parameter %s has shape %v; want [%d dim] for the dataset's movies", emb.Name, shape, len(r.Ratings.MovieIDs))
	}
	v, dim := emb.Values(), shape[1]
	row := func(i int) []float64 { return v[i*dim : (i+1)*dim] }
	norm := func(a []float64) float64 {
		s := 0.0
		for _, x := range a {
			s += x * x
		}
		return math.Sqrt(s)
	}
	qv := row(q)
	qn := norm(qv)
	var out []SimilarMovie
	for i, ok := range trained {
		if !ok || i == q {
			continue
		}
		iv := row(i)
		dot := 0.0
		for k, x := range iv {
			dot += x * qv[k]
		}
		sim := 0.0
		if n := qn * norm(iv); n > 0 {
			sim = dot / n
		}
		out = append(out, SimilarMovie{MovieInfo: r.movie(i), Similarity: sim})
	}
	slices.SortFunc(out, func(a, b SimilarMovie) int {
		if c := cmp.Compare(b.Similarity, a.Similarity); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	if out == nil {
		out = []SimilarMovie{}
	}
	return out[:min(top, len(out))], nil
}

// movieEmbedding returns the model's one parameter named
// <layer>.movie_embedding.
func (r *Recommender) movieEmbedding() (*graph.Param, error) {
	var found []*graph.Param
	for _, p := range r.Model.Trainer().Graph().Params() {
		if p.Name == "movie_embedding" || strings.HasSuffix(p.Name, ".movie_embedding") {
			found = append(found, p)
		}
	}
	switch len(found) {
	case 0:
		return nil, errors.Errorf("model %s has no movie embeddings (no parameter <layer>.movie_embedding): similar movies need a model such as mf or ncf", r.Config.Model)
	case 1:
		return found[0], nil
	}
	names := make([]string, len(found))
	for i, p := range found {
		names[i] = p.Name
	}
	return nil, errors.Errorf("model %s has several movie embeddings (%s): similar movies need one", r.Config.Model, strings.Join(names, ", "))
}

// movie returns the MovieInfo of dense movie index i.
func (r *Recommender) movie(i int) MovieInfo {
	g := r.Ratings.Genres[i]
	if g == nil {
		g = []string{}
	}
	return MovieInfo{ID: r.Ratings.MovieIDs[i], Title: r.Ratings.Titles[i], Genres: g}
}
