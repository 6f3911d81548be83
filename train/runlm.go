package train

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/nn"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// newLM builds the language model named by c from the (defaulted)
// configuration; c.Vocab must be set.
func (c *RunConfig) newLM(onBatch func(done, total int, loss float64)) (*LM, error) {
	if err := c.Defaults(); err != nil {
		return nil, err
	}
	ref, _ := nn.ReferenceByName(c.Model)
	if !ref.Recipe.LanguageModel {
		return nil, errors.Errorf("model %s is not a language model", c.Model)
	}
	if c.SeqLen == 0 {
		c.SeqLen = ref.Recipe.SeqLen
	}
	if len(c.Vocab) == 0 {
		return nil, errors.New("run config has no vocabulary")
	}
	dt, err := graph.ParseDType(c.DType)
	if err != nil {
		return nil, err
	}
	opt, err := OptimizerByName(c.Optimizer, c.LearningRate)
	if err != nil {
		return nil, err
	}
	c.Optimizer = opt.Name()
	*opt.Options() = Regularization{WeightDecay: c.WeightDecay, ClipNorm: c.ClipNorm, ClipValue: c.ClipValue}
	mopt, err := modelOptions(c.Cell)
	if err != nil {
		return nil, err
	}
	model, err := ref.Build([]int{c.SeqLen}, len(c.Vocab), mopt)
	if err != nil {
		return nil, err
	}
	m, err := NewLM(model, len(c.Vocab), LMConfig{
		Epochs: c.Epochs, BatchSize: c.BatchSize, SeqLen: c.SeqLen, Seed: c.Seed, DType: dt,
		Optimizer: opt, OnBatch: onBatch,
	})
	if err != nil {
		return nil, err
	}
	c.Params = m.NumParams()
	c.InputShape = []int{c.SeqLen}
	return m, nil
}

func modelOptions(cell string) (nn.Options, error) {
	switch strings.ToLower(cell) {
	case "", "lstm":
		return nn.Options{}, nil
	case "gru":
		return nn.Options{Cell: graph.GRUCell}, nil
	}
	return nn.Options{}, errors.Errorf("unknown cell %q (want lstm or gru)", cell)
}

// RunLM trains the language model described by cfg (cfg.Vocab set) on the
// train tokens, evaluating on heldOut after every epoch, and records the
// run like Run: config.json (with the vocabulary, in id order), and after
// every epoch metrics.csv, curves.png, model.safetensors, best.safetensors
// (by held-out loss) and checkpoint.safetensors; summary.json last, with
// test_bits_per_char added to Run's keys. Losses are in nats per token.
// With opts.Resume it continues the run in opts.Out from its checkpoint,
// exactly as a run straight through.
func RunLM(cfg RunConfig, train, heldOut []int, opts RunOptions) (*Summary, error) {
	start := time.Now()
	log, onBatch := opts.output(func() int { return cfg.BatchSize * cfg.SeqLen })
	m, err := cfg.newLM(onBatch)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	cfg.TrainExamples, cfg.TestExamples = len(train), len(heldOut)
	var dir string
	if opts.Resume {
		if dir = opts.Out; dir == "" {
			return nil, errors.New("resume: no run folder given")
		}
		if err := m.Restore(filepath.Join(dir, "checkpoint.safetensors")); err != nil {
			return nil, err
		}
	} else if dir, err = runDir(opts.Out, cfg.Model, start); err != nil {
		return nil, err
	}
	if err := writeJSON(filepath.Join(dir, "config.json"), cfg); err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "training %s on %s (%d training, %d held-out tokens, vocabulary %d), %d parameters, writing %s\n",
		cfg.Model, cfg.Dataset, len(train), len(heldOut), len(cfg.Vocab), cfg.Params, dir)
	trainSecs, ran := 0.0, 0
	for m.Epoch() < cfg.Epochs {
		t0 := time.Now()
		loss, acc, err := m.TrainEpoch(train)
		if err != nil {
			if m.Epoch() > 0 {
				return nil, errors.Wrapf(err, "training stopped; the last good checkpoint (epoch %d) is %s", m.Epoch(), filepath.Join(dir, "checkpoint.safetensors"))
			}
			return nil, err
		}
		ts := time.Since(t0).Seconds()
		trainSecs += ts
		ran++
		tl, ta, err := m.Evaluate(heldOut)
		if err != nil {
			return nil, err
		}
		runtime.GC()
		e := m.Epoch()
		s := EpochStats{Epoch: e, TrainLoss: loss, TrainAccuracy: acc, TestLoss: tl, TestAccuracy: ta,
			Seconds: time.Since(t0).Seconds(), TrainSeconds: ts, Samples: len(train)}
		m.Record(s)
		fmt.Fprintf(log, "epoch %*d/%d  train_loss %.4f  train_acc %.4f  test_loss %.4f  test_acc %.4f  test_bpc %.3f  %6.0f chars/s  %.1fs\n",
			len(strconv.Itoa(cfg.Epochs)), e, cfg.Epochs, loss, acc, tl, ta, tl/math.Ln2, float64(len(train))/ts, s.Seconds)
		rows := m.History()
		if (EarlyStopping{}).Best(rows) == len(rows)-1 {
			if err := SaveWeights(filepath.Join(dir, "best.safetensors"), m.Graph()); err != nil {
				return nil, err
			}
		}
		if err := SaveWeights(filepath.Join(dir, "model.safetensors"), m.Graph()); err != nil {
			return nil, err
		}
		if err := m.SaveCheckpoint(filepath.Join(dir, "checkpoint.safetensors")); err != nil {
			return nil, err
		}
		if err := WriteMetrics(filepath.Join(dir, "metrics.csv"), rows); err != nil {
			return nil, err
		}
		if err := WriteCurves(filepath.Join(dir, "curves.png"), cfg.Model, rows); err != nil {
			return nil, err
		}
	}
	rows := m.History()
	if len(rows) == 0 {
		return nil, errors.New("no epoch to train")
	}
	last := rows[len(rows)-1]
	sum := &Summary{
		Model: cfg.Model, Dataset: cfg.Dataset, Seed: cfg.Seed, Epochs: cfg.Epochs, BatchSize: cfg.BatchSize,
		DType: cfg.DType, Optimizer: cfg.Optimizer, LearningRate: cfg.LearningRate, Params: cfg.Params,
		TrainLoss: last.TrainLoss, TestLoss: last.TestLoss, TestAccuracy: last.TestAccuracy,
		SamplesPerSec: sps(len(train)*ran, trainSecs), WallSeconds: time.Since(start).Seconds(),
	}
	out := struct {
		*Summary
		BitsPerChar float64 `json:"test_bits_per_char"`
	}{sum, last.TestLoss / math.Ln2}
	if err := writeJSON(filepath.Join(dir, "summary.json"), out); err != nil {
		return nil, err
	}
	return sum, nil
}

