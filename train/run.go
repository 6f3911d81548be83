package train

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/internal/atomicfile"
	"github.com/dlrun/dlrun/internal/version"
	"github.com/dlrun/dlrun/nn"
	"github.com/pkg/errors"
	"github.com/schollz/progressbar/v3"
)

// RunConfig is the full, resolved configuration of a training run of a
// reference model. It is what config.json in the run folder holds, and is
// enough to repeat the run.
type RunConfig struct {
	Model         string   `json:"model"`
	Dataset       string   `json:"dataset"`
	DatasetSHA256 string   `json:"dataset_sha256"`
	InputShape    []int    `json:"input_shape"`
	Classes       []string `json:"classes"`
	TrainExamples int      `json:"train_examples"`
	TestExamples  int      `json:"test_examples"`
	Epochs        int      `json:"epochs"`
	BatchSize     int      `json:"batch_size"`
	Optimizer     string   `json:"optimizer"`
	LearningRate  float64  `json:"learning_rate"`
	WeightDecay   float64  `json:"weight_decay"`
	ClipNorm      float64  `json:"clip_norm"`
	ClipValue     float64  `json:"clip_value"`
	Loss          string   `json:"loss"`
	Cell          string   `json:"cell,omitempty"`        // lstm or gru, for the recurrent models
	SeqLen        int      `json:"seq_len,omitempty"`     // language models: steps per batch
	Vocab         []string `json:"vocab,omitempty"`       // language models: the tokens in id order
	Schedule      string   `json:"lr_schedule,omitempty"` // constant, step or cosine
	StepEvery     int      `json:"lr_step_every,omitempty"`
	Gamma         float64  `json:"lr_gamma,omitempty"`
	Patience      int      `json:"patience,omitempty"` // early stopping; 0: off
	Monitor       string   `json:"monitor,omitempty"`  // test_loss or test_accuracy
	Seed          uint64   `json:"seed"`
	DType         string   `json:"dtype"`
	NoShuffle     bool     `json:"no_shuffle"`
	Params        int      `json:"params"`
	Version       string   `json:"dlrun_version"`
}

// Summary is the content of summary.json, written last in a run folder.
type Summary struct {
	Model         string  `json:"model"`
	Dataset       string  `json:"dataset"`
	Seed          uint64  `json:"seed"`
	Epochs        int     `json:"epochs"`
	BatchSize     int     `json:"batch_size"`
	DType         string  `json:"dtype"`
	Optimizer     string  `json:"optimizer"`
	LearningRate  float64 `json:"learning_rate"`
	Params        int     `json:"params"`
	TrainLoss     float64 `json:"train_loss"`
	TestLoss      float64 `json:"test_loss"`
	TestAccuracy  float64 `json:"test_accuracy"`
	SamplesPerSec float64 `json:"samples_per_sec"` // training examples per second of training time
	WallSeconds   float64 `json:"wall_seconds"`
}

// RunOptions says where a run writes.
type RunOptions struct {
	// Out is the run folder. Empty: runs/<model>-<timestamp>.
	Out string
	// Log receives one line per epoch (nil: nothing is printed).
	Log io.Writer
	// Progress draws a progress bar with the loss and samples/s on Log
	// during each epoch; meant for a terminal.
	Progress bool
	// Resume continues the run in Out from its checkpoint.
	Resume bool
}

