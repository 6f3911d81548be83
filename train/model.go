package train

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"

	"github.com/dlrun/dlrun/internal/atomicfile"
	"github.com/dlrun/dlrun/nn"
	"github.com/pkg/errors"
)

// ModelFormat marks a dlrun model description (model.json).
const ModelFormat = "dlrun-model-1"

// ModelInfo is what model.json holds beside model.safetensors: the
// model's architecture (an nn.Spec) and the task it was trained for, which
// is everything needed to rebuild the trained model without the Go code
// that built it, as a saved Keras model carries its architecture.
type ModelInfo struct {
	Format     string  `json:"format"`
	Task       string  `json:"task"`             // classify or next-token
	InputShape []int   `json:"input_shape"`      // the model's input per example (Task.InputShape)
	Outputs    int     `json:"outputs"`          // the model's output per example (Task.OutputSize)
	Users      int     `json:"users,omitempty"`  // rating: the number of users
	Movies     int     `json:"movies,omitempty"` // rating: the number of movies
	Loss       string  `json:"loss"`
	DType      string  `json:"dtype"`
	BatchSize  int     `json:"batch_size"`
	Model      nn.Spec `json:"model"`
}

// Info describes the trainer's model and task for model.json. It fails
// for a model that nn cannot describe (a layer type of the user's own).
func (t *Trainer) Info() (*ModelInfo, error) {
	if err := t.usable(); err != nil {
		return nil, err
	}
	seq, ok := t.model.(*nn.Sequential)
	if !ok {
		return nil, errors.Errorf("model %s is a %s, not an nn.Sequential: it cannot be described", t.model.Name(), t.model.Kind())
	}
	spec, err := nn.Describe(seq)
	if err != nil {
		return nil, err
	}
	info := &ModelInfo{Format: ModelFormat, Task: t.task.Name(), InputShape: t.task.InputShape(), Outputs: t.task.OutputSize(),
		Loss: t.parts.loss.Name, DType: string(t.parts.dtype), BatchSize: t.cfg.BatchSize, Model: spec}
	if r, ok := t.task.(*Rating); ok {
		info.Users, info.Movies = r.Users, r.Movies
	}
	return info, nil
}

// SaveInfo writes the trainer's model.json into dir, atomically.
func (t *Trainer) SaveInfo(dir string) error {
	info, err := t.Info()
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return errors.Wrap(err, "encoding model.json")
	}
	return atomicfile.WriteFile(filepath.Join(dir, "model.json"), append(b, '\n'), 0o644)
}

// Save writes the trained model into folder dir, creating it: model.json
// (its architecture and task) and model.safetensors (its parameters and
// buffers), each atomically. Load reads it back.
func (t *Trainer) Save(dir string) error {
	if err := t.usable(); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return errors.Wrapf(err, "saving the model")
	}
	if err := t.SaveInfo(dir); err != nil {
		return err
	}
	return SaveWeights(filepath.Join(dir, "model.safetensors"), t.g)
}

// ReadInfo reads the model.json of folder dir.
func ReadInfo(dir string) (*ModelInfo, error) {
	path := filepath.Join(dir, "model.json")
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, errors.Wrapf(err, "loading the model of %s", dir)
	}
	var info ModelInfo
	if err := json.Unmarshal(b, &info); err != nil {
		return nil, errors.Errorf("%s: %v", path, err)
	}
	if info.Format != ModelFormat {
		return nil, errors.Errorf("%s: not a dlrun model description (format %q, want %q)", path, info.Format, ModelFormat)
	}
	return &info, nil
}

// NewTask returns a new task of the kind and shape the description
// records. A new kind of task adds its case here, so that its models load.
func (info *ModelInfo) NewTask() (Task, error) {
	switch info.Task {
	case "classify":
		return &Classify{Shape: info.InputShape, Outputs: info.Outputs}, nil
	case "rating":
		return &Rating{Users: info.Users, Movies: info.Movies}, nil
	case "next-token":
		if len(info.InputShape) != 1 {
			return nil, errors.Errorf("model.json: a next-token model's input shape is [steps], not %v", info.InputShape)
		}
		return &NextToken{Vocab: info.Outputs, SeqLen: info.InputShape[0]}, nil
	}
	return nil, errors.Errorf("model.json: unknown task %q (known: classify, next-token)", info.Task)
}

// Model is a trained model loaded from a folder, ready to evaluate and
// predict.
type Model struct {
	Info    ModelInfo
	trainer *Trainer
}

// Load rebuilds the model saved in folder dir from its model.json (no Go
// code of the model is needed) and loads its weights: model.safetensors
// (the last epoch's) or, with best set, best.safetensors (the best
// epoch's).
func Load(dir string, best bool) (*Model, error) {
	info, err := ReadInfo(dir)
	if err != nil {
		return nil, err
	}
	model, err := info.Model.Build()
	if err != nil {
		return nil, errors.Wrapf(err, "%s", filepath.Join(dir, "model.json"))
	}
	task, err := info.NewTask()
	if err != nil {
		return nil, err
	}
	t, err := New(model, task, Config{BatchSize: info.BatchSize, Loss: info.Loss, DType: info.DType})
	if err != nil {
		return nil, errors.Wrapf(err, "rebuilding the model of %s", dir)
	}
	name := "model.safetensors"
	if best {
		name = "best.safetensors"
	}
	if err := LoadWeights(filepath.Join(dir, name), t.Graph()); err != nil {
		t.Close()
		return nil, err
	}
	return &Model{Info: *info, trainer: t}, nil
}

