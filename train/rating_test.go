package train_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/nn"
	"github.com/dlrun/dlrun/train"
)

// ratingList is ratings for tests.
type ratingList []struct {
	u, m int
	v    float32
}

func (r ratingList) Len() int { return len(r) }
func (r ratingList) Rating(i int) (int, int, float32) {
	return r[i].u, r[i].m, r[i].v
}

// lowRank returns the ratings of users×movies from a rank-1 model plus a
// mean, every pair, split by a seeded coin into train and test.
func lowRank(users, movies int) (train, test ratingList) {
	rng := rand.New(rand.NewPCG(1, 2))
	a, b := make([]float64, users), make([]float64, movies)
	for i := range a {
		a[i] = rng.Float64()*2 - 1
	}
	for i := range b {
		b[i] = rng.Float64()*2 - 1
	}
	for u := 0; u < users; u++ {
		for m := 0; m < movies; m++ {
			r := struct {
				u, m int
				v    float32
			}{u, m, float32(3 + a[u]*b[m] + 0.5*a[u])}
			if rng.Float64() < 0.2 {
				test = append(test, r)
			} else {
				train = append(train, r)
			}
		}
	}
	return train, test
}

// The rating task trains a matrix factorisation to far below the error of
// the mean, and scores it by RMSE and MAE.
func TestRatingTaskTrainsMF(t *testing.T) {
	tr, te := lowRank(30, 40)
	mean := 0.0
	for _, r := range tr {
		mean += float64(r.v)
	}
	mean /= float64(len(tr))
	model := nn.NewSequential("mf", &nn.MF{Users: 30, Movies: 40, Dim: 4, Mean: mean})
	trainer, err := train.New(model, &train.Rating{Users: 30, Movies: 40}, train.Config{Epochs: 40, BatchSize: 32, Loss: "mse", LearningRate: 0.02})
	if err != nil {
		t.Fatal(err)
	}
	defer trainer.Close()
	first, err := trainer.Evaluate(te)
	if err != nil {
		t.Fatal(err)
	}
	hist, err := trainer.Fit(tr, te, nil)
	if err != nil {
		t.Fatal(err)
	}
	last := hist[len(hist)-1]
	rmse, mae := last.Metrics["test_rmse"], last.Metrics["test_mae"]
	t.Logf("test RMSE %.4f -> %.4f, MAE %.4f", first.Metrics["rmse"], rmse, mae)
	if !(rmse < 0.5*first.Metrics["rmse"]) || !(mae <= rmse) || math.Abs(rmse*rmse-last.TestLoss) > 1e-4 {
		t.Errorf("RMSE %v (from %v), MAE %v, test loss %v (want RMSE² = MSE)", rmse, first.Metrics["rmse"], mae, last.TestLoss)
	}
	// Ratings outside the task's users and movies, or of another kind of
	// data, are errors naming them.
	bad := ratingList{{u: 30, m: 0, v: 3}}
	if _, err := trainer.Evaluate(bad); err == nil || !strings.Contains(err.Error(), "user 30") {
		t.Errorf("user out of range: %v", err)
	}
	if _, err := trainer.Evaluate(train.Tokens{1, 2}); err == nil || !strings.Contains(err.Error(), "not ratings") {
		t.Errorf("tokens for a rating task: %v", err)
	}
	if _, err := train.New(model, &train.Rating{Users: 30, Movies: 40}, train.Config{Loss: "cce"}); err == nil || !strings.Contains(err.Error(), "mse") {
		t.Errorf("cce for ratings: %v", err)
	}
}

// A NaN or infinite rating is refused with a line naming the split and
// the rating.
func TestRatingCheckRefusesNonFiniteRatings(t *testing.T) {
	model := nn.NewSequential("mf", &nn.MF{Users: 3, Movies: 3, Dim: 2, Mean: 3})
	tr, err := train.New(model, &train.Rating{Users: 3, Movies: 3}, train.Config{BatchSize: 2, Loss: "mse"})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	good := ratingList{{0, 0, 3}, {1, 2, 4}, {2, 1, 5}}
	for _, v := range []float32{float32(math.NaN()), float32(math.Inf(1))} {
		bad := append(ratingList(nil), good...)
		bad[1].v = v
		want := fmt.Sprintf("test data: rating 1 has value %v: ratings must be finite", v)
		if _, err := tr.Fit(good, bad, nil); err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("error %v, want one line containing %q", err, want)
		}
	}
	if _, err := tr.Fit(good, good, nil); err != nil {
		t.Error(err)
	}
}
