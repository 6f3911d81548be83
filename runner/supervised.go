package runner

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/nn"
	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/rundir"
	"github.com/dlrun/dlrun/train"
	"github.com/pkg/errors"
)

// supervised is the learner of a supervised kind: train's loop over a
// dataset.
type supervised struct {
	cfg     *run.Config
	kind    run.SupervisedKind
	opts    Options
	d       *run.Data
	t       *train.Trainer
	metrics []train.Metric
	deriver train.Deriver
	saved   []train.EpochStats // the epochs of the last checkpoint
	info    *train.ModelInfo   // a resumed run's model.json (nil: a new model)
}

// newSupervised makes the learner of a run of c, resolved, of kind k: a
// new model on its data, or, from info (a resumed run's model.json), the
// folder's.
func newSupervised(k run.SupervisedKind, c *run.Config, opts Options, info *train.ModelInfo) (*supervised, error) {
	if opts.Steps != 0 {
		return nil, errors.Errorf("steps %d does not apply to model %s: it is a %s model, whose budget is its epochs (--epochs)", opts.Steps, c.Model, c.Task)
	}
	if opts.Epochs != 0 {
		c.Epochs = opts.Epochs
	}
	if info == nil && opts.Data == nil && c.Dataset == "" {
		return nil, errors.Errorf("--data: model %s has no dataset of its own for a %s run: name one (a CSV table needs --target COLUMN too)", c.Model, c.Task)
	}
	d, err := dataOf(k, c, opts)
	switch {
	case err == nil:
	case info != nil && opts.Data == nil && opts.Dataset == "" && !errors.Is(err, ErrNoDataset):
		// A resumed run trained on data given in memory, under a name
		// no reader knows: ask for the data.
		return nil, fmt.Errorf("%w: it was trained on dataset %q, which cannot be loaded here (%v)", ErrNoDataset, c.Dataset, err)
	default:
		return nil, err // it names the dataset
	}
	if err := c.CheckDatasetSHA256(d.SHA256); err != nil {
		return nil, err
	}
	if note := k.FitBatch(c, d); note != "" && !opts.Follower() {
		fmt.Fprintln(logWriter(opts), note)
	}
	if len(d.Skipped) > 0 && !opts.Follower() {
		logSkipped(logWriter(opts), d.Skipped)
	}
	var model *nn.Sequential
	var task train.Task
	if info == nil {
		if model, task, err = k.Build(c, d); err != nil {
			return nil, err
		}
		c.Record(d, task)
	} else {
		if model, err = info.Model.Build(); err != nil {
			return nil, errors.Wrap(err, "model.json")
		}
		if task, err = k.NewTask(info); err != nil {
			return nil, err
		}
		if err := k.Prepare(model, d); err != nil {
			return nil, err
		}
		if c.DatasetSHA256 == "" { // a model trained from Go: the data it goes on with
			c.Record(d, task)
		}
	}
	tc := k.Loop(c)
	tc.Collective = opts.Collective
	s := &supervised{cfg: c, kind: k, opts: opts, d: d, info: info}
	if opts.Progress && !opts.Follower() {
		tc.OnBatch = progressBar(logWriter(opts), c.BatchSize*max(c.SeqLen, 1), k.Progress().Rate)
	}
	if s.t, err = train.New(model, task, tc); err != nil {
		return nil, err
	}
	c.Params = s.t.NumParams()
	s.deriver, _ = task.(train.Deriver)
	if s.metrics = task.Metrics(); len(s.metrics) == 0 {
		s.t.Close()
		return nil, errors.Errorf("task %s scores no metric", task.Name())
	}
	return s, nil
}

// ErrNoDataset is wrapped by the error of resuming a run that records no
// dataset it can load (its model was trained from Go, or on data given in
// memory) without naming one (Options.Dataset, --data).
var ErrNoDataset = errors.New("--data: name the dataset to train on: the run does not record one that can be loaded (its model was trained on data given in memory)")

// dataOf returns the data of a run of c: opts.Data (a copy, which reading
// images as rows may change), or the dataset c names. A run that records
// no dataset (a model trained from Go on data in memory) asks for one.
func dataOf(k run.SupervisedKind, c *run.Config, opts Options) (*run.Data, error) {
	if opts.Data != nil {
		d := *opts.Data
		return &d, nil
	}
	if c.Dataset == "" {
		return nil, ErrNoDataset
	}
	return k.Data(c)
}

