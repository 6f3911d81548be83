package run

import (
	"encoding/json"
	"strings"

	"github.com/dlrun/dlrun/rundir"
)

// Summary is the content of summary.json, written last in a run folder.
// The figures of training by epochs are those of every kind but an
// agent's, whose figures are Agent's.
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
	// NoAccuracy reports that the task is not scored by accuracy (a
	// recommender's, a regression's, a music model's): summary.json then
	// has no test_accuracy, rather than a 0 that reads as a figure.
	NoAccuracy bool `json:"-"`
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
	// SkippedImages counts the images of an image folder skipped as
	// unreadable (ImageConfig.SkipBad); the log lists them.
	SkippedImages int     `json:"skipped_images,omitempty"`
	WallSeconds   float64 `json:"wall_seconds"` // from the start of the Train (or last Resume) call to summary.json

	// Agent holds an agent's figures; nil for the other kinds. An agent's
	// summary.json holds the model, task, seed, rate and time, and these.
	Agent *AgentSummary `json:"agent,omitempty"`
}

// AgentSummary is an agent's part of summary.json: its game, its training
// budget in environment steps, and its greedy evaluation over
// EvalEpisodes episodes (AgentReport).
type AgentSummary struct {
	Env          string             `json:"env"`
	Steps        int                `json:"steps"`
	EvalEpisodes int                `json:"eval_episodes"`
	MeanReturn   float64            `json:"mean_return"`
	Scores       map[string]float64 `json:"scores,omitempty"`
}

// Figure returns the number summary.json holds under key, a dot for a
// nested object (test_accuracy, test_bits_per_char, agent.mean_return, as
// Headline.Summary names them), and whether it holds one.
func (s *Summary) Figure(key string) (float64, bool) {
	b, err := json.Marshal(s)
	if err != nil {
		return 0, false
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return 0, false
	}
	var v any = m
	for _, part := range strings.Split(key, ".") {
		o, ok := v.(map[string]any)
		if !ok {
			return 0, false
		}
		v = o[part]
	}
	x, ok := v.(float64)
	return x, ok
}

// MarshalJSON writes s with each derived figure as test_<name>; an
// agent's without the figures of training by epochs.
func (s Summary) MarshalJSON() ([]byte, error) {
	if s.Agent != nil {
		return json.Marshal(agentSummaryJSON{s.Model, s.Task, s.Seed, s.Agent, s.SamplesPerSec, s.WallSeconds})
	}
	type plain Summary
	b, err := json.Marshal(plain(s))
	if err != nil || len(s.Derived) == 0 && !s.NoAccuracy {
		return b, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	if s.NoAccuracy {
		delete(m, "test_accuracy")
	}
	for k, v := range s.Derived {
		m["test_"+k] = v
	}
	return json.Marshal(m)
}

// agentSummaryJSON is the summary.json of an agent.
type agentSummaryJSON struct {
	Model         string        `json:"model"`
	Task          string        `json:"task"`
	Seed          uint64        `json:"seed"`
	Agent         *AgentSummary `json:"agent"`
	SamplesPerSec float64       `json:"samples_per_sec"`
	WallSeconds   float64       `json:"wall_seconds"`
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
	if _, ok := m["test_accuracy"]; !ok {
		s.NoAccuracy = true
	}
	if _, old := m["env"]; old {
		// An agent's summary.json as an earlier dlrun wrote it: its
		// figures at the top level (a later one nests them under agent).
		s.Agent = new(AgentSummary)
		if err := json.Unmarshal(b, s.Agent); err != nil {
			return err
		}
	}
	return nil
}

// ReadSummary reads the summary.json of run folder dir (at most 1 MiB,
// one JSON object that sets no key twice).
func ReadSummary(dir string) (*Summary, error) {
	var s Summary
	if err := rundir.ReadJSON(dir, rundir.Summary, maxSummary, &s); err != nil {
		return nil, err
	}
	return &s, nil
}
