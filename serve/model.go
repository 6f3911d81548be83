package serve

import (
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/train"
	"github.com/pkg/errors"
)

// maxIndex bounds the user, movie and token indices a served model takes:
// its input is float32, which holds every whole number up to 1<<24.
const maxIndex = 1 << 24

// model is a served run: the loaded model, what its tensors look like, and
// the batcher that owns it.
type model struct {
	name string
	dir  string
	run  *run.Model
	rec  *run.Recommender // a rating model, with its ratings
	task string
	// row is the shape of one row of the input, rowLen its values.
	row    []int
	rowLen int
	// classes names a classifier's probabilities, one per column (its
	// outputs, or 2 for one sigmoid output); an unnamed class is called
	// by its index.
	classes []string
	// vocab is a next-token model's tokens, steps its sequence length.
	vocab []string
	steps int
	b     *batcher
}

// loadModel loads the run of folder dir, with its best epoch's weights
// if best, to serve under name. A rating model is loaded with its ratings
// (run.NewRecommender), for recommend.
func loadModel(dir, name string, best bool) (*model, error) {
	m := &model{name: name, dir: dir}
	info, err := train.ReadInfo(dir)
	if err != nil {
		return nil, err
	}
	if info.Task == run.Rating {
		if m.rec, err = run.NewRecommender(dir, best); err != nil {
			return nil, err
		}
		m.run = m.rec.Model
	} else if m.run, err = run.Load(dir, best); err != nil {
		return nil, err
	}
	if err := m.describe(); err != nil {
		m.run.Close()
		return nil, err
	}
	if err := m.warm(); err != nil {
		m.run.Close()
		return nil, errors.Wrapf(err, "run folder %s: a first forward pass failed", dir)
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

// describe fills in the shapes, names and batcher of a loaded model.
func (m *model) describe() error {
	info := m.run.Info
	m.task = info.Task
	batch := m.run.Trainer().Config().BatchSize
	m.b = &batcher{max: batch, outPer: 1, forward: m.run.Predict}
	switch info.Task {
	case run.Classify:
		m.row = slices.Clone(info.InputShape)
		c := info.Outputs
		if c == 1 {
			c = 2 // Predict gives 1-p and p
		}
		m.classes = make([]string, c)
		for i := range m.classes {
			m.classes[i] = strconv.Itoa(i)
			if i < len(m.run.Classes()) {
				m.classes[i] = m.run.Classes()[i]
			}
		}
		m.b.sizes = padSizes(batch)
	case run.Rating:
		m.row = []int{2}
		if info.Users > maxIndex || info.Movies > maxIndex {
			return errors.Errorf("run folder %s: %d users and %d movies: more than the %d a served model's float32 input indexes", m.dir, info.Users, info.Movies, maxIndex)
		}
	case run.NextToken:
		m.steps = info.InputShape[0]
		m.row = []int{m.steps}
		m.vocab = m.run.Config.Vocab
		if len(m.vocab) != info.Outputs {
			return errors.Errorf("run folder %s: config.json has %d tokens, model.json %d outputs", m.dir, len(m.vocab), info.Outputs)
		}
		m.b.forward = m.run.Outputs
		m.b.outPer = m.steps
		m.b.sizes = padSizes(batch)
	default:
		return errors.Errorf("run folder %s: a %s model, which dlrun cannot serve", m.dir, info.Task)
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
func (m *model) isImage() bool {
	return m.task == run.Classify && len(m.row) == 3 && (m.row[0] == 1 || m.row[0] == 3)
}

// inputDatatype is the datatype of the model's input in its metadata.
func (m *model) inputDatatype() string {
	if m.task == run.Classify {
		return FP32
	}
	return INT64
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
			"params":     cfg.Params,
		},
		Task: m.task,
	}
	switch m.task {
	case run.Classify:
		md.Outputs = []TensorMetadata{
			{Name: ProbabilitiesName, Datatype: FP32, Shape: []int{-1, len(m.classes)}},
			{Name: TopClassesName, Datatype: BYTES, Shape: []int{-1, -1}},
		}
		md.Classes = m.classes
	case run.Rating:
		md.Outputs = []TensorMetadata{{Name: RatingName, Datatype: FP32, Shape: []int{-1, 1}}}
		md.Users, md.Movies = m.run.Info.Users, m.run.Info.Movies
	case run.NextToken:
		md.Outputs = []TensorMetadata{{Name: LogitsName, Datatype: FP32, Shape: []int{-1, m.steps, len(m.vocab)}}}
		md.Vocab = m.vocab
	}
	return md
}

// outputNames returns the names of the model's outputs.
func (m *model) outputNames() []string {
	switch m.task {
	case run.Classify:
		return []string{ProbabilitiesName, TopClassesName}
	case run.Rating:
		return []string{RatingName}
	}
	return []string{LogitsName}
}

// modelName returns the name a run folder is served under: its base name.
func modelName(dir string) (string, error) {
	name := filepath.Base(filepath.Clean(dir))
	if name == "." || name == ".." || name == string(filepath.Separator) || strings.ContainsAny(name, "/\\") {
		return "", errors.Errorf("run folder %s: its name %q cannot name a model: give the folder's path by its own name", dir, name)
	}
	return name, nil
}
