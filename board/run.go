package board

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"math"
	"strconv"
	"strings"

	"github.com/dlrun/dlrun/rundir"
)

// Run is a row of the board's table: a run folder under the board's
// directory, what it trains and how far it got.
type Run struct {
	// ID is the folder's path relative to the directory, with slashes:
	// "reproduce/cnn/seed-1".
	ID      string `json:"id"`
	Model   string `json:"model"`
	Task    string `json:"task"`    // classify, next-token, rating, play
	Dataset string `json:"dataset"` // an agent's game
	Seed    uint64 `json:"seed"`
	// Unit is what Done and Planned count: "epoch", or "step"
	// (environment steps) for an agent.
	Unit    string `json:"unit"`
	Done    int    `json:"done"`
	Planned int    `json:"planned"`
	Status  Status `json:"status"`
	// Problem says what is wrong with a Malformed run's files, or how a
	// Failed run ended.
	Problem string `json:"problem,omitempty"`
	// Metric names the task's figure (accuracy, rmse, bits_per_char,
	// return); MetricSeries is its curve in Curves.Series; HigherIsBetter
	// says which way Best looks.
	Metric         string `json:"metric"`
	MetricSeries   string `json:"metric_series"`
	HigherIsBetter bool   `json:"higher_is_better"`
	// Final is the test metric at the end (summary.json's, or the last
	// row's while there is none; an agent's greedy evaluation), Best the
	// best row's.
	Final         Value `json:"final"`
	Best          Value `json:"best"`
	SamplesPerSec Value `json:"samples_per_sec"` // summary.json's
	WallSeconds   Value `json:"wall_seconds"`    // summary.json's, or the sum of the rows' seconds where there is none or it is larger (a resumed run)
	// Rev changes whenever the run's files or status do: the page
	// fetches a run's curves again when it does.
	Rev string `json:"rev"`
}

// config is what the board reads of a config.json: what the run trains
// and how far it means to go, and the figure that scores it, which the
// run records (run.Headline) so that the board need not know the kinds of
// runs.
type config struct {
	Model   string `json:"model"`
	Task    string `json:"task"`
	Dataset string `json:"dataset"`
	Seed    uint64 `json:"seed"`
	Epochs  int    `json:"epochs"`
	// Agent is an agent's game and budget in environment steps.
	Agent *struct {
		Env   string `json:"env"`
		Steps int    `json:"steps"`
	} `json:"agent"`
	Headline *headline `json:"headline"`
	// Env and Steps are an agent's game and budget as an earlier dlrun
	// recorded them, at the top level.
	Env   string `json:"env"`
	Steps int    `json:"steps"`
}

// headline is a run's figure (run.Headline): its name, its metrics.csv
// column, its summary.json key, and which way it improves.
type headline struct {
	Name           string `json:"name"`
	Column         string `json:"column"`
	Summary        string `json:"summary"`
	HigherIsBetter bool   `json:"higher_is_better"`
}

// game returns an agent's game and budget, wherever the config records
// them ("" and 0 for a run that is not an agent's).
func (c *config) game() (string, int) {
	if c.Agent != nil {
		return c.Agent.Env, c.Agent.Steps
	}
	return c.Env, c.Steps
}

func parseConfig(b []byte) (*config, error) {
	var c config
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, jsonError(err)
	}
	return &c, nil
}

// summary is what the board reads of a summary.json.
type summary struct {
	config
	Stopped bool `json:"early_stopped"`
	// figures are its numbers by name: test_accuracy, test_rmse,
	// samples_per_sec, mean_return, ...
	figures map[string]float64
}

func parseSummary(b []byte) (*summary, error) {
	var s summary
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, jsonError(err)
	}
	var all map[string]any
	if err := json.Unmarshal(b, &all); err != nil {
		return nil, jsonError(err)
	}
	s.figures = map[string]float64{}
	flatten("", all, s.figures)
	if a, ok := all["agent"].(map[string]any); ok {
		s.config.Agent = &struct {
			Env   string `json:"env"`
			Steps int    `json:"steps"`
		}{}
		s.config.Agent.Env, _ = a["env"].(string)
		if n, ok := a["steps"].(float64); ok {
			s.config.Agent.Steps = int(n)
		}
	}
	return &s, nil
}

// flatten puts the numbers of m into figures by key, a nested object's as
// <key>.<name>: summary.json's agent.mean_return.
func flatten(prefix string, m map[string]any, figures map[string]float64) {
	for k, v := range m {
		switch x := v.(type) {
		case float64:
			figures[prefix+k] = x
		case map[string]any:
			flatten(prefix+k+".", x, figures)
		}
	}
}

// figure returns the summary's number name, or Unknown.
func (s *summary) figure(name string) Value {
	if s == nil {
		return Unknown
	}
	if x, ok := s.figures[name]; ok {
		return Value(x)
	}
	return Unknown
}

// jsonError shortens the errors of encoding/json to what a reader of the
// table needs.
func jsonError(err error) error {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Errorf("invalid JSON at byte %d: %v", syn.Offset, syn)
	}
	return err
}

