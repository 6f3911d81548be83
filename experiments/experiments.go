// Package experiments runs dlrun's experiment configs: YAML files that
// name a model, a dataset, every hyperparameter, the epochs and the seeds
// of a published result. Each config in this folder is one experiment;
// `dlrun run CONFIG` runs it, and `go run ./experiments/reproduce` runs
// them all and regenerates docs/results.md.
package experiments

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/dlrun/dlrun/datasets"
	"github.com/dlrun/dlrun/internal/atomicfile"
	"github.com/dlrun/dlrun/nn"
	"github.com/dlrun/dlrun/train"
	"github.com/pkg/errors"
	"gopkg.in/yaml.v3"
)

// Config is one experiment. Zero hyperparameters take the model's recipe.
type Config struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	Model       string `yaml:"model"`
	// Dataset is a bundled dataset (fashion-mnist, xor,
	// pride-and-prejudice) or a folder.
	Dataset string `yaml:"dataset"`
	// Requires names a path the experiment needs (data installed by a
	// Debian package, say); when it is missing the experiment is skipped
	// with RequiresHint as the reason.
	Requires     string   `yaml:"requires"`
	RequiresHint string   `yaml:"requires_hint"`
	Epochs       int      `yaml:"epochs"`
	BatchSize    int      `yaml:"batch_size"`
	Optimizer    string   `yaml:"optimizer"`
	LearningRate float64  `yaml:"learning_rate"`
	Loss         string   `yaml:"loss"`
	WeightDecay  float64  `yaml:"weight_decay"`
	ClipNorm     float64  `yaml:"clip_norm"`
	ClipValue    float64  `yaml:"clip_value"`
	Cell         string   `yaml:"cell"`
	SeqLen       int      `yaml:"seq_len"`
	Schedule     string   `yaml:"lr_schedule"`
	StepEvery    int      `yaml:"lr_step_every"`
	Gamma        float64  `yaml:"lr_gamma"`
	Patience     int      `yaml:"patience"`
	Monitor      string   `yaml:"monitor"`
	DType        string   `yaml:"dtype"`
	Seeds        []uint64 `yaml:"seeds"`
	// PyTorch, if set, is the side-by-side reference run by bench/torch_ref.py.
	PyTorch *PyTorch `yaml:"pytorch"`
}

// PyTorch describes the reference run of an experiment.
type PyTorch struct {
	Model           string `yaml:"model"` // bench/torch_ref.py's --model
	Threads         int    `yaml:"threads"`
	OpenBLASThreads int    `yaml:"openblas_threads"`
}

// Load reads an experiment config. Unknown keys are errors, so a typo
// cannot silently leave a hyperparameter at its default.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, errors.Wrap(err, "reading experiment")
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var c Config
	if err := dec.Decode(&c); err != nil {
		return nil, errors.Errorf("%s: %v", path, err)
	}
	if c.Name == "" {
		c.Name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	if c.Model == "" {
		return nil, errors.Errorf("%s: no model", path)
	}
	if _, err := nn.ReferenceByName(c.Model); err != nil {
		return nil, errors.Wrap(err, path)
	}
	if len(c.Seeds) == 0 {
		c.Seeds = []uint64{1}
	}
	for _, s := range c.Seeds {
		if s == 0 {
			return nil, errors.Errorf("%s: seed 0 is not allowed (seeds count from 1)", path)
		}
	}
	return &c, nil
}

// RunConfig returns the training configuration of one seed.
func (c *Config) RunConfig(seed uint64) train.RunConfig {
	return train.RunConfig{
		Model: c.Model, Epochs: c.Epochs, BatchSize: c.BatchSize, Optimizer: c.Optimizer,
		LearningRate: c.LearningRate, Loss: c.Loss, WeightDecay: c.WeightDecay, ClipNorm: c.ClipNorm,
		ClipValue: c.ClipValue, Cell: c.Cell, SeqLen: c.SeqLen, Schedule: c.Schedule, StepEvery: c.StepEvery,
		Gamma: c.Gamma, Patience: c.Patience, Monitor: c.Monitor, DType: c.DType, Seed: seed,
	}
}

// SeedResult is the outcome of one seed.
type SeedResult struct {
	Seed          uint64        `json:"seed"`
	Dir           string        `json:"dir"`
	Summary       train.Summary `json:"summary"`
	BitsPerChar   float64       `json:"test_bits_per_char,omitempty"`
	WeightsSHA256 string        `json:"weights_sha256"`
}

// Stat is a mean and a standard deviation over seeds (population, n).
type Stat struct {
	Mean float64 `json:"mean"`
	Std  float64 `json:"std"`
}

// Result is the outcome of an experiment.
type Result struct {
	Config        *Config      `json:"config"`
	Skipped       string       `json:"skipped,omitempty"`
	Runs          []SeedResult `json:"runs,omitempty"`
	TestAccuracy  Stat         `json:"test_accuracy"`
	TestLoss      Stat         `json:"test_loss"`
	BitsPerChar   Stat         `json:"test_bits_per_char"`
	SamplesPerSec Stat         `json:"samples_per_sec"`
	WallSeconds   float64      `json:"wall_seconds"` // all seeds together
}

