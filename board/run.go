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

// config is what the board reads of a config.json.
type config struct {
	Model   string `json:"model"`
	Task    string `json:"task"`
	Dataset string `json:"dataset"`
	Env     string `json:"env"`
	Seed    uint64 `json:"seed"`
	Epochs  int    `json:"epochs"`
	Steps   int    `json:"steps"`
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
	for k, v := range all {
		if x, ok := v.(float64); ok {
			s.figures[k] = x
		}
	}
	return &s, nil
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
	for _, c := range []*config{f.cfg, summaryConfig(f.sum)} {
		if c == nil {
			continue
		}
		r.Model = first(r.Model, c.Model)
		r.Task = first(r.Task, c.Task)
		r.Dataset = first(r.Dataset, c.Dataset, c.Env)
		if r.Seed == 0 {
			r.Seed = c.Seed
		}
		if r.Planned == 0 {
			r.Planned = c.Epochs
			if r.Task == "play" {
				r.Planned = c.Steps
			}
		}
	}
	if r.Task == "play" {
		r.Unit = "step"
	}
	r.Metric, r.MetricSeries, r.HigherIsBetter = metricOf(r.Task, f.metrics)
	c := curvesOf(id, r.Task, f.metrics)
	if n := len(c.Step); n > 0 {
		r.Done = int(c.Step[n-1])
	} else if f.sum != nil {
		r.Done = f.sum.Epochs
		if r.Task == "play" {
			r.Done = f.sum.Steps
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
		if v := f.sum.figure(r.MetricSeries); v.Known() {
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
	h := fnv.New64a()
	fmt.Fprint(h, f.stamps, r.Status)
	r.Rev = strconv.FormatUint(h.Sum64(), 36)
	return r
}

func summaryConfig(s *summary) *config {
	if s == nil {
		return nil
	}
	return &s.config
}

// metricOf returns the name of the metric of task, the name of its test
// curve in Curves.Series, and whether higher is better. A task the board
// does not know takes the first test_ column of its metrics other than
// the loss.
func metricOf(task string, t *rundir.Table) (name, series string, higher bool) {
	switch task {
	case "classify":
		return "accuracy", "test_accuracy", true
	case "rating":
		return "rmse", "test_rmse", false
	case "next-token":
		return "bits_per_char", "test_bits_per_char", false
	case "play":
		return "return", "mean_return", true
	}
	if t != nil {
		for _, c := range t.Columns {
			if strings.HasPrefix(c, "test_") && c != "test_loss" {
				return c[5:], c, c == "test_accuracy"
			}
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
