package run

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/dlrun/dlrun/nn"
	"github.com/dlrun/dlrun/train"
	"github.com/pkg/errors"
)

// Options say where a run reads and writes.
type Options struct {
	// Out is the run folder. Empty: runs/<model>-<timestamp>.
	Out string
	// Log receives one line per epoch (nil: nothing is printed).
	Log io.Writer
	// Progress draws a progress bar with the loss and samples/s on Log
	// during each epoch; meant for a terminal.
	Progress bool
	// Data, if set, is the data to train on instead of the dataset the
	// configuration names (a subset, say); config.json records its name.
	Data *Data
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
	Derived       map[string]float64 `json:"-"`
	BestEpoch     int                `json:"best_epoch"` // the epoch best.safetensors holds
	Stopped       bool               `json:"early_stopped,omitempty"`
	SamplesPerSec float64            `json:"samples_per_sec"` // training examples (tokens) per second of training time
	WallSeconds   float64            `json:"wall_seconds"`
}

// Train resolves cfg, loads its data (or takes opts.Data), builds its model
// and task, trains it with train's loop, evaluating on the test split after
// every epoch, and records the run in a folder:
//
//   - config.json, the resolved configuration, and model.json, the
//     model's architecture and task, first;
//   - after every epoch: metrics.csv (one row per epoch), curves.png (loss
//     and accuracy per epoch; at most every 2 s for very short epochs, and
//     after the last), model.safetensors (the last weights and buffers),
//     best.safetensors (those of the best epoch by the early-stopping
//     metric, test loss by default) and checkpoint.safetensors (weights,
//     optimizer state, RNG states and history, for resuming);
//   - summary.json, last.
//
// Every file is written atomically, so a run killed at any moment leaves
// the files of its last complete epoch. A folder that already holds a run
// is refused: continue it with Resume. If the loss becomes NaN or
// infinite, Train stops with an error that names the last good checkpoint.
func Train(cfg Config, opts Options) (*Summary, error) {
	start := time.Now()
	if err := cfg.Resolve(); err != nil {
		return nil, err
	}
	d, err := data(&cfg, opts)
	if err != nil {
		return nil, errors.Wrapf(err, "dataset")
	}
	model, task, err := build(&cfg, d)
	if err != nil {
		return nil, err
	}
	cfg.Dataset, cfg.DatasetSHA256 = d.Name, d.SHA256
	cfg.InputShape, cfg.Classes, cfg.Vocab = task.InputShape(), d.Classes, d.Vocab
	cfg.TrainExamples, cfg.TestExamples = d.Train.Len(), d.Test.Len()
	dir, created, err := runDir(opts.Out, cfg.Model, start)
	if err != nil {
		return nil, err
	}
	sum, err := fit(cfg, d, model, task, dir, false, opts, start)
	if err != nil && created {
		os.Remove(dir) // removes the folder only if the run wrote nothing into it
	}
	return sum, err
}

