package serve

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dlrun/dlrun/run"
	pkgerrors "github.com/pkg/errors"
)

// model is a served run: the opened run, its tensors as its kind declares
// them, and the batcher that owns it.
type model struct {
	name string
	dir  string
	run  *run.Run
	rec  *run.Recommender // a rating model's, with its ratings; nil for others
	// noRec says why a rating model that does not record its ratings (a
	// model trained from Go) cannot recommend; it still infers.
	noRec error
	t     *run.Tensors
	task  string // the run's task, as the metadata says it
	// classes names a classifier's probabilities, one per column; an
	// unnamed class is called by its index.
	classes []string
	// row is the shape of one row of the input, rowLen its values.
	row    []int
	rowLen int
	b      *batcher
}

// loadModel opens the run of folder dir (run.Open), with its best epoch's
// weights if best, to serve under name. A run that recommends (a rating
// model) is served with its ratings (Run.Recommender), for recommend; one
// that does not record them (run.ErrNoRatings) is served for infer alone.
func loadModel(dir, name string, best bool) (*model, error) {
	r, err := run.Open(dir, best)
	if err != nil {
		return nil, err
	}
	m := &model{name: name, dir: dir, run: r}
	switch m.rec, err = r.Recommender(""); {
	case err == nil, errors.Is(err, run.ErrDoesNotApply):
	case errors.Is(err, run.ErrNoRatings):
		m.noRec = err // served for infer; recommend says why it cannot
	default:
		r.Close()
		return nil, err
	}
	if err := m.describe(); err != nil {
		r.Close()
		return nil, err
	}
	if err := m.warm(); err != nil {
		r.Close()
		return nil, pkgerrors.Wrapf(err, "run folder %s: a first forward pass failed", dir)
	}
	return m, nil
}

// warm runs the model once at each size the batcher pads to, and at its
// batch size, so that the graphs of every size are built before the first
// request: none pays for building one, and the server's memory holds them
// from the start instead of growing under load.
func (m *model) warm() error {
	for _, n := range append(slices.Clone(m.b.sizes), m.b.max) {
		if _, err := m.b.forward(make([]float32, n*m.rowLen)); err != nil {
			return err
		}
	}
	return nil
}

// describe fills in the tensors, shapes and batcher of an opened run.
func (m *model) describe() error {
	t, err := m.run.Tensors()
	if err != nil {
		return err
	}
	m.t, m.row, m.task, m.classes = t, slices.Clone(t.Shape), m.run.Config.Task, t.Classes
	batch := m.run.Model.Trainer().Config().BatchSize
	m.b = &batcher{max: batch, outPer: 1, forward: m.run.Model.Outputs}
	if t.Predicts() {
		m.b.forward = m.run.Model.Predict
	}
	if t.Steps {
		m.b.outPer = t.Shape[0]
	}
	if t.Pad {
		m.b.sizes = padSizes(batch)
	}
	m.rowLen = 1
	for _, d := range m.row {
		m.rowLen *= d
	}
	m.b.rowLen = m.rowLen
	return nil
}

// isImage reports whether the model classifies images: inputs of shape
// [1 or 3, height, width].
func (m *model) isImage() bool { return m.t.Images }

// inputDatatype is the datatype of the model's input in its metadata.
func (m *model) inputDatatype() string {
	if m.t.IDs {
		return INT64
	}
	return FP32
}

// outputDatatype is the datatype of an output tensor of head h.
func outputDatatype(h run.Head) string {
	switch h {
	case run.TopClasses:
		return BYTES
	case run.Action:
		return INT64
	}
	return FP32
}

// served returns the outputs the model answers.
func (m *model) served() []run.Output {
	var out []run.Output
	for _, o := range m.t.Outputs {
		if o.Serve {
			out = append(out, o)
		}
	}
	return out
}

// metadata returns the model's metadata.
func (m *model) metadata() ModelMetadata {
	cfg := m.run.Config
	md := ModelMetadata{
		Name:     m.name,
		Versions: []string{Version},
		Platform: Platform,
		Inputs:   []TensorMetadata{{Name: InputName, Datatype: m.inputDatatype(), Shape: append([]int{-1}, m.row...)}},
		Parameters: map[string]any{
			"model":      cfg.Model,
			"dataset":    cfg.Dataset,
			"batch_size": m.b.max,
			"params":     m.run.Model.Trainer().NumParams(), // from the weights: config.json records none for an agent or a model saved from Go
		},
		Task:      m.task,
		Describes: m.t.Meta,
	}
	for _, o := range m.served() {
		md.Outputs = append(md.Outputs, TensorMetadata{Name: o.Name, Datatype: outputDatatype(o.Head), Shape: append([]int{-1}, o.Shape...)})
	}
	return md
}

// outputNames returns the names of the model's outputs.
func (m *model) outputNames() []string {
	var names []string
	for _, o := range m.served() {
		names = append(names, o.Name)
	}
	return names
}

// modelName returns the name a run folder is served under: its base name.
func modelName(dir string) (string, error) {
	name := filepath.Base(filepath.Clean(dir))
	if name == "." || name == ".." || name == string(filepath.Separator) || strings.ContainsAny(name, "/\\") {
		return "", pkgerrors.Errorf("run folder %s: its name %q cannot name a model: give the folder's path by its own name", dir, name)
	}
	return name, nil
}