// Close releases the model's machines.
func (m *Model) Close() error {
	if m == nil {
		return nil
	}
	return m.trainer.Close()
}

// Trainer returns the trainer holding the loaded model, for further
// training or evaluation.
func (m *Model) Trainer() *Trainer { return m.trainer }

// Evaluate computes the model's loss and accuracy on d, with each
// example's label and prediction for a classifier.
func (m *Model) Evaluate(d Data) (*Evaluation, error) {
	if m == nil {
		return nil, errors.New("train: nil model: use train.Load")
	}
	return m.trainer.Evaluate(d)
}

// Predict returns the model's prediction for each example of x (examples
// of the model's input shape, one after another): for a classifier the
// class probabilities (the softmax of the outputs for a cross-entropy
// model, sigmoid for a single-output binary one); for a rating model, x
// holds (user, movie) index pairs and each row is the predicted rating.
func (m *Model) Predict(x []float32) ([][]float64, error) {
	if m == nil {
		return nil, errors.New("train: nil model: use train.Load")
	}
	t := m.trainer
	if err := t.usable(); err != nil {
		return nil, err
	}
	if r, ok := t.task.(*Rating); ok {
		return m.predictRatings(r, x)
	}
	c, ok := t.task.(*Classify)
	if !ok {
		return nil, errors.Errorf("predict: the model was trained for %s, not classification or rating", t.task.Name())
	}
	size := len(c.example)
	if len(x) == 0 || len(x)%size != 0 {
		return nil, errors.Errorf("predict: %d values are not a whole number of examples of shape %v", len(x), c.Shape)
	}
	d := &rawData{x: x, shape: c.Shape, size: size}
	n, err := t.start(d, nil)
	if err != nil {
		return nil, err
	}
	var out [][]float64
	for i := 0; i < n; i++ {
		k, err := c.Fill(i)
		if err != nil {
			return nil, err
		}
		if _, err := t.min.Loss(); err != nil {
			return nil, err
		}
		for r := 0; r < k; r++ {
			row := make([]float64, c.Outputs)
			if err := t.min.prog.OutputRow(0, r, row); err != nil {
				return nil, err
			}
			out = append(out, probabilities(t.parts.loss, row))
		}
	}
	return out, nil
}

// predictRatings predicts the rating of each (user, movie) pair of x.
func (m *Model) predictRatings(r *Rating, x []float32) ([][]float64, error) {
	t := m.trainer
	if len(x) == 0 || len(x)%2 != 0 {
		return nil, errors.Errorf("predict: %d values are not (user, movie) pairs", len(x))
	}
	pairs := make(pairList, len(x)/2)
	for i := range pairs {
		u, mv := x[2*i], x[2*i+1]
		if u != float32(int(u)) || mv != float32(int(mv)) || int(u) < 0 || int(u) >= r.Users || int(mv) < 0 || int(mv) >= r.Movies {
			return nil, errors.Errorf("predict: pair %d (user %v, movie %v) is outside %d users and %d movies", i, u, mv, r.Users, r.Movies)
		}
		pairs[i] = [2]int{int(u), int(mv)}
	}
	n, err := t.start(pairs, nil)
	if err != nil {
		return nil, err
	}
	out := make([][]float64, 0, len(pairs))
	for i := 0; i < n; i++ {
		k, err := r.Fill(i)
		if err != nil {
			return nil, err
		}
		if _, err := t.min.Loss(); err != nil {
			return nil, err
		}
		for row := 0; row < k; row++ {
			v := make([]float64, 1)
			if err := t.min.prog.OutputRow(0, row, v); err != nil {
				return nil, err
			}
			out = append(out, v)
		}
	}
	return out, nil
}

// pairList presents (user, movie) pairs to predict as Ratings (of value 0).
type pairList [][2]int

func (p pairList) Len() int                         { return len(p) }
func (p pairList) Rating(i int) (int, int, float32) { return p[i][0], p[i][1], 0 }

func probabilities(l Loss, row []float64) []float64 {
	if len(row) == 1 {
		p := row[0]
		if l.Name == BinaryCrossEntropy.Name {
			p = 1 / (1 + math.Exp(-p))
		}
		return []float64{1 - p, p}
	}
	if l.Name != CrossEntropy.Name {
		return row
	}
	m := row[0]
	for _, v := range row {
		m = math.Max(m, v)
	}
	sum := 0.0
	p := make([]float64, len(row))
	for i, v := range row {
		p[i] = math.Exp(v - m)
		sum += p[i]
	}
	for i := range p {
		p[i] /= sum
	}
	return p
}

// rawData presents unlabeled examples as Examples.
type rawData struct {
	x     []float32
	shape []int
	size  int
}

func (d *rawData) Len() int        { return len(d.x) / d.size }
func (d *rawData) Shape() []int    { return d.shape }
func (d *rawData) NumClasses() int { return 1 }
func (d *rawData) Example(i int, dst []float32) int {
	copy(dst, d.x[i*d.size:(i+1)*d.size])
	return 0
}
