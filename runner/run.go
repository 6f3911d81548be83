// Package runner makes runs: it resolves one run.Config into what trains
// (a model and its data for train's loop, or an agent of package rl), and
// trains it into a run folder with one skeleton for every kind of run
// (session.go): the folder's lock, config.json and model.json first, then
// after every epoch or chunk the checkpoint, the weights, metrics.csv and
// curves.png, and summary.json last; Resume continues a run from its
// checkpoint. Using a finished run (opening, evaluating, serving,
// exporting it) is package run's, which links neither rl nor the plotting
// code.
package runner

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/rundir"
	"github.com/dlrun/dlrun/train"
	"github.com/pkg/errors"
)

// Options say where a run reads and writes.
type Options struct {
	// Out is the run folder. Empty: runs/<model>-<timestamp>, with a
	// suffix -2, -3, ... when that exists (runs started in one second).
	Out string
	// Log receives the run's lines (nil: nothing is printed): what it
	// trains, then a line per epoch (an agent's chunk of steps) where
	// Progress is set, otherwise those of about 20 evenly spaced ones and
	// of the last.
	Log io.Writer
	// Progress draws a progress bar with the loss and samples/s on Log
	// during each epoch, and prints every epoch's line; meant for a
	// terminal.
	Progress bool
	// Data, if set, is the data to train on instead of the dataset the
	// configuration names (a subset, say); config.json records its name
	// and SHA-256, and a later command that needs the data loads it by
	// that name, or asks for --data where the name is not one it can load.
	Data *run.Data
	// Collective, if set, trains data-parallel with the other processes
	// it joins (train.Collective; dlrun's MPI build gives one). Every
	// process calls Train, or Resume, with the same arguments; rank 0
	// writes the run folder, and every other rank writes nothing, logs
	// nothing and returns a nil Summary: a follower. To resume, every
	// rank must be able to read the run folder's config.json and
	// model.json (one host, or a shared file system); rank 0 sends the
	// checkpoint to the others. Agents train in one process.
	Collective train.Collective
	// Epochs and Steps, for Resume, are the budget to resume to: epochs in
	// all, or an agent's environment steps (0: the configured number).
	// The other kind's is refused.
	Epochs, Steps int
	// Dataset, for Resume of a run that records no dataset it can load (a
	// model trained from Go on data in memory), names the dataset to
	// train on, as --data does.
	Dataset string
	// Started, if set, is called with the run folder's path once the
	// folder is locked, before anything is trained: a command that may be
	// interrupted learns where the run is (Stopped says what it saved).
	Started func(dir string)
	// Stop, if set, lets such a command end the process in agreement
	// with the folder and the log (Stopper).
	Stop *Stopper
}

// Follower reports whether opts make this process a follower of
// data-parallel training: a rank other than 0.
func (opts Options) Follower() bool {
	return opts.Collective != nil && opts.Collective.Size() > 1 && opts.Collective.Rank() != 0
}

// Train resolves cfg, makes what its kind trains (a model on its data, or
// an agent), trains it and records the run in a folder:
//
//   - config.json, the resolved configuration, and model.json, the
//     model's architecture and task (an agent's acting network; and
//     agent.json, its algorithm's settings), first;
//   - after every epoch (an agent's chunk of steps): the checkpoint (for
//     resuming) first, then model.safetensors (the last weights and
//     buffers), best.safetensors (those of the best epoch by the
//     early-stopping metric, test loss by default; a supervised run's),
//     metrics.csv (one row per epoch or chunk) and curves.png (at most
//     every 2 s, and after the last);
//   - summary.json, last.
//
// Every file is written atomically, so a run killed at any moment leaves
// whole files; the checkpoint is the record of the last saved step, and
// Resume rewrites the files written after it. The folder is locked for
// the whole call: a second Train or Resume into it fails at once with an
// error wrapping ErrInUse. A folder that already holds a run is refused
// (continue it with Resume); one that holds only the config.json and
// model.json of a run that saved no epoch is taken over. A run that fails
// before saving its first epoch removes what it wrote, and the folder if
// it made it.
//
// A batch larger than the data is lowered to what the data fills, and
// config.json records the batch used. If a loss or metric becomes NaN or
// infinite, or a weight does, training stops with an error wrapping
// ErrNotFinite; nothing of that epoch is saved, and the error names the
// checkpoint left and the epoch it holds, or says that there is none. A
// failed write (a full disk) leaves the file it was writing as it was and
// stops training with an error naming the file and the checkpoint left.
func Train(cfg run.Config, opts Options) (*run.Summary, error) {
	start := time.Now()
	if err := cfg.Resolve(); err != nil {
		return nil, err
	}
	k, err := cfg.Kind()
	if err != nil {
		return nil, err
	}
	l, err := newLearner(k, &cfg, opts, nil)
	if err != nil {
		return nil, err
	}
	if l == nil { // a follower, done
		return nil, nil
	}
	defer l.close()
	f, err := newFolder(opts.Out, l.folderName(), start, logWriter(opts))
	if err != nil {
		return nil, err
	}
	defer f.close()
	opts.tellStarted(f.dir)
	sum, err := (&session{cfg: cfg, kind: k, f: f, opts: opts, l: l, start: start}).run(false)
	if err != nil {
		f.abandon()
	}
	return sum, err
}

