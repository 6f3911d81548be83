package run_test

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/runner"
	"github.com/dlrun/dlrun/train"
)

// tinyMovies are the movies of writeTinyRatings: ids neither dense nor
// consecutive, titles with commas (quoted in the CSV), one movie without
// genres.
var tinyMovies = []struct {
	id            int
	title, genres string
}{
	{1, "Toy Story (1995)", "Adventure|Animation|Children|Comedy|Fantasy"},
	{2, "Jumanji (1995)", "Adventure|Children|Fantasy"},
	{3, "Grumpier Old Men (1995)", "Comedy|Romance"},
	{5, "Father of the Bride Part II (1995)", "Comedy"},
	{8, "Tom and Huck (1995)", "Adventure|Children"},
	{13, "Balto (1995)", "Adventure|Animation|Children"},
	{21, "Get Shorty (1995)", "Comedy|Crime|Thriller"},
	{34, "Babe (1995)", "Children|Drama"},
	{55, "Matrix, The (1999)", "Action|Sci-Fi"},
	{89, "Nick of Time (1995)", "Action|Thriller"},
	{144, "Brothers McMullen, The (1995)", "Comedy"},
	{233, "Exotica (1994)", "(no genres listed)"},
}

// tinyUsers are the users' original ids.
var tinyUsers = []int{1, 2, 4, 7, 9, 12, 15, 20}

