package runner

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/internal/atomicfile"
	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/rundir"
	"github.com/dlrun/dlrun/train"
	"github.com/pkg/errors"
)

// A learner is what trains in a run folder: train's loop over a dataset
// (supervised.go) or an agent of package rl (agent.go). The session drives
// either through the same folder life.
type learner interface {
	// folderName names a new run's default folder (runs/<name>-<time>).
	folderName() string
	// checkpoint is the name of the file that records saved progress.
	checkpoint() string
	// restore loads the checkpoint at path, if there is one, and reports
	// whether there was.
	restore(path string) (bool, error)
	// progress returns the progress saved so far and the budget, in
	// units of unit (epoch, step: an agent's environment steps), and the
	// flag that sets the budget.
	progress() (done, budget int, unit, flag string)
	// finished reports whether summary s, read from the folder, is that
	// of the run trained to its budget (or stopped early).
	finished(s *run.Summary) bool
	// describe writes what rebuilds the model into dir: model.json (and
	// an agent's agent.json).
	describe(dir string) error
	// started is the log's line of what trains, after verb.
	started(verb, dir string) string
	// fit trains to the budget, after every epoch or chunk calling
	// saving, saving the checkpoint at ck and then calling saved with the
	// step's log line, its number and the number expected.
	fit(ck string, saving func(), saved func(line string, step, steps int) error) error
	// graph holds the weights that model.safetensors saves.
	graph() *graph.Graph
	// isBest reports whether the last saved step is the best so far
	// (best.safetensors).
	isBest() bool
	// table returns metrics.csv's rows so far.
	table() *rundir.Table
	// curves names the panels of curves.png: columns of the table.
	curves() []panel
	// summary returns the run's summary, and lines for the log before it.
	summary() (*run.Summary, []string, error)
	// proceed tells data-parallel followers whether training goes on.
	proceed(on bool) error
	close()
}

// session is one life of a run folder, for every kind: the lock held,
// config.json and model.json written first, then after each saved step
// the checkpoint (by the learner), the weights, best.safetensors,
// metrics.csv and curves.png, and summary.json last.
type session struct {
	cfg   run.Config
	kind  run.Kind
	f     *folder
	opts  Options
	l     learner
	start time.Time

	drawn    int // rows in the last curves.png
	lastDraw time.Time
}

