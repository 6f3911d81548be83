package run

import (
	"fmt"
	"io"
	"slices"

	"github.com/dlrun/dlrun/datasets"
	"github.com/dlrun/dlrun/explain"
	"github.com/dlrun/dlrun/nn"
	"github.com/dlrun/dlrun/train"
	"github.com/pkg/errors"
)

func init() { Register(Rating) }

// Rating is the kind of run that predicts ratings: a recommender learns the
// rating a user gives a movie, scored by the test RMSE in stars.
var Rating = &rating{supervised{
	name: "rating",
	refs: map[string]Config{
		"mf":     {Dataset: "movielens", Dim: 32, Config: ratingRecipe},
		"ncf":    {Dataset: "movielens", Dim: 32, Config: train.Config{Epochs: 3, BatchSize: 256, Optimizer: "adam", LearningRate: 1e-3, Loss: "mse", WeightDecay: 0.1}},
		"biases": {Dataset: "movielens", Config: train.Config{Epochs: 8, BatchSize: 256, Optimizer: "adam", LearningRate: 5e-3, Loss: "mse", WeightDecay: 0.05}},
	},
	file: Config{Dataset: "movielens", Config: ratingRecipe},
	loss: "mse",
	progress: Progress{Unit: "rating", Rate: "ratings",
		Headline: Headline{Name: "rmse", Column: "test_rmse", Summary: "test_rmse"}},
}}

// ratingRecipe is mf's: weight_decay is the L2 on each batch's embedding
// rows and biases (nn.MF.L2).
var ratingRecipe = train.Config{Epochs: 20, BatchSize: 256, Optimizer: "adam", LearningRate: 1e-3, Loss: "mse", WeightDecay: 0.1}

// rating is the kind of Rating.
type rating struct{ supervised }

var _ SupervisedKind = Rating

// Data implements SupervisedKind: the bundled MovieLens ratings or a
// folder of ratings (MovieLens's CSV or the ml-100k layout).
func (*rating) Data(c *Config) (*Data, error) {
	r, err := LoadRatings(c.Dataset)
	if err != nil {
		return nil, err
	}
	return FromRatings(r), nil
}

// Build implements SupervisedKind: (user, movie) index pairs in, a rating
// out.
func (*rating) Build(c *Config, d *Data) (*nn.Sequential, train.Task, error) {
	if err := d.check(); err != nil {
		return nil, nil, err
	}
	if d.Users == 0 || d.Movies == 0 {
		return nil, nil, errors.Errorf("dataset %s has no users or movies: rating prediction needs ratings", d.Name)
	}
	model, err := network(c, d, []int{2}, 1)
	if err != nil {
		return nil, nil, err
	}
	return model, &train.Rating{Users: d.Users, Movies: d.Movies}, nil
}

// Loop implements SupervisedKind: a reference recommender applies
// weight_decay itself, to the rows of each batch (nn.Options.L2), and the
// loop none.
func (*rating) Loop(c *Config) train.Config {
	tc := c.Config
	if !IsModelFile(c.Model) {
		tc.WeightDecay = 0
	}
	return tc
}

// NewTask implements Kind.
func (*rating) NewTask(info *train.ModelInfo) (train.Task, error) { return info.NewTask() }

// Check implements Kind: nothing of config.json describes the outputs; the
// loop agrees with the model (checkLoop).
func (k *rating) Check(c *Config, info *train.ModelInfo, ck *train.Config) error {
	return checkLoop(k.Loop(c), info, ck)
}