// Defaults fills the zero fields of c from the recipe of its reference
// model (epochs, batch size, optimizer, learning rate, loss) and the
// defaults of the loop (seed 1, float32).
func (c *RunConfig) Defaults() error {
	ref, err := nn.ReferenceByName(c.Model)
	if err != nil {
		return err
	}
	r := ref.Recipe
	if c.Epochs == 0 {
		c.Epochs = r.Epochs
	}
	if c.BatchSize == 0 {
		c.BatchSize = r.BatchSize
	}
	if c.Optimizer == "" {
		c.Optimizer = r.Optimizer
	}
	if c.LearningRate == 0 {
		c.LearningRate = r.LearningRate
	}
	if c.Loss == "" {
		c.Loss = r.Loss
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.DType == "" {
		c.DType = string(graph.Float32)
	}
	if (r.Sequence || r.LanguageModel) && c.Cell == "" {
		c.Cell = "lstm"
	}
	c.Version = version.Version
	return nil
}

// NewTrainer builds the reference model named by c and a Trainer for it
// from the (defaulted) configuration.
func (c *RunConfig) NewTrainer() (*Trainer, error) { return c.newTrainer(nil) }

func (c *RunConfig) newTrainer(onBatch func(done, total int, loss float64)) (*Trainer, error) {
	if err := c.Defaults(); err != nil {
		return nil, err
	}
	if c.Epochs < 0 || c.BatchSize < 0 {
		return nil, errors.Errorf("epochs (%d) and batch size (%d) must be positive", c.Epochs, c.BatchSize)
	}
	dt, err := graph.ParseDType(c.DType)
	if err != nil {
		return nil, err
	}
	loss, err := LossByName(c.Loss)
	if err != nil {
		return nil, err
	}
	c.Loss = loss.Name
	opt, err := OptimizerByName(c.Optimizer, c.LearningRate)
	if err != nil {
		return nil, err
	}
	c.Optimizer = opt.Name()
	*opt.Options() = Regularization{WeightDecay: c.WeightDecay, ClipNorm: c.ClipNorm, ClipValue: c.ClipValue}
	ref, err := nn.ReferenceByName(c.Model)
	if err != nil {
		return nil, err
	}
	classes := len(c.Classes)
	if classes == 0 {
		return nil, errors.New("run config names no classes")
	}
	outputs := classes
	if loss.Kind != graph.SoftmaxCrossEntropy && classes == 2 {
		outputs = 1 // one logit (bce) or one regression output (mse) for two classes
	}
	mopt, err := modelOptions(c.Cell)
	if err != nil {
		return nil, err
	}
	model, err := ref.Build(c.InputShape, outputs, mopt)
	if err != nil {
		return nil, err
	}
	sched, err := ScheduleByName(c.Schedule, c.StepEvery, c.Gamma)
	if err != nil {
		return nil, err
	}
	t, err := New(model, c.InputShape, outputs, Config{
		Epochs: c.Epochs, BatchSize: c.BatchSize, Seed: c.Seed, DType: dt,
		Loss: loss, Optimizer: opt, NoShuffle: c.NoShuffle, OnBatch: onBatch,
		Schedule: sched, EarlyStopping: EarlyStopping{Patience: c.Patience, Monitor: c.Monitor},
	})
	if err != nil {
		return nil, err
	}
	c.Params = t.NumParams()
	return t, nil
}

// Run trains the reference model described by cfg on train, evaluates it
// on test after every epoch, and records the run in a folder:
//
//   - config.json, the resolved configuration, first;
//   - after every epoch: metrics.csv (one row per epoch), curves.png (loss
//     and accuracy per epoch; at most every 2 s for very short epochs, and
//     after the last), model.safetensors (the last weights),
//     best.safetensors (the weights of the best epoch by the early-stopping
//     metric, test loss by default) and checkpoint.safetensors (weights,
//     optimizer state, RNG states and history, for resuming);
//   - summary.json, last.
//
// Every file is written atomically, so a run killed at any moment leaves
// the files of its last complete epoch. A folder that already holds a run
// is refused unless opts.Resume is set: then training continues from the
// folder's checkpoint up to cfg.Epochs, with exactly the weights and
// metrics a run straight through would have had. If the loss becomes NaN
// or infinite, Run stops with an error that names the last good
// checkpoint.
func Run(cfg RunConfig, train, test Data, opts RunOptions) (*Summary, error) {
	start := time.Now()
	log, onBatch := opts.output(func() int { return cfg.BatchSize })
	t, err := cfg.newTrainer(onBatch)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	var dir string
	if opts.Resume {
		if dir = opts.Out; dir == "" {
			return nil, errors.New("resume: no run folder given")
		}
		if err := t.Restore(filepath.Join(dir, "checkpoint.safetensors")); err != nil {
			return nil, err
		}
	} else if dir, err = runDir(opts.Out, cfg.Model, start); err != nil {
		return nil, err
	}
	if err := writeJSON(filepath.Join(dir, "config.json"), cfg); err != nil {
		return nil, err
	}
	verb := "training"
	if opts.Resume {
		verb = fmt.Sprintf("resuming after epoch %d:", t.Epoch())
	}
	fmt.Fprintf(log, "%s %s on %s (%d train, %d test examples), %d parameters, writing %s\n",
		verb, cfg.Model, cfg.Dataset, train.Len(), test.Len(), cfg.Params, dir)
	trainSecs := 0.0
	es := t.cfg.EarlyStopping
	var drawn int // epochs in the last curves.png
	var lastDraw time.Time
	curves := func() error {
		rows := t.History()
		if len(rows) == drawn {
			return nil
		}
		drawn, lastDraw = len(rows), time.Now()
		return WriteCurves(filepath.Join(dir, "curves.png"), cfg.Model, rows)
	}
	hist, err := t.Fit(train, test, func(s EpochStats) error {
		trainSecs += s.TrainSeconds
		fmt.Fprintf(log, "epoch %*d/%d  train_loss %.4f  train_acc %.4f  test_loss %.4f  test_acc %.4f  %6.0f samples/s  %.1fs\n",
			len(strconv.Itoa(cfg.Epochs)), s.Epoch, cfg.Epochs, s.TrainLoss, s.TrainAccuracy, s.TestLoss, s.TestAccuracy,
			float64(s.Samples)/s.TrainSeconds, s.Seconds)
		rows := t.History()
		if es.Best(rows) == len(rows)-1 {
			if err := SaveWeights(filepath.Join(dir, "best.safetensors"), t.Graph()); err != nil {
				return err
			}
		}
		if err := SaveWeights(filepath.Join(dir, "model.safetensors"), t.Graph()); err != nil {
			return err
		}
		if err := t.SaveCheckpoint(filepath.Join(dir, "checkpoint.safetensors")); err != nil {
			return err
		}
		if err := WriteMetrics(filepath.Join(dir, "metrics.csv"), rows); err != nil {
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
			return nil, errors.Wrapf(err, "training stopped; the last good checkpoint (epoch %d) is %s", t.Epoch(), filepath.Join(dir, "checkpoint.safetensors"))
		}
		return nil, err
	}
	if t.Stopped() {
		fmt.Fprintf(log, "early stopping: %s has not improved for %d epochs; best epoch %d (best.safetensors)\n",
			monitorName(es), es.Patience, es.Best(t.History())+1)
	}
	all := t.History()
	if len(all) == 0 {
		return nil, errors.Errorf("run folder %s: nothing to train (already %d epochs)", dir, t.Epoch())
	}
	last := all[len(all)-1]
	sps := 0.0
	if trainSecs > 0 {
		sps = float64(train.Len()*len(hist)) / trainSecs
	}
	sum := &Summary{
		Model: cfg.Model, Dataset: cfg.Dataset, Seed: cfg.Seed, Epochs: last.Epoch, BatchSize: cfg.BatchSize,
		DType: cfg.DType, Optimizer: cfg.Optimizer, LearningRate: cfg.LearningRate, Params: cfg.Params,
		TrainLoss: last.TrainLoss, TestLoss: last.TestLoss, TestAccuracy: last.TestAccuracy,
		SamplesPerSec: sps, WallSeconds: time.Since(start).Seconds(),
	}
	if err := writeJSON(filepath.Join(dir, "summary.json"), sum); err != nil {
		return nil, err
	}
	return sum, nil
}

func monitorName(e EarlyStopping) string {
	if e.Monitor == "" {
		return "test_loss"
	}
	return e.Monitor
}

// output returns where to log (never nil) and, if a progress bar is
// wanted, the per-batch callback drawing it.
func (o RunOptions) output(perBatch func() int) (io.Writer, func(done, total int, loss float64)) {
	log := o.Log
	if log == nil {
		log = io.Discard
	}
	if !o.Progress {
		return log, nil
	}
	return log, progress(log, perBatch)
}

// progress returns a per-batch callback drawing a progress bar on w with
// the loss and the rate; perBatch gives the samples in one batch.
func progress(w io.Writer, perBatch func() int) func(done, total int, loss float64) {
	var bar *progressbar.ProgressBar
	var epochStart time.Time
	return func(done, total int, loss float64) {
		if done == 1 || bar == nil {
			bar = progressbar.NewOptions(total,
				progressbar.OptionSetWriter(w),
				progressbar.OptionSetWidth(30),
				progressbar.OptionClearOnFinish(),
				progressbar.OptionShowCount(),
				progressbar.OptionThrottle(100*time.Millisecond))
			epochStart = time.Now()
		}
		rate := float64(done*perBatch()) / time.Since(epochStart).Seconds()
		bar.Describe(fmt.Sprintf("loss %.4f  %5.0f samples/s", loss, rate))
		bar.Set(done)
	}
}

// runDir returns the run folder (default runs/<model>-<timestamp>),
// created and checked not to hold a run already.
func runDir(out, model string, start time.Time) (string, error) {
	dir := out
	if dir == "" {
		dir = filepath.Join("runs", fmt.Sprintf("%s-%s", model, start.Format("20060102-150405")))
	}
	return dir, prepareDir(dir)
}

func prepareDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return errors.Wrapf(err, "creating run folder %s", dir)
	}
	for _, f := range []string{"config.json", "metrics.csv", "summary.json", "model.safetensors", "checkpoint.safetensors"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			return errors.Errorf("run folder %s already holds a run (%s); choose another --out, or continue it with --resume", dir, f)
		}
	}
	return nil
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return errors.Wrapf(err, "encoding %s", path)
	}
	return atomicfile.WriteFile(path, append(b, '\n'), 0o644)
}

// MetricsHeader is the header row of metrics.csv.
const MetricsHeader = "epoch,train_loss,train_accuracy,test_loss,test_accuracy,seconds"

// WriteMetrics writes rows to path as CSV (MetricsHeader, then one row per
// epoch), atomically. Numbers are written in full precision, so two runs
// with the same seed give byte-identical columns.
func WriteMetrics(path string, rows []EpochStats) error {
	var b bytes.Buffer
	b.WriteString(MetricsHeader + "\n")
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	for _, r := range rows {
		fmt.Fprintf(&b, "%d,%s,%s,%s,%s,%s\n", r.Epoch, f(r.TrainLoss), f(r.TrainAccuracy), f(r.TestLoss), f(r.TestAccuracy),
			strconv.FormatFloat(r.Seconds, 'f', 3, 64))
	}
	return atomicfile.WriteFile(path, b.Bytes(), 0o644)
}
