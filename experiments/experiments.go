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
	"github.com/dlrun/dlrun/internal/safeio"
	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/rundir"
	"github.com/dlrun/dlrun/runner"
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
	// PyTorch, if set, is the side-by-side reference run by a script of
	// bench/ (torch_ref.py unless it names another).
	PyTorch *PyTorch `json:"pytorch,omitempty" yaml:"pytorch"`
}

// PyTorch describes the reference run of an experiment.
type PyTorch struct {
	// Script is the reference script in bench/ ("": torch_ref.py; a music
	// model's is music_ref.py).
	Script          string `json:"script,omitempty" yaml:"script"`
	Model           string `json:"model" yaml:"model"` // the script's --model
	Threads         int    `json:"threads" yaml:"threads"`
	OpenBLASThreads int    `json:"openblas_threads" yaml:"openblas_threads"`
	// Steps, if set, is an agent's reference budget in environment steps,
	// when a shorter run than the experiment's measures its throughput.
	Steps int `json:"steps,omitempty" yaml:"steps"`
}

// MaxFileSize is the most bytes an experiment file may hold (64 KiB);
// Load refuses a larger file before reading it, and Parse larger data.
// The shipped experiments hold under 1 KB each. The limit also bounds
// what the YAML parser builds: its node tree grows with the text.
const MaxFileSize = 64 << 10

// Load reads an experiment config (at most MaxFileSize bytes, a regular
// file only) and parses it with Parse.
func Load(path string) (*Config, error) {
	b, err := safeio.ReadFile(path, MaxFileSize)
	if err != nil {
		return nil, errors.Wrap(err, "reading experiment")
	}
	return Parse(b, path)
}

// Parse parses the experiment config data, read from the file path, and
// checks it (Check). Unknown keys are errors, so a typo cannot silently
// leave a hyperparameter at its default. A missing name is the file's
// base name without its extension, missing seeds are [1], and a model
// file is named relative to path. Errors are one line naming path.
func Parse(data []byte, path string) (*Config, error) {
	c, err := parse(data, path)
	if err != nil {
		return nil, oneLineError{err}
	}
	return c, nil
}

// oneLineError is an error whose message has its line breaks escaped:
// yaml.v3 quotes the text it could not decode as it is, and a model name
// or other value may hold a line break too.
type oneLineError struct{ err error }

func (e oneLineError) Error() string {
	return strings.NewReplacer("\n", `\n`, "\r", `\r`).Replace(e.err.Error())
}

func (e oneLineError) Unwrap() error { return e.err }

// parse is Parse, its errors not yet on one line.
func parse(data []byte, path string) (*Config, error) {
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%s: %d bytes, more than the %d an experiment file may hold: %w", path, len(data), MaxFileSize, safeio.ErrTooLarge)
	}
	// The document first, as a tree (yamltree.go): one document, no key
	// set twice, and no number that yaml.v3 would truncate into an
	// integer setting.
	var doc, more yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if err == io.EOF {
			return nil, errors.Errorf("%s: empty experiment file", path)
		}
		return nil, errors.Errorf("%s: %s", path, yamlError(err))
	}
	if err := dec.Decode(&more); err != io.EOF {
		if err != nil {
			return nil, errors.Errorf("%s: %s", path, yamlError(err))
		}
		return nil, errors.Errorf("%s: line %d: a second YAML document; an experiment file holds one", path, more.Line)
	}
	if err := checkDuplicateKeys(&doc); err != nil {
		return nil, errors.Wrap(err, path)
	}
	// Then the settings, refusing unknown keys.
	var c Config
	dec = yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, errors.Errorf("%s: %s", path, yamlError(err))
	}
	if err := checkWholeNumbers(&doc); err != nil {
		return nil, errors.Wrap(err, path)
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
	if len(c.Seeds) == 0 {
		c.Seeds = []uint64{1}
	}
	if err := c.Check(); err != nil {
		return nil, errors.Wrap(err, path)
	}
	return &c, nil
}

