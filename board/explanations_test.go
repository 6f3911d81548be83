package board_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/board"
)

// A run's explanations (its explanations/ folder, written by dlrun
// explain --board) come with its details, and their pictures one by one
// as PNG; a name that is not a .png file of that folder gets 400, a
// missing one 404, a link out of the board's folder an error; the folder
// makes no run of its own.
func TestExplanationsOfARun(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "a", "config.json"), goodConfig)
	write(t, filepath.Join(dir, "a", "summary.json"), goodSummary)
	index := `{"model":"mlp","kind":"classify","explanations":[{"type":"image","input":"test-1","files":["test-1-saliency.png"]}]}`
	write(t, filepath.Join(dir, "a", "explanations", "explanations.json"), index)
	png := "\x89PNG\r\n\x1a\nnot really"
	write(t, filepath.Join(dir, "a", "explanations", "test-1-saliency.png"), png)
	write(t, filepath.Join(dir, "a", "explanations", "notes.txt"), "text")
	write(t, filepath.Join(dir, "b", "config.json"), goodConfig)
	write(t, filepath.Join(dir, "b", "explanations", "explanations.json"), "{cut")
	outside := filepath.Join(t.TempDir(), "secret.png")
	write(t, outside, png)
	if err := os.Symlink(outside, filepath.Join(dir, "a", "explanations", "out.png")); err != nil {
		t.Fatal(err)
	}
	s, err := board.New(dir, board.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := len(s.Runs()); got != 2 {
		t.Errorf("%d runs, want 2: an explanations folder is no run", got)
	}

	var body struct {
		Explanations     json.RawMessage `json:"explanations"`
		ExplanationsText string          `json:"explanations_text"`
	}
	for _, c := range []struct{ id, index, text string }{{"a", index, ""}, {"b", "", "explanations/explanations.json: not JSON"}} {
		w := get(s, "/api/run?id="+c.id)
		body.Explanations, body.ExplanationsText = nil, ""
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || w.Code != http.StatusOK || string(body.Explanations) != c.index || body.ExplanationsText != c.text {
			t.Errorf("/api/run?id=%s: %d %s", c.id, w.Code, w.Body)
		}
	}

	w := get(s, "/api/explanation?id=a&file=test-1-saliency.png")
	if w.Code != http.StatusOK || w.Body.String() != png || w.Header().Get("Content-Type") != "image/png" || w.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("the picture: %d %q %v", w.Code, w.Body, w.Header())
	}
	for _, c := range []struct {
		target string
		code   int
		want   string
	}{
		{"/api/explanation?id=a&file=notes.txt", http.StatusBadRequest, `bad file "notes.txt"`},
		{"/api/explanation?id=a&file=..%2Fsummary.png", http.StatusBadRequest, "bad file"},
		{"/api/explanation?id=a&file=.hidden.png", http.StatusBadRequest, "bad file"},
		{"/api/explanation?id=a&file=", http.StatusBadRequest, "bad file"},
		{"/api/explanation?id=a&file=none.png", http.StatusNotFound, "run a has no explanations/none.png"},
		{"/api/explanation?id=a&file=out.png", http.StatusBadRequest, "explanations/out.png"},
		{"/api/explanation?id=c&file=x.png", http.StatusNotFound, "no such run"},
		{"/api/explanation?id=..%2Fa&file=x.png", http.StatusBadRequest, "bad run id"},
	} {
		w := get(s, c.target)
		var e struct{ Error string }
		if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || w.Code != c.code || !strings.Contains(e.Error, c.want) {
			t.Errorf("%s: %d %s, want %d mentioning %q", c.target, w.Code, w.Body, c.code, c.want)
		}
	}
}
