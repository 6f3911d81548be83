package run

import (
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/dlrun/dlrun/internal/safeio"
	"github.com/dlrun/dlrun/nn"
	"github.com/dlrun/dlrun/train"
	"github.com/pkg/errors"
)

// Options say where a run reads and writes.
type Options struct {
	// Out is the run folder. Empty: runs/<model>-<timestamp>, with a
	// suffix -2, -3, ... when that exists (runs started in one second).
	Out string
	// Log receives the run's lines (nil: nothing is printed): what it
	// trains, then a line per epoch where Progress is set, otherwise
	// those of about 20 evenly spaced epochs and of the last.
	Log io.Writer
	// Progress draws a progress bar with the loss and samples/s on Log
	// during each epoch, and prints every epoch's line; meant for a
	// terminal.
	Progress bool
	// Data, if set, is the data to train on instead of the dataset the
	// configuration names (a subset, say); config.json records its name.
	Data *Data
	// Collective, if set, trains data-parallel with the other processes
	// it joins (train.Collective; dlrun's MPI build gives one). Every
	// process calls Train, or Resume, with the same arguments; rank 0
	// writes the run folder, and every other rank writes nothing, logs
	// nothing and returns a nil Summary: a follower. To resume, every
	// rank must be able to read the run folder's config.json and
	// model.json (one host, or a shared file system); rank 0 sends the
	// checkpoint to the others.
	Collective train.Collective
	// Started, if set, is called with the run folder's path once the
	// folder is locked, before anything is trained: a command that may be
	// interrupted learns where the run is (Stopped says what it saved).
	Started func(dir string)
}

// Follower reports whether opts make this process a follower of
// data-parallel training: a rank other than 0.
func (opts Options) Follower() bool {
	return opts.Collective != nil && opts.Collective.Size() > 1 && opts.Collective.Rank() != 0
}

// Summary is the content of summary.json, written last in a run folder.
type Summary struct {
	Model        string  `json:"model"`
	Task         string  `json:"task"`
	Dataset      string  `json:"dataset"`
	Seed         uint64  `json:"seed"`
	Epochs       int     `json:"epochs"` // epochs trained in all (fewer than configured after early stopping)
	BatchSize    int     `json:"batch_size"`
	DType        string  `json:"dtype"`
	Optimizer    string  `json:"optimizer"`
	LearningRate float64 `json:"learning_rate"` // the base rate; metrics.csv has each epoch's
	Params       int     `json:"params"`
	TrainLoss    float64 `json:"train_loss"`
	TestLoss     float64 `json:"test_loss"`
	TestAccuracy float64 `json:"test_accuracy"` // for a task scored by accuracy
	// Derived holds the task's other test figures by name: its metrics
	// besides accuracy (rmse, mae) and the figure derived from the test
	// loss (train.Deriver; bits_per_char for next-token prediction).
	// summary.json writes each as test_<name>.
	Derived map[string]float64 `json:"-"`
	// BestEpoch is the epoch best.safetensors holds: the best by Monitor
	// (the first of equals), as Keras's ModelCheckpoint(save_best_only)
	// and EarlyStopping(restore_best_weights) choose it.
	BestEpoch int    `json:"best_epoch"`
	Monitor   string `json:"monitor"` // the figure that chose BestEpoch: test_loss (default) or test_<metric>
	// Stopped reports whether early stopping ended the run before its
	// configured epochs.
	Stopped       bool    `json:"early_stopped"`
	SamplesPerSec float64 `json:"samples_per_sec"` // training examples (tokens, ratings; an agent's environment steps) per second of training, over every epoch of the run
	WallSeconds   float64 `json:"wall_seconds"`    // from the start of the Train (or last Resume) call to summary.json

	// An agent's (task play): its game, its training budget in
	// environment steps, and its greedy evaluation over EvalEpisodes
	// episodes: the mean return, and in Connect4 the score against each
	// reference opponent (a win 1, a draw ½, half the games first).
	Env          string             `json:"env,omitempty"`
	Steps        int                `json:"steps,omitempty"`
	EvalEpisodes int                `json:"eval_episodes,omitempty"`
	MeanReturn   float64            `json:"mean_return,omitempty"`
	Scores       map[string]float64 `json:"scores,omitempty"`
}

// maxSummary bounds the summary.json that Resume reads.
const maxSummary = 1 << 20

