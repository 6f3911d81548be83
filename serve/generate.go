package serve

import (
	"net/http"

	"github.com/dlrun/dlrun/datasets"
	"github.com/dlrun/dlrun/run"
)

// DefaultMaxTokens is the most tokens one generate request may ask for
// unless Options.MaxTokens says otherwise.
const DefaultMaxTokens = 4096

// DefaultGenerateTokens is the number of tokens generate writes when the
// request does not say (max_tokens).
const DefaultGenerateTokens = 100

// GenerateRequest is the body of POST /v2/models/{name}/generate, the
// KServe v2 (Triton) generate extension's: the text the language model
// reads first, and how it writes its continuation.
type GenerateRequest struct {
	// TextInput is the prime (empty: run.DefaultPrime, a new line, as
	// `dlrun generate`).
	TextInput string `json:"text_input"`
	// MaxTokens is the number of tokens (characters) to write: default
	// DefaultGenerateTokens (or the server's limit, if lower), at most the
	// server's Options.MaxTokens.
	MaxTokens *int `json:"max_tokens,omitempty"`
	// Temperature divides the logits before sampling: default 1; 0 picks
	// the most likely token every time.
	Temperature *float64 `json:"temperature,omitempty"`
	// Seed seeds sampling: the same seed, prime and settings write the
	// same text (default 0).
	Seed uint64 `json:"seed,omitempty"`
}

// GenerateResponse is the answer to a generate request: the text written
// after the prime (run.Run.Continue), without the prime.
type GenerateResponse struct {
	ModelName    string `json:"model_name"`
	ModelVersion string `json:"model_version"`
	TextOutput   string `json:"text_output"`
}

// generate answers POST /v2/models/{name}/generate for a next-token
// model, in one of the model's slots, within the request's timeout.
func (s *Server) generate(w http.ResponseWriter, r *http.Request, m *model) error {
	if !m.run.Generates() {
		return badRequest("model %s is a %s model: generate takes a next-token model", m.name, m.task)
	}
	if err := checkContentType(r, jsonTypes); err != nil {
		return err
	}
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	var req GenerateRequest
	if err := decodeJSON(body, &req); err != nil {
		return err
	}
	o := run.GenerateOptions{Prime: req.TextInput, Length: min(DefaultGenerateTokens, s.opts.MaxTokens), Temperature: 1, Seed: req.Seed}
	if req.MaxTokens != nil {
		o.Length = *req.MaxTokens
	}
	if o.Length < 0 || o.Length > s.opts.MaxTokens {
		return badRequest("max_tokens %d: must be 0 to %d, the server's limit (--max-tokens)", o.Length, s.opts.MaxTokens)
	}
	if req.Temperature != nil {
		o.Temperature = *req.Temperature
	}
	if err := o.Check(); err != nil {
		return badRequest("%v", err)
	}
	if v := m.run.Config.Vocab; len(v) > 0 {
		if req.TextInput == "" {
			if _, err := datasets.Encode(v, run.DefaultPrime); err != nil {
				return badRequest("text_input is empty, which stands for a new line, and model %s knows no new line: give text_input", m.name)
			}
		} else if _, err := datasets.Encode(v, req.TextInput); err != nil {
			return badRequest("text_input: %v", err)
		}
	}
	var text string
	err = m.b.do(r.Context(), func() (err error) {
		text, err = m.run.Continue(r.Context(), o)
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, GenerateResponse{ModelName: m.name, ModelVersion: Version, TextOutput: text})
	return nil
}
