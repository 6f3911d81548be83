package run

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/dlrun/dlrun/internal/atomicfile"
	"github.com/dlrun/dlrun/rundir"
	"github.com/dlrun/dlrun/train"
)

// The largest files of a run folder that Check reads whole.
const (
	maxSummary = 1 << 20
	maxMetrics = 64 << 20
)

// Check is the one validation of a run folder, which every command that
// reads one applies (Open: eval, predict, recommend, generate, play,
// export, serve, summary; resume; the board's details). It reports the
// first thing in dir that would make a command misread the run, in one
// line naming the file and the field:
//
//   - a JSON file (config.json, model.json, summary.json, agent.json)
//     that is not one JSON object, sets a key twice, or holds a value past
//     its limits (ReadConfig, train.ReadInfo);
//   - a safetensors file whose metadata sets a key twice;
//   - config.json and model.json disagreeing: the task, the model, the
//     input shape, the class names or the vocabulary against the outputs,
//     the loss, dtype and batch size (Kind.Check);
//   - config.json and the checkpoint's record of its trainer disagreeing:
//     any setting of the loop but the epochs, which a resumed run may
//     raise (Kind.Check);
//   - epochs that do not add up: the checkpoint's epoch against its
//     history, metrics.csv's rows (one fewer is a run stopped between its
//     checkpoint and its metrics, which resuming repairs), summary.json's
//     epochs and config.json's;
//   - a weight, buffer or optimizer state that is NaN or infinite, or a
//     sum or running mean of squared gradients that is negative, in
//     model.safetensors, best.safetensors or checkpoint.safetensors
//     (train.CheckTensors).
//
// A folder without config.json and model.json is not a run folder; one
// with model.json alone (written by train's Trainer.Save before it wrote
// config.json) is read from its model.json.
func Check(dir string) error {
	_, _, _, err := check(os.DirFS(dir), dir)
	return err
}

// CheckFS is Check of the run folder fsys (an os.Root's, a test's), named
// dir in its errors.
func CheckFS(fsys fs.FS, dir string) error {
	_, _, _, err := check(fsys, dir)
	return err
}