func (s *supervised) folderName() string {
	if run.IsModelFile(s.cfg.Model) {
		name := filepath.Base(s.cfg.Model)
		return name[:len(name)-len(filepath.Ext(name))]
	}
	return s.cfg.Model
}

func (s *supervised) checkpoint() string { return rundir.Checkpoint }

func (s *supervised) restore(path string) (bool, error) {
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	if err := s.t.Restore(path); err != nil {
		return false, err
	}
	s.saved = s.t.History()
	return true, nil
}

func (s *supervised) progress() (int, int, string, string) {
	return s.t.Epoch(), s.cfg.Epochs, "epoch", "--epochs"
}

func (s *supervised) finished(sum *run.Summary) bool {
	done := s.t.Epoch()
	return sum.Epochs == done && (done == s.cfg.Epochs || sum.Stopped)
}

// describe writes model.json, unless the folder has one: a resumed run's
// is the model.
func (s *supervised) describe(dir string) error {
	if _, err := os.Lstat(filepath.Join(dir, rundir.Model)); err == nil {
		return nil
	}
	return s.t.SaveInfo(dir)
}

func (s *supervised) started(verb, dir string) string {
	unit := s.kind.Progress().Unit
	return fmt.Sprintf("%s %s on %s (%d train, %s), %s, writing %s",
		verb, s.cfg.Model, s.cfg.Dataset, s.d.Train.Len(), plural(s.d.Test.Len(), "test "+unit), plural(s.cfg.Params, "parameter"), dir)
}

func (s *supervised) fit(ck string, saving func(), saved func(string, int, int) error) error {
	_, err := s.t.Fit(s.d.Train, s.d.Test, func(e train.EpochStats) error {
		if err := checkFinite(e, s.t.Graph()); err != nil {
			return err
		}
		saving()
		if err := saveCheckpoint(s.t, ck); err != nil {
			return err
		}
		s.saved = s.t.History()
		return saved(s.line(e), e.Epoch, s.cfg.Epochs)
	})
	return err
}

func (s *supervised) graph() *graph.Graph { return s.t.Graph() }

func (s *supervised) isBest() bool { return s.t.Best() == len(s.saved)-1 }

// table returns metrics.csv's rows: epoch, train_loss, train_<metric>...,
// [train_<derived>], test_loss, test_<metric>..., [test_<derived>],
// learning_rate, seconds.
func (s *supervised) table() *rundir.Table {
	cols := []string{"epoch"}
	derived := ""
	if s.deriver != nil {
		derived, _ = s.deriver.Derived(0)
	}
	for _, split := range []string{"train", "test"} {
		cols = append(cols, split+"_loss")
		for _, m := range s.metrics {
			cols = append(cols, split+"_"+m.Name)
		}
		if derived != "" {
			cols = append(cols, split+"_"+derived)
		}
	}
	cols = append(cols, "learning_rate", "seconds")
	t := rundir.NewTable(cols...)
	row := make([]float64, len(cols))
	for _, e := range s.saved {
		for i, c := range cols {
			switch {
			case c == "epoch":
				row[i] = float64(e.Epoch)
			case c == "seconds":
				row[i] = e.Seconds
			case derived != "" && strings.HasSuffix(c, "_"+derived):
				_, row[i] = s.deriver.Derived(e.Value0(strings.TrimSuffix(c, derived) + "loss"))
			default:
				row[i], _ = e.Value(c)
			}
		}
		t.Append(row...)
	}
	return t
}

func (s *supervised) curves() []panel {
	h := s.kind.Progress().Headline
	return []panel{{"loss", "train_loss", "test_loss", true}, {h.Name, "train_" + strings.TrimPrefix(h.Column, "test_"), h.Column, !h.HigherIsBetter}}
}

// line is the log line of epoch e.
func (s *supervised) line(e train.EpochStats) string {
	var b strings.Builder
	fmt.Fprintf(&b, "epoch %*d/%d", len(strconv.Itoa(s.cfg.Epochs)), e.Epoch, s.cfg.Epochs)
	for _, split := range []string{"train", "test"} {
		fmt.Fprintf(&b, "  %s_loss %.4f", split, e.Value0(split+"_loss"))
		for _, m := range s.metrics {
			fmt.Fprintf(&b, "  %s_%s %.4f", split, shortName(m.Name), e.Value0(split+"_"+m.Name))
		}
	}
	if s.deriver != nil {
		name, v := s.deriver.Derived(e.TestLoss)
		fmt.Fprintf(&b, "  test_%s %.3f", name, v)
	}
	rate := 0.0
	if e.TrainSeconds > 0 {
		rate = float64(e.Samples) / e.TrainSeconds
	}
	fmt.Fprintf(&b, "  lr %.3g  %6.0f %s/s  %.1fs", e.LearningRate, rate, s.kind.Progress().Rate, e.Seconds)
	return b.String()
}

