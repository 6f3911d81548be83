package board

import (
	"encoding/json"
	"maps"
	"math"
	"slices"

	"github.com/dlrun/dlrun/rundir"
)

// Curves are a run's metrics.csv, column by column, as the page draws
// them.
type Curves struct {
	// ID is the run's.
	ID string
	// X names what Step counts: "epoch", or "steps" (environment steps)
	// for an agent.
	X string
	// Step holds each row's epoch, or steps.
	Step []float64
	// Time holds the wall time at the end of each row in seconds, from
	// the start of the run: the running sum of the seconds column.
	Time []float64
	// Series holds the other columns by name (train_loss, test_loss,
	// test_accuracy, learning_rate; a language model's test_bits_per_char;
	// an agent's mean_return, loss, ...). NaN stands for a figure the row
	// lacks.
	Series map[string][]float64
}

// curvesOf returns the Curves of t, a run's metrics.
func curvesOf(id string, t *rundir.Table) *Curves {
	c := &Curves{ID: id, X: "epoch", Series: map[string][]float64{}}
	if t == nil {
		return c
	}
	c.X = t.Columns[0]
	c.Step = t.Data[0]
	if secs := t.Column("seconds"); secs != nil {
		c.Time = make([]float64, len(secs))
		sum := 0.0
		for i, s := range secs {
			if !math.IsNaN(s) {
				sum += s
			}
			c.Time[i] = sum
		}
	}
	for i, name := range t.Columns[1:] {
		if name != "seconds" {
			c.Series[name] = t.Data[i+1]
		}
	}
	return c
}

// MarshalJSON writes c as {"id", "x", "step": [...], "time": [...],
// "series": {"name": [...]}}, an unknown figure as null.
func (c *Curves) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 64+16*len(c.Step)*(2+len(c.Series)))
	b = append(b, `{"id":`...)
	b = appendString(b, c.ID)
	b = append(b, `,"x":`...)
	b = appendString(b, c.X)
	b = append(b, `,"step":`...)
	b = appendNumbers(b, c.Step)
	b = append(b, `,"time":`...)
	b = appendNumbers(b, c.Time)
	b = append(b, `,"series":{`...)
	for i, name := range sortedKeys(c.Series) {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, name)
		b = append(b, ':')
		b = appendNumbers(b, c.Series[name])
	}
	return append(b, "}}"...), nil
}

// appendString appends s to b as a JSON string.
func appendString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always encodes
	return append(b, q...)
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

func appendNumbers(b []byte, xs []float64) []byte {
	if xs == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, x := range xs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendNumber(b, x)
	}
	return append(b, ']')
}