// check is Check, and returns what it read.
func check(fsys fs.FS, dir string) (*Config, *train.ModelInfo, Kind, error) {
	at := func(name string, err error) error {
		return fmt.Errorf("%s: %w", filepath.Join(dir, name), rundir.OneLine(err))
	}
	var info *train.ModelInfo
	b, err := readFS(fsys, rundir.Model, train.MaxModelInfoBytes)
	switch {
	case err == nil:
		if info, err = train.ParseInfo(b); err != nil {
			return nil, nil, nil, at(rundir.Model, err)
		}
	case !errors.Is(err, fs.ErrNotExist):
		return nil, nil, nil, at(rundir.Model, err)
	}
	var cfg *Config
	b, err = readFS(fsys, rundir.Config, MaxConfigSize)
	switch {
	case err == nil:
		if cfg, err = ParseConfig(b); err != nil {
			return nil, nil, nil, at(rundir.Config, err)
		}
	case !errors.Is(err, fs.ErrNotExist):
		return nil, nil, nil, at(rundir.Config, err)
	case info == nil:
		return nil, nil, nil, notARun(fsys, dir)
	default:
		if cfg, err = savedConfig(fsys, info); err != nil {
			return nil, nil, nil, fmt.Errorf("run folder %s: %w", dir, err)
		}
	}
	k, err := kindOfRun(cfg)
	if err != nil {
		return nil, nil, nil, at(rundir.Config, err)
	}
	if info == nil {
		return nil, nil, nil, fmt.Errorf("run folder %s holds config.json but no model.json: a run stopped before it wrote its model; continue it with dlrun train --resume %s", dir, dir)
	}
	ck, err := checkpointInfo(fsys)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil, at(rundir.Checkpoint, err)
	}
	if err := agree(cfg, info, k, ck); err != nil {
		return nil, nil, nil, fmt.Errorf("run folder %s: %w", dir, err)
	}
	var sum *Summary
	if b, err = readFS(fsys, rundir.Summary, maxSummary); err == nil {
		sum = new(Summary)
		if err := rundir.DecodeJSON(b, sum); err != nil {
			return nil, nil, nil, at(rundir.Summary, err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil, at(rundir.Summary, err)
	}
	if b, err = readFS(fsys, rundir.Agent, MaxConfigSize); err == nil {
		var v map[string]any
		if err := rundir.DecodeJSON(b, &v); err != nil {
			return nil, nil, nil, at(rundir.Agent, err)
		}
	}
	if err := checkEpochs(fsys, dir, cfg, ck, sum); err != nil {
		return nil, nil, nil, err
	}
	for _, name := range []string{rundir.Weights, rundir.Best, rundir.Checkpoint} {
		if err := checkTensors(fsys, name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, nil, nil, at(name, err)
		}
	}
	return cfg, info, k, nil
}

// notARun is the error of a folder holding neither config.json nor
// model.json.
func notARun(fsys fs.FS, dir string) error {
	if fi, err := fs.Stat(fsys, "."); err != nil || !fi.IsDir() {
		if err == nil {
			return fmt.Errorf("run folder %s is not a folder", dir)
		}
		return fmt.Errorf("run folder %s: %w", dir, err)
	}
	if _, err := fs.Stat(fsys, rundir.Lock); err == nil {
		return fmt.Errorf("run folder %s holds no config.json nor model.json: its run was stopped before it wrote them, and there is nothing to resume; train it again with dlrun train --out %s", dir, dir)
	}
	return fmt.Errorf("run folder %s holds no config.json nor model.json: not a run folder", dir)
}

// savedConfig is the configuration of a folder that train's Trainer.Save
// wrote, which holds no config.json: the model is its model.json (model
// "model.json"), and what the description and the checkpoint's record of
// the trainer say of the run; the dataset is not known.
func savedConfig(fsys fs.FS, info *train.ModelInfo) (*Config, error) {
	c := &Config{Model: rundir.Model, Task: info.Task, InputShape: info.InputShape,
		Config: train.Config{BatchSize: info.BatchSize, Loss: info.Loss, DType: info.DType}}
	f, size, err := openFS(fsys, rundir.Checkpoint)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rundir.Checkpoint, err)
	}
	defer f.Close()
	ck, err := train.ParseCheckpointInfo(f, size)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rundir.Checkpoint, rundir.OneLine(err))
	}
	if ck.Config != nil {
		c.Config = *ck.Config
		c.Collective, c.OnBatch = nil, nil
	}
	return c, nil
}

// kindOfRun returns the kind of the run that cfg (read from a run folder)
// records: the one kind of its task, or of the kinds of its task the one
// whose reference model it names (an agent's).
func kindOfRun(cfg *Config) (Kind, error) {
	var of []Kind
	for _, k := range Kinds() {
		if k.Task() == cfg.Task {
			of = append(of, k)
		}
	}
	for _, k := range of {
		if len(of) == 1 || slices.Contains(k.References(), cfg.Model) {
			return k, nil
		}
	}
	if len(of) == 0 {
		return nil, fmt.Errorf("task: unknown task %q (known: %s)", cfg.Task, kindNames(func(Kind) bool { return true }, Kind.Task))
	}
	return nil, fmt.Errorf("model: %q is none of the models of task %s (%s)", cfg.Model, cfg.Task, kindNames(func(k Kind) bool { return k.Task() == cfg.Task }, Kind.Name))
}

// agree reports what in config.json does not agree with model.json and
// ck, the checkpoint's record (nil: none): the task, the model (a
// reference network is described under its own name), the input shape,
// what the kind checks.
func agree(cfg *Config, info *train.ModelInfo, k Kind, ck *train.CheckpointInfo) error {
	if info.Task != cfg.Task {
		return fmt.Errorf("config.json: task: %s, but model.json's is %s", cfg.Task, info.Task)
	}
	if k.TrainsFiles() && slices.Contains(k.References(), cfg.Model) && info.Model.Name != cfg.Model {
		return fmt.Errorf("config.json: model: %s, but model.json describes %s", cfg.Model, info.Model.Name)
	}
	if cfg.InputShape != nil && !slices.Equal(cfg.InputShape, info.InputShape) {
		return fmt.Errorf("config.json: input_shape: %v, but model.json's is %v", cfg.InputShape, info.InputShape)
	}
	var trainer *train.Config
	if ck != nil {
		trainer = ck.Config
	}
	return k.Check(cfg, info, trainer)
}

