package train

import (
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/internal/atomicfile"
	"github.com/dlrun/dlrun/internal/safeio"
	"github.com/dlrun/dlrun/nn"
	"github.com/dlrun/dlrun/rundir"
	"github.com/pkg/errors"
)

// ModelFormat marks a dlrun model description (model.json).
const ModelFormat = "dlrun-model-1"

// Limits on a model description (model.json) besides those of a run's
// configuration (MaxInputRank, MaxInputSize, MaxBatchSize, MaxBatchValues,
// MaxClasses, MaxVocab, MaxSeqLen, MaxNameLen) and of its spec
// (nn.MaxSpecLayers, nn.MaxSettingInt, ...): ReadInfo and ModelInfo.Check
// apply them all before anything is allocated from the description, so
// that a hostile model.json is an error naming the field at fault rather
// than a process out of memory.
const (
	// MaxModelInfoBytes is the largest model.json ReadInfo reads: 1 MiB.
	MaxModelInfoBytes = 1 << 20
	// MaxParams is the most parameters a described model may have: 1<<30
	// (4 GiB of float32 weights). Load also checks that the weights file
	// is large enough to hold them before it builds the model.
	MaxParams = 1 << 30
)

// ModelInfo is what model.json holds beside model.safetensors: the
// model's architecture (an nn.Spec) and the task it was trained for, which
// is everything needed to rebuild the trained model without the Go code
// that built it, as a saved Keras model carries its architecture.
type ModelInfo struct {
	Format     string `json:"format"`
	Task       string `json:"task"`             // classify, next-token, rating, regress; an agent's policy: play
	InputShape []int  `json:"input_shape"`      // the model's input per example (Task.InputShape)
	Outputs    int    `json:"outputs"`          // the model's output per example (Task.OutputSize)
	Users      int    `json:"users,omitempty"`  // rating: the number of users
	Movies     int    `json:"movies,omitempty"` // rating: the number of movies
	// TargetStd is a regression's scale of its targets (Regress.TargetStd).
	TargetStd float64 `json:"target_std,omitempty"`
	Loss      string  `json:"loss"`
	DType     string  `json:"dtype"`
	BatchSize int     `json:"batch_size"`
	Model     nn.Spec `json:"model"`
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
	if r, ok := t.task.(*Regress); ok {
		info.TargetStd = r.TargetStd
	}
	return info, nil
}

// SaveInfo writes the trainer's model.json into dir, atomically. A
// description that ReadInfo would refuse (a model past one of its limits)
// is an error, and nothing is written.
func (t *Trainer) SaveInfo(dir string) error {
	info, err := t.Info()
	if err != nil {
		return err
	}
	return info.Write(dir)
}

// Write writes the description as dir's model.json, atomically. A
// description that ReadInfo would refuse (a model past one of its limits)
// is an error, and nothing is written.
func (info *ModelInfo) Write(dir string) error {
	b, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return errors.Wrap(err, "encoding model.json")
	}
	if _, err := ParseInfo(b); err != nil {
		return errors.Wrapf(err, "model %s cannot be saved: model.json could not be read back", info.Model.Name)
	}
	return atomicfile.WriteFile(filepath.Join(dir, rundir.Model), append(b, '\n'), 0o644)
}

// Save writes the trained model into folder dir, creating it, as a run
// folder that every dlrun command can use: model.json (its architecture
// and task), model.safetensors (its parameters and buffers) and
// checkpoint.safetensors (what continues its training exactly, with the
// trainer's Config), each atomically. Load reads the model back; `dlrun
// eval`, `predict`, `serve`, `export` and `train --resume` open the folder
// (naming the dataset with --data: the trainer does not know its name).
func (t *Trainer) Save(dir string) error {
	if err := t.usable(); err != nil {
		return err
	}
	if _, err := atomicfile.MkdirAll(dir, 0o755); err != nil {
		return errors.Wrapf(err, "saving the model")
	}
	if err := t.SaveInfo(dir); err != nil {
		return err
	}
	if err := SaveWeights(filepath.Join(dir, rundir.Weights), t.g); err != nil {
		return err
	}
	return t.SaveCheckpoint(filepath.Join(dir, rundir.Checkpoint))
}

