package board

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/dlrun/dlrun/rundir"
)

// The largest explanation files the board reads: a run's index of
// explanations (the attributions of a few test examples, every value of
// each) and one of their pictures.
const (
	maxExplanationIndex = 16 << 20
	maxExplanationImage = 8 << 20
)

// explanations returns what /api/run says of the run id's explanations
// (rundir.Explanations, written by dlrun explain --board): under
// "explanations" the index as it is, or under "explanations_text" why it
// cannot be read; nothing where the run has none.
func (s *Server) explanations(id string, out map[string]any) {
	p := path.Join(id, rundir.Explanations, rundir.ExplanationIndex)
	fi, err := fs.Stat(s.scanner.fsys, p)
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	var b []byte
	if err == nil && !fi.Mode().IsRegular() {
		err = errors.New("not a regular file")
	}
	if err == nil {
		b, err = readFile(s.scanner.fsys, p, fi.Size(), maxExplanationIndex)
	}
	name := path.Join(rundir.Explanations, rundir.ExplanationIndex)
	switch {
	case err != nil:
		out["explanations_text"] = fileProblem(name, err)
	case !json.Valid(b):
		out["explanations_text"] = name + ": not JSON"
	default:
		out["explanations"] = json.RawMessage(b)
	}
}

// explanationImage answers GET /api/explanation?id=A&file=NAME: the PNG
// picture NAME of run A's explanations, as image/png. NAME must be a file
// name (no folder, not hidden) ending in .png; anything else gets 400, a
// missing file 404.
func (s *Server) explanationImage(w http.ResponseWriter, r *http.Request) {
	snap := s.current()
	run, err := lookup(snap, r.URL.Query().Get("id"))
	if err != nil {
		apiError(w, statusOf404(err), err.Error())
		return
	}
	name := r.URL.Query().Get("file")
	if !strings.HasSuffix(name, ".png") || strings.HasPrefix(name, ".") || strings.ContainsAny(name, "/\\\x00") || !fs.ValidPath(name) {
		apiError(w, http.StatusBadRequest, fmt.Sprintf("bad file %q: want the name of a .png file of the run's %s folder", rundir.Clip(name), rundir.Explanations))
		return
	}
	p := path.Join(run.ID, rundir.Explanations, name)
	fi, err := fs.Stat(s.scanner.fsys, p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		apiError(w, http.StatusNotFound, fmt.Sprintf("run %s has no %s/%s", rundir.Clip(run.ID), rundir.Explanations, rundir.Clip(name)))
		return
	case err == nil && !fi.Mode().IsRegular():
		err = errors.New("not a regular file")
	}
	var b []byte
	if err == nil {
		b, err = readFile(s.scanner.fsys, p, fi.Size(), maxExplanationImage)
	}
	if err != nil {
		apiError(w, http.StatusBadRequest, fileProblem(path.Join(rundir.Explanations, name), err))
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(b)
}
