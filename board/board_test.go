package board_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dlrun/dlrun/board"
	"github.com/dlrun/dlrun/board/boardtest"
)

// get answers a GET of target from s, with header h (name, value pairs).
func get(s http.Handler, target string, h ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(h); i += 2 {
		r.Header.Set(h[i], h[i+1])
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	return w
}

// table is the body of /api/runs.
type table struct {
	Version string      `json:"version"`
	Runs    []board.Run `json:"runs"`
	Notes   []string    `json:"notes"`
}

func runsOf(t *testing.T, s http.Handler) table {
	t.Helper()
	w := get(s, "/api/runs")
	if w.Code != http.StatusOK {
		t.Fatalf("/api/runs: %d %s", w.Code, w.Body)
	}
	var tb table
	if err := json.Unmarshal(w.Body.Bytes(), &tb); err != nil {
		t.Fatalf("/api/runs: %v\n%s", err, w.Body)
	}
	return tb
}

func byID(runs []board.Run) map[string]board.Run {
	m := map[string]board.Run{}
	for _, r := range runs {
		m[r.ID] = r
	}
	return m
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

const (
	goodConfig  = `{"model": "mlp", "task": "classify", "dataset": "fashion-mnist", "epochs": 3, "seed": 7}`
	goodSummary = `{"model": "mlp", "task": "classify", "dataset": "fashion-mnist", "seed": 7, "epochs": 3, "test_accuracy": 0.8, "early_stopped": false, "samples_per_sec": 1000, "wall_seconds": 3.5}`
	header      = "epoch,train_loss,train_accuracy,test_loss,test_accuracy,learning_rate,seconds\n"
	row1        = "1,0.9,0.6,0.8,0.7,0.001,1.0\n"
	row2        = "2,0.6,0.7,0.6,0.8,0.001,1.0\n"
	goodRows    = row1 + row2 + "3,0.5,0.8,0.55,0.79,0.001,1.5\n"
)

// Hand-made run folders, well and badly formed: each is listed with its
// status and, if it is malformed or failed, the reason; none breaks the
// table or the other runs.
func TestFoldersMalformed(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		id      string
		files   map[string]string // "" makes an empty folder
		status  board.Status
		problem string
		rows    int // curve points drawn
	}{
		{"good", map[string]string{"config.json": goodConfig, "summary.json": goodSummary, "metrics.csv": header + goodRows}, board.Finished, "", 3},
		{"early", map[string]string{"config.json": goodConfig, "summary.json": strings.Replace(goodSummary, `"early_stopped": false`, `"early_stopped": true`, 1), "metrics.csv": header + goodRows}, board.StoppedEarly, "", 3},
		{"empty", map[string]string{"": ""}, board.Malformed, "no config.json", 0},
		{"config-only", map[string]string{"config.json": goodConfig}, board.Failed, "no summary.json and no process trains into it", 0},
		{"killed", map[string]string{"config.json": goodConfig, "metrics.csv": header + row1 + row2}, board.Failed, "after 2 epochs", 2},
		{"truncated-row", map[string]string{"config.json": goodConfig, "metrics.csv": header + goodRows + "4,0.4,0.8"}, board.Malformed, "metrics.csv line 5: 3 fields, want 7, the last line cut short", 3},
		{"not-a-number", map[string]string{"config.json": goodConfig, "summary.json": goodSummary, "metrics.csv": header + "1,0.9,0.6,0.8,0.7,0.001,1.0\n2,abc,0.7,0.6,0.8,0.001,1.0\n3,0.5,0.8,0.55,0.79,0.001,1.5\n"}, board.Malformed, `metrics.csv line 3: train_loss "abc" is not a number`, 2},
		{"garbage-config", map[string]string{"config.json": "{\"model\": \"mlp\",,}", "metrics.csv": header + goodRows}, board.Malformed, "config.json: invalid JSON at byte 17", 3},
		{"garbage-summary", map[string]string{"config.json": goodConfig, "summary.json": "\x00\x01binary", "metrics.csv": header + goodRows}, board.Malformed, "summary.json: invalid JSON at byte 1", 3},
		{"wrong-type", map[string]string{"config.json": `{"model": "mlp", "epochs": "ten"}`}, board.Malformed, "config.json: json: cannot unmarshal string", 0},
		{"no-header", map[string]string{"config.json": goodConfig, "metrics.csv": goodRows}, board.Malformed, `metrics.csv line 1: no header (it should start with epoch or steps, not "1")`, 0},
		{"empty-metrics", map[string]string{"config.json": goodConfig, "metrics.csv": ""}, board.Malformed, "metrics.csv is empty", 0},
		{"header-only", map[string]string{"config.json": goodConfig, "metrics.csv": header}, board.Failed, "after 0 epochs", 0},
		{"metrics-is-folder", map[string]string{"config.json": goodConfig, "metrics.csv/x": "1"}, board.Malformed, "metrics.csv: not a regular file", 0},
		{"agent", map[string]string{
			"config.json":  `{"model": "dqn", "task": "play", "env": "cartpole", "steps": 3000, "seed": 1}`,
			"summary.json": `{"model": "dqn", "task": "play", "env": "cartpole", "seed": 1, "steps": 3000, "mean_return": 480, "samples_per_sec": 1700, "wall_seconds": 2}`,
			"metrics.csv":  "steps,episodes,mean_return,loss,epsilon,seconds\n1000,51,19.4,,0.88,0.021\n2000,43,23.0,0.05,0.76,0.323\n3000,10,200,0.04,0.5,0.3\n",
		}, board.Finished, "", 3},
		{"resumed", map[string]string{"config.json": goodConfig, "summary.json": strings.Replace(goodSummary, `"wall_seconds": 3.5`, `"wall_seconds": 1.25`, 1), "metrics.csv": header + goodRows}, board.Finished, "", 3},
		{"rating", map[string]string{
			"config.json":  `{"model": "mf", "task": "rating", "dataset": "movielens", "epochs": 3, "seed": 1}`,
			"summary.json": `{"model": "mf", "task": "rating", "dataset": "movielens", "seed": 1, "epochs": 3, "test_rmse": 0.93, "samples_per_sec": 9, "wall_seconds": 4}`,
			"metrics.csv":  "epoch,train_loss,train_rmse,train_mae,test_loss,test_rmse,test_mae,learning_rate,seconds\n1,1,1,0.8,0.9,0.95,0.75,0.005,1\n2,0.8,0.9,0.7,0.8,0.89,0.7,0.005,1\n3,0.7,0.8,0.6,0.86,0.93,0.72,0.005,1\n",
		}, board.Finished, "", 3},
		{"next-token", map[string]string{
			"config.json": `{"model": "charrnn", "task": "next-token", "dataset": "pride-and-prejudice", "epochs": 3, "seed": 1,
				"headline": {"name": "bits_per_char", "column": "test_bits_per_char", "summary": "test_bits_per_char", "higher_is_better": false}}`,
			"metrics.csv": "epoch,train_loss,train_accuracy,train_bits_per_char,test_loss,test_accuracy,test_bits_per_char,learning_rate,seconds\n" +
				"1,2.4,0.3,3.4624680981335123,1.8,0.4,2.5968510736001345,0.002,1\n2,1.6,0.5,2.3083120654223417,1.3,0.6,1.8755035531556525,0.002,1\n",
		}, board.Failed, "after 2 epochs", 2},
		{"agent-nested", map[string]string{
			"config.json": `{"model": "ppo", "task": "play", "agent": {"env": "connect4", "steps": 3000}, "seed": 1,
				"headline": {"name": "return", "column": "mean_return", "summary": "agent.mean_return", "higher_is_better": true}}`,
			"summary.json": `{"model": "ppo", "task": "play", "seed": 1, "agent": {"env": "connect4", "steps": 3000, "eval_episodes": 100, "mean_return": 0.9}, "samples_per_sec": 1700, "wall_seconds": 2}`,
			"metrics.csv":  "steps,episodes,mean_return,loss,entropy,seconds\n1000,51,,,1.9,0.021\n2000,43,0.2,0.05,1.8,0.323\n3000,10,0.4,0.04,1.7,0.3\n",
		}, board.Finished, "", 3},
	}
	for _, c := range cases {
		for name, content := range c.files {
			if name == "" {
				if err := os.MkdirAll(filepath.Join(dir, c.id), 0o755); err != nil {
					t.Fatal(err)
				}
				continue
			}
			write(t, filepath.Join(dir, c.id, name), content)
		}
	}
	s, err := board.New(dir, board.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	runs := byID(runsOf(t, s).Runs)
	if len(runs) != len(cases) {
		t.Errorf("%d runs listed, want %d: %v", len(runs), len(cases), runs)
	}
	for _, c := range cases {
		r, ok := runs[c.id]
		if !ok {
			t.Errorf("%s: not listed", c.id)
			continue
		}
		if r.Status != c.status || !strings.Contains(r.Problem, c.problem) || (c.problem == "") != (r.Problem == "") {
			t.Errorf("%s: status %q, problem %q; want %q, %q", c.id, r.Status, r.Problem, c.status, c.problem)
		}
		w := get(s, "/api/curves?id="+url.QueryEscape(c.id))
		var body struct {
			Curves []struct {
				Step []*float64 `json:"step"`
			} `json:"curves"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &body); w.Code != http.StatusOK || err != nil || len(body.Curves) != 1 {
			t.Errorf("%s: /api/curves: %d %v %s", c.id, w.Code, err, w.Body)
			continue
		}
		if n := len(body.Curves[0].Step); n != c.rows {
			t.Errorf("%s: %d points, want %d", c.id, n, c.rows)
		}
		if w := get(s, "/api/run?id="+url.QueryEscape(c.id)); w.Code != http.StatusOK || !json.Valid(w.Body.Bytes()) {
			t.Errorf("%s: /api/run: %d %s", c.id, w.Code, w.Body)
		}
	}
	if w := get(s, "/"); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "dlrun board") {
		t.Errorf("the page: %d", w.Code)
	}

	good := runs["good"]
	want := board.Run{ID: "good", Model: "mlp", Task: "classify", Dataset: "fashion-mnist", Seed: 7, Unit: "epoch", Done: 3, Planned: 3,
		Status: board.Finished, Metric: "accuracy", MetricSeries: "test_accuracy", HigherIsBetter: true,
		Final: 0.8, Best: 0.8, SamplesPerSec: 1000, WallSeconds: 3.5, Rev: good.Rev}
	if good != want {
		t.Errorf("good:\n got %+v\nwant %+v", good, want)
	}
	agent := runs["agent"]
	if agent.Unit != "step" || agent.Done != 3000 || agent.Planned != 3000 || agent.Dataset != "cartpole" || agent.Metric != "return" || agent.Final != 480 || agent.Best != 200 {
		t.Errorf("agent: %+v", agent)
	}
	if r := runs["resumed"]; r.WallSeconds != 3.5 {
		t.Errorf("resumed: wall time %v, want 3.5 (the rows' seconds, more than summary.json's, which counts from the resume)", r.WallSeconds)
	}
	if r := runs["rating"]; r.Metric != "rmse" || r.HigherIsBetter || r.Final != 0.93 || r.Best != 0.89 {
		t.Errorf("rating: metric %q (higher better %v), final %v, best %v; want rmse, false, 0.93, 0.89", r.Metric, r.HigherIsBetter, r.Final, r.Best)
	}
	if r := runs["next-token"]; r.Metric != "bits_per_char" || r.HigherIsBetter || math.Abs(float64(r.Final)-1.3/math.Ln2) > 1e-12 || math.Abs(float64(r.Best)-1.3/math.Ln2) > 1e-12 {
		t.Errorf("next-token: metric %q (higher better %v), final %v, best %v; want bits_per_char, false, %v, %v", r.Metric, r.HigherIsBetter, r.Final, r.Best, 1.3/math.Ln2, 1.3/math.Ln2)
	}
	if a := runs["agent-nested"]; a.Unit != "step" || a.Done != 3000 || a.Planned != 3000 || a.Dataset != "connect4" || a.Metric != "return" || !a.HigherIsBetter || a.Final != 0.9 || a.Best != 0.4 {
		t.Errorf("agent-nested: %+v", a)
	}
	if k := runs["killed"]; k.WallSeconds != 2 || k.Final != 0.8 {
		t.Errorf("killed: wall time %v, final %v; want 2 (the rows' seconds) and 0.8 (the last row's)", k.WallSeconds, k.Final)
	}
}

// The board finds runs at any depth, experiments' seed folders included,
// and skips folders that hold none and hidden folders.
func TestFoldersFound(t *testing.T) {
	dir := t.TempDir()
	for _, id := range []string{"a", "exp/seed-1", "exp/seed-2", "deep/er/still/run"} {
		write(t, filepath.Join(dir, id, "config.json"), goodConfig)
		write(t, filepath.Join(dir, id, "summary.json"), goodSummary)
	}
	write(t, filepath.Join(dir, "exp", "experiment.json"), "{}")
	write(t, filepath.Join(dir, ".hidden", "config.json"), goodConfig)
	write(t, filepath.Join(dir, "notes", "readme.txt"), "not a run")
	s, err := board.New(dir, board.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var ids []string
	for _, r := range s.Runs() {
		ids = append(ids, r.ID)
	}
	if got, want := strings.Join(ids, " "), "a deep/er/still/run exp/seed-1 exp/seed-2"; got != want {
		t.Errorf("runs %q, want %q", got, want)
	}
}

// New refuses a folder that is not there, or is a file.
func TestNewRefuses(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	write(t, file, "x")
	for p, want := range map[string]error{filepath.Join(dir, "absent"): board.ErrNoFolder, file: board.ErrNotFolder} {
		if _, err := board.New(p, board.Options{}); !errors.Is(err, want) || !strings.Contains(err.Error(), p) {
			t.Errorf("New(%s): %v, want %v", p, err, want)
		}
	}
}

// Requests for paths or runs outside the folder are refused, and nothing
// outside it is ever served: not through "..", an absolute path, an
// encoded path, or a symbolic link out of the folder (to a run folder, or
// to a file in one).
func TestPathsRefused(t *testing.T) {
	outside := t.TempDir()
	secret := "SECRET-" + fmt.Sprint(time.Now().UnixNano())
	write(t, filepath.Join(outside, "run", "config.json"), `{"model": "`+secret+`"}`)
	write(t, filepath.Join(outside, "run", "summary.json"), `{"model": "`+secret+`"}`)
	write(t, filepath.Join(outside, "secret.txt"), secret)
	dir := t.TempDir()
	write(t, filepath.Join(dir, "ok", "config.json"), goodConfig)
	write(t, filepath.Join(dir, "sneaky", "summary.json"), goodSummary)
	if err := os.Symlink(filepath.Join(outside, "run", "config.json"), filepath.Join(dir, "sneaky", "config.json")); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	if err := os.Symlink(filepath.Join(outside, "run"), filepath.Join(dir, "linked")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "ok", "up")); err != nil {
		t.Fatal(err)
	}
	s, err := board.New(dir, board.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, c := range []struct {
		target string
		code   int
	}{
		{"/api/run?id=../" + filepath.Base(outside) + "/run", http.StatusBadRequest},
		{"/api/run?id=" + url.QueryEscape(filepath.Join(outside, "run")), http.StatusBadRequest},
		{"/api/run?id=ok/../../x", http.StatusBadRequest},
		{"/api/run?id=ok/./", http.StatusBadRequest},
		{"/api/run?id=ok%5C..%5C..%5Cx", http.StatusBadRequest},
		{"/api/run?id=", http.StatusBadRequest},
		{"/api/run?id=linked", http.StatusNotFound},
		{"/api/run?id=ok/up", http.StatusNotFound},
		{"/api/run?id=ok/up/run", http.StatusNotFound},
		{"/api/run?id=absent", http.StatusNotFound},
		{"/api/curves?id=ok&id=../x", http.StatusBadRequest},
		{"/api/curves?id=linked", http.StatusNotFound},
		{"/api/curves", http.StatusBadRequest},
		{"/static/../../go.mod", http.StatusBadRequest},
		{"/static/..%2f..%2fboard.go", http.StatusBadRequest},
		{"/static/%2e%2e/%2e%2e/board.go", http.StatusBadRequest},
		{"/static/..%5c..%5cboard.go", http.StatusBadRequest},
		{"/ok/config.json", http.StatusNotFound},
		{"/static/vendor/uplot/missing.js", http.StatusNotFound},
	} {
		w := get(s, c.target)
		if w.Code != c.code {
			t.Errorf("GET %s: %d, want %d: %s", c.target, w.Code, c.code, w.Body)
		}
		if strings.Contains(w.Body.String(), secret) {
			t.Errorf("GET %s served the secret", c.target)
		}
	}
	runs := byID(s.Runs())
	if _, ok := runs["linked"]; ok {
		t.Error("a symbolic link out of the folder is listed as a run")
	}
	if r := runs["sneaky"]; r.Status != board.Malformed || !strings.Contains(r.Problem, "config.json: path escapes") {
		t.Errorf("a run whose config.json links out of the folder: %q %q", r.Status, r.Problem)
	}
	for _, target := range []string{"/api/runs", "/api/run?id=sneaky", "/api/curves?id=sneaky&id=ok"} {
		if w := get(s, target); w.Code != http.StatusOK || strings.Contains(w.Body.String(), secret) {
			t.Errorf("GET %s: %d, served the secret: %v", target, w.Code, strings.Contains(w.Body.String(), secret))
		}
	}
	// Only GET and HEAD.
	w := httptest.NewRecorder()
	s.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/api/runs", nil))
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", w.Code)
	}
}

// /api/runs carries its version as an ETag: polling with it gets 304
// until a run changes. A new row, and a new run folder, show at the
// next scan.
func TestRunsPolling(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "a", "config.json"), goodConfig)
	write(t, filepath.Join(dir, "a", "metrics.csv"), header+row1)
	s, err := board.New(dir, board.Options{ScanEvery: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	w := get(s, "/api/runs")
	etag := w.Header().Get("ETag")
	if etag == "" || get(s, "/api/runs", "If-None-Match", etag).Code != http.StatusNotModified {
		t.Fatalf("ETag %q does not give 304", etag)
	}
	write(t, filepath.Join(dir, "a", "metrics.csv"), header+row1+row2)
	w = get(s, "/api/runs", "If-None-Match", etag)
	if w.Code != http.StatusOK || w.Header().Get("ETag") == etag {
		t.Fatalf("after a new row: %d, ETag %q", w.Code, w.Header().Get("ETag"))
	}
	if r := byID(runsOf(t, s).Runs)["a"]; r.Done != 2 {
		t.Errorf("after a new row: %d epochs done, want 2", r.Done)
	}
	write(t, filepath.Join(dir, "b", "config.json"), goodConfig)
	if runs := runsOf(t, s).Runs; len(runs) != 2 {
		t.Errorf("a new run folder: %d runs listed, want 2", len(runs))
	}
}

// A board on a loopback address answers only requests to a local name.
func TestLocalHostOnly(t *testing.T) {
	dir := t.TempDir()
	s, err := board.New(dir, board.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ts := startBoard(t, s)
	for host, code := range map[string]int{"": http.StatusOK, "localhost:1": http.StatusOK, "[::1]:80": http.StatusOK, "evil.example:80": http.StatusForbidden} {
		req, _ := http.NewRequest(http.MethodGet, ts+"/api/runs", nil)
		if host != "" {
			req.Host = host
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != code {
			t.Errorf("Host %q: %d, want %d", host, resp.StatusCode, code)
		}
	}
}

// A session of the board (a page load, polls, every run's curves and
// details) writes nothing under its folder: every file and folder keeps
// its size, mode and modification time, and none appears.
func TestNeverWrites(t *testing.T) {
	dir := t.TempDir()
	ids, err := boardtest.WriteRuns(dir, 8, 5)
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "bad", "metrics.csv"), "garbage")
	write(t, filepath.Join(dir, "mlp", "seed-1", ".dlrun.lock"), "")
	before := snapshotDir(t, dir)
	time.Sleep(10 * time.Millisecond) // so that a write would show in a modification time
	s, err := board.New(dir, board.Options{ScanEvery: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	ts := startBoard(t, s)
	for range 3 {
		for _, target := range []string{"/", "/static/board.js", "/static/vendor/uplot/uPlot.iife.min.js", "/api/runs", "/api/run?id=bad", "/api/curves?id=bad&id=" + strings.Join(ids, "&id=")} {
			resp, err := http.Get(ts + target)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("GET %s: %d", target, resp.StatusCode)
			}
		}
		for _, id := range ids {
			get(s, "/api/run?id="+id)
		}
	}
	s.Close()
	if after := snapshotDir(t, dir); !sameFiles(before, after) {
		t.Errorf("the board changed its folder:\nbefore %v\nafter  %v", before, after)
	}
}

// startBoard serves s on a loopback port until the test ends, and returns
// its URL.
func startBoard(t *testing.T, s *board.Server) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, l) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return "http://" + l.Addr().String()
}

// snapshotDir returns, for every file and folder under dir, its size,
// mode and modification time.
func snapshotDir(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		m[filepath.ToSlash(rel)] = fmt.Sprintf("%d %v %d", fi.Size(), fi.Mode(), fi.ModTime().UnixNano())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// A run's details carry what Options.Check finds wrong with its folder,
// read through the board's root: the folder of the run asked for, named
// by its ID.
func TestDetailsCarryTheCheck(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "a", "config.json"), goodConfig)
	write(t, filepath.Join(dir, "b", "config.json"), goodConfig)
	var seen []string
	s, err := board.New(dir, board.Options{Check: func(fsys fs.FS, id string) error {
		seen = append(seen, id)
		if _, err := fs.Stat(fsys, "config.json"); err != nil {
			return err
		}
		if id == "b" {
			return errors.New("b/config.json: epochs: 3, but checkpoint.safetensors holds 4 epochs")
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, c := range []struct{ id, check string }{{"a", ""}, {"b", "b/config.json: epochs: 3, but checkpoint.safetensors holds 4 epochs"}} {
		w := get(s, "/api/run?id="+c.id)
		var body struct {
			Check string `json:"check"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || w.Code != http.StatusOK || body.Check != c.check {
			t.Errorf("%s: %d %s, want check %q", c.id, w.Code, w.Body, c.check)
		}
	}
	if strings.Join(seen, ",") != "a,b" {
		t.Errorf("checked %v", seen)
	}
}
