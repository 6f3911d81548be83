package run

import (
	"fmt"
	"html"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/dlrun/dlrun/datasets"
	"github.com/dlrun/dlrun/explain"
	"github.com/pkg/errors"
)

// RatingExplanation is a recommender's predicted rating of a movie for a
// user explained by the movies the user rated (explain.Recommendation):
// what each rating adds to the prediction, and its share.
type RatingExplanation struct {
	ExplanationHead
	// UserID is the user's id in the dataset; Movie the movie rated.
	UserID int       `json:"user_id"`
	Movie  MovieInfo `json:"movie"`
	// Predicted is the predicted rating; Base the prediction for a user
	// the model knows nothing of.
	Predicted float64 `json:"predicted_rating"`
	Base      float64 `json:"base"`
	// Contributions holds each of the user's ratings with what it adds,
	// the largest (in absolute value) first.
	Contributions []RatingContribution `json:"contributions"`
	// Rest, RestShare, Fit, Delta, Steps and Rule are
	// explain.Recommendation's.
	Rest      float64      `json:"rest"`
	RestShare float64      `json:"rest_share"`
	Fit       float64      `json:"fit"`
	Delta     float64      `json:"delta"`
	Steps     int          `json:"steps"`
	Rule      explain.Rule `json:"rule"`
}

// RatingContribution is one of a user's ratings and what it adds to a
// predicted rating (explain.Contribution), the movie named.
type RatingContribution struct {
	MovieInfo
	Rating float64 `json:"rating"`
	Value  float64 `json:"value"`
	Share  float64 `json:"share"`
}

var _ Explanation = (*RatingExplanation)(nil)

// PrintedContributions is how many of a user's ratings a recommendation's
// printed explanation lists.
const PrintedContributions = 10

// ratedBy returns the user's (dense index) training ratings.
func ratedBy(rs *datasets.Ratings, user int) []explain.Rated {
	var out []explain.Rated
	for _, x := range rs.Train {
		if x.User == user {
			out = append(out, explain.Rated{Movie: x.Movie, Rating: float64(x.Value)})
		}
	}
	return out
}

// ratingPair is a (user, movie) pair to explain, dense indices.
type ratingPair struct{ user, movie int }

// explainRatings explains recommender r's predicted rating of each pair,
// named by names, by the user's training ratings, with x.
func explainRatings(r *Run, x *explain.Explainer, rs *datasets.Ratings, names []string, pairs []ratingPair, o ExplainOptions) ([]Explanation, error) {
	if o.Class != "" {
		return nil, errors.New("a recommendation explains the predicted rating; it has no class to name")
	}
	rec := &Recommender{Run: r, Ratings: rs}
	out := make([]Explanation, len(pairs))
	for i, p := range pairs {
		ex, err := x.Recommendation(p.user, p.movie, ratedBy(rs, p.user), o.Options)
		if err != nil {
			return nil, errors.Wrap(err, names[i])
		}
		e := &RatingExplanation{
			ExplanationHead: ExplanationHead{Type: "rating", Input: names[i],
				stem: fmt.Sprintf("user-%d-movie-%d", rs.UserIDs[p.user], rs.MovieIDs[p.movie])},
			UserID: rs.UserIDs[p.user], Movie: rec.movie(p.movie), Predicted: ex.Score, Base: ex.Base,
			Rest: ex.Rest, RestShare: ex.RestShare, Fit: ex.Fit, Delta: ex.Delta, Steps: ex.Steps, Rule: ex.Rule,
		}
		for _, c := range ex.Contributions {
			e.Contributions = append(e.Contributions, RatingContribution{MovieInfo: rec.movie(c.Movie), Rating: c.Rating, Value: c.Value, Share: c.Share})
		}
		out[i] = e
	}
	return out, nil
}

// lines says what is explained: the prediction, the base, and what the
// user's parameters add, split between the ratings and the rest.
func (e *RatingExplanation) lines() []string {
	ratings := 0.0
	for _, c := range e.Contributions {
		ratings += c.Value
	}
	return []string{
		fmt.Sprintf("user %d, movie %d %s: predicted rating %.3f; %.3f for a user the model knows nothing of", e.UserID, e.Movie.ID, e.Movie.Title, e.Predicted, e.Base),
		fmt.Sprintf("the user's parameters add %+.3f: their %s %+.3f, the part of them the ratings do not rebuild %+.3f (fit %.2f; 1 where they rebuild it all); integrated gradients, %d steps, %s",
			e.Predicted-e.Base, plural(len(e.Contributions), "rating"), ratings, e.Rest, e.Fit, e.Steps, e.Rule),
	}
}