// evalData loads ratings name (the run's if "") for evaluating rating
// model r. The run's own dataset must still have the SHA-256 the run
// recorded; another dataset must either have that SHA-256 or the very
// users and movies (original ids) of the run's, since the model's indices
// are positions in them.
func (*rating) evalData(r *Run, name string) (*datasets.Ratings, error) {
	own := name == ""
	name, err := evalDataset(r, name)
	if err != nil {
		return nil, err
	}
	rs, err := LoadRatings(name)
	if err != nil {
		if own {
			return nil, unloadable(r, err)
		}
		return nil, err
	}
	want := r.Config.DatasetSHA256
	switch {
	case want == "" || rs.SHA256 == want:
	case name == r.Config.Dataset:
		return nil, r.Config.CheckDatasetSHA256(rs.SHA256)
	default:
		own, err := LoadRatings(r.Config.Dataset)
		if err != nil {
			return nil, errors.Wrapf(err, "the run's dataset %s, to match %s's users and movies with", r.Config.Dataset, name)
		}
		if !slices.Equal(own.UserIDs, rs.UserIDs) || !slices.Equal(own.MovieIDs, rs.MovieIDs) {
			return nil, errors.Errorf("dataset %s has other users or movies than the run's %s: the model's indices would not match", name, r.Config.Dataset)
		}
	}
	if err := fitsModel(rs, r.Model.Info); err != nil {
		return nil, err
	}
	return rs, nil
}

// ratings implements recommending: the run's own ratings, or data,
// checked.
func (k *rating) ratings(r *Run, data string) (*datasets.Ratings, error) {
	if data == "" && r.Config.Dataset == "" {
		return nil, ErrNoRatings
	}
	return k.evalData(r, data)
}

// fitsModel checks that rs has as many users and movies as info's model
// was built for.
func fitsModel(rs *datasets.Ratings, info train.ModelInfo) error {
	if info.Users != 0 && len(rs.UserIDs) != info.Users || info.Movies != 0 && len(rs.MovieIDs) != info.Movies {
		return errors.Errorf("dataset %s has %s and %s; the model was built for %d and %d", rs.Name, plural(len(rs.UserIDs), "user"), plural(len(rs.MovieIDs), "movie"), info.Users, info.Movies)
	}
	return nil
}

// Evaluate implements Kind: the loss (mean squared error), RMSE and MAE,
// in stars, over the test ratings.
func (k *rating) Evaluate(r *Run, o EvalOptions) (Report, error) {
	if err := agentOptions(k, o); err != nil {
		return nil, err
	}
	rs, err := k.evalData(r, o.Data)
	if err != nil {
		return nil, err
	}
	d := FromRatings(rs)
	ev, err := r.Model.Evaluate(d.Test)
	if err != nil {
		return nil, errors.Wrapf(err, "evaluating on %s", d.Name)
	}
	return &RatingReport{Dataset: d.Name, Loss: ev.Loss, RMSE: ev.Metrics[train.RMSE.Name], MAE: ev.Metrics[train.MAE.Name], Ratings: d.Test.Len()}, nil
}

// Tensors implements Kind: (user index, movie index) pairs in, the
// predicted rating out.
func (*rating) Tensors(r *Run) (*Tensors, error) {
	info := r.Model.Info
	if info.Users > maxIndex || info.Movies > maxIndex {
		return nil, errors.Errorf("run folder %s: %d users and %d movies: more than the %d a float32 input indexes exactly", r.Dir, info.Users, info.Movies, maxIndex)
	}
	return &Tensors{
		Shape: []int{2},
		IDs:   true,
		Bound: func(i int) (string, int) {
			if i%2 == 0 {
				return "user index", info.Users
			}
			return "movie index", info.Movies
		},
		InputDoc: "(user index, movie index) pairs, dense indices as dlrun numbers them",
		Outputs:  []Output{{Name: RatingName, Head: Raw, Shape: []int{1}, Doc: "the predicted rating", Serve: true, Export: true}},
		Meta:     map[string]any{"users": info.Users, "movies": info.Movies},
	}, nil
}

// maxIndex bounds the user, movie and token indices a served or exported
// model takes: its input is float32, which holds every whole number up to
// 1<<24.
const maxIndex = 1 << 24

