// Package rundir owns the layout of a run folder: the names of the files a
// run writes (docs/checkpoints.md), which of them mark a folder as a run's,
// the strict reading of its JSON files (one value, no key set twice) and
// the parsing of its metrics.csv. It is a leaf: the packages that write run
// folders (train, run, runner, experiments) and those that read them (run,
// board) name the files through it, so no file name is spelled twice.
package rundir

// The files of a run folder.
const (
	// Config is the resolved configuration of the run (run.Config),
	// written first.
	Config = "config.json"
	// Model describes the trained model's architecture and task
	// (train.ModelInfo), written first; an agent's describes its acting
	// network.
	Model = "model.json"
	// Weights holds the weights of the last saved epoch (or chunk).
	Weights = "model.safetensors"
	// Best holds the weights of the best epoch so far.
	Best = "best.safetensors"
	// Checkpoint holds what resuming a supervised run needs: weights,
	// optimizer state, RNG states, epoch and history.
	Checkpoint = "checkpoint.safetensors"
	// AgentCheckpoint holds what resuming an agent needs: its whole
	// training state and the chunks so far.
	AgentCheckpoint = "checkpoint.gob"
	// Agent describes an agent's algorithm and its settings (what rebuilds
	// it for training).
	Agent = "agent.json"
	// Metrics is metrics.csv: a row per epoch (or an agent's chunk).
	Metrics = "metrics.csv"
	// Curves is curves.png, drawn from the metrics.
	Curves = "curves.png"
	// Summary is summary.json, written last.
	Summary = "summary.json"
	// Lock is the empty file a training process locks for the whole run.
	Lock = ".dlrun.lock"
	// Explanations is the folder of the explanations of a few test
	// examples that dlrun explain --board writes into a run folder, for
	// the board: their pictures and ExplanationIndex.
	Explanations = "explanations"
	// ExplanationIndex is the index of a folder of explanations (dlrun
	// explain -o DIR, and a run's Explanations): the explanations as JSON,
	// each naming its files in the folder.
	ExplanationIndex = "explanations.json"
)

// Files are the files a run writes into its folder (the lock file aside).
var Files = []string{Config, Model, Metrics, Curves, Weights, Best, Checkpoint, Summary, Agent, AgentCheckpoint}

// StartFiles are the files a run writes before its first checkpoint: a
// folder holding nothing else of a run is one whose run was stopped before
// it saved its first epoch (or chunk), and a new run may take it over.
var StartFiles = []string{Config, Model, Agent}

// Checkpoints are the files that record saved progress: a folder holding
// one of them holds a run that can be resumed.
var Checkpoints = []string{Checkpoint, AgentCheckpoint}

// Markers are the files of which any one makes a folder a run folder.
var Markers = []string{Config, Summary, Metrics, Lock, Model, Agent, Weights, Checkpoint, AgentCheckpoint}

// IsStartFile reports whether name is one of StartFiles.
func IsStartFile(name string) bool {
	for _, s := range StartFiles {
		if s == name {
			return true
		}
	}
	return false
}