// ReadInfo reads the model.json of folder dir: a regular file
// (safeio.Open) of at most MaxModelInfoBytes, whose description passes
// Check. Errors name the file.
func ReadInfo(dir string) (*ModelInfo, error) {
	path := filepath.Join(dir, rundir.Model)
	b, err := safeio.ReadFile(path, MaxModelInfoBytes)
	if err != nil {
		return nil, errors.Wrapf(err, "loading the model of %s", dir)
	}
	info, err := ParseInfo(b)
	if err != nil {
		return nil, errors.Errorf("%s: %v", path, err)
	}
	return info, nil
}

// ParseInfo decodes and checks the bytes of a model.json, as ReadInfo
// does: one JSON object that sets no key twice, whose description passes
// Check.
func ParseInfo(b []byte) (*ModelInfo, error) {
	if len(b) > MaxModelInfoBytes {
		return nil, errors.Errorf("%d bytes, more than the %d a model description may hold", len(b), MaxModelInfoBytes)
	}
	var info ModelInfo
	if err := rundir.DecodeJSON(b, &info); err != nil {
		return nil, err
	}
	if err := info.Check(); err != nil {
		return nil, err
	}
	return &info, nil
}

// Check reports whether info describes a model that can be rebuilt
// within the limits above: the format, a task, an input shape
// (CheckInputShape), a batch size of at most MaxBatchSize, a loss and
// dtype that name something, and a model whose parameters and
// activations, computed from its spec without building it, stay within
// MaxParams and, for a batch, MaxBatchValues; for one of train's own
// tasks, inputs and outputs that suit it (at most MaxSeqLen steps and a
// vocabulary of 2 to MaxVocab for next-token, 1 to MaxClasses outputs
// for classify; for rating, [2] to one output and 1 to nn.MaxSettingInt
// users and movies). The error names the field at fault.
func (info *ModelInfo) Check() error {
	if info == nil {
		return errors.New("nil model description")
	}
	if info.Format != ModelFormat {
		return errors.Errorf("not a dlrun model description (format %q, want %q)", truncate(info.Format), ModelFormat)
	}
	for _, f := range []struct{ name, v string }{{"task", info.Task}, {"loss", info.Loss}, {"dtype", info.DType}} {
		if len(f.v) > MaxNameLen {
			return errors.Errorf("%s: %d bytes, longer than any name", f.name, len(f.v))
		}
	}
	if info.DType != "" {
		if _, err := graph.ParseDType(info.DType); err != nil {
			return errors.Wrap(err, "dtype")
		}
	}
	if info.Loss != "" {
		if _, err := LossByName(info.Loss); err != nil {
			return errors.Wrap(err, "loss")
		}
	}
	if info.BatchSize < 0 || info.BatchSize > MaxBatchSize {
		return errors.Errorf("batch_size %d: must be from 1 to %d (0 for the default)", info.BatchSize, MaxBatchSize)
	}
	if err := CheckInputShape(info.InputShape); err != nil {
		return err
	}
	if len(info.Task) == 0 {
		return errors.New("task: none")
	}
	if rebuild, ok := infoTasks[info.Task]; ok {
		if _, err := rebuild(info); err != nil {
			return err
		}
	}
	_, err := info.NumParams()
	return err
}

// infoTasks rebuild train's own tasks from a model description, by name:
// each task's file registers its own (registerTask), with the checks of
// the inputs and outputs it takes.
var infoTasks = map[string]func(*ModelInfo) (Task, error){}

// registerTask makes model descriptions of task name rebuild their task
// with rebuild. It is called from the init of the task's own file.
func registerTask(name string, rebuild func(*ModelInfo) (Task, error)) {
	if _, dup := infoTasks[name]; dup {
		panic("train: task " + name + " registered twice")
	}
	infoTasks[name] = rebuild
}

