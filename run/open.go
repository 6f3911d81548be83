package run

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/dlrun/dlrun/datasets"
	"github.com/dlrun/dlrun/explain"
	"github.com/dlrun/dlrun/rundir"
	"github.com/dlrun/dlrun/train"
)

// Run is a run opened from its folder: its kind, its configuration and
// its model (an agent's acting network) with the weights chosen, rebuilt
// from model.json without the Go code that built it. Every command that
// uses a trained run opens it with Open; what a run does beyond its model
// (an evaluation, its tensors when served or exported) its kind says.
type Run struct {
	// Dir is the run folder.
	Dir string
	// Kind is the run's kind.
	Kind Kind
	// Config is the run's configuration (config.json; for a folder holding
	// a model.json alone, what it says of the run).
	Config Config
	// Model is the trained model, with the last weights or, opened with
	// best, those of the best epoch.
	Model *train.Model
	// Weights is the path of the weights file loaded.
	Weights string

	expl  *explain.Explainer // made by the first explanation
	rated *datasets.Ratings  // a recommender's ratings, read by its first explanation
}

// Open opens the run of folder dir: it checks the folder as Check does,
// then rebuilds the model from model.json and loads model.safetensors (the
// last epoch's weights) or, with best set, best.safetensors (the best
// epoch's; an agent has none). Close the Run when done.
func Open(dir string, best bool) (*Run, error) {
	if dir == "" {
		return nil, errors.New("no run folder given")
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("run folder %s: %w", dir, pathError(err))
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("run folder %s is not a folder", dir)
	}
	cfg, _, k, err := check(os.DirFS(dir), dir)
	if err != nil {
		return nil, err
	}
	weights := rundir.Weights
	if best {
		weights = rundir.Best
		if _, err := os.Stat(filepath.Join(dir, weights)); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("--best: run folder %s holds no %s (a %s run keeps no best weights, or it saved no epoch)", dir, weights, k.Name())
		}
	}
	m, err := train.LoadTask(dir, best, k.NewTask)
	if err != nil {
		return nil, err
	}
	return &Run{Dir: dir, Kind: k, Config: *cfg, Model: m, Weights: filepath.Join(dir, weights)}, nil
}

// pathError is the error of os.Stat without the path it repeats.
func pathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Close releases the run's model (and what explaining it built).
func (r *Run) Close() error {
	if r == nil {
		return nil
	}
	if r.expl != nil {
		r.expl.Close()
		r.expl = nil
	}
	return r.Model.Close()
}

// Classes returns a classifier's class names in label order, as the run
// records them (none for a model trained from Go on data in memory).
func (r *Run) Classes() []string { return r.Config.Classes }

// InputShape returns the shape of one example of the model's input.
func (r *Run) InputShape() []int { return r.Model.Info.InputShape }

// dataLoading is a kind whose runs learn from a dataset: it loads one as
// its runs' models read it.
type dataLoading interface {
	runData(r *Run, name string) (*Data, error)
}

// Data loads dataset name (the run's own if "": checked against the
// SHA-256 the run recorded) as the run's model reads it: a classifier's
// images as rows for a recurrent model, a text in the run's vocabulary,
// ratings of the run's users and movies. An agent's run has no dataset.
func (r *Run) Data(name string) (*Data, error) {
	k, ok := capability[dataLoading](r)
	if !ok {
		return nil, doesNotApply("loading a dataset", r.Kind, "a run that learns from one")
	}
	return k.runData(r, name)
}

// Evaluate scores the run as its kind does (`dlrun eval`).
func (r *Run) Evaluate(o EvalOptions) (Report, error) { return r.Kind.Evaluate(r, o) }

// Tensors says how the run is served and exported, as its kind does.
func (r *Run) Tensors() (*Tensors, error) { return r.Kind.Tensors(r) }
