package serve_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/explain"
	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/serve"
)

// explained is an explain answer as a client reads it.
type explained struct {
	ModelName    string `json:"model_name"`
	ID           string `json:"id"`
	Kind         string `json:"kind"`
	Explanations []struct {
		Type      string    `json:"type"`
		Input     string    `json:"input"`
		Method    string    `json:"method"`
		Class     int       `json:"class"`
		ClassName string    `json:"class_name"`
		Steps     int       `json:"steps"`
		Values    []float64 `json:"values"`
		Tokens    []string  `json:"tokens"`
		UserID    int       `json:"user_id"`
		Predicted float64   `json:"predicted_rating"`
	} `json:"explanations"`
}

// postExplain POSTs body to the model's explain endpoint and returns the
// status and the answer.
func postExplain(t *testing.T, base, model, body string) (int, explained, string) {
	t.Helper()
	code, b := call(t, "POST", base+"/v2/models/"+model+"/explain", "application/json", strings.NewReader(body))
	var e explained
	if code == http.StatusOK {
		if err := json.Unmarshal(b, &e); err != nil {
			t.Fatalf("explain %s: %v\n%.300s", model, err, b)
		}
	}
	return code, e, string(b)
}

// POST /v2/models/NAME/explain explains the rows of an input tensor as
// the run does (the same attributions as run.ExplainRows), for image
// classifiers, language models and rating models, within the server's
// limits on rows, steps and explanations at once; every refusal is one
// line with its status.
func TestExplain(t *testing.T) {
	s, base := startServer(t, serve.Options{MaxExplainRows: 2, MaxExplainSteps: 20}, runs.cnn, runs.mf, runs.lm)
	x := examples(3, 2)
	body := inferRequest("FP32", []int{2, 1, 28, 28}, x, `,"parameters":{"steps":10,"baseline":"blur"}`)
	code, got, raw := postExplain(t, base, "cnn", body)
	if code != http.StatusOK {
		t.Fatalf("explain cnn: %d %s", code, raw)
	}
	ref := load(t, runs.cnn)
	want, err := ref.ExplainRows(2, x, run.ExplainOptions{Options: explain.Options{Steps: 10, Baseline: explain.Blur}})
	if err != nil {
		t.Fatal(err)
	}
	if got.ModelName != "cnn" || got.ID != "r1" || got.Kind != "classify" || len(got.Explanations) != 2 {
		t.Fatalf("explain cnn: %.300s", raw)
	}
	for i, e := range got.Explanations {
		w := want.Items[i].(*run.ImageExplanation)
		if e.Type != "image" || e.Method != "integrated-gradients" || e.Steps != 10 || e.Class != w.Class || !slices.Equal(e.Values, w.Values) {
			t.Errorf("row %d: %s by %s in %d steps, class %d (want %d), values equal %v", i, e.Type, e.Method, e.Steps, e.Class, w.Class, slices.Equal(e.Values, w.Values))
		}
	}

	code, got, raw = postExplain(t, base, "cnn", inferRequest("FP32", []int{1, 1, 28, 28}, x[:784], `,"parameters":{"method":"saliency","class":"Bag"}`))
	if code != http.StatusOK || got.Explanations[0].ClassName != "Bag" || got.Explanations[0].Method != "saliency" {
		t.Errorf("saliency of Bag: %d %.300s", code, raw)
	}
	code, got, raw = postExplain(t, base, "mf", inferRequest("INT64", []int{1, 2}, []int{1, 20}, ""))
	if code != http.StatusOK || got.Kind != "rating" || got.Explanations[0].Type != "rating" || got.Explanations[0].UserID != 1 {
		t.Errorf("explain mf: %d %.300s", code, raw)
	}
	code, got, raw = postExplain(t, base, "lm", inferRequest("INT64", []int{1, 6}, []int{1, 2, 3, 1, 2, 3}, `,"parameters":{"steps":4}`))
	if code != http.StatusOK || got.Explanations[0].Type != "text" || len(got.Explanations[0].Tokens) != 6 {
		t.Errorf("explain lm: %d %.300s", code, raw)
	}

	one := inferRequest("FP32", []int{1, 1, 28, 28}, x[:784], "")
	for _, c := range []struct {
		model, contentType, body string
		code                     int
		want                     string
	}{
		{"cnn", "application/json", inferRequest("FP32", []int{3, 1, 28, 28}, examples(0, 3), ""), http.StatusRequestEntityTooLarge, "3 rows, more than the 2 one explain request may hold"},
		{"cnn", "application/json", strings.Replace(one, `}]`, `}],"parameters":{"steps":21}`, 1), http.StatusBadRequest, "parameter steps: 21, more than the 20 the server takes"},
		{"cnn", "application/json", strings.Replace(one, `}]`, `}],"parameters":{"method":"lime"}`, 1), http.StatusBadRequest, `parameter method: unknown attribution method "lime"`},
		{"cnn", "application/json", strings.Replace(one, `}]`, `}],"parameters":{"class":"Boot"}`, 1), http.StatusBadRequest, `class "Boot" is not one of the model's 10`},
		{"cnn", "application/json", strings.Replace(one, `}]`, `}],"parameters":{"top":3}`, 1), http.StatusBadRequest, `unknown parameter "top"`},
		{"cnn", "application/json", strings.Replace(one, `}]`, `}],"parameters":{"class":3}`, 1), http.StatusBadRequest, "parameter class: 3 is not a string"},
		{"cnn", "text/plain", one, http.StatusUnsupportedMediaType, "takes application/json"},
		{"mf", "application/json", inferRequest("INT64", []int{1, 2}, []int{1, 20}, `,"parameters":{"method":"occlusion"}`), http.StatusBadRequest, "occlusion"},
		{"nope", "application/json", one, http.StatusNotFound, `unknown model "nope"`},
	} {
		code, b := call(t, "POST", base+"/v2/models/"+c.model+"/explain", c.contentType, strings.NewReader(c.body))
		var e serve.ErrorResponse
		if err := json.Unmarshal(b, &e); err != nil || code != c.code || !strings.Contains(e.Error, c.want) || strings.Contains(e.Error, "\n") {
			t.Errorf("%s: %d %s, want %d mentioning %q", c.want, code, b, c.code, c.want)
		}
	}

	release := serve.HoldExplains(s)
	req, err := http.NewRequest("POST", base+"/v2/models/cnn/explain", strings.NewReader(one))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	release()
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "1" {
		t.Errorf("every explaining slot taken: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if code, _, raw := postExplain(t, base, "cnn", one); code != http.StatusOK {
		t.Errorf("after the slots are free: %d %s", code, raw)
	}
}