// taskNames lists the tasks train rebuilds, sorted.
func taskNames() string {
	names := make([]string, 0, len(infoTasks))
	for n := range infoTasks {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// NumParams returns the number of parameters of the described model,
// computed from its spec and input shape layer by layer without building
// it. It is an error if the spec does not build, a layer does not take
// the shape before it, the parameters pass MaxParams or a layer's output
// for a batch passes MaxBatchValues.
func (info *ModelInfo) NumParams() (int, error) {
	seq, err := info.Model.Build()
	if err != nil {
		return 0, errors.Wrap(err, "model")
	}
	if err := CheckInputShape(info.InputShape); err != nil {
		return 0, err
	}
	batch := info.BatchSize
	if batch == 0 {
		batch = Config{}.Defaults().BatchSize
	}
	if err := checkBatchValues(batch, info.InputShape, "the input"); err != nil {
		return 0, err
	}
	// Walk visits the layers in order, a block's after the block, each
	// with its input shapes, which an earlier visit checked.
	total, top := 0, 0
	err = seq.Walk(info.InputShape, func(v nn.Visit) error {
		l, in := v.Layer, v.In[0]
		if v.Depth == 0 {
			top++
		}
		if err := checkBatchValues(batch, v.Out, fmt.Sprintf("layer %d (%s)'s output", top, l.Name())); err != nil {
			return err
		}
		// With the input and output within MaxBatchValues and settings
		// within nn.MaxSettingInt and nn.MaxSettingList, a layer's count
		// cannot overflow an int, except a convolution's, whose kernel
		// "same" padding lets pass the input's size: it is bounded here.
		if c, ok := l.(*nn.Conv2D); ok && float64(c.Filters)*float64(in[0])*float64(c.KernelH)*float64(c.KernelW) > MaxParams {
			return errors.Errorf("model: layer %d (%s) brings the parameters past the %d a model may have", top, l.Name(), MaxParams)
		}
		n := l.NumParams(in)
		if n < 0 || n > MaxParams || (v.Depth == 0 && total+n > MaxParams) {
			return errors.Errorf("model: layer %d (%s) brings the parameters past the %d a model may have", top, l.Name(), MaxParams)
		}
		if v.Depth == 0 {
			total += n
		}
		return nil
	})
	if err != nil {
		if strings.HasPrefix(err.Error(), "model: ") {
			return 0, err
		}
		return 0, errors.Wrap(err, "model")
	}
	return total, nil
}

// checkBatchValues checks that batch examples of shape hold at most
// MaxBatchValues values.
func checkBatchValues(batch int, shape []int, what string) error {
	n := batch
	for _, d := range shape {
		if d < 0 || (d > 0 && n > MaxBatchValues/d) {
			return errors.Errorf("model: %s %v for a batch of %d holds more than the %d values a batch may", what, shape, batch, MaxBatchValues)
		}
		n *= d
	}
	return nil
}

// NewTask returns a new task of the kind and shape the description
// records: one of train's own tasks (classify, next-token, rating,
// regress), each
// rebuilt as its file registers. A description of another task (an
// agent's policy, task play) is rebuilt by the package that wrote it
// (run.Open), which hands its task to LoadTask.
func (info *ModelInfo) NewTask() (Task, error) {
	rebuild, ok := infoTasks[info.Task]
	if !ok {
		return nil, errors.Errorf("model.json: task %q is not one of train's (%s): open its run with run.Open", truncate(info.Task), taskNames())
	}
	return rebuild(info)
}

// Model is a trained model loaded from a folder, ready to evaluate and
// predict.
type Model struct {
	Info    ModelInfo
	newTask func(*ModelInfo) (Task, error)
	trainer *Trainer
	// small holds the graphs built for Predict calls of fewer examples
	// than Info.BatchSize, by batch size, sharing the trainer's weights.
	small map[int]*Trainer
}

// maxSmallGraphs bounds Model.small: the graphs of this many batch sizes
// are kept; another size replaces one of them.
const maxSmallGraphs = 8

// forBatch returns a trainer whose graph runs batches of n examples with
// the model's weights: the model's own for n at least its batch size,
// otherwise one built for exactly n (once, then kept), whose parameters
// and buffers share the model's values (graph.ShareValues). A loaded
// model's graph has the batch size it was trained with, and running one
// example through it costs as much as a full batch.
func (m *Model) forBatch(n int) (*Trainer, error) {
	t := m.trainer
	if n >= t.cfg.BatchSize {
		return t, nil
	}
	if s, ok := m.small[n]; ok {
		return s, nil
	}
	s, err := m.Info.build(n, m.newTask)
	if err != nil {
		return nil, err
	}
	if err := s.Graph().ShareValues(t.Graph()); err != nil {
		s.Close()
		return nil, err
	}
	if m.small == nil {
		m.small = map[int]*Trainer{}
	}
	if len(m.small) >= maxSmallGraphs {
		for k, old := range m.small {
			old.Close()
			delete(m.small, k)
			break
		}
	}
	m.small[n] = s
	return s, nil
}

// Load rebuilds the model saved in folder dir from its model.json (no Go
// code of the model is needed) and loads its weights: model.safetensors
// (the last epoch's) or, with best set, best.safetensors (the best
// epoch's).
func Load(dir string, best bool) (*Model, error) {
	return LoadTask(dir, best, (*ModelInfo).NewTask)
}

// LoadTask is Load for a model whose task newTask makes from its
// description: a task train does not know by name (an agent's policy,
// read as a classifier of its observations), or one of train's set up
// otherwise. newTask is called once for each batch size the model is run
// at.
func LoadTask(dir string, best bool, newTask func(*ModelInfo) (Task, error)) (*Model, error) {
	info, err := ReadInfo(dir)
	if err != nil {
		return nil, err
	}
	if _, err := newTask(info); err != nil { // before the weights are looked at
		return nil, err
	}
	name := rundir.Weights
	if best {
		name = rundir.Best
	}
	path := filepath.Join(dir, name)
	if err := info.CheckWeightsFile(path); err != nil {
		return nil, err
	}
	t, err := info.build(info.BatchSize, newTask)
	if err != nil {
		return nil, errors.Wrapf(err, "rebuilding the model of %s", dir)
	}
	if err := LoadWeights(path, t.Graph()); err != nil {
		t.Close()
		return nil, err
	}
	return &Model{Info: *info, newTask: newTask, trainer: t}, nil
}

// build rebuilds the model info describes, from its model.json, in a
// trainer of the task newTask makes for batches of the given size
// (weights as initialised: Load and Model.forBatch give them theirs).
func (info *ModelInfo) build(batch int, newTask func(*ModelInfo) (Task, error)) (*Trainer, error) {
	model, err := info.Model.Build()
	if err != nil {
		return nil, errors.Wrap(err, "model.json")
	}
	task, err := newTask(info)
	if err != nil {
		return nil, err
	}
	return New(model, task, Config{BatchSize: batch, Loss: info.Loss, DType: info.DType})
}

// CheckWeightsFile reports whether path is a regular file (safeio.Open)
// large enough to hold the parameters info describes, 4 bytes each at
// least: what to check before building the model to load it into, so
// that a description of a billion parameters beside a small file is an
// error, not an allocation. LoadWeights checks the file itself after.
func (info *ModelInfo) CheckWeightsFile(path string) error {
	params, err := info.NumParams()
	if err != nil {
		return err
	}
	f, err := safeio.Open(path)
	if err != nil {
		return errors.Wrap(err, "loading weights")
	}
	fi, err := f.Stat()
	f.Close()
	if err != nil {
		return errors.Wrap(err, "loading weights")
	}
	if fi.Size() < 4*int64(params) {
		return errors.Errorf("loading %s: %d bytes cannot hold the %d parameters model.json describes", path, fi.Size(), params)
	}
	return nil
}

// Close releases the model's machines.
func (m *Model) Close() error {
	if m == nil {
		return nil
	}
	for n, s := range m.small {
		s.Close()
		delete(m.small, n)
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
// holds (user, movie) index pairs and each row is the predicted rating;
// for a regression model, one row [value] per example, in the
// standardised units its targets were given in (a table's
// Preprocessing.Prediction maps it back).
func (m *Model) Predict(x []float32) ([][]float64, error) {
	return m.forward(x, true)
}

// Outputs returns the model's raw output rows for x, what its last layer
// computes, without Predict's softmax or sigmoid:
//
//   - classifier: x holds examples of the model's input shape, one after
//     another; one row of Info.Outputs values (the logits) per example.
//   - rating model: as Predict, one row [rating] per (user, movie) pair.
//   - shot-boundary model: x holds windows of the model's input shape
//     [Window, 3, h, w], one after another; Window rows of ShotOutputs
//     logits per window (Predict: their probabilities).
//   - regression model: as Predict, one row [value] per example.
//   - next-token model: x holds sequences of Info.InputShape[0] (T) token
//     ids, one after another; T rows of Info.Outputs (the vocabulary)
//     logits per sequence, row i·T+s being the logits of the token after
//     step s of sequence i. Each sequence is read from the zero state, as
//     a pass of training begins, whatever else x holds.
//   - music model: x holds sequences of Info.InputShape[0] (T) steps of
//     Info.Outputs (88) values, 0 or 1; T rows of logits per sequence, row
//     i·T+s saying which keys sound after step s of sequence i, each
//     sequence read from the zero state.
//
// A token id must be a whole number from 0 to the vocabulary less one.
func (m *Model) Outputs(x []float32) ([][]float64, error) {
	return m.forward(x, false)
}

// forward runs the model on x: Predict's rows if probs, else Outputs'.
func (m *Model) forward(x []float32, probs bool) ([][]float64, error) {
	if m == nil {
		return nil, errors.New("train: nil model: use train.Load")
	}
	t := m.trainer
	if err := t.usable(); err != nil {
		return nil, err
	}
	switch task := t.task.(type) {
	case *Rating:
		return m.predictRatings(task, x)
	case *Classify:
		return m.classify(task, x, probs)
	case *Regress:
		return m.regress(task, x)
	case *NextToken:
		if !probs {
			return m.nextTokens(task, x)
		}
	case *Shots:
		return m.shotWindows(task, x, probs)
	case *NextStep:
		if !probs {
			return m.nextSteps(task, x)
		}
	}
	return nil, errors.Errorf("predict: the model was trained for %s, not classification, rating, regression or shot detection", t.task.Name())
}

// classify runs classifier c on the examples of x: the probabilities of
// each if probs, else its outputs.
func (m *Model) classify(c *Classify, x []float32, probs bool) ([][]float64, error) {
	size := len(c.example)
	if len(x) == 0 || len(x)%size != 0 {
		return nil, errors.Errorf("predict: %d values are not a whole number of examples of shape %v", len(x), c.Shape)
	}
	t, err := m.forBatch(len(x) / size)
	if err != nil {
		return nil, err
	}
	c = t.task.(*Classify)
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
			if probs {
				row = probabilities(t.parts.loss, row)
			}
			out = append(out, row)
		}
	}
	return out, nil
}

// nextTokens returns the logits of next-token model nt after each step of
// each sequence of x, the sequences run a batch at a time, each batch
// from the zero state.
func (m *Model) nextTokens(nt *NextToken, x []float32) ([][]float64, error) {
	T, V := nt.seqLen(), nt.Vocab
	if len(x) == 0 || len(x)%T != 0 {
		return nil, errors.Errorf("outputs: %d values are not a whole number of sequences of %d token ids", len(x), T)
	}
	for i, v := range x {
		if !(v >= 0 && v < float32(V)) || v != float32(int(v)) {
			return nil, errors.Errorf("outputs: value %d (%v) is not a token id of the vocabulary of %d", i, v, V)
		}
	}
	n, batch := len(x)/T, m.trainer.cfg.BatchSize
	out := make([][]float64, 0, n*T)
	for start := 0; start < n; start += batch {
		k := min(batch, n-start)
		// k streams of T tokens each, and one more token so that the
		// last has a successor (a target, which the outputs ignore).
		tokens := make(Tokens, k*T+1)
		for i := range k * T {
			tokens[i] = int(x[start*T+i])
		}
		rows, err := m.firstBatchRows(k, tokens, k*T, V)
		if err != nil {
			return nil, err
		}
		out = append(out, rows...)
	}
	return out, nil
}

// firstBatchRows runs the first batch of a pass over d through the model
// rebuilt for batches of k, and returns the first rows rows of its
// output, width values each.
func (m *Model) firstBatchRows(k int, d Data, rows, width int) ([][]float64, error) {
	t, err := m.forBatch(k)
	if err != nil {
		return nil, err
	}
	if _, err := t.start(d, nil); err != nil {
		return nil, err
	}
	if _, err := t.task.Fill(0); err != nil {
		return nil, err
	}
	if _, err := t.min.Loss(); err != nil {
		return nil, err
	}
	out := make([][]float64, rows)
	for r := range out {
		out[r] = make([]float64, width)
		if err := t.min.prog.OutputRow(0, r, out[r]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// nextSteps returns the logits of music model ns after each step of each
// sequence of x (SeqLen steps of Width values, 0 or 1), the sequences run
// a batch at a time, each from the zero state.
func (m *Model) nextSteps(ns *NextStep, x []float32) ([][]float64, error) {
	T, W := ns.SeqLen, ns.Width
	if len(x) == 0 || len(x)%(T*W) != 0 {
		return nil, errors.Errorf("outputs: %d values are not a whole number of sequences of %d steps of %d values", len(x), T, W)
	}
	for i, v := range x {
		if v != 0 && v != 1 {
			return nil, errors.Errorf("outputs: value %d (%v) is not 0 or 1", i, v)
		}
	}
	n, batch := len(x)/(T*W), m.trainer.cfg.BatchSize
	out := make([][]float64, 0, n*T)
	for start := 0; start < n; start += batch {
		k := min(batch, n-start)
		// Each sequence and one silent step more, so that its last step
		// has a successor (a target, which the outputs ignore).
		seqs := &Sequences{Width: W, Seqs: make([][]float32, k)}
		for i := range seqs.Seqs {
			seqs.Seqs[i] = append(slices.Clone(x[(start+i)*T*W:(start+i+1)*T*W]), make([]float32, W)...)
		}
		rows, err := m.firstBatchRows(k, seqs, k*T, W)
		if err != nil {
			return nil, err
		}
		out = append(out, rows...)
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
	return t.oneOutputs(n, r.Fill, len(pairs))
}

// regress runs regression model r on the examples of x: one row [value]
// per example, the model's output (standardised as its targets were).
func (m *Model) regress(r *Regress, x []float32) ([][]float64, error) {
	size := len(r.example)
	if len(x) == 0 || len(x)%size != 0 {
		return nil, errors.Errorf("predict: %d values are not a whole number of examples of shape %v", len(x), r.Shape)
	}
	t, err := m.forBatch(len(x) / size)
	if err != nil {
		return nil, err
	}
	r = t.task.(*Regress)
	n, err := t.start(&rawData{x: x, shape: r.Shape, size: size}, nil)
	if err != nil {
		return nil, err
	}
	return t.oneOutputs(n, r.Fill, len(x)/size)
}

// oneOutputs runs the n batches that fill fills through t's model and
// returns the one output of each example filled, as a row [value]: a
// rating model's and a regressor's predictions (of about rows examples).
func (t *Trainer) oneOutputs(n int, fill func(int) (int, error), rows int) ([][]float64, error) {
	out := make([][]float64, 0, rows)
	for i := 0; i < n; i++ {
		k, err := fill(i)
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

// rawData presents unlabeled examples as Examples (and as Targets of
// value 0).
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
func (d *rawData) Target(i int, dst []float32) float32 {
	copy(dst, d.x[i*d.size:(i+1)*d.size])
	return 0
}
