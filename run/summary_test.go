package run_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/run"
)

// A summary of a task scored by accuracy writes test_accuracy, even 0; one
// that is not (NoAccuracy) writes none, and each reads back as written.
func TestSummaryWritesAccuracyOnlyForTasksScoredByIt(t *testing.T) {
	for _, c := range []struct {
		s    run.Summary
		want bool
	}{
		{run.Summary{Model: "cnn", Task: "classify", TestAccuracy: 0}, true},
		{run.Summary{Model: "mf", Task: "rating", NoAccuracy: true, Derived: map[string]float64{"rmse": 0.91}}, false},
		{run.Summary{Model: "music-lstm", Task: "next_step", NoAccuracy: true}, false},
	} {
		b, err := json.Marshal(c.s)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(string(b), `"test_accuracy"`); got != c.want {
			t.Errorf("%s: test_accuracy written %v, want %v: %s", c.s.Model, got, c.want, b)
		}
		var back run.Summary
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if back.NoAccuracy != c.s.NoAccuracy || back.Derived["rmse"] != c.s.Derived["rmse"] {
			t.Errorf("%s: read back %+v from %s", c.s.Model, back, b)
		}
		if _, ok := back.Figure("test_accuracy"); ok != c.want {
			t.Errorf("%s: Figure(test_accuracy) found %v, want %v", c.s.Model, ok, c.want)
		}
	}
}
