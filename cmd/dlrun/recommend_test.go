package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// writeRatingsFolder writes a small rating dataset in MovieLens's CSV
// layout and returns its folder: 8 users (ids 1 to 8) rate 9 of movies 10,
// 20, …, 110 each (user u skips movies (u+k)%4 == 0), two tastes by parity;
// user 1 also rates movie 999 last, so that it is in the test split only.
// User 1 has not rated movies 10, 50 and 90.
func writeRatingsFolder(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	var r, m strings.Builder
	r.WriteString("userId,movieId,rating,timestamp\n")
	m.WriteString("movieId,title,genres\n")
	for k := 0; k < 11; k++ {
		fmt.Fprintf(&m, "%d,\"Movie %d, The (19%02d)\",Comedy|Drama\n", 10*(k+1), k, 80+k)
	}
	m.WriteString("999,Lonely (2001),(no genres listed)\n")
	for j := 0; j < 8; j++ {
		for k := 0; k < 11; k++ {
			if (k+j)%4 == 0 {
				continue
			}
			v := 1.5
			if k%2 == j%2 {
				v = 4.5
			}
			fmt.Fprintf(&r, "%d,%d,%g,%d\n", j+1, 10*(k+1), v, 1000000+j*1000+k*10)
		}
	}
	r.WriteString("1,999,3,1000999\n")
	os.WriteFile(filepath.Join(dir, "ratings.csv"), []byte(r.String()), 0o644)
	os.WriteFile(filepath.Join(dir, "movies.csv"), []byte(m.String()), 0o644)
	return dir
}

