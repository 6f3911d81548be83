package board_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/board"
	"github.com/dlrun/dlrun/board/boardtest"
)

// What one /api/curves request can cost is bounded: a run named again
// and again is answered once, more than MaxCurveIDs runs get 400, and
// curves past MaxCurvesBytes get 413, each with a JSON error.
func TestCurvesRequestsAreBounded(t *testing.T) {
	dir := t.TempDir()
	ids, err := boardtest.WriteRuns(dir, board.MaxCurveIDs+1, 3)
	if err != nil {
		t.Fatal(err)
	}
	s, err := board.New(dir, board.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	curves := func(target string) (int, []string, string) {
		t.Helper()
		w := get(s, target)
		var body struct {
			Curves []struct {
				ID string `json:"id"`
			} `json:"curves"`
			Error string `json:"error"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatalf("GET %.80s: %d, not JSON: %v", target, w.Code, err)
		}
		var got []string
		for _, c := range body.Curves {
			got = append(got, c.ID)
		}
		return w.Code, got, body.Error
	}

	code, got, _ := curves("/api/curves?id=" + ids[0] + strings.Repeat("&id="+ids[0], 9) + "&id=" + ids[1] + "&id=" + ids[0])
	if code != http.StatusOK || strings.Join(got, " ") != ids[0]+" "+ids[1] {
		t.Errorf("a run named ten times and another: %d %v, want each once", code, got)
	}

	all := "/api/curves?id=" + strings.Join(ids, "&id=")
	code, _, msg := curves(all)
	if code != http.StatusBadRequest || msg != "more than 100 runs named: ask for at most 100 at a time" {
		t.Errorf("%d runs: %d %q", len(ids), code, msg)
	}
	code, got, _ = curves("/api/curves?id=" + strings.Join(ids[:board.MaxCurveIDs], "&id=") + "&id=" + ids[0])
	if code != http.StatusOK || len(got) != board.MaxCurveIDs {
		t.Errorf("%d runs: %d, %d curves", board.MaxCurveIDs, code, len(got))
	}

	three := 0
	for _, id := range ids[:3] {
		three += get(s, "/api/curves?id="+id).Body.Len() - len(`{"curves":[]}`)
	}
	defer board.SetMaxCurvesBytes(three)()
	if code, got, _ := curves("/api/curves?id=" + strings.Join(ids[:3], "&id=")); code != http.StatusOK || len(got) != 3 {
		t.Errorf("curves at the limit: %d, %d curves", code, len(got))
	}
	code, _, msg = curves("/api/curves?id=" + strings.Join(ids[:4], "&id="))
	if code != http.StatusRequestEntityTooLarge || !strings.Contains(msg, "the curves of these 4 runs take") || !strings.HasSuffix(msg, "ask for fewer runs at a time") {
		t.Errorf("curves past the limit: %d %q", code, msg)
	}
}

// The page asks for curves in groups of at most the board's MaxCurveIDs.
func TestPageAsksForCurvesWithinTheLimit(t *testing.T) {
	js, err := os.ReadFile(filepath.Join("static", "board.js"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`const MAX_CURVE_IDS = (\d+);`).FindSubmatch(js)
	if m == nil || string(m[1]) != strconv.Itoa(board.MaxCurveIDs) {
		t.Errorf("board.js's MAX_CURVE_IDS is %q, want %d (board.MaxCurveIDs)", m, board.MaxCurveIDs)
	}
}
