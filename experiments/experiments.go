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

	"github.com/dlrun/dlrun/internal/atomicfile"
	"github.com/dlrun/dlrun/run"
	"github.com/pkg/errors"
	"gopkg.in/yaml.v3"
)

// Config is one experiment: a run configuration (run.Config, whose zero
// fields take the model's recipe) with the seeds to run it with, under the
// same snake_case names in the YAML file and in experiment.json.
type Config struct {
	Name        string `json:"name" yaml:"name"`
	Description string `json:"description" yaml:"description"`

	run.Config `yaml:",inline"`

	// Requires names a path the experiment needs (data installed by a
	// Debian package, say); when it is missing the experiment is skipped
	// with RequiresHint as the reason.
	Requires     string   `json:"requires,omitempty" yaml:"requires"`
	RequiresHint string   `json:"requires_hint,omitempty" yaml:"requires_hint"`
	Seeds        []uint64 `json:"seeds" yaml:"seeds"`
	// PyTorch, if set, is the side-by-side reference run by bench/torch_ref.py.
	PyTorch *PyTorch `json:"pytorch,omitempty" yaml:"pytorch"`
}

// PyTorch describes the reference run of an experiment.
type PyTorch struct {
	Model           string `json:"model" yaml:"model"` // bench/torch_ref.py's --model
	Threads         int    `json:"threads" yaml:"threads"`
	OpenBLASThreads int    `json:"openblas_threads" yaml:"openblas_threads"`
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
	if run.IsModelFile(c.Model) && !filepath.IsAbs(c.Model) {
		// A model file is named relative to the experiment file.
		c.Model = filepath.Join(filepath.Dir(path), c.Model)
	}
	if c.Seed != 0 {
		return nil, errors.Errorf("%s: an experiment lists its seeds (seeds: [%d]), not one seed", path, c.Seed)
	}
	if err := c.Check(); err != nil {
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

// Check reports whether every setting of the experiment is valid and
// applies to its model, as Run would find; the error names the setting.
func (c *Config) Check() error {
	rc := c.RunConfig(1)
	return rc.Resolve()
}

// RunConfig returns the run configuration of one seed.
func (c *Config) RunConfig(seed uint64) run.Config {
	rc := c.Config
	rc.Seed = seed
	return rc
}

// SeedResult is the outcome of one seed.
type SeedResult struct {
	Seed          uint64      `json:"seed"`
	Dir           string      `json:"dir"`
	Summary       run.Summary `json:"summary"`
	WeightsSHA256 string      `json:"weights_sha256"`
}

// Stat is a mean and a standard deviation over seeds (population, n).
type Stat struct {
	Mean float64 `json:"mean"`
	Std  float64 `json:"std"`
}

// Result is the outcome of an experiment.
type Result struct {
	Config       *Config      `json:"config"`
	Skipped      string       `json:"skipped,omitempty"`
	Runs         []SeedResult `json:"runs,omitempty"`
	TestAccuracy Stat         `json:"test_accuracy"`
	TestLoss     Stat         `json:"test_loss"`
	BitsPerChar  Stat         `json:"test_bits_per_char"`
	// Metrics holds every other test figure of the task by name (rmse,
	// mae for a recommender), over the seeds.
	Metrics       map[string]Stat `json:"metrics,omitempty"`
	SamplesPerSec Stat            `json:"samples_per_sec"`
	WallSeconds   float64         `json:"wall_seconds"` // all seeds together
}

// LanguageModel reports whether the experiment trains a next-token model.
func (c *Config) LanguageModel() bool {
	rc := c.RunConfig(1)
	return rc.Resolve() == nil && rc.Task == run.NextToken
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
	for _, seed := range c.Seeds {
		dir := filepath.Join(out, fmt.Sprintf("seed-%d", seed))
		fmt.Fprintf(log, "experiment %s, seed %d\n", c.Name, seed)
		sum, err := run.Train(c.RunConfig(seed), run.Options{Out: dir, Log: log})
		if err != nil {
			return nil, errors.Wrapf(err, "experiment %s, seed %d", c.Name, seed)
		}
		h, err := fileSHA256(filepath.Join(dir, "model.safetensors"))
		if err != nil {
			return nil, err
		}
		res.Runs = append(res.Runs, SeedResult{Seed: seed, Dir: dir, Summary: *sum, WeightsSHA256: h})
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
	res.BitsPerChar = stat(func(r SeedResult) float64 { return r.Summary.Derived["bits_per_char"] })
	for name := range res.Runs[0].Summary.Derived {
		if res.Metrics == nil {
			res.Metrics = map[string]Stat{}
		}
		res.Metrics[name] = stat(func(r SeedResult) float64 { return r.Summary.Derived[name] })
	}
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