// yamlError is err's message: a type error lists each field it could
// not decode on a line of its own; they are joined on one line, and the
// first three kept.
func yamlError(err error) string {
	if te, ok := err.(*yaml.TypeError); ok {
		const show = 3
		if len(te.Errors) > show {
			return fmt.Sprintf("yaml: %s; and %d more", strings.Join(te.Errors[:show], "; "), len(te.Errors)-show)
		}
		return "yaml: " + strings.Join(te.Errors, "; ")
	}
	return err.Error()
}

// Check reports whether every setting of the experiment is valid and
// applies to its model, as Run would find: its name (Name), its seeds
// (Seeds) and the run configuration. The error names the setting. Run
// calls it first, and so does `dlrun run` after its flags have
// overridden the file.
func (c *Config) Check() error {
	if err := CheckName(c.Name); err != nil {
		return err
	}
	if c.Seed != 0 {
		return errors.Errorf("seed %d: an experiment lists its seeds (seeds: [%d]), not one seed", c.Seed, c.Seed)
	}
	if err := CheckSeeds(c.Seeds); err != nil {
		return err
	}
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
	Config  *Config      `json:"config"`
	Skipped string       `json:"skipped,omitempty"`
	Runs    []SeedResult `json:"runs,omitempty"`
	// TestAccuracy is nil for a task not scored by accuracy (a
	// recommender's, a regression's, a music model's).
	TestAccuracy *Stat `json:"test_accuracy,omitempty"`
	TestLoss     Stat  `json:"test_loss"`
	// BitsPerChar is a language model's held-out bits per character; nil
	// for the other kinds.
	BitsPerChar *Stat `json:"test_bits_per_char,omitempty"`
	// Metrics holds every other test figure of the task by name (rmse,
	// mae for a recommender), over the seeds.
	Metrics       map[string]Stat `json:"metrics,omitempty"`
	SamplesPerSec Stat            `json:"samples_per_sec"`
	WallSeconds   float64         `json:"wall_seconds"` // all seeds together
	// An agent's: the mean return of its greedy evaluation, and in
	// Connect4 its score against each reference opponent, over the seeds.
	MeanReturn *Stat           `json:"mean_return,omitempty"` // nil but for an agent
	Scores     map[string]Stat `json:"scores,omitempty"`
}

// Agent reports whether the experiment trains an agent (dqn, ppo): its
// resolved configuration has an agent's settings.
func (c *Config) Agent() bool {
	rc := c.RunConfig(1)
	return rc.Resolve() == nil && rc.Agent != nil
}