// ReadRunConfig reads the config.json of a run folder.
func ReadRunConfig(dir string) (*RunConfig, error) {
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, errors.Wrapf(err, "run folder %s", dir)
	}
	var c RunConfig
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, errors.Wrapf(err, "run folder %s: config.json", dir)
	}
	return &c, nil
}

// GenerateOptions control text generation.
type GenerateOptions struct {
	Prime       string  // text the model reads before it writes (default "\n")
	Length      int     // characters to write (default 500)
	Temperature float64 // sampling temperature; 0 or less picks the most likely (default 1 if unset by the CLI)
	Seed        uint64  // seeds sampling: the same seed writes the same text
}

// Generate loads the language model trained in run folder dir (its
// config.json and model.safetensors) and writes text: it reads the prime,
// then samples Length characters one at a time, each fed back as the next
// input.
func Generate(dir string, o GenerateOptions) (string, error) {
	cfg, err := ReadRunConfig(dir)
	if err != nil {
		return "", err
	}
	ref, err := nn.ReferenceByName(cfg.Model)
	if err != nil {
		return "", errors.Wrapf(err, "run folder %s", dir)
	}
	if !ref.Recipe.LanguageModel || len(cfg.Vocab) == 0 {
		return "", errors.Errorf("run folder %s holds a %s, not a language model", dir, cfg.Model)
	}
	if o.Length < 0 {
		return "", errors.Errorf("length %d must not be negative", o.Length)
	}
	if o.Prime == "" {
		o.Prime = "\n"
	}
	ids := map[string]int{}
	for i, v := range cfg.Vocab {
		ids[v] = i
	}
	var prime []int
	for _, r := range o.Prime {
		id, ok := ids[string(r)]
		if !ok {
			return "", errors.Errorf("--prime: character %q is not in the model's vocabulary", r)
		}
		prime = append(prime, id)
	}
	dt, err := graph.ParseDType(cfg.DType)
	if err != nil {
		return "", err
	}
	mopt, err := modelOptions(cfg.Cell)
	if err != nil {
		return "", err
	}
	model, err := ref.Build([]int{1}, len(cfg.Vocab), mopt)
	if err != nil {
		return "", err
	}
	g := graph.New(graph.WithDType(dt), graph.WithSeed(cfg.Seed))
	x, err := g.Input("x", 1, 1)
	if err != nil {
		return "", err
	}
	xT := tensor.New(tensor.Of(dt.Tensor()), tensor.WithShape(1, 1))
	if err := gorgonia.Let(x, xT); err != nil {
		return "", err
	}
	y, err := model.Build(g, x)
	if err != nil {
		return "", err
	}
	if err := LoadWeights(filepath.Join(dir, "model.safetensors"), g); err != nil {
		return "", err
	}
	var out gorgonia.Value
	gorgonia.Read(y, &out)
	vm := gorgonia.NewTapeMachine(g.Expr())
	defer vm.Close()
	rng := rand.New(rand.NewPCG(o.Seed, 0x67656e)) // "gen"
	logits := make([]float64, len(cfg.Vocab))
	step := func(id int) error {
		if dt == graph.Float32 {
			xT.Float32s()[0] = float32(id)
		} else {
			xT.Float64s()[0] = float64(id)
		}
		if err := g.Feed(); err != nil {
			return err
		}
		vm.Reset()
		if err := vm.RunAll(); err != nil {
			return err
		}
		outputRow(out, 0, logits)
		return nil
	}
	for _, id := range prime {
		if err := step(id); err != nil {
			return "", err
		}
	}
	var b strings.Builder
	b.WriteString(o.Prime)
	for i := 0; i < o.Length; i++ {
		next := Sample(logits, o.Temperature, rng)
		b.WriteString(cfg.Vocab[next])
		if err := step(next); err != nil {
			return "", err
		}
	}
	return b.String(), nil
}

func sps(samples int, secs float64) float64 {
	if secs <= 0 {
		return 0
	}
	return float64(samples) / secs
}