// readSummary reads the summary.json of run folder dir.
func readSummary(dir string) (*Summary, error) {
	b, err := safeio.ReadFile(filepath.Join(dir, summaryFile), maxSummary)
	if err != nil {
		return nil, err
	}
	var s Summary
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, errors.Wrapf(err, "%s", filepath.Join(dir, summaryFile))
	}
	return &s, nil
}

// Train resolves cfg, loads its data (or takes opts.Data), builds its model
// and task, trains it with train's loop, evaluating on the test split after
// every epoch, and records the run in a folder:
//
//   - config.json, the resolved configuration, and model.json, the
//     model's architecture and task, first;
//   - after every epoch: checkpoint.safetensors (weights, optimizer
//     state, RNG states and history, for resuming) first, then
//     model.safetensors (the last weights and buffers), best.safetensors
//     (those of the best epoch by the early-stopping metric, test loss by
//     default), metrics.csv (one row per epoch) and curves.png (loss and
//     accuracy per epoch; at most every 2 s for very short epochs, and
//     after the last);
//   - summary.json, last.
//
// Every file is written atomically, so a run killed at any moment leaves
// whole files; the checkpoint is the record of the last saved epoch, and
// Resume rewrites the files written after it. The folder is locked for
// the whole call: a second Train or Resume into it fails at once with an
// error wrapping ErrInUse. A folder that already holds a run is refused
// (continue it with Resume); one that holds only the config.json and
// model.json of a run that saved no epoch is taken over. A run that fails
// before saving its first epoch removes what it wrote, and the folder if
// it made it.
//
// A batch larger than the data is lowered to what the data fills
// (fitBatch), and config.json records the batch used. If a loss or metric
// becomes NaN or infinite, or a weight does, training stops with an error
// wrapping ErrNotFinite; nothing of that epoch is saved, and the error
// names the checkpoint left and the epoch it holds, or says that there is
// none. A failed write (a full disk) leaves the file it was writing as it
// was and stops training with an error naming the file and the checkpoint
// left.
//
// Where opts.Progress is false (the log is not a terminal), the log gets
// about 20 evenly spaced epoch lines and the last.
func Train(cfg Config, opts Options) (*Summary, error) {
	start := time.Now()
	if err := cfg.Resolve(); err != nil {
		return nil, err
	}
	if IsAgent(cfg.Model) {
		if opts.Collective != nil && opts.Collective.Size() > 1 {
			return nil, errors.Errorf("agent %s trains in one process, not data-parallel", cfg.Model)
		}
		return trainAgent(cfg, opts)
	}
	if opts.Follower() {
		return nil, follow(cfg, opts)
	}
	f, err := newFolder(opts.Out, cfg.Model, start, logWriter(opts))
	if err != nil {
		return nil, err
	}
	opts.started(f.dir)
	defer f.close()
	sum, err := trainNew(cfg, f, opts, start)
	if err != nil {
		f.abandon()
	}
	return sum, err
}

// trainNew is Train in locked folder f.
func trainNew(cfg Config, f *folder, opts Options, start time.Time) (*Summary, error) {
	d, err := data(&cfg, opts)
	if err != nil {
		return nil, err // it names the dataset
	}
	if note := fitBatch(&cfg, d); note != "" {
		fmt.Fprintln(logWriter(opts), note)
	}
	model, task, err := build(&cfg, d)
	if err != nil {
		return nil, err
	}
	cfg.Dataset, cfg.DatasetSHA256 = d.Name, d.SHA256
	cfg.InputShape, cfg.Classes, cfg.Vocab = task.InputShape(), d.Classes, d.Vocab
	cfg.TrainExamples, cfg.TestExamples = d.Train.Len(), d.Test.Len()
	return fit(cfg, d, model, task, f, false, opts, start)
}