// RatingReport is an evaluation of a rating model on a test split: the
// loss (mean squared error), RMSE and MAE, in stars, over Ratings ratings.
type RatingReport struct {
	Dataset string  `json:"dataset"`
	Loss    float64 `json:"loss"`
	RMSE    float64 `json:"rmse"`
	MAE     float64 `json:"mae"`
	Ratings int     `json:"ratings"`
}

// Print implements Report.
func (r *RatingReport) Print(w io.Writer) {
	fmt.Fprintf(w, "%s: %s, loss %.4f, rmse %.4f, mae %.4f\n", r.Dataset, plural(r.Ratings, "rating"), r.Loss, r.RMSE, r.MAE)
}

// runData implements dataLoading.
func (k *rating) runData(r *Run, name string) (*Data, error) {
	rs, err := k.evalData(r, name)
	if err != nil {
		return nil, err
	}
	return FromRatings(rs), nil
}

// explainInputs implements explaining: each input is USER:MOVIE, the
// dataset's ids, or USER alone for the user's top recommendation.
func (k *rating) explainInputs(r *Run, x *explain.Explainer, inputs []string, o ExplainOptions) ([]Explanation, error) {
	rs, err := k.recommenderRatings(r)
	if err != nil {
		return nil, err
	}
	pairs := make([]ratingPair, len(inputs))
	names := make([]string, len(inputs))
	for i, in := range inputs {
		if pairs[i], err = parsePair(r, rs, in); err != nil {
			return nil, errors.Wrapf(err, "input %d (%q)", i+1, clip(in))
		}
		names[i] = fmt.Sprintf("user %d, movie %d", rs.UserIDs[pairs[i].user], rs.MovieIDs[pairs[i].movie])
	}
	return explainRatings(r, x, rs, names, pairs, o)
}

// explainRows implements explaining: each row is a (user index, movie
// index) pair, as the run is served.
func (k *rating) explainRows(r *Run, x *explain.Explainer, rows int, in []float32, o ExplainOptions) ([]Explanation, error) {
	rs, err := k.recommenderRatings(r)
	if err != nil {
		return nil, err
	}
	pairs := make([]ratingPair, rows)
	names := make([]string, rows)
	for i, row := range splitRows(rows, in) {
		if len(row) != 2 {
			return nil, errors.Errorf("row %d: %d values, want a user index and a movie index", i+1, len(row))
		}
		u, m := int(row[0]), int(row[1])
		if float32(u) != row[0] || float32(m) != row[1] || u < 0 || u >= len(rs.UserIDs) || m < 0 || m >= len(rs.MovieIDs) {
			return nil, errors.Errorf("row %d: (%v, %v) is not a user index below %d and a movie index below %d", i+1, row[0], row[1], len(rs.UserIDs), len(rs.MovieIDs))
		}
		pairs[i] = ratingPair{u, m}
		names[i] = fmt.Sprintf("user %d, movie %d", rs.UserIDs[u], rs.MovieIDs[m])
	}
	return explainRatings(r, x, rs, names, pairs, o)
}

// explainTests implements explaining: the first test rating of each of
// the first n users who have one.
func (k *rating) explainTests(r *Run, x *explain.Explainer, n int, o ExplainOptions) ([]Explanation, error) {
	rs, err := k.recommenderRatings(r)
	if err != nil {
		return nil, err
	}
	var pairs []ratingPair
	var names []string
	for _, t := range rs.Test {
		if len(pairs) == n {
			break
		}
		if len(pairs) > 0 && pairs[len(pairs)-1].user == t.User {
			continue
		}
		pairs = append(pairs, ratingPair{t.User, t.Movie})
		names = append(names, fmt.Sprintf("user %d, movie %d (rated %.1f)", rs.UserIDs[t.User], rs.MovieIDs[t.Movie], t.Value))
	}
	return explainRatings(r, x, rs, names, pairs, o)
}

// explainImportance implements explaining: a recommender has no features
// to rank.
func (k *rating) explainImportance(*Run, *explain.Explainer, ExplainOptions) (Explanation, error) {
	return nil, doesNotApply("feature importance", k, "a classifier of rows")
}
