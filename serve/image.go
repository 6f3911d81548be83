package serve

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/dlrun/dlrun/datasets"
	"github.com/dlrun/dlrun/internal/safeio"
	"github.com/dlrun/dlrun/run"
)

// ImageResponse is the answer to POST /v2/models/{name}/predict-image:
// the probability of each class in label order (as run.Model's
// PredictImages gives them) and the top classes, most probable first,
// the first of them also as Class and Probability (as `dlrun predict
// --json` writes them).
type ImageResponse struct {
	ModelName     string                 `json:"model_name"`
	ModelVersion  string                 `json:"model_version"`
	Class         string                 `json:"class"`
	Probability   float64                `json:"probability"`
	Top           []run.ClassProbability `json:"top"`
	Probabilities []float64              `json:"probabilities"`
}

// predictImage answers POST /v2/models/{name}/predict-image: the body is a
// PNG, JPEG, GIF or WebP image (Content-Type image/png, image/jpeg,
// image/gif or image/webp), converted to
// the model's input as `dlrun predict` converts a file
// (datasets.DecodeImage), inverted first with ?invert=1; ?top=N sets the
// classes listed (default DefaultTop). An image whose header declares
// more than Options.MaxImageBytes of decoded pixels gets 413 before it is
// decoded, and at most Options.MaxDecodes images are decoded at once.
func (s *Server) predictImage(w http.ResponseWriter, r *http.Request, m *model) error {
	if !m.isImage() {
		return badRequest("model %s is a %s model over inputs of shape %v: predict-image takes an image classifier", m.name, m.task, m.row)
	}
	q := r.URL.Query()
	top, err := queryInt(q, "top", DefaultTop)
	if err != nil {
		return err
	}
	invert := false
	if v := q.Get("invert"); v != "" {
		if invert, err = strconv.ParseBool(v); err != nil {
			return badRequest("invert=%q: want 1 or 0 (true or false)", truncate(v))
		}
	}
	if err := checkContentType(r, imageTypes); err != nil {
		return err
	}
	arrived := m.b.expect()
	defer arrived()
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	if len(body) == 0 {
		return badRequest("empty request body: send a PNG, JPEG, GIF or WebP image")
	}
	release, err := s.decodeSlot(w, r)
	if err != nil {
		return err
	}
	x, err := datasets.DecodeImage(body, "request body", m.row, invert, s.opts.MaxImageBytes, "--max-image-bytes")
	release()
	if errors.Is(err, safeio.ErrTooLarge) {
		return errorf(http.StatusRequestEntityTooLarge, "%v", err)
	} else if err != nil {
		return badRequest("%v", err)
	}
	out, err := m.b.predict(r.Context(), x, 1, arrived)
	if err != nil {
		return err
	}
	p := run.ImagePrediction{Probabilities: out[0]}
	resp := ImageResponse{ModelName: m.name, ModelVersion: Version, Top: p.Top(top, m.classes), Probabilities: out[0]}
	resp.Class, resp.Probability = resp.Top[0].Class, resp.Top[0].Probability
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// queryInt reads the positive whole number of query parameter name, def if
// the query lacks it.
func queryInt(q url.Values, name string, def int) (int, error) {
	v := q.Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, badRequest("%s=%q: want a positive whole number", name, truncate(v))
	}
	return n, nil
}