// Resume continues the run in folder dir from its checkpoint up to epochs
// in all (0: the configured number), with exactly the weights and metrics
// a run straight through would have had. The model is rebuilt from the
// folder's model.json and the data reloaded from config.json, which must
// still have the SHA-256 the run began with.
func Resume(dir string, epochs int, opts Options) (*Summary, error) {
	start := time.Now()
	if dir == "" {
		return nil, errors.New("resume: no run folder given")
	}
	cfg, err := ReadConfig(dir)
	if err != nil {
		return nil, err
	}
	if epochs < 0 {
		return nil, errors.Errorf("resume: epochs %d: must be positive", epochs)
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
	return fit(*cfg, d, model, task, dir, true, opts, start)
}

// fit trains model on d into run folder dir (resuming from its checkpoint
// if resume) and writes the folder's files.
func fit(cfg Config, d *Data, model *nn.Sequential, task train.Task, dir string, resume bool, opts Options, start time.Time) (*Summary, error) {
	log := opts.Log
	if log == nil {
		log = io.Discard
	}
	perBatch := cfg.BatchSize
	if cfg.Task == NextToken {
		perBatch *= cfg.SeqLen
	}
	tc := cfg.Config
	if cfg.Task == Rating && !IsModelFile(cfg.Model) {
		tc.WeightDecay = 0 // the reference recommenders apply it to the rows of each batch (nn.Options.L2)
	}
	if opts.Progress {
		tc.OnBatch = progress(log, perBatch)
	}
	t, err := train.New(model, task, tc)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	cfg.Params = t.NumParams()
	ck := filepath.Join(dir, "checkpoint.safetensors")
	if resume {
		if err := t.Restore(ck); err != nil {
			return nil, err
		}
		if t.Epoch() > cfg.Epochs {
			return nil, errors.Errorf("run folder %s has trained %d epochs already, more than the %d asked for", dir, t.Epoch(), cfg.Epochs)
		}
	}
	if err := writeJSON(filepath.Join(dir, "config.json"), cfg); err != nil {
		return nil, err
	}
	if err := t.SaveInfo(dir); err != nil {
		return nil, err
	}
	verb := "training"
	if resume {
		verb = fmt.Sprintf("resuming after epoch %d:", t.Epoch())
	}
	unit := map[string]string{NextToken: "tokens", Rating: "ratings"}[cfg.Task]
	if unit == "" {
		unit = "examples"
	}
	fmt.Fprintf(log, "%s %s on %s (%d train, %d test %s), %d parameters, writing %s\n",
		verb, cfg.Model, cfg.Dataset, d.Train.Len(), d.Test.Len(), unit, cfg.Params, dir)
	deriver, _ := task.(train.Deriver)
	metrics := task.Metrics()
	if len(metrics) == 0 {
		return nil, errors.Errorf("task %s scores no metric", task.Name())
	}
	trainSecs := 0.0
	var drawn int // epochs in the last curves.png
	var lastDraw time.Time
	curves := func() error {
		rows := t.History()
		if len(rows) == drawn {
			return nil
		}
		drawn, lastDraw = len(rows), time.Now()
		return WriteCurves(filepath.Join(dir, "curves.png"), cfg.Model, rows, metrics[0])
	}
	hist, err := t.Fit(d.Train, d.Test, func(s train.EpochStats) error {
		trainSecs += s.TrainSeconds
		var b strings.Builder
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
		fmt.Fprintf(log, "epoch %*d/%d%s  lr %.3g  %6.0f %s/s  %.1fs\n",
			len(strconv.Itoa(cfg.Epochs)), s.Epoch, cfg.Epochs, b.String(),
			s.LearningRate, float64(s.Samples)/s.TrainSeconds, unitShort(cfg.Task), s.Seconds)
		rows := t.History()
		if t.Best() == len(rows)-1 {
			if err := train.SaveWeights(filepath.Join(dir, "best.safetensors"), t.Graph()); err != nil {
				return err
			}
		}
		if err := train.SaveWeights(filepath.Join(dir, "model.safetensors"), t.Graph()); err != nil {
			return err
		}
		if err := t.SaveCheckpoint(ck); err != nil {
			return err
		}
		if err := WriteMetrics(filepath.Join(dir, "metrics.csv"), rows, metrics); err != nil {
			return err
		}
		// Drawing takes tens of milliseconds: for epochs shorter than that
		// (xor) the curves are redrawn at most every 2 s, and after the end.
		if time.Since(lastDraw) >= 2*time.Second || s.Epoch == cfg.Epochs {
			return curves()
		}
		return nil
	})
	if cerr := curves(); err == nil {
		err = cerr
	}
	if err != nil {
		if t.Epoch() > 0 {
			return nil, errors.Wrapf(err, "training stopped; the last good checkpoint (epoch %d) is %s", t.Epoch(), ck)
		}
		return nil, err
	}
	all := t.History()
	if t.Stopped() {
		fmt.Fprintf(log, "early stopping: %s has not improved for %d epochs; best epoch %d (best.safetensors)\n",
			monitorName(cfg.Monitor), cfg.Patience, t.Best()+1)
	}
	if len(all) == 0 {
		return nil, errors.Errorf("run folder %s: nothing to train (already %d epochs)", dir, t.Epoch())
	}
	last := all[len(all)-1]
	sps := 0.0
	if trainSecs > 0 {
		sps = float64(d.Train.Len()*len(hist)) / trainSecs
	}
	sum := &Summary{
		Model: cfg.Model, Task: cfg.Task, Dataset: cfg.Dataset, Seed: cfg.Seed, Epochs: last.Epoch, BatchSize: cfg.BatchSize,
		DType: cfg.DType, Optimizer: cfg.Optimizer, LearningRate: t.BaseLearningRate(), Params: cfg.Params,
		TrainLoss: last.TrainLoss, TestLoss: last.TestLoss, TestAccuracy: last.TestAccuracy,
		BestEpoch: t.Best() + 1, Stopped: t.Stopped(),
		SamplesPerSec: sps, WallSeconds: time.Since(start).Seconds(),
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
	if err := writeJSON(filepath.Join(dir, "summary.json"), sum); err != nil {
		return nil, err
	}
	return sum, nil
}

// MarshalJSON writes s with each derived figure as test_<name>.
func (s Summary) MarshalJSON() ([]byte, error) {
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
