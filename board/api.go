package board

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"

	"github.com/dlrun/dlrun/rundir"
)

// The board's endpoints. A run is named by its ID (its path relative to
// the directory, Run.ID) in the query, ?id=ID; an ID that is not a clean
// relative path (fs.ValidPath: no "..", no leading "/", no empty or "."
// element) gets 400, one that is not a run the board found gets 404.
// Errors are JSON {"error": "..."}.
//
//	GET /                 the page
//	GET /static/...       its scripts, styles and uPlot
//	GET /api/runs         the table: {"version", "runs": [Run...], "notes"};
//	                      its ETag is the version, and a request with
//	                      If-None-Match that version gets 304
//	GET /api/curves?id=A&id=B...   {"curves": [Curves...]}, in that order,
//	                      a run named twice answered once; at most
//	                      MaxCurveIDs runs (400 beyond) and
//	                      MaxCurvesBytes of curves (413 beyond)
//	GET /api/run?id=A     {"run": Run, "config": ..., "summary": ...,
//	                      "check": ...}: the run's config.json and
//	                      summary.json as they are (as a string under
//	                      config_text, summary_text where they are not
//	                      JSON), and what Options.Check finds wrong with
//	                      the folder, if anything; and the run's
//	                      explanations (dlrun explain --board) under
//	                      "explanations", as their index is
//	GET /api/explanation?id=A&file=NAME   a PNG picture of run A's
//	                      explanations
func (s *Server) routes() {
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("GET /{$}", s.page)
	files := http.StripPrefix("/static/", http.FileServerFS(staticFS))
	s.mux.HandleFunc("GET /static/", func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") { // no listings
			apiError(w, http.StatusNotFound, "no such page: "+r.URL.Path)
			return
		}
		files.ServeHTTP(w, r)
	})
	s.mux.HandleFunc("GET /api/runs", s.runs)
	s.mux.HandleFunc("GET /api/curves", s.curves)
	s.mux.HandleFunc("GET /api/run", s.run)
	s.mux.HandleFunc("GET /api/explanation", s.explanationImage)
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		apiError(w, http.StatusNotFound, "no such page: "+r.URL.Path)
	})
}

func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	b, err := fs.ReadFile(staticFS, "index.html")
	if err != nil {
		apiError(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(b)
}

func (s *Server) runs(w http.ResponseWriter, r *http.Request) {
	snap := s.current()
	etag := `"` + snap.version + `"`
	w.Header().Set("ETag", etag)
	w.Header().Set("Cache-Control", "no-cache")
	for _, t := range strings.Split(r.Header.Get("If-None-Match"), ",") {
		if strings.TrimPrefix(strings.TrimSpace(t), "W/") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	writeJSON(w, snap.body)
}

// The bounds on one /api/curves request: what one answer may cost,
// whatever a page sends.
const (
	// MaxCurveIDs is the most runs one request may name, after repeated
	// names are dropped (the page asks in groups of at most this many).
	MaxCurveIDs = 100
	// MaxCurvesBytes is the most bytes of curves one answer may hold
	// (256 MiB; a run of a million epochs takes about 150 MB).
	MaxCurvesBytes = 256 << 20
)

// maxCurvesBytes is MaxCurvesBytes, lowered by tests.
var maxCurvesBytes = MaxCurvesBytes

func (s *Server) curves(w http.ResponseWriter, r *http.Request) {
	ids := r.URL.Query()["id"]
	if len(ids) == 0 {
		apiError(w, http.StatusBadRequest, "name the runs: /api/curves?id=RUN&id=RUN")
		return
	}
	seen := make(map[string]bool, min(len(ids), MaxCurveIDs+1))
	unique := ids[:0:0]
	for _, id := range ids {
		if !seen[id] {
			if len(unique) == MaxCurveIDs {
				apiError(w, http.StatusBadRequest, fmt.Sprintf("more than %d runs named: ask for at most %d at a time", MaxCurveIDs, MaxCurveIDs))
				return
			}
			seen[id] = true
			unique = append(unique, id)
		}
	}
	snap := s.current()
	total := 0
	for _, id := range unique {
		if _, err := lookup(snap, id); err != nil {
			apiError(w, statusOf404(err), err.Error())
			return
		}
		total += len(snap.curves[id])
	}
	if total > maxCurvesBytes {
		apiError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the curves of these %d runs take %d bytes, more than the %d one answer may hold: ask for fewer runs at a time", len(unique), total, maxCurvesBytes))
		return
	}
	// Written piece by piece from the snapshot's curves: no copy of the
	// answer is made.
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(`{"curves":[]}`)+total+max(len(unique)-1, 0)))
	io.WriteString(w, `{"curves":[`)
	for i, id := range unique {
		if i > 0 {
			io.WriteString(w, ",")
		}
		w.Write(snap.curves[id])
	}
	io.WriteString(w, "]}")
}