// summary returns the summary of the run whose saved epochs are s.saved.
// The rate counts every epoch of the run, those before a resume too.
func (s *supervised) summary() (*run.Summary, []string, error) {
	var notes []string
	if s.t.Stopped() {
		notes = append(notes, fmt.Sprintf("early stopping: %s has not improved for %s; best epoch %d (best.safetensors)",
			monitorName(s.cfg.Monitor), plural(s.cfg.Patience, "epoch"), s.t.Best()+1))
	}
	cfg, hist := s.cfg, s.saved
	last := hist[len(hist)-1]
	samples, secs := 0.0, 0.0
	for _, e := range hist {
		samples += float64(e.Samples)
		secs += e.TrainSeconds
	}
	sps := 0.0
	if secs > 0 {
		sps = samples / secs
	}
	sum := &run.Summary{
		Model: cfg.Model, Task: cfg.Task, Dataset: cfg.Dataset, Seed: cfg.Seed, Epochs: last.Epoch, BatchSize: cfg.BatchSize,
		DType: cfg.DType, Optimizer: cfg.Optimizer, LearningRate: s.t.BaseLearningRate(), Params: cfg.Params,
		TrainLoss: last.TrainLoss, TestLoss: last.TestLoss, TestAccuracy: last.TestAccuracy,
		NoAccuracy: !slices.ContainsFunc(s.metrics, func(m train.Metric) bool { return m.Name == train.Accuracy.Name }),
		BestEpoch:  s.t.Best() + 1, Monitor: monitorName(cfg.Monitor), Stopped: s.t.Stopped(),
		SamplesPerSec: sps, SkippedImages: len(s.d.Skipped),
	}
	for k, v := range last.Metrics {
		if name, ok := strings.CutPrefix(k, "test_"); ok {
			sum.Derived = set(sum.Derived, name, v)
		}
	}
	if s.deriver != nil {
		name, v := s.deriver.Derived(last.TestLoss)
		sum.Derived = set(sum.Derived, name, v)
	}
	return sum, notes, nil
}

func (s *supervised) proceed(on bool) error { return proceed(s.opts.Collective, on) }

func (s *supervised) close() { s.t.Close() }

// maxSkippedLogged is the most skipped images the log names one by one.
const maxSkippedLogged = 20

// logSkipped writes to w the images of an image folder skipped as
// unreadable: each one's line, the first maxSkippedLogged of them.
func logSkipped(w io.Writer, skipped []string) {
	fmt.Fprintf(w, "skipped %s (skip_bad):\n", plural(len(skipped), "unreadable image"))
	for i, s := range skipped {
		if i == maxSkippedLogged {
			fmt.Fprintf(w, "  ... and %d more\n", len(skipped)-i)
			break
		}
		fmt.Fprintf(w, "  %s\n", s)
	}
}

// set returns m with m[k] = v, making m if it is nil.
func set(m map[string]float64, k string, v float64) map[string]float64 {
	if m == nil {
		m = map[string]float64{}
	}
	m[k] = v
	return m
}

// shortName abbreviates a metric's name in the epoch log line.
func shortName(name string) string {
	if name == train.Accuracy.Name {
		return "acc"
	}
	return name
}

func monitorName(m string) string {
	if m == "" {
		return "test_loss"
	}
	return m
}

// follow trains as a follower of data-parallel training the run that rank
// 0 trains: the same data, model and task, no folder and no log, once rank
// 0 says to (it may not: a resumed run that had finished). The checkpoint
// comes from rank 0 when training starts.
func (s *supervised) follow() error {
	on, err := awaitProceed(s.opts.Collective)
	if err != nil || !on {
		return err
	}
	_, err = s.t.Fit(s.d.Train, s.d.Test, func(e train.EpochStats) error {
		return checkFinite(e, s.t.Graph())
	})
	if err != nil {
		return fmt.Errorf("training stopped: %w", err)
	}
	return nil
}