// run trains the session's run into its folder; resume says the folder
// holds a run to continue.
func (s *session) run(resume bool) (*run.Summary, error) {
	log := logWriter(s.opts)
	dir := s.f.dir
	ck := s.f.path(s.l.checkpoint())
	restored := false
	if resume {
		var err error
		if restored, err = s.l.restore(ck); err != nil {
			return nil, err
		}
	}
	// Decide, before writing anything, whether there is anything to do.
	done, budget, unit, flag := s.l.progress()
	if restored {
		if done > budget {
			return nil, errors.Errorf("run folder %s has trained %s already, more than the %d asked for (%s); it is left as it was", dir, plural(done, unit), budget, flag)
		}
		if sum, err := run.ReadSummary(dir); err == nil && s.l.finished(sum) {
			fmt.Fprintf(log, "run folder %s is finished (%s): nothing to do\n", dir, finishedAt(done, unit, sum))
			if _, err := os.Lstat(s.f.path(rundir.Model)); errors.Is(err, fs.ErrNotExist) {
				// An agent's folder of an earlier dlrun, which wrote no
				// model.json: the one file it gets, for commands to open it.
				if err := s.l.describe(dir); err != nil {
					return nil, err
				}
			}
			return sum, s.l.proceed(false)
		}
	}
	if err := writeJSON(s.f.path(rundir.Config), s.cfg); err != nil {
		return nil, err
	}
	if err := s.l.describe(dir); err != nil {
		return nil, err
	}
	if restored {
		// A run killed between its checkpoint and the files after it.
		if err := s.after(true); err != nil {
			return nil, fmt.Errorf("training stopped: %w; %s", err, lastGood(dir))
		}
	}
	verb := "training"
	switch {
	case restored:
		verb = fmt.Sprintf("resuming after %s %d:", unit, done)
	case resume:
		verb = fmt.Sprintf("resuming from the first %s (no checkpoint yet):", unit)
	}
	fmt.Fprintln(log, s.l.started(verb, dir))
	if restored && done < budget {
		// A finished run trained on is no longer finished: its summary
		// comes again at the end.
		if err := os.Remove(s.f.path(rundir.Summary)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, errors.Wrapf(err, "run folder %s", dir)
		}
	}
	if err := s.l.proceed(true); err != nil {
		return nil, err
	}
	var lines *epochLog
	stop := s.opts.Stop
	err := s.l.fit(ck, stop.saving, func(line string, step, steps int) error {
		if lines == nil {
			lines = newEpochLog(log, steps, s.opts.Progress)
		}
		defer stop.saved(lines)
		if err := s.after(step == steps); err != nil {
			return err
		}
		lines.line(step, line)
		return nil
	})
	stop.saved(lines) // a step whose checkpoint failed
	if lines != nil {
		lines.flush()
	}
	if err != nil {
		s.draw() // the curves of the saved steps, if it can
		return nil, fmt.Errorf("training stopped: %w; %s", err, lastGood(dir))
	}
	if err := s.draw(); err != nil {
		return nil, err
	}
	if s.l.table().Rows() == 0 {
		return nil, errors.Errorf("run folder %s: nothing to train (%s asked for)", dir, plural(budget, unit))
	}
	sum, notes, err := s.l.summary()
	if err != nil {
		return nil, err
	}
	for _, n := range notes {
		fmt.Fprintln(log, n)
	}
	sum.WallSeconds = time.Since(s.start).Seconds()
	if err := writeJSON(s.f.path(rundir.Summary), sum); err != nil {
		return nil, err
	}
	return sum, nil
}

// after writes the files that follow the checkpoint of the last saved
// step: the weights, the best weights, metrics.csv and, at most every 2 s
// (drawing takes tens of milliseconds, longer than xor's epochs) and after
// the last step, curves.png.
func (s *session) after(last bool) error {
	if err := train.SaveWeights(s.f.path(rundir.Weights), s.l.graph()); err != nil {
		return err
	}
	if s.l.isBest() {
		if err := train.SaveWeights(s.f.path(rundir.Best), s.l.graph()); err != nil {
			return err
		}
	}
	if err := atomicfile.WriteFile(s.f.path(rundir.Metrics), s.l.table().Encode(), 0o644); err != nil {
		return err
	}
	if last || time.Since(s.lastDraw) >= 2*time.Second {
		return s.draw()
	}
	return nil
}

// draw writes curves.png from the rows saved, if it lacks some.
func (s *session) draw() error {
	t := s.l.table()
	if t.Rows() == s.drawn {
		return nil
	}
	s.drawn, s.lastDraw = t.Rows(), time.Now()
	return writeCurves(s.f.path(rundir.Curves), s.cfg.Model, t, s.l.curves())
}

// finishedAt says how far a finished run got: "3 epochs, stopped early".
func finishedAt(done int, unit string, sum *run.Summary) string {
	how := plural(done, unit)
	if sum.Stopped {
		how += ", stopped early"
	}
	return how
}

// lastGood says what a run that stopped left to resume from: the
// checkpoint in dir and the epoch it holds, read from the file itself,
// or that there is none.
func lastGood(dir string) string {
	path := filepath.Join(dir, rundir.Checkpoint)
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		if _, err := os.Lstat(filepath.Join(dir, rundir.AgentCheckpoint)); err == nil {
			return "the last good checkpoint is " + filepath.Join(dir, rundir.AgentCheckpoint)
		}
		return "no checkpoint was written"
	}
	ck, err := train.ReadCheckpointInfo(path)
	if err != nil {
		return fmt.Sprintf("no checkpoint can be read (%v)", err)
	}
	return fmt.Sprintf("the last good checkpoint is %s (epoch %d)", path, ck.Epoch)
}