// LanguageModel reports whether the experiment trains a language model.
func (c *Config) LanguageModel() bool {
	ref, err := nn.ReferenceByName(c.Model)
	return err == nil && ref.Recipe.LanguageModel
}

// Run runs the experiment into folder out (one subfolder per seed,
// seed-<n>) and writes out/experiment.json. An experiment whose Requires
// path is missing is skipped, not failed: its Result says why.
func Run(c *Config, out string, log io.Writer) (*Result, error) {
	if log == nil {
		log = io.Discard
	}
	res := &Result{Config: c}
	if c.Requires != "" {
		if _, err := os.Stat(c.Requires); err != nil {
			res.Skipped = fmt.Sprintf("%s is missing: %s", c.Requires, c.RequiresHint)
			fmt.Fprintf(log, "experiment %s skipped: %s\n", c.Name, res.Skipped)
			return res, writeResult(out, res)
		}
	}
	ref, _ := nn.ReferenceByName(c.Model)
	dataset := c.Dataset
	if dataset == "" {
		dataset = ref.Recipe.Dataset
	}
	for _, seed := range c.Seeds {
		cfg := c.RunConfig(seed)
		dir := filepath.Join(out, fmt.Sprintf("seed-%d", seed))
		fmt.Fprintf(log, "experiment %s, seed %d\n", c.Name, seed)
		var sum *train.Summary
		var bpc float64
		var err error
		if ref.Recipe.LanguageModel {
			var txt *datasets.Text
			if dataset == "pride-and-prejudice" {
				txt, err = datasets.PrideAndPrejudice()
			} else {
				var b []byte
				if b, err = os.ReadFile(dataset); err == nil {
					txt, err = datasets.NewText(dataset, string(b), 0.1)
				}
			}
			if err != nil {
				return nil, errors.Wrapf(err, "experiment %s: dataset", c.Name)
			}
			cfg.Dataset, cfg.DatasetSHA256, cfg.Vocab = txt.Name, txt.SHA256, txt.Vocab
			sum, err = train.RunLM(cfg, txt.Train, txt.HeldOut, train.RunOptions{Out: dir, Log: log})
			if sum != nil {
				bpc = sum.TestLoss / math.Ln2
			}
		} else {
			d, lerr := datasets.Load(dataset)
			if lerr != nil {
				return nil, errors.Wrapf(lerr, "experiment %s: dataset", c.Name)
			}
			if ref.Recipe.Sequence && len(d.Shape) == 3 {
				if d, lerr = datasets.AsSequence(d); lerr != nil {
					return nil, lerr
				}
			}
			cfg.Dataset, cfg.DatasetSHA256, cfg.InputShape, cfg.Classes = d.Name, d.SHA256, d.Shape, d.Classes
			cfg.TrainExamples, cfg.TestExamples = d.Train.Len(), d.Test.Len()
			sum, err = train.Run(cfg, d.Train, d.Test, train.RunOptions{Out: dir, Log: log})
		}
		if err != nil {
			return nil, errors.Wrapf(err, "experiment %s, seed %d", c.Name, seed)
		}
		h, err := fileSHA256(filepath.Join(dir, "model.safetensors"))
		if err != nil {
			return nil, err
		}
		res.Runs = append(res.Runs, SeedResult{Seed: seed, Dir: dir, Summary: *sum, BitsPerChar: bpc, WeightsSHA256: h})
		res.WallSeconds += sum.WallSeconds
	}
	stat := func(f func(SeedResult) float64) Stat {
		var s Stat
		for _, r := range res.Runs {
			s.Mean += f(r)
		}
		s.Mean /= float64(len(res.Runs))
		for _, r := range res.Runs {
			s.Std += (f(r) - s.Mean) * (f(r) - s.Mean)
		}
		s.Std = math.Sqrt(s.Std / float64(len(res.Runs)))
		return s
	}
	res.TestAccuracy = stat(func(r SeedResult) float64 { return r.Summary.TestAccuracy })
	res.TestLoss = stat(func(r SeedResult) float64 { return r.Summary.TestLoss })
	res.BitsPerChar = stat(func(r SeedResult) float64 { return r.BitsPerChar })
	res.SamplesPerSec = stat(func(r SeedResult) float64 { return r.Summary.SamplesPerSec })
	if len(res.Runs) > 1 {
		fmt.Fprintf(log, "experiment %s: test accuracy %.4f ± %.4f over %d seeds\n", c.Name, res.TestAccuracy.Mean, res.TestAccuracy.Std, len(res.Runs))
	}
	return res, writeResult(out, res)
}

func writeResult(out string, res *Result) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(out, "experiment.json"), append(b, '\n'), 0o644)
}

func fileSHA256(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:]), nil
}
