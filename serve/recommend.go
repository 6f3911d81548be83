package serve

import (
	"net/http"
	"strconv"

	"github.com/dlrun/dlrun/run"
)

// DefaultRecommendations is the number of movies recommend lists when the
// request does not say, as `dlrun recommend`.
const DefaultRecommendations = 10

// RecommendResponse is the answer to GET
// /v2/models/{name}/recommend?user=ID&top=N: run.Recommender's
// Recommend(ID, N), the user's top movies among those they have not
// rated, highest predicted rating first.
type RecommendResponse struct {
	ModelName       string               `json:"model_name"`
	ModelVersion    string               `json:"model_version"`
	User            int                  `json:"user"`
	Recommendations []run.Recommendation `json:"recommendations"`
}

// recommend answers GET /v2/models/{name}/recommend for a rating model:
// user is the dataset's own user id (MovieLens's userId), as `dlrun
// recommend --user` takes it; an unknown one is 404.
func (s *Server) recommend(w http.ResponseWriter, r *http.Request, m *model) error {
	if m.noRec != nil {
		return badRequest("model %s cannot recommend: %v", m.name, m.noRec)
	}
	if m.rec == nil {
		return badRequest("model %s is a %s model: recommend takes a rating model", m.name, m.task)
	}
	q := r.URL.Query()
	v := q.Get("user")
	if v == "" {
		return badRequest("no user: give ?user=ID, the dataset's user id")
	}
	user, err := strconv.Atoi(v)
	if err != nil {
		return badRequest("user=%q: want a whole number, the dataset's user id", truncate(v))
	}
	top, err := queryInt(q, "top", DefaultRecommendations)
	if err != nil {
		return err
	}
	if _, ok := m.rec.Ratings.UserIndex(user); !ok {
		return errorf(http.StatusNotFound, "unknown user id %d: the ratings model %s was trained on have none by it", user, m.name)
	}
	var recs []run.Recommendation
	if err := m.b.do(r.Context(), func() (err error) {
		recs, err = m.rec.Recommend(user, top)
		return err
	}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, RecommendResponse{ModelName: m.name, ModelVersion: Version, User: user, Recommendations: recs})
	return nil
}
