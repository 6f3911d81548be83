package serve

import (
	"encoding/json"
	"net/http"

	"github.com/dlrun/dlrun/explain"
	"github.com/dlrun/dlrun/run"
)

// Defaults of the explain endpoint's limits in Options.
const (
	// DefaultMaxExplainRows is the default largest number of rows one
	// explain request may hold: 16.
	DefaultMaxExplainRows = 16
	// DefaultMaxExplainSteps is the default largest number of steps an
	// explain request may ask integrated gradients for: 200, four times
	// the default.
	DefaultMaxExplainSteps = 4 * explain.DefaultSteps
)

// ExplainRequest is the body of POST /v2/models/{name}/explain: the
// model's one input tensor, as infer takes it, a row per answer
// explained, and Parameters saying how (each optional, as dlrun explain's
// flags): "method" ("saliency", "ig" or "occlusion"; default "ig"),
// "class" (the class or next token explained by name; default the
// predicted one), "steps" (integrated gradients' steps; default 50) and
// "baseline" ("black" or "blur").
type ExplainRequest struct {
	ID         string                     `json:"id,omitempty"`
	Parameters map[string]json.RawMessage `json:"parameters,omitempty"`
	Inputs     []RequestInput             `json:"inputs"`
}

// ExplainResponse is the answer to an explain request: a
// run.Explanation per row, in the rows' order, as dlrun explain --json
// writes them (a row of a classifier of images is an image's
// explanation, of a classifier or a regression of table rows a row's, of
// a language model a text's, of a rating model a recommendation's).
type ExplainResponse struct {
	ModelName    string            `json:"model_name"`
	ModelVersion string            `json:"model_version"`
	ID           string            `json:"id,omitempty"`
	Kind         string            `json:"kind"`
	Explanations []run.Explanation `json:"explanations"`
}

// explain answers POST /v2/models/{name}/explain (application/json): the
// input is read as infer reads it, at most Options.MaxExplainRows rows
// and Options.MaxExplainSteps steps; at most Options.MaxExplains requests
// are explained at once across the server (503 with Retry-After beyond),
// each on its model's batcher between batches, as the model is not safe
// for concurrent use.
func (s *Server) explain(w http.ResponseWriter, r *http.Request, m *model) error {
	if !m.run.Explains() {
		return badRequest("model %s is a %s model: explain takes a classifier, a regression, a language model or a rating model", m.name, m.task)
	}
	if err := checkContentType(r, jsonTypes); err != nil {
		return err
	}
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	var req ExplainRequest
	if err := decodeJSON(body, &req); err != nil {
		return err
	}
	o, err := s.explainOptions(req.Parameters)
	if err != nil {
		return err
	}
	x, rows, err := m.readInput(req.Inputs)
	if err != nil {
		return err
	}
	if rows > s.opts.MaxExplainRows {
		return errorf(http.StatusRequestEntityTooLarge, "input %q: %d rows, more than the %d one explain request may hold (--max-explain-rows)", InputName, rows, s.opts.MaxExplainRows)
	}
	release, err := s.slot(w, r, s.explains, "explaining %d requests, as many as it explains at once")
	if err != nil {
		return err
	}
	defer release()
	var ex *run.Explanations
	if err := m.b.do(r.Context(), func() (err error) {
		if ex, err = m.run.ExplainRows(rows, x, o); err != nil {
			return badRequest("%v", err)
		}
		return nil
	}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ExplainResponse{ModelName: m.name, ModelVersion: Version, ID: req.ID, Kind: ex.Kind, Explanations: ex.Items})
	return nil
}

// explainOptions reads an explain request's parameters.
func (s *Server) explainOptions(params map[string]json.RawMessage) (run.ExplainOptions, error) {
	var o run.ExplainOptions
	for name := range params {
		switch name {
		case "method", "class", "steps", "baseline":
		default:
			return o, badRequest("unknown parameter %q: explain takes method, class, steps and baseline", truncate(name))
		}
	}
	steps, ok, err := intParam(params, "steps")
	switch {
	case err != nil:
		return o, badRequest("%v", err)
	case ok && steps > s.opts.MaxExplainSteps:
		return o, badRequest("parameter steps: %d, more than the %d the server takes (--max-explain-steps)", steps, s.opts.MaxExplainSteps)
	}
	o.Steps = steps
	method, err := stringParam(params, "method")
	if err != nil {
		return o, err
	}
	if method != "" {
		if o.Method, err = explain.ParseMethod(method); err != nil {
			return o, badRequest("parameter method: %v", err)
		}
	}
	baseline, err := stringParam(params, "baseline")
	if err != nil {
		return o, err
	}
	if baseline != "" {
		if o.Baseline, err = explain.ParseBaseline(baseline); err != nil {
			return o, badRequest("parameter baseline: %v", err)
		}
	}
	o.Class, err = stringParam(params, "class")
	return o, err
}

// stringParam reads parameter name of params as a string; "" if params
// lacks it.
func stringParam(params map[string]json.RawMessage, name string) (string, error) {
	raw, ok := params[name]
	if !ok {
		return "", nil
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", badRequest("parameter %s: %s is not a string", name, truncate(string(raw)))
	}
	return v, nil
}