// folderFiles are the parses of a run folder's files, and their problems.
type folderFiles struct {
	cfg               *config
	sum               *summary
	metrics           *rundir.Table
	hasConfig, hasSum bool
	running           bool
	problems          []string
	stamps            [3]stamp
}

// describe returns the row of run folder id from its files.
func describe(id string, f *folderFiles) Run {
	r := Run{ID: id, Unit: "epoch", Final: Unknown, Best: Unknown, SamplesPerSec: Unknown, WallSeconds: Unknown}
	var h *headline
	for _, c := range []*config{f.cfg, summaryConfig(f.sum)} {
		if c == nil {
			continue
		}
		game, steps := c.game()
		r.Model = first(r.Model, c.Model)
		r.Task = first(r.Task, c.Task)
		r.Dataset = first(r.Dataset, c.Dataset, game)
		if r.Seed == 0 {
			r.Seed = c.Seed
		}
		if r.Planned == 0 {
			r.Planned = c.Epochs
			if steps > 0 {
				r.Planned, r.Unit = steps, "step"
			}
		}
		if h == nil {
			h = c.Headline
		}
	}
	r.Metric, r.MetricSeries, r.HigherIsBetter = metricOf(h, f.metrics)
	c := curvesOf(id, f.metrics)
	if n := len(c.Step); n > 0 {
		r.Done = int(c.Step[n-1])
	} else if f.sum != nil {
		r.Done = f.sum.Epochs
		if _, steps := f.sum.game(); steps > 0 {
			r.Done = steps
		}
	}
	if ys := c.Series[r.MetricSeries]; ys != nil {
		r.Best = best(ys, r.HigherIsBetter)
		r.Final = last(ys)
	}
	if n := len(c.Time); n > 0 {
		r.WallSeconds = Value(c.Time[n-1])
	}
	if f.sum != nil {
		key := r.MetricSeries
		if h != nil && h.Summary != "" {
			key = h.Summary
		}
		if v := f.sum.figure(key); v.Known() {
			r.Final = v
		}
		r.SamplesPerSec = f.sum.figure("samples_per_sec")
		// summary.json's wall_seconds counts from the last start or
		// resume only: after a resume the rows' seconds say more.
		if v := f.sum.figure("wall_seconds"); v.Known() && !(r.WallSeconds.Known() && r.WallSeconds > v) {
			r.WallSeconds = v
		}
	}
	problems := f.problems
	if !f.hasConfig && !f.running && len(problems) == 0 {
		problems = []string{"no " + rundir.Config + ": not a run, or one that wrote nothing"}
	}
	r.Status = statusOf(problems, f.hasSum && f.sum != nil, f.sum != nil && f.sum.Stopped, f.running)
	switch r.Status {
	case Malformed:
		r.Problem = strings.Join(problems, "; ")
	case Failed:
		r.Problem = fmt.Sprintf("no %s and no process trains into it: the run failed or was killed after %d %s%s", rundir.Summary, r.Done, r.Unit, plural(r.Done))
	}
	hash := fnv.New64a()
	fmt.Fprint(hash, f.stamps, r.Status)
	r.Rev = strconv.FormatUint(hash.Sum64(), 36)
	return r
}

func summaryConfig(s *summary) *config {
	if s == nil {
		return nil
	}
	return &s.config
}

// metricOf returns the name of a run's figure, the name of its curve in
// Curves.Series, and whether higher is better: the headline the run's
// config.json records or, for a run of an earlier dlrun that recorded
// none, the first test_ column of its metrics other than the loss (higher
// is better for an accuracy), or an agent's mean_return.
func metricOf(h *headline, t *rundir.Table) (name, series string, higher bool) {
	if h != nil && h.Column != "" {
		return h.Name, h.Column, h.HigherIsBetter
	}
	if t != nil {
		for _, c := range t.Columns {
			if strings.HasPrefix(c, "test_") && c != "test_loss" {
				return c[5:], c, c == "test_accuracy"
			}
		}
		if t.Column("mean_return") != nil {
			return "return", "mean_return", true
		}
	}
	return "", "", false
}

// best returns the largest (or, if !higher, smallest) number of ys, or
// Unknown.
func best(ys []float64, higher bool) Value {
	b := math.NaN()
	for _, y := range ys {
		if !math.IsNaN(y) && (math.IsNaN(b) || higher && y > b || !higher && y < b) {
			b = y
		}
	}
	return Value(b)
}

// last returns the last number of ys, or Unknown.
func last(ys []float64) Value {
	for i := len(ys) - 1; i >= 0; i-- {
		if !math.IsNaN(ys[i]) {
			return Value(ys[i])
		}
	}
	return Unknown
}

func first(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// fileProblem words the error of reading or parsing a run's file name:
// "summary.json: invalid JSON at byte 12: ...".
func fileProblem(name string, err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	if strings.HasPrefix(err.Error(), name) {
		return err.Error() // the metrics parser names its file and line
	}
	return name + ": " + err.Error()
}
