package train_test

import (
	"fmt"

	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/nn"
	"github.com/dlrun/dlrun/train"
)

// twoTower is a recommender of one's own: a user tower and a movie tower,
// each an nn.Embedding, scored by their dot product. Per example the
// input is [2] (user, movie) and the output [1].
type twoTower struct {
	users, movies *nn.Embedding
	params        []*graph.Param
}

func (t *twoTower) Name() string                        { return "towers" }
func (t *twoTower) Kind() string                        { return "TwoTower" }
func (t *twoTower) OutputShape(in []int) ([]int, error) { return []int{1}, nil }
func (t *twoTower) NumParams(in []int) int {
	return t.users.NumParams([]int{1}) + t.movies.NumParams([]int{1})
}
func (t *twoTower) Params() []*graph.Param { return t.params }

// Build looks each id column up in its tower ([batch, 1] ids give
// [batch, 1, dim]) and takes the rows' dot product.
func (t *twoTower) Build(g *graph.Graph, x *graph.Node) (*graph.Node, error) {
	batch := x.Shape()[0]
	tower := func(e *nn.Embedding, col int) (*graph.Node, error) {
		ids, err := graph.Column(x, col)
		if err != nil {
			return nil, err
		}
		if ids, err = graph.Reshape(ids, batch, 1); err != nil {
			return nil, err
		}
		v, err := e.Build(g, ids)
		if err != nil {
			return nil, err
		}
		return graph.Reshape(v, batch, e.Dim)
	}
	u, err := tower(t.users, 0)
	if err != nil {
		return nil, err
	}
	m, err := tower(t.movies, 1)
	if err != nil {
		return nil, err
	}
	t.params = append(t.users.Params(), t.movies.Params()...)
	return graph.RowDot(u, m)
}

// Train a two-tower recommender built from Embedding layers with the
// rating task: 3 users rate 3 movies 1 when they like the same kind of
// film, else 0.
func ExampleRating() {
	var ratings ratingList
	for u := 0; u < 3; u++ {
		for m := 0; m < 3; m++ {
			v := float32(0)
			if u%2 == m%2 {
				v = 1
			}
			ratings = append(ratings, struct {
				u, m int
				v    float32
			}{u, m, v})
		}
	}
	emb := func(name string, n int) *nn.Embedding {
		e := nn.NewEmbedding(n, 2)
		e.SetName(name) // parameters users.weight and movies.weight
		e.Init = graph.Normal(0.5)
		return e
	}
	model := nn.NewSequential("recommender", &twoTower{users: emb("users", 3), movies: emb("movies", 3)})
	tr, err := train.New(model, &train.Rating{Users: 3, Movies: 3},
		train.Config{Epochs: 300, BatchSize: 9, Loss: "mse", LearningRate: 0.05})
	if err != nil {
		panic(err)
	}
	defer tr.Close()
	hist, err := tr.Fit(ratings, ratings, nil)
	if err != nil {
		panic(err)
	}
	fmt.Printf("test RMSE below 0.05: %v\n", hist[len(hist)-1].Metrics["test_rmse"] < 0.05)
	// Output: test RMSE below 0.05: true
}