// runBinary runs the built dlrun with args and returns its stdout, its
// stderr and whether it succeeded.
func runBinary(t *testing.T, args ...string) (string, string, bool) {
	t.Helper()
	cmd := exec.Command(buildDlrun(t), args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	return out.String(), errOut.String(), err == nil
}

func TestRecommendAndEvalCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("builds dlrun")
	}
	data := writeRatingsFolder(t)
	mf := filepath.Join(t.TempDir(), "mf")
	if _, stderr, ok := runBinary(t, "train", "--model", "mf", "--data", data, "--epochs", "2", "--batch", "8", "--dim", "4", "--out", mf); !ok {
		t.Fatalf("train: %s", stderr)
	}

	// --user: a header, then user 1's three unrated movies.
	out, stderr, ok := runBinary(t, "recommend", "--run", mf, "--user", "1", "--top", "3")
	if !ok {
		t.Fatalf("recommend --user: %s", stderr)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "rank") || !strings.Contains(lines[0], "predicted") {
		t.Fatalf("recommend --user 1 --top 3:\n%s", out)
	}
	seen := map[string]bool{}
	for i, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) < 5 || f[0] != fmt.Sprint(i+1) || !strings.Contains(l, "Comedy|Drama") || len(f[2]) != 4 || f[2][1] != '.' {
			t.Errorf("line %q", l)
		}
		if len(f) > 1 {
			seen[f[1]] = true
		}
	}
	if !seen["10"] || !seen["50"] || !seen["90"] {
		t.Errorf("user 1's unrated movies are 10, 50 and 90:\n%s", out)
	}

	// --json: the same movies as objects.
	out, stderr, ok = runBinary(t, "recommend", "--run", mf, "--user", "1", "--top", "2", "--json")
	if !ok {
		t.Fatalf("recommend --json: %s", stderr)
	}
	var recs []map[string]any
	if err := json.Unmarshal([]byte(out), &recs); err != nil || len(recs) != 2 {
		t.Fatalf("recommend --json: %v\n%s", err, out)
	}
	for _, r := range recs {
		for _, k := range []string{"movie_id", "title", "genres", "predicted_rating"} {
			if _, ok := r[k]; !ok {
				t.Errorf("recommend --json: %v lacks %s", r, k)
			}
		}
		if !strings.HasPrefix(fmt.Sprint(r["title"]), "Movie ") {
			t.Errorf("title %v", r["title"])
		}
	}
	if recs[0]["predicted_rating"].(float64) < recs[1]["predicted_rating"].(float64) {
		t.Errorf("recommendations out of order: %v", recs)
	}

	// --similar: the other movies with training ratings, by similarity.
	out, stderr, ok = runBinary(t, "recommend", "--run", mf, "--similar", "10", "--top", "20")
	if !ok {
		t.Fatalf("recommend --similar: %s", stderr)
	}
	lines = strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 11 || !strings.Contains(lines[0], "similarity") {
		t.Fatalf("recommend --similar 10 --top 20 (10 other trained movies):\n%s", out)
	}
	for _, l := range lines[1:] {
		if f := strings.Fields(l); f[1] == "10" || f[1] == "999" || !strings.Contains(f[2], ".") || len(f[2]) < 5 {
			t.Errorf("similar line %q", l)
		}
	}
	out, _, ok = runBinary(t, "recommend", "--run", mf, "--similar", "10", "--top", "1", "--json")
	var sims []map[string]any
	if !ok || json.Unmarshal([]byte(out), &sims) != nil || len(sims) != 1 || sims[0]["similarity"] == nil {
		t.Errorf("recommend --similar --json:\n%s", out)
	}

	// eval: the run's last test figures.
	out, stderr, ok = runBinary(t, "eval", "--run", mf)
	if !ok || !strings.HasPrefix(out, data+": 8 ratings, loss ") || !strings.Contains(out, ", rmse ") || !strings.Contains(out, ", mae ") || strings.Count(out, "\n") != 1 {
		t.Errorf("eval: %s%s", out, stderr)
	}
	out, stderr, ok = runBinary(t, "eval", "--run", mf, "--json")
	var rep struct {
		Loss, RMSE, MAE float64
		Ratings         int
	}
	if !ok || json.Unmarshal([]byte(out), &rep) != nil {
		t.Fatalf("eval --json: %s%s", out, stderr)
	}
	sum := readJSON(t, filepath.Join(mf, "summary.json"))
	if rep.Ratings != 8 || rep.Loss != sum["test_loss"] || rep.RMSE != sum["test_rmse"] || rep.MAE != sum["test_mae"] {
		t.Errorf("eval --json %+v; summary.json %v", rep, sum)
	}

	// Errors: one line each.
	biases := filepath.Join(t.TempDir(), "biases")
	if _, stderr, ok := runBinary(t, "train", "--model", "biases", "--data", data, "--epochs", "1", "--out", biases); !ok {
		t.Fatalf("train biases: %s", stderr)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"recommend", "--run", mf, "--user", "99"}, "unknown user id 99"},
		{[]string{"recommend", "--run", mf, "--similar", "15"}, "unknown movie id 15"},
		{[]string{"recommend", "--run", mf, "--similar", "999"}, "movie id 999 has no training ratings"},
		{[]string{"recommend", "--run", mf, "--user", "1", "--similar", "10"}, "--user and --similar"},
		{[]string{"recommend", "--run", mf}, "--user ID"},
		{[]string{"recommend", "--user", "1"}, "--run"},
		{[]string{"recommend", "--run", mf, "--user", "1", "--top", "0"}, "--top 0"},
		{[]string{"recommend", "--run", biases, "--similar", "10"}, "no movie embeddings"},
		{[]string{"eval", "--run", mf, "--data", "movielens"}, "other users or movies"},
	} {
		out, stderr, ok := runBinary(t, c.args...)
		if ok || out != "" || !strings.Contains(stderr, c.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: stdout %q, stderr %q; want one line with %q", c.args, out, stderr, c.want)
		}
	}
	// A dataset changed since training is refused.
	f, _ := os.OpenFile(filepath.Join(data, "ratings.csv"), os.O_APPEND|os.O_WRONLY, 0)
	fmt.Fprintln(f, "2,999,5,2000000")
	f.Close()
	for _, args := range [][]string{{"recommend", "--run", mf, "--user", "1"}, {"eval", "--run", mf}} {
		_, err := dlrun(t, args...)
		oneLineError(t, strings.Join(args[:1], " ")+" on a changed dataset", err, "the data changed since the run began")
	}
}
