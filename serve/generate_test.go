package serve_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/serve"
)

// generate's text is run.Continue's for the same prime, length,
// temperature and seed; requests past the server's limits, with
// characters the model does not know, or to a model of another task get
// 400 with one line naming what is at fault.
func TestGenerate(t *testing.T) {
	_, base := startServer(t, serve.Options{MaxTokens: 50}, runs.lm, runs.mlp)
	lm := load(t, runs.lm)
	post := func(model, body string) (int, string) {
		t.Helper()
		code, b := call(t, "POST", base+"/v2/models/"+model+"/generate", "application/json", strings.NewReader(body))
		return code, string(b)
	}
	for _, c := range []struct {
		body string
		o    run.GenerateOptions
	}{
		{`{"text_input": "the ", "max_tokens": 20, "temperature": 0}`, run.GenerateOptions{Prime: "the ", Length: 20}},
		{`{"text_input": "the cat", "max_tokens": 30, "temperature": 0.7, "seed": 5}`, run.GenerateOptions{Prime: "the cat", Length: 30, Temperature: 0.7, Seed: 5}},
		{`{"text_input": "mat"}`, run.GenerateOptions{Prime: "mat", Length: 50, Temperature: 1}}, // the default, lowered to the limit
	} {
		code, b := post("lm", c.body)
		var resp serve.GenerateResponse
		if code != http.StatusOK || json.Unmarshal([]byte(b), &resp) != nil {
			t.Fatalf("%s: %d %s", c.body, code, b)
		}
		want, err := lm.Continue(context.Background(), c.o)
		if err != nil {
			t.Fatal(err)
		}
		if resp.TextOutput != want || resp.ModelName != "lm" || len([]rune(want)) != c.o.Length {
			t.Errorf("%s: %+v, want text %q", c.body, resp, want)
		}
	}
	for _, c := range []struct{ model, body, want string }{
		{"lm", `{"text_input": "mat", "max_tokens": 51}`, "max_tokens 51: must be 0 to 50, the server's limit (--max-tokens)"},
		{"lm", `{"text_input": "the", "max_tokens": -1}`, "max_tokens -1"},
		{"lm", `{"text_input": "the", "max_tokens": 5, "temperature": -1}`, "temperature -1"},
		{"lm", `{"text_input": "the Zebra"}`, "text_input: "},
		{"lm", `{"text_input": 3}`, "text_input is a JSON number"},
		{"lm", `{}`, "text_input is empty, which stands for a new line, and model lm knows no new line"},
		{"mlp", `{"text_input": "the"}`, "model mlp is a classify model: generate takes a next-token model"},
	} {
		code, b := post(c.model, c.body)
		if code != http.StatusBadRequest || !strings.Contains(b, c.want) || strings.Count(strings.TrimSpace(b), "\n") > 0 {
			t.Errorf("%s %s: %d %s, want 400 saying %q", c.model, c.body, code, b, c.want)
		}
	}
	if code, b := call(t, "GET", base+"/v2/models/lm/generate", "", nil); code != http.StatusMethodNotAllowed {
		t.Errorf("GET generate: %d %s", code, b)
	}
}