func (s *Server) run(w http.ResponseWriter, r *http.Request) {
	snap := s.current()
	run, err := lookup(snap, r.URL.Query().Get("id"))
	if err != nil {
		apiError(w, statusOf404(err), err.Error())
		return
	}
	out := map[string]any{"run": run}
	for _, f := range []struct {
		name, key string
		limit     int64
	}{{rundir.Config, "config", maxConfig}, {rundir.Summary, "summary", maxSummary}} {
		p := path.Join(run.ID, f.name)
		fi, err := fs.Stat(s.scanner.fsys, p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		var b []byte
		if err == nil && !fi.Mode().IsRegular() {
			err = errors.New("not a regular file")
		}
		if err == nil {
			b, err = readFile(s.scanner.fsys, p, fi.Size(), f.limit)
		}
		switch {
		case err != nil:
			out[f.key+"_text"] = fileProblem(f.name, err)
		case json.Valid(b):
			out[f.key] = json.RawMessage(b)
		default:
			out[f.key+"_text"] = strings.ToValidUTF8(clipText(string(b), 64<<10), "\uFFFD")
		}
	}
	s.explanations(run.ID, out)
	if s.opts.Check != nil {
		if sub, err := fs.Sub(s.scanner.fsys, run.ID); err == nil {
			if err := s.opts.Check(sub, run.ID); err != nil {
				out["check"] = err.Error()
			}
		}
	}
	b, err := json.Marshal(out)
	if err != nil {
		apiError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, b)
}

// errNoRun is wrapped by lookup's error for an ID the board did not find.
var errNoRun = errors.New("no such run")

// lookup returns the run of snap named id: an error for an ID that is
// not a clean relative path, one wrapping errNoRun for an unknown one.
func lookup(snap *snapshot, id string) (Run, error) {
	if !validID(id) {
		return Run{}, fmt.Errorf("bad run id %q: want a run's path relative to the board's folder", rundir.Clip(id))
	}
	i, ok := snap.index[id]
	if !ok {
		return Run{}, fmt.Errorf("%w: %q", errNoRun, rundir.Clip(id))
	}
	return snap.runs[i], nil
}

// validID reports whether id can name a run: a clean, relative,
// slash-separated path without "..".
func validID(id string) bool {
	return fs.ValidPath(id) && !strings.ContainsAny(id, "\\\x00")
}

func statusOf404(err error) int {
	if errors.Is(err, errNoRun) {
		return http.StatusNotFound
	}
	return http.StatusBadRequest
}

func clipText(s string, n int) string {
	if len(s) > n {
		return s[:n] + "\n... (cut)"
	}
	return s
}

func writeJSON(w http.ResponseWriter, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

// apiError answers {"error": msg} with code.
func apiError(w http.ResponseWriter, code int, msg string) {
	b, _ := json.Marshal(map[string]string{"error": msg})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(b)
}
