package run

import "fmt"

// fitBatch lowers cfg.BatchSize to what data d can fill, before any model
// is built for it, and returns a line for the log saying so (empty if the
// batch fits). A batch larger than the training set would reserve memory
// for examples that do not exist: Keras clamps it the same way (one batch
// per epoch). For next-token prediction the batch is the number of
// parallel streams, each needing a token and its successor in both the
// training text and the held-out one. The batch used is the one config.json
// records.
func fitBatch(cfg *Config, d *Data) string {
	if d == nil || d.Train == nil || d.Test == nil {
		return ""
	}
	b := cfg.BatchSize
	switch cfg.Task {
	case NextToken:
		split, n := "training", d.Train.Len()
		if d.Test.Len() < n {
			split, n = "held-out", d.Test.Len()
		}
		if n < 2 || b <= n-1 {
			return "" // too short a text is the task's error to report
		}
		cfg.BatchSize = n - 1
		return fmt.Sprintf("batch %d: more streams than the %d %s tokens can fill (each needs a token and its successor); using %d", b, n, split, n-1)
	default:
		n := d.Train.Len()
		if n < 1 || b <= n {
			return ""
		}
		cfg.BatchSize = n
		unit := "example"
		if cfg.Task == Rating {
			unit = "rating"
		}
		return fmt.Sprintf("batch %d is larger than the %s: using batches of %d, one per epoch", b, plural(n, "training "+unit), n)
	}
}