// Resume continues the run in folder dir from its checkpoint up to epochs
// in all (0: the configured number), with exactly the weights and metrics
// a run straight through would have had. The model is rebuilt from the
// folder's model.json and the data reloaded from config.json, which must
// still have the SHA-256 the run began with. The folder is locked as
// Train locks it.
//
// A folder without a checkpoint (its run was killed, or failed, before
// saving an epoch) is trained from the first epoch. A finished run
// (summary.json written) resumed to its own number of epochs, or one that
// early stopping ended, is left as it is: Resume says so in the log and
// returns its summary. Asking for fewer epochs than the checkpoint holds
// is an error, and the folder is left as it is. A run killed after its
// last checkpoint but before its summary gets the files it lacked.
func Resume(dir string, epochs int, opts Options) (*Summary, error) {
	start := time.Now()
	if dir == "" {
		return nil, errors.New("resume: no run folder given")
	}
	if epochs < 0 {
		return nil, errors.Errorf("resume: epochs %d: must be positive", epochs)
	}
	if opts.Follower() {
		return nil, followResume(dir, epochs, opts)
	}
	f, err := openFolder(dir)
	if err != nil {
		return nil, err
	}
	defer f.close()
	opts.started(f.dir)
	cfg, err := ReadConfig(dir)
	if err != nil {
		return nil, err
	}
	if epochs > 0 {
		cfg.Epochs = epochs
	}
	// The folder's model.json is the model: the file it was first read
	// from need not exist any more.
	if err := cfg.resolve(false); err != nil {
		return nil, errors.Wrapf(err, "run folder %s: config.json", dir)
	}
	d, err := data(cfg, opts)
	if err != nil {
		return nil, errors.Wrapf(err, "run folder %s: its dataset", dir)
	}
	if d.SHA256 != cfg.DatasetSHA256 {
		return nil, errors.Errorf("run folder %s: dataset %s has changed since the run began (SHA-256 %s, was %s)", dir, cfg.Dataset, d.SHA256, cfg.DatasetSHA256)
	}
	if note := fitBatch(cfg, d); note != "" {
		fmt.Fprintln(logWriter(opts), note)
	}
	info, err := train.ReadInfo(dir)
	if err != nil {
		return nil, err
	}
	model, err := info.Model.Build()
	if err != nil {
		return nil, errors.Wrapf(err, "run folder %s: model.json", dir)
	}
	outputs := info.Outputs
	task, err := newTask(cfg, model, d, outputs)
	if err != nil {
		return nil, err
	}
	return fit(*cfg, d, model, task, f, true, opts, start)
}

