package board

// The files of a run folder that the board reads or looks for: the names
// the run package writes (docs/checkpoints.md).
const (
	configFile  = "config.json"
	summaryFile = "summary.json"
	metricsFile = "metrics.csv"
	lockFile    = ".dlrun.lock"
)

// runMarkers are the files of which any one makes a folder a run folder.
// A folder holding none of them is searched for run folders inside, but is
// not one; an empty folder (other than the board's directory itself) is
// listed, as a run that wrote nothing.
var runMarkers = []string{configFile, summaryFile, metricsFile, lockFile, "model.json", "agent.json", "model.safetensors", "checkpoint.safetensors", "checkpoint.gob"}

// The largest files the board reads; a larger one makes its run malformed.
const (
	maxConfig  = 16 << 20 // a next-token run's vocabulary can be long
	maxSummary = 1 << 20
	maxMetrics = 64 << 20
)

// Bounds of the search for run folders.
const (
	maxDepth = 16     // folders below the directory
	maxRuns  = 10_000 // run folders listed; the rest are left out, and said to be
)