// Run checks the experiment (Check) and runs it into folder out (one
// subfolder per seed, seed-<n>), then writes out/experiment.json. An
// experiment whose Requires path is missing is skipped, not failed: its
// Result says why, and out/experiment.json records the skip unless the
// file is already there: a skip never replaces an earlier result, and
// the log says the file was kept. opts.Log receives the log and
// opts.Collective, if set, trains every seed data-parallel (runner.Options):
// a follower writes and logs nothing and returns a nil Result. opts.Out
// is not used: each seed trains into its subfolder.
func Run(c *Config, out string, opts runner.Options) (*Result, error) {
	log := opts.Log
	if log == nil || opts.Follower() {
		log = io.Discard
	}
	if err := c.Check(); err != nil {
		return nil, oneLineError{errors.Wrapf(err, "experiment %q", c.Name)}
	}
	res := &Result{Config: c}
	if c.Requires != "" {
		if _, err := os.Stat(c.Requires); err != nil {
			res.Skipped = c.Requires + " is missing"
			if c.RequiresHint != "" {
				res.Skipped += ": " + c.RequiresHint
			}
			fmt.Fprintf(log, "experiment %s skipped: %s\n", c.Name, res.Skipped)
			if opts.Follower() {
				return nil, nil
			}
			kept, err := writeSkipped(out, res)
			if kept {
				fmt.Fprintf(log, "experiment %s: %s is already there and was kept, not replaced by the skip\n", c.Name, filepath.Join(out, resultFile))
			}
			return res, err
		}
	}
	if err := atomicfile.CheckFolder(out); err != nil { // refuse before any seed trains
		return nil, errors.Wrapf(err, "experiment %s", c.Name)
	}
	if _, err := atomicfile.Dest(filepath.Join(out, resultFile)); err != nil {
		return nil, errors.Wrapf(err, "experiment %s", c.Name)
	}
	for _, seed := range c.Seeds {
		if err := runner.CheckFree(seedDir(out, seed)); err != nil {
			return nil, errors.Wrapf(err, "experiment %s, seed %d", c.Name, seed)
		}
	}
	for _, seed := range c.Seeds {
		dir := seedDir(out, seed)
		fmt.Fprintf(log, "experiment %s, seed %d\n", c.Name, seed)
		seedOpts := opts
		seedOpts.Out, seedOpts.Log = dir, log
		sum, err := runner.Train(c.RunConfig(seed), seedOpts)
		if err != nil {
			return nil, errors.Wrapf(err, "experiment %s, seed %d", c.Name, seed)
		}
		if opts.Follower() {
			continue // rank 0 hashes the weights and writes the result
		}
		h, err := fileSHA256(filepath.Join(dir, rundir.Weights))
		if err != nil {
			return nil, err
		}
		res.Runs = append(res.Runs, SeedResult{Seed: seed, Dir: dir, Summary: *sum, WeightsSHA256: h})
		res.WallSeconds += sum.WallSeconds
	}
	if opts.Follower() {
		return nil, nil
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
	if !res.Runs[0].Summary.NoAccuracy {
		acc := stat(func(r SeedResult) float64 { return r.Summary.TestAccuracy })
		res.TestAccuracy = &acc
	}
	res.TestLoss = stat(func(r SeedResult) float64 { return r.Summary.TestLoss })
	if _, ok := res.Runs[0].Summary.Derived["bits_per_char"]; ok {
		bpc := stat(func(r SeedResult) float64 { return r.Summary.Derived["bits_per_char"] })
		res.BitsPerChar = &bpc
	}
	for name := range res.Runs[0].Summary.Derived {
		if res.Metrics == nil {
			res.Metrics = map[string]Stat{}
		}
		res.Metrics[name] = stat(func(r SeedResult) float64 { return r.Summary.Derived[name] })
	}
	res.SamplesPerSec = stat(func(r SeedResult) float64 { return r.Summary.SamplesPerSec })
	if res.Runs[0].Summary.Agent != nil {
		ret := stat(func(r SeedResult) float64 { return r.Summary.Agent.MeanReturn })
		res.MeanReturn = &ret
		for name := range res.Runs[0].Summary.Agent.Scores {
			if res.Scores == nil {
				res.Scores = map[string]Stat{}
			}
			res.Scores[name] = stat(func(r SeedResult) float64 { return r.Summary.Agent.Scores[name] })
		}
	}
	if len(res.Runs) > 1 {
		rc := c.RunConfig(1)
		if err := rc.Resolve(); err == nil && rc.Headline != nil {
			h := rc.Headline
			st := stat(func(r SeedResult) float64 { v, _ := r.Summary.Figure(h.Summary); return v })
			fmt.Fprintf(log, "experiment %s: %s %.4f ± %.4f over %d seeds\n", c.Name, h.Name, st.Mean, st.Std, len(res.Runs))
		}
	}
	return res, writeResult(out, res)
}

// resultFile is the name of an experiment's result in its folder.
const resultFile = "experiment.json"

func writeResult(out string, res *Result) error {
	b, err := encodeResult(out, res)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(out, resultFile), b, 0o644)
}

// encodeResult makes folder out and returns res as experiment.json holds it.
func encodeResult(out string, res *Result) ([]byte, error) {
	if _, err := atomicfile.MkdirAll(out, 0o755); err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// writeSkipped writes the result of a skipped experiment to
// out/experiment.json only if no such file exists; kept reports that one
// did, and was left alone (atomicfile.WriteNew).
func writeSkipped(out string, res *Result) (kept bool, err error) {
	dst := filepath.Join(out, resultFile)
	if _, err := os.Lstat(dst); err == nil {
		return true, nil
	}
	b, err := encodeResult(out, res)
	if err != nil {
		return false, err
	}
	return atomicfile.WriteNew(dst, b, 0o644)
}

func fileSHA256(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:]), nil
}

// seedDir is the run folder of one seed of an experiment written to out.
func seedDir(out string, seed uint64) string { return filepath.Join(out, fmt.Sprintf("seed-%d", seed)) }