// checkpointInfo reads the metadata of fsys's checkpoint
// (train.ParseCheckpointInfo); an error wrapping fs.ErrNotExist where the
// folder has none.
func checkpointInfo(fsys fs.FS) (*train.CheckpointInfo, error) {
	f, size, err := openFS(fsys, rundir.Checkpoint)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return train.ParseCheckpointInfo(f, size)
}

// checkEpochs checks that the epochs a supervised run folder records add
// up: the epoch and history of its checkpoint ck (nil: none), metrics.csv's
// rows, summary.json's and config.json's epochs.
func checkEpochs(fsys fs.FS, dir string, cfg *Config, ck *train.CheckpointInfo, sum *Summary) error {
	if ck == nil {
		return nil
	}
	at := func(name, format string, args ...any) error {
		return fmt.Errorf("%s: %s", filepath.Join(dir, name), fmt.Sprintf(format, args...))
	}
	epoch := ck.Epoch
	if len(ck.History) != epoch {
		return at(rundir.Checkpoint, "epoch: %d, but its history holds %s", epoch, plural(len(ck.History), "epoch"))
	}
	if cfg.Epochs != 0 && epoch > cfg.Epochs {
		return at(rundir.Config, "epochs: %d, but %s holds %s", cfg.Epochs, rundir.Checkpoint, plural(epoch, "epoch"))
	}
	if b, err := readFS(fsys, rundir.Metrics, maxMetrics); err == nil {
		t, err := rundir.ParseMetrics(b)
		if err != nil {
			return fmt.Errorf("%s: %w", dir, err)
		}
		if n := t.Rows(); n != epoch && n != epoch-1 {
			return at(rundir.Metrics, "%s, but %s holds %s", plural(n, "row"), rundir.Checkpoint, plural(epoch, "epoch"))
		}
		for i, e := range t.Column("epoch") {
			if int(e) != ck.History[i].Epoch {
				return at(rundir.Metrics, "row %d is epoch %v, but %s's history has epoch %d there", i+1, e, rundir.Checkpoint, ck.History[i].Epoch)
			}
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return at(rundir.Metrics, "%v", err)
	}
	if sum != nil && sum.Epochs != epoch {
		return at(rundir.Summary, "epochs: %d, but %s holds %s", sum.Epochs, rundir.Checkpoint, plural(epoch, "epoch"))
	}
	return nil
}

// checkTensors reads the safetensors file name of fsys with
// train.CheckTensors.
func checkTensors(fsys fs.FS, name string) error {
	f, size, err := openFS(fsys, name)
	if err != nil {
		return err
	}
	defer f.Close()
	return train.CheckTensors(f, size)
}

// readerAtFile is an open file of a run folder that reads at offsets.
type readerAtFile interface {
	fs.File
	ReadAt(p []byte, off int64) (int, error)
}

// openFS opens the regular file name of fsys, checked before it is opened
// (a FIFO would block), for reading at offsets.
func openFS(fsys fs.FS, name string) (readerAtFile, int64, error) {
	fi, err := fs.Stat(fsys, name)
	if err != nil {
		return nil, 0, err
	}
	if !fi.Mode().IsRegular() {
		return nil, 0, fmt.Errorf("not a regular file (%s)", atomicfile.Describe(fi.Mode()))
	}
	f, err := fsys.Open(name)
	if err != nil {
		return nil, 0, err
	}
	ra, ok := f.(readerAtFile)
	if !ok {
		f.Close()
		return nil, 0, fmt.Errorf("cannot be read at offsets")
	}
	return ra, fi.Size(), nil
}

// readFS reads the regular file name of fsys whole, if it holds at most
// limit bytes.
func readFS(fsys fs.FS, name string, limit int64) ([]byte, error) {
	fi, err := fs.Stat(fsys, name)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file (%s)", atomicfile.Describe(fi.Mode()))
	}
	if fi.Size() > limit {
		return nil, fmt.Errorf("%d bytes, more than the %d this file may hold", fi.Size(), limit)
	}
	return fs.ReadFile(fsys, name)
}
