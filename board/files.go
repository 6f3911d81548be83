package board

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