// writeTinyRatings writes a small rating dataset in MovieLens's CSV layout
// into a new folder and returns it. User j rates movie k (of the first 11)
// when (k+j)%4 != 0, 4.5 or 4 stars when k and j have the same parity and
// 1.5 or 2 otherwise, in order of k; user 1 (j = 0) also rates movie 233,
// last, so 233 lies in the test split alone. User 1 has not rated movies 1,
// 8 and 55.
func writeTinyRatings(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	var r strings.Builder
	r.WriteString("userId,movieId,rating,timestamp\n")
	for j, u := range tinyUsers {
		for k, m := range tinyMovies[:11] {
			if (k+j)%4 == 0 {
				continue
			}
			v := 1.5 + 0.5*float64((j+k)%3%2)
			if k%2 == j%2 {
				v = 4 + 0.5*float64((j*k)%2)
			}
			fmt.Fprintf(&r, "%d,%d,%g,%d\n", u, m.id, v, 1000000+j*1000+k*10)
		}
		if j == 0 {
			fmt.Fprintf(&r, "%d,233,3.5,%d\n", u, 1000000+999)
		}
	}
	var m strings.Builder
	m.WriteString("movieId,title,genres\n")
	for _, x := range tinyMovies {
		title := x.title
		if strings.Contains(title, ",") {
			title = `"` + title + `"`
		}
		fmt.Fprintf(&m, "%d,%s,%s\n", x.id, title, x.genres)
	}
	for name, s := range map[string]string{"ratings.csv": r.String(), "movies.csv": m.String()} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// trainTiny trains model (mf or biases) on data for three epochs and
// returns the run folder and its summary.
func trainTiny(t *testing.T, model, data string) (string, *run.Summary) {
	t.Helper()
	out := filepath.Join(t.TempDir(), model)
	cfg := run.Config{Model: model, Dataset: data, Config: train.Config{Epochs: 3, BatchSize: 8, LearningRate: 0.05}}
	if model == "mf" {
		cfg.Dim = 4
	}
	s, err := runner.Train(cfg, runner.Options{Out: out})
	if err != nil {
		t.Fatal(err)
	}
	return out, s
}

func TestRecommendExcludesRatedMoviesInOrder(t *testing.T) {
	data := writeTinyRatings(t)
	dir, _ := trainTiny(t, "mf", data)
	r, err := openRecommender(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	all, err := r.Recommend(1, 100)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int
	for i, x := range all {
		ids = append(ids, x.ID)
		if i > 0 && (x.PredictedRating > all[i-1].PredictedRating || x.PredictedRating == all[i-1].PredictedRating && x.ID < all[i-1].ID) {
			t.Errorf("recommendations out of order: %+v after %+v", x, all[i-1])
		}
	}
	slices.Sort(ids)
	// 233 is in the test split only: rated, so left out too.
	if !slices.Equal(ids, []int{1, 8, 55}) {
		t.Errorf("user 1's unrated movies: %v, want [1 8 55]", ids)
	}
	for _, x := range all {
		if x.ID == 55 && (x.Title != "Matrix, The (1999)" || !slices.Equal(x.Genres, []string{"Action", "Sci-Fi"})) {
			t.Errorf("movie 55: %+v", x.MovieInfo)
		}
	}
	two, err := r.Recommend(1, 2)
	if err != nil || !reflect.DeepEqual(two, all[:2]) {
		t.Errorf("top 2: %v %v, want %v", two, err, all[:2])
	}
	// The predicted ratings are the model's.
	for _, x := range all {
		u, _ := r.Ratings.UserIndex(1)
		m, _ := r.Ratings.MovieIndex(x.ID)
		p, err := r.Model.Predict([]float32{float32(u), float32(m)})
		if err != nil || p[0][0] != x.PredictedRating {
			t.Errorf("movie %d: predicted %v, Predict says %v (%v)", x.ID, x.PredictedRating, p, err)
		}
	}
	// The package-level function gives the same list.
	if got, err := recommend(dir, 1, 100); err != nil || !slices.EqualFunc(got, all, func(a, b run.Recommendation) bool {
		return a.ID == b.ID && a.PredictedRating == b.PredictedRating
	}) {
		t.Errorf("run.Recommend: %v %v, want %v", got, err, all)
	}
	if _, err := r.Recommend(3, 10); err == nil || !strings.Contains(err.Error(), "unknown user id 3") {
		t.Errorf("unknown user: %v", err)
	}
	if _, err := r.Recommend(1, 0); err == nil {
		t.Error("top 0: no error")
	}
}

func TestRecommendSimilarByCosine(t *testing.T) {
	data := writeTinyRatings(t)
	dir, _ := trainTiny(t, "mf", data)
	r, err := openRecommender(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// Give movie 21 the embedding of movie 1, and movie 89 its opposite.
	var found bool
	for _, p := range r.Model.Trainer().Graph().Params() {
		if !strings.HasSuffix(p.Name, ".movie_embedding") {
			continue
		}
		found = true
		v, dim := p.Values(), p.Shape()[1]
		row := func(id int) []float64 {
			i, ok := r.Ratings.MovieIndex(id)
			if !ok {
				t.Fatalf("movie %d has no index", id)
			}
			return v[i*dim : (i+1)*dim]
		}
		copy(row(21), row(1))
		for k, x := range row(1) {
			row(89)[k] = -x
		}
		if err := p.SetValues(v); err != nil {
			t.Fatal(err)
		}
	}
	if !found {
		t.Fatal("no movie_embedding parameter")
	}
	sims, err := r.Similar(1, 100)
	if err != nil {
		t.Fatal(err)
	}
	// The 11 movies with training ratings, less movie 1 itself.
	if len(sims) != 10 {
		t.Fatalf("%d similar movies, want 10: %+v", len(sims), sims)
	}
	if sims[0].ID != 21 || sims[0].Similarity < 0.999999 || sims[0].Title != "Get Shorty (1995)" {
		t.Errorf("most similar to movie 1: %+v, want movie 21 with similarity 1", sims[0])
	}
	if last := sims[len(sims)-1]; last.ID != 89 || last.Similarity > -0.999999 {
		t.Errorf("least similar to movie 1: %+v, want movie 89 with similarity -1", last)
	}
	for i, x := range sims {
		if x.ID == 1 || x.ID == 233 {
			t.Errorf("similar movies include movie %d", x.ID)
		}
		if i > 0 && x.Similarity > sims[i-1].Similarity {
			t.Errorf("similar movies out of order: %+v after %+v", x, sims[i-1])
		}
	}
	if top3, err := r.Similar(1, 3); err != nil || !slices.EqualFunc(top3, sims[:3], func(a, b run.SimilarMovie) bool { return a.ID == b.ID }) {
		t.Errorf("top 3: %v %v", top3, err)
	}
	for id, want := range map[int]string{4: "unknown movie id 4", 233: "movie id 233 has no training ratings"} {
		if _, err := r.Similar(id, 5); err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("similar to movie %d: %v, want one line with %q", id, err, want)
		}
	}
	// The package-level function reads the saved weights, not the ones set above.
	if got, err := similar(dir, 1, 3); err != nil || len(got) != 3 {
		t.Errorf("run.Similar: %v %v", got, err)
	}
}

func TestRecommendErrors(t *testing.T) {
	data := writeTinyRatings(t)
	biases, _ := trainTiny(t, "biases", data)
	if recs, err := recommend(biases, 1, 2); err != nil || len(recs) != 2 {
		t.Errorf("biases recommends: %v %v", recs, err)
	}
	if _, err := similar(biases, 1, 2); err == nil || !strings.Contains(err.Error(), "no movie embeddings") {
		t.Errorf("similar with biases: %v", err)
	}
	xor := filepath.Join(t.TempDir(), "xor")
	if _, err := runner.Train(run.Config{Model: "xor", Config: train.Config{Epochs: 1}}, runner.Options{Out: xor}); err != nil {
		t.Fatal(err)
	}
	if _, err := recommend(xor, 1, 2); err == nil || !strings.Contains(err.Error(), "recommending does not apply to a classify run") {
		t.Errorf("recommend with xor: %v", err)
	}
	// A dataset changed since training is refused.
	f, err := os.OpenFile(filepath.Join(data, "ratings.csv"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(f, "1,1,5,2000000")
	f.Close()
	if _, err := recommend(biases, 1, 2); err == nil || !strings.Contains(err.Error(), "the data changed since the run began") {
		t.Errorf("changed dataset: %v", err)
	}
}

// RatingReport gives the test figures training ended with.
func TestRecommendRatingReport(t *testing.T) {
	data := writeTinyRatings(t)
	dir, s := trainTiny(t, "mf", data)
	m, err := run.Open(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	r, err := m.Evaluate(run.EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rep := r.(*run.RatingReport)
	want := run.RatingReport{Dataset: data, Loss: s.TestLoss, RMSE: s.Derived["rmse"], MAE: s.Derived["mae"], Ratings: len(tinyUsers)}
	if *rep != want {
		t.Errorf("report %+v, want %+v", *rep, want)
	}
	// A copy of the dataset elsewhere is the same dataset.
	cp := t.TempDir()
	for _, n := range []string{"ratings.csv", "movies.csv"} {
		b, _ := os.ReadFile(filepath.Join(data, n))
		os.WriteFile(filepath.Join(cp, n), b, 0o644)
	}
	if _, err := m.Evaluate(run.EvalOptions{Data: cp}); err != nil {
		t.Errorf("a copy of the dataset: %v", err)
	}
	// Another dataset with other movies is refused.
	os.WriteFile(filepath.Join(cp, "ratings.csv"), []byte("userId,movieId,rating,timestamp\n1,1,4,1\n1,2,3,2\n"), 0o644)
	if _, err := m.Evaluate(run.EvalOptions{Data: cp}); err == nil || !strings.Contains(err.Error(), "other users or movies") {
		t.Errorf("another dataset: %v", err)
	}
	if _, err := m.Evaluate(run.EvalOptions{Data: "movielens"}); err == nil {
		t.Error("movielens for a model of the tiny dataset: no error")
	}
}

// openRecommender opens the rating model of run folder dir with its
// ratings.
func openRecommender(dir string, best bool) (*run.Recommender, error) {
	r, err := run.Open(dir, best)
	if err != nil {
		return nil, err
	}
	rec, err := r.Recommender("")
	if err != nil {
		r.Close()
	}
	return rec, err
}

// recommend returns the top movies for user by the rating model of dir.
func recommend(dir string, user, top int) ([]run.Recommendation, error) {
	r, err := openRecommender(dir, false)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return r.Recommend(user, top)
}

// similar returns the top movies nearest to movie in the rating model of
// dir.
func similar(dir string, movie, top int) ([]run.SimilarMovie, error) {
	r, err := openRecommender(dir, false)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return r.Similar(movie, top)
}
