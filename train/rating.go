package train

import (
	"math"
	"math/rand/v2"

	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/nn"
	"github.com/pkg/errors"
)

func init() {
	registerTask("rating", func(info *ModelInfo) (Task, error) {
		if len(info.InputShape) != 1 || info.InputShape[0] != 2 || info.Outputs != 1 {
			return nil, errors.Errorf("input_shape %v and outputs %d: a rating model maps [2] (user, movie) to 1 rating", info.InputShape, info.Outputs)
		}
		if info.Users < 1 || info.Users > nn.MaxSettingInt || info.Movies < 1 || info.Movies > nn.MaxSettingInt {
			return nil, errors.Errorf("users %d and movies %d: a rating model has from 1 to %d of each", info.Users, info.Movies, nn.MaxSettingInt)
		}
		return &Rating{Users: info.Users, Movies: info.Movies}, nil
	})
}

// Ratings are (user, movie, rating) triples, what Rating trains on.
type Ratings interface {
	Data
	// Rating returns the user index, the movie index and the value of
	// rating i.
	Rating(i int) (user, movie int, value float32)
}

// RMSE and MAE score rating predictions: the root of the mean squared
// error and the mean absolute error, in stars.
var (
	RMSE = Metric{Name: "rmse", Root: true}
	MAE  = Metric{Name: "mae"}
)

// Rating is the task of predicting how a user rates a movie, the core of a
// recommender: the model maps [batch, 2] (user index, movie index, stored
// as floats) to [batch, 1] predicted ratings, the loss is the mean squared
// error (mse), and a pass is scored by RMSE and MAE. Training passes visit
// the ratings in a shuffled order; the last batch of a pass is padded with
// weight-0 rows (user and movie 0).
type Rating struct {
	// Users and Movies are the numbers of users and movies: indices run
	// from 0 to Users-1 and Movies-1.
	Users, Movies int

	g *graph.Graph
	shuffledPass
	xT, yT, wT graph.Data
	data       Ratings
	idx        []int
	targets    []float64
	row        []float64
}

var _ Task = (*Rating)(nil)

// Name implements Task.
func (r *Rating) Name() string { return "rating" }

// InputShape implements Task: a user and a movie index.
func (r *Rating) InputShape() []int { return []int{2} }

// OutputSize implements Task: one predicted rating.
func (r *Rating) OutputSize() int { return 1 }

// Metrics implements Task: RMSE and MAE.
func (r *Rating) Metrics() []Metric { return []Metric{RMSE, MAE} }

// checkBuild implements buildChecker: what Build checks before it builds.
func (r *Rating) checkBuild(model nn.Layer, _ int, loss Loss) error {
	if loss.Kind != graph.SquaredError {
		return errors.Errorf("rating prediction trains with mse, not %s", loss.Name)
	}
	if r.Users < 1 || r.Movies < 1 || r.Users > nn.MaxSettingInt || r.Movies > nn.MaxSettingInt {
		return errors.Errorf("rating: %d users and %d movies: both must be 1 to %d (nn.MaxSettingInt)", r.Users, r.Movies, nn.MaxSettingInt)
	}
	shape, err := model.OutputShape([]int{2})
	if err != nil {
		return err
	}
	if len(shape) != 1 || shape[0] != 1 {
		return errors.Errorf("model %s maps a (user, movie) pair to %v, want [1]", model.Name(), shape)
	}
	return nil
}

// Build implements Task. The loss must be mse.
func (r *Rating) Build(g *graph.Graph, model nn.Layer, batch int, loss Loss) (out, lossNode *graph.Node, err error) {
	if err := r.checkBuild(model, batch, loss); err != nil {
		return nil, nil, err
	}
	r.g, r.batch = g, batch
	x, err := g.Input("x", batch, 2)
	if err != nil {
		return nil, nil, err
	}
	y, err := g.Input("y", batch, 1)
	if err != nil {
		return nil, nil, err
	}
	w, err := g.Input("weights", batch)
	if err != nil {
		return nil, nil, err
	}
	if out, err = model.Build(g, x); err != nil {
		return nil, nil, err
	}
	if lossNode, err = graph.Loss(graph.SquaredError, out, y, w); err != nil {
		return nil, nil, err
	}
	if r.xT, r.yT, r.wT, err = inputData(g, x, y, w); err != nil {
		return nil, nil, err
	}
	r.targets = make([]float64, 0, batch)
	r.row = make([]float64, 1)
	return out, lossNode, nil
}

// Check implements Task: d must be Ratings whose indices fit the task and
// whose values are finite.
func (r *Rating) Check(d Data, role string) error {
	if d == nil || d.Len() == 0 {
		return errors.Errorf("%s data is empty", role)
	}
	rs, ok := d.(Ratings)
	if !ok {
		return errors.Errorf("%s data (%T) are not ratings, which rating prediction needs", role, d)
	}
	for i := 0; i < rs.Len(); i++ {
		u, m, v := rs.Rating(i)
		if u < 0 || u >= r.Users || m < 0 || m >= r.Movies {
			return errors.Errorf("%s data: rating %d is by user %d of movie %d, outside %d users and %d movies", role, i, u, m, r.Users, r.Movies)
		}
		if v-v != 0 { // NaN or ±Inf
			return errors.Errorf("%s data: rating %d has value %v: ratings must be finite", role, i, v)
		}
	}
	return nil
}

// Pass implements Task.
func (r *Rating) Pass(d Data, rng *rand.Rand) (int, error) {
	rs, ok := d.(Ratings)
	if !ok || r.batch == 0 {
		return 0, errors.New("rating: Pass needs Ratings, after Build")
	}
	r.data = rs
	return r.start(d.Len(), rng), nil
}

// Fill implements Task.
func (r *Rating) Fill(i int) (int, error) {
	idx, err := r.indices(i, "rating")
	if err != nil {
		return 0, err
	}
	r.idx = idx
	r.targets = r.targets[:0]
	if r.xT.Float32s() != nil {
		fillRatings(r, r.xT.Float32s(), r.yT.Float32s(), r.wT.Float32s())
	} else {
		fillRatings(r, r.xT.Float64s(), r.yT.Float64s(), r.wT.Float64s())
	}
	r.g.SetActiveRows(len(r.idx))
	return len(r.idx), nil
}

func fillRatings[T float32 | float64](r *Rating, xs, ys, ws []T) {
	for row := 0; row < r.batch; row++ {
		if row >= len(r.idx) {
			xs[2*row], xs[2*row+1], ys[row], ws[row] = 0, 0, 0, 0
			continue
		}
		u, m, v := r.data.Rating(r.idx[row])
		xs[2*row], xs[2*row+1], ys[row], ws[row] = T(u), T(m), T(v), 1
		r.targets = append(r.targets, float64(v))
	}
}

// Score implements Task: the squared and the absolute errors of the
// batch's predictions.
func (r *Rating) Score(p *graph.Program, _ *Evaluation) ([]float64, error) {
	return errorSums(p, r.targets, r.row, 1)
}

// errorSums returns the sums of the squared and of the absolute errors
// of the batch's predictions (output 0, one value per row, read into row)
// against targets, each error multiplied by scale: RMSE's and MAE's
// figures.
func errorSums(p *graph.Program, targets, row []float64, scale float64) ([]float64, error) {
	sq, abs := 0.0, 0.0
	for i, t := range targets {
		if err := p.OutputRow(0, i, row); err != nil {
			return nil, err
		}
		e := (row[0] - t) * scale
		sq += e * e
		abs += math.Abs(e)
	}
	return []float64{sq, abs}, nil
}
