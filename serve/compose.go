package serve

import (
	"bytes"
	"math"
	"net/http"
	"strconv"

	"github.com/dlrun/dlrun/music"
	"github.com/dlrun/dlrun/run"
)

// MaxComposeSteps is the most steps one compose request may ask for: a
// step reads every step before it, so a request's work grows with the
// square of its steps.
const MaxComposeSteps = 256

// ComposeRequest is the body of POST /v2/models/{name}/compose, every
// field optional (an empty body composes with the defaults of `dlrun
// compose`): Steps steps (default 64, at most MaxComposeSteps) drawn at
// Temperature (default 1) from Seed (default 1), after the first step of a
// training piece drawn by the seed.
type ComposeRequest struct {
	Steps       *int     `json:"steps"`
	Temperature *float64 `json:"temperature"`
	Seed        *uint64  `json:"seed"`
}

// compose answers POST /v2/models/{name}/compose for a music model with a
// Standard MIDI File (audio/midi) of the piece, as `dlrun compose -o`
// writes it; the same request composes the same file.
func (s *Server) compose(w http.ResponseWriter, r *http.Request, m *model) error {
	if !m.run.Composes() {
		return badRequest("model %s is a %s model: compose takes a music model", m.name, m.task)
	}
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	o := run.ComposeOptions{Steps: 64, Temperature: 1, Seed: 1}
	if len(bytes.TrimSpace(body)) > 0 {
		if err := checkContentType(r, jsonTypes); err != nil {
			return err
		}
		var req ComposeRequest
		if err := decodeJSON(body, &req); err != nil {
			return err
		}
		if req.Steps != nil {
			o.Steps = *req.Steps
		}
		if req.Temperature != nil {
			o.Temperature = *req.Temperature
		}
		if req.Seed != nil {
			o.Seed = *req.Seed
		}
	}
	if o.Steps < 1 || o.Steps > MaxComposeSteps {
		return badRequest("steps %d: must be 1 to %d", o.Steps, MaxComposeSteps)
	}
	if o.Temperature < 0 || math.IsNaN(o.Temperature) || math.IsInf(o.Temperature, 0) {
		return badRequest("temperature %g: must be a finite number, not negative", o.Temperature)
	}
	var piece *music.Roll
	if err := m.b.do(r.Context(), func() (err error) {
		piece, err = m.run.Compose(o)
		return err
	}); err != nil {
		return err
	}
	var b bytes.Buffer
	if err := music.Write(&b, piece, music.WriteOptions{Name: "dlrun compose"}); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "audio/midi")
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(b.Bytes())
	return err
}