// fit trains model on d into run folder f (resuming from its checkpoint,
// if resume and it has one) and writes the folder's files.
func fit(cfg Config, d *Data, model *nn.Sequential, task train.Task, f *folder, resume bool, opts Options, start time.Time) (*Summary, error) {
	log := logWriter(opts)
	dir := f.dir
	perBatch := cfg.BatchSize
	if cfg.Task == NextToken {
		perBatch *= cfg.SeqLen
	}
	tc := trainConfig(cfg, opts)
	if opts.Progress {
		tc.OnBatch = progress(log, perBatch, unitShort(cfg.Task))
	}
	t, err := train.New(model, task, tc)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	cfg.Params = t.NumParams()
	deriver, _ := task.(train.Deriver)
	metrics := task.Metrics()
	if len(metrics) == 0 {
		return nil, errors.Errorf("task %s scores no metric", task.Name())
	}
	ck := f.path(checkpointFile)
	restored := false
	if resume {
		if _, err := os.Lstat(ck); err == nil {
			if err := t.Restore(ck); err != nil {
				return nil, err
			}
			restored = true
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, errors.Wrapf(err, "run folder %s", dir)
		}
	}
	// Decide, before writing anything, whether there is anything to do.
	if done := t.Epoch(); restored {
		if done > cfg.Epochs {
			return nil, errors.Errorf("run folder %s has trained %s already, more than the %d asked for (--epochs); it is left as it was", dir, plural(done, "epoch"), cfg.Epochs)
		}
		if s, err := readSummary(dir); err == nil && s.Epochs == done && (done == cfg.Epochs || s.Stopped) {
			how := ""
			if s.Stopped {
				how = ", stopped early"
			}
			fmt.Fprintf(log, "run folder %s is finished (%s%s): nothing to do\n", dir, plural(done, "epoch"), how)
			if err := proceed(opts.Collective, false); err != nil {
				return nil, err
			}
			return s, nil
		}
	}
	// The checkpoint is the record of the saved epochs; the files written
	// after it are drawn from it.
	saved := t.History()
	var drawn int // epochs in the last curves.png
	var lastDraw time.Time
	curves := func() error {
		if len(saved) == drawn {
			return nil
		}
		drawn, lastDraw = len(saved), time.Now()
		return WriteCurves(f.path(curvesFile), cfg.Model, saved, metrics[0])
	}
	// after writes the files that follow the checkpoint of the last saved
	// epoch. Drawing takes tens of milliseconds: for epochs shorter than
	// that (xor) the curves are redrawn at most every 2 s, and after the
	// last epoch.
	after := func(last bool) error {
		if err := train.SaveWeights(f.path(weightsFile), t.Graph()); err != nil {
			return err
		}
		if t.Best() == len(saved)-1 {
			if err := train.SaveWeights(f.path(bestFile), t.Graph()); err != nil {
				return err
			}
		}
		if err := WriteMetrics(f.path(metricsFile), saved, metrics); err != nil {
			return err
		}
		if last || time.Since(lastDraw) >= 2*time.Second {
			return curves()
		}
		return nil
	}
	if err := writeJSON(f.path(configFile), cfg); err != nil {
		return nil, err
	}
	if !resume {
		if err := t.SaveInfo(dir); err != nil {
			return nil, err
		}
	}
	if restored {
		// A run killed between its checkpoint and the files after it.
		if err := after(true); err != nil {
			return nil, fmt.Errorf("training stopped: %w; %s", err, lastGood(dir))
		}
	}
	verb := "training"
	switch {
	case restored:
		verb = fmt.Sprintf("resuming after epoch %d:", t.Epoch())
	case resume:
		verb = "resuming from the first epoch (no checkpoint yet):"
	}
	unit := map[string]string{NextToken: "token", Rating: "rating"}[cfg.Task]
	if unit == "" {
		unit = "example"
	}
	fmt.Fprintf(log, "%s %s on %s (%d train, %s), %s, writing %s\n",
		verb, cfg.Model, cfg.Dataset, d.Train.Len(), plural(d.Test.Len(), "test "+unit), plural(cfg.Params, "parameter"), dir)
	if restored && t.Epoch() < cfg.Epochs {
		// A finished run trained on is no longer finished: its summary
		// comes again at the end.
		if err := os.Remove(f.path(summaryFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, errors.Wrapf(err, "run folder %s", dir)
		}
	}
	lines := newEpochLog(log, cfg.Epochs, opts.Progress)
	if err := proceed(opts.Collective, true); err != nil {
		return nil, err
	}
	_, err = t.Fit(d.Train, d.Test, func(s train.EpochStats) error {
		if err := checkFinite(s, t.Graph()); err != nil {
			return err
		}
		if err := saveCheckpoint(t, ck); err != nil {
			return err
		}
		saved = t.History()
		if err := after(s.Epoch == cfg.Epochs); err != nil {
			return err
		}
		lines.line(s.Epoch, epochLine(cfg, s, metrics, deriver))
		return nil
	})
	lines.flush()
	if err != nil {
		curves() // the curves of the saved epochs, if it can
		return nil, fmt.Errorf("training stopped: %w; %s", err, lastGood(dir))
	}
	if err := curves(); err != nil {
		return nil, err
	}
	if t.Stopped() {
		fmt.Fprintf(log, "early stopping: %s has not improved for %s; best epoch %d (best.safetensors)\n",
			monitorName(cfg.Monitor), plural(cfg.Patience, "epoch"), t.Best()+1)
	}
	if len(saved) == 0 {
		return nil, errors.Errorf("run folder %s: nothing to train (%s asked for)", dir, plural(cfg.Epochs, "epoch"))
	}
	sum := summarize(cfg, saved, t, deriver)
	sum.WallSeconds = time.Since(start).Seconds()
	if err := writeJSON(f.path(summaryFile), sum); err != nil {
		return nil, err
	}
	return sum, nil
}

// epochLine is the log line of epoch s.
func epochLine(cfg Config, s train.EpochStats, metrics []train.Metric, deriver train.Deriver) string {
	var b strings.Builder
	fmt.Fprintf(&b, "epoch %*d/%d", len(strconv.Itoa(cfg.Epochs)), s.Epoch, cfg.Epochs)
	for _, split := range []string{"train", "test"} {
		fmt.Fprintf(&b, "  %s_loss %.4f", split, s.Value0(split+"_loss"))
		for _, m := range metrics {
			fmt.Fprintf(&b, "  %s_%s %.4f", split, shortName(m.Name), s.Value0(split+"_"+m.Name))
		}
	}
	if deriver != nil {
		name, v := deriver.Derived(s.TestLoss)
		fmt.Fprintf(&b, "  test_%s %.3f", name, v)
	}
	rate := 0.0
	if s.TrainSeconds > 0 {
		rate = float64(s.Samples) / s.TrainSeconds
	}
	fmt.Fprintf(&b, "  lr %.3g  %6.0f %s/s  %.1fs", s.LearningRate, rate, unitShort(cfg.Task), s.Seconds)
	return b.String()
}

// summarize returns the summary of a run whose saved epochs are hist.
// The rate counts every epoch of the run, those before a resume too.
func summarize(cfg Config, hist []train.EpochStats, t *train.Trainer, deriver train.Deriver) *Summary {
	last := hist[len(hist)-1]
	samples, secs := 0.0, 0.0
	for _, s := range hist {
		samples += float64(s.Samples)
		secs += s.TrainSeconds
	}
	sps := 0.0
	if secs > 0 {
		sps = samples / secs
	}
	sum := &Summary{
		Model: cfg.Model, Task: cfg.Task, Dataset: cfg.Dataset, Seed: cfg.Seed, Epochs: last.Epoch, BatchSize: cfg.BatchSize,
		DType: cfg.DType, Optimizer: cfg.Optimizer, LearningRate: t.BaseLearningRate(), Params: cfg.Params,
		TrainLoss: last.TrainLoss, TestLoss: last.TestLoss, TestAccuracy: last.TestAccuracy,
		BestEpoch: t.Best() + 1, Monitor: monitorName(cfg.Monitor), Stopped: t.Stopped(),
		SamplesPerSec: sps,
	}
	for k, v := range last.Metrics {
		if name, ok := strings.CutPrefix(k, "test_"); ok {
			sum.Derived = set(sum.Derived, name, v)
		}
	}
	if deriver != nil {
		name, v := deriver.Derived(last.TestLoss)
		sum.Derived = set(sum.Derived, name, v)
	}
	return sum
}

// logWriter returns the log of opts, io.Discard if none.
func logWriter(opts Options) io.Writer {
	if opts.Log == nil {
		return io.Discard
	}
	return opts.Log
}

// MarshalJSON writes s with each derived figure as test_<name>.
func (s Summary) MarshalJSON() ([]byte, error) {
	if s.Task == Play { // an agent's: the fields of supervised training do not apply
		return json.Marshal(agentSummary{s.Model, s.Task, s.Env, s.Seed, s.Steps, s.EvalEpisodes, s.MeanReturn, s.Scores, s.SamplesPerSec, s.WallSeconds})
	}
	type plain Summary
	b, err := json.Marshal(plain(s))
	if err != nil || len(s.Derived) == 0 {
		return b, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	for k, v := range s.Derived {
		m["test_"+k] = v
	}
	return json.Marshal(m)
}

// agentSummary is the summary.json of an agent.
type agentSummary struct {
	Model         string             `json:"model"`
	Task          string             `json:"task"`
	Env           string             `json:"env"`
	Seed          uint64             `json:"seed"`
	Steps         int                `json:"steps"`
	EvalEpisodes  int                `json:"eval_episodes"`
	MeanReturn    float64            `json:"mean_return"`
	Scores        map[string]float64 `json:"scores,omitempty"`
	SamplesPerSec float64            `json:"samples_per_sec"`
	WallSeconds   float64            `json:"wall_seconds"`
}

// UnmarshalJSON reads what MarshalJSON writes.
func (s *Summary) UnmarshalJSON(b []byte) error {
	type plain Summary
	if err := json.Unmarshal(b, (*plain)(s)); err != nil {
		return err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	for k, raw := range m {
		var v float64
		if name, ok := strings.CutPrefix(k, "test_"); ok && name != "loss" && name != "accuracy" && json.Unmarshal(raw, &v) == nil {
			if s.Derived == nil {
				s.Derived = map[string]float64{}
			}
			s.Derived[name] = v
		}
	}
	return nil
}

// data returns the data of a run: opts.Data, or the dataset cfg names. It
// is a copy, which reading images as rows may change.
func data(cfg *Config, opts Options) (*Data, error) {
	if opts.Data != nil {
		d := *opts.Data
		return &d, nil
	}
	return LoadData(cfg)
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

func unitShort(task string) string {
	switch task {
	case NextToken:
		return "chars"
	case Rating:
		return "ratings"
	}
	return "samples"
}

func monitorName(m string) string {
	if m == "" {
		return "test_loss"
	}
	return m
}