// Print implements Explanation: what is explained, then the
// PrintedContributions ratings that add most (in absolute value).
func (e *RatingExplanation) Print(w io.Writer, _ bool) error {
	if _, err := fmt.Fprintf(w, "%s\n", strings.Join(e.lines(), "\n  ")); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  movie_id\trated\tadds\tshare\ttitle")
	for _, c := range e.Contributions[:min(PrintedContributions, len(e.Contributions))] {
		fmt.Fprintf(tw, "  %d\t%.1f\t%+.3f\t%+.1f%%\t%s\n", c.ID, c.Rating, c.Value, 100*c.Share, c.Title)
	}
	if n := len(e.Contributions) - PrintedContributions; n > 0 {
		fmt.Fprintf(tw, "  and %d more\t\t\t\t\n", n)
	}
	return tw.Flush()
}

// Files implements Explanation: the bar chart of the contributions,
// <stem>-ratings.png.
func (e *RatingExplanation) Files() ([]File, error) {
	b, err := e.chart()
	if err != nil {
		return nil, err
	}
	return []File{{Suffix: "-ratings.png", Data: b}}, nil
}

func (e *RatingExplanation) chart() ([]byte, error) {
	names := make([]string, len(e.Contributions))
	values := make([]float64, len(e.Contributions))
	for i, c := range e.Contributions {
		names[i] = fmt.Sprintf("%.0f* %s", c.Rating, c.Title)
		values[i] = c.Value
	}
	if len(names) == 0 {
		names, values = []string{"(no ratings)"}, []float64{0}
	}
	img, err := explain.BarChart(fmt.Sprintf("What user %d's ratings add to %s", e.UserID, e.Movie.Title), names, values)
	if err != nil {
		return nil, err
	}
	return encodePNG(img)
}

// HTML implements Explanation: the lines Print writes, a table of the
// ratings that add most and the bar chart.
func (e *RatingExplanation) HTML(w io.Writer) error {
	pic, err := e.chart()
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("<table>\n<tr><th>movie</th><th>rated</th><th>adds</th><th>share</th></tr>\n")
	for _, c := range e.Contributions[:min(PrintedContributions, len(e.Contributions))] {
		fmt.Fprintf(&b, "<tr><td>%s</td><td class=\"n\">%.1f</td><td class=\"n\">%+.3f</td><td class=\"n\">%+.1f%%</td></tr>\n",
			html.EscapeString(c.Title), c.Rating, c.Value, 100*c.Share)
	}
	b.WriteString("</table>\n")
	if err := htmlFigure(w, e.lines(), pic, "what the ratings add"); err != nil {
		return err
	}
	_, err = io.WriteString(w, b.String())
	return err
}

// recommenderRatings returns the ratings recommender r was trained on,
// read at the first call.
func (k *rating) recommenderRatings(r *Run) (*datasets.Ratings, error) {
	if r.rated == nil {
		rs, err := k.ratings(r, "")
		if err != nil {
			return nil, errors.Wrapf(err, "run folder %s", r.Dir)
		}
		r.rated = rs
	}
	return r.rated, nil
}

// parsePair reads USER:MOVIE or USER (the user's top recommendation),
// the dataset's ids.
func parsePair(r *Run, rs *datasets.Ratings, s string) (ratingPair, error) {
	us, ms, both := strings.Cut(s, ":")
	uid, err := strconv.Atoi(strings.TrimSpace(us))
	if err != nil {
		return ratingPair{}, errors.New("want USER:MOVIE or USER, the dataset's ids")
	}
	u, ok := rs.UserIndex(uid)
	if !ok {
		return ratingPair{}, errors.Errorf("unknown user id %d: dataset %s has no ratings by it", uid, rs.Name)
	}
	if !both {
		recs, err := (&Recommender{Run: r, Ratings: rs}).Recommend(uid, 1)
		if err != nil {
			return ratingPair{}, err
		}
		if len(recs) == 0 {
			return ratingPair{}, errors.Errorf("user id %d has rated every movie: name one, USER:MOVIE", uid)
		}
		m, _ := rs.MovieIndex(recs[0].ID)
		return ratingPair{u, m}, nil
	}
	mid, err := strconv.Atoi(strings.TrimSpace(ms))
	if err != nil {
		return ratingPair{}, errors.New("want USER:MOVIE or USER, the dataset's ids")
	}
	m, ok := rs.MovieIndex(mid)
	if !ok {
		return ratingPair{}, errors.Errorf("unknown movie id %d: dataset %s has no ratings of it", mid, rs.Name)
	}
	return ratingPair{u, m}, nil
}