// Resume continues the run in folder dir from its checkpoint up to
// opts.Epochs (an agent: opts.Steps; 0: the configured number), with exactly the weights and metrics a run straight through
// would have had. The folder is checked first (run.Check); the model is
// rebuilt from its model.json and the data reloaded from config.json,
// which must still have the SHA-256 the run began with. The folder is
// locked as Train locks it.
//
// A folder without a checkpoint (its run was killed, or failed, before
// saving an epoch) is trained from the first epoch, its model rebuilt
// from config.json where it has no model.json yet. A finished run
// (summary.json written) resumed to its own budget, or one that early
// stopping ended, is left as it is: Resume says so in the log and returns
// its summary. Asking for less than the checkpoint holds is an error, and
// the folder is left as it is. A run killed after its last checkpoint but
// before its summary gets the files it lacked.
func Resume(dir string, opts Options) (*run.Summary, error) {
	start := time.Now()
	if dir == "" {
		return nil, errors.New("resume: no run folder given")
	}
	if opts.Epochs < 0 || opts.Steps < 0 {
		return nil, errors.Errorf("resume: a budget of %d epochs or %d steps: must be positive", opts.Epochs, opts.Steps)
	}
	var f *folder
	if !opts.Follower() {
		var err error
		if f, err = openFolder(dir); err != nil {
			return nil, err
		}
		defer f.close()
		opts.tellStarted(f.dir)
	}
	cfg, k, info, err := resumable(dir, opts)
	if err != nil {
		return nil, err
	}
	l, err := newLearner(k, cfg, opts, info)
	if err != nil {
		if errors.Is(err, ErrNoDataset) {
			return nil, fmt.Errorf("%w (run folder %s)", err, dir)
		}
		return nil, errors.Wrapf(err, "run folder %s", dir)
	}
	if l == nil {
		return nil, nil
	}
	defer l.close()
	return (&session{cfg: *cfg, kind: k, f: f, opts: opts, l: l, start: start}).run(true)
}

// resumable reads what resumes the run of folder dir: its configuration,
// checked (run.Check) and resolved with opts' dataset (the learner takes
// opts' budget), its kind, and its model.json (nil if it has none yet: a
// run stopped before it wrote one).
func resumable(dir string, opts Options) (*run.Config, run.Kind, *train.ModelInfo, error) {
	early := noModelYet(dir)
	if err := run.Check(dir); err != nil && !early {
		return nil, nil, nil, err
	}
	cfg, err := run.ReadConfig(dir)
	if err != nil {
		return nil, nil, nil, err
	}
	var info *train.ModelInfo
	if !early {
		if info, err = train.ReadInfo(dir); err != nil {
			return nil, nil, nil, err
		}
	}
	if opts.Dataset != "" {
		cfg.Dataset = opts.Dataset // it must still have the recorded SHA-256
	}
	if err := cfg.ResolveRecorded(); err != nil {
		return nil, nil, nil, errors.Wrapf(err, "run folder %s: config.json", dir)
	}
	k, err := cfg.Kind()
	if err != nil {
		return nil, nil, nil, errors.Wrapf(err, "run folder %s: config.json", dir)
	}
	return cfg, k, info, nil
}

// noModelYet reports whether run folder dir holds a config.json but no
// model.json, and no checkpoint that needs one: a run stopped before it
// wrote its model.json, which resumes from its first epoch with its model
// built from config.json, or the folder of an agent of an earlier dlrun,
// which resuming gives its model.json (the agent itself is rebuilt from
// config.json).
func noModelYet(dir string) bool {
	for name, want := range map[string]bool{rundir.Config: true, rundir.Model: false, rundir.Checkpoint: false} {
		if _, err := os.Lstat(filepath.Join(dir, name)); (err == nil) != want {
			return false
		}
	}
	return true
}

// logWriter returns the log of opts, io.Discard if none.
func logWriter(opts Options) io.Writer {
	if opts.Log == nil {
		return io.Discard
	}
	return opts.Log
}
