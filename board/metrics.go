package board

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
)

// table is a parsed metrics.csv: its columns, and the rows that parsed.
type table struct {
	cols []string
	data [][]float64 // data[c][i]: column c of the i-th good row; NaN for an empty cell
}

// col returns the values of the column named name, or nil.
func (t *table) col(name string) []float64 {
	if t == nil {
		return nil
	}
	for i, c := range t.cols {
		if c == name {
			return t.data[i]
		}
	}
	return nil
}

// rows returns the number of good rows.
func (t *table) rows() int {
	if t == nil || len(t.data) == 0 {
		return 0
	}
	return len(t.data[0])
}

// parseMetrics parses the metrics.csv b: a header naming the columns
// (epoch first, or steps for an agent), then rows of numbers, an empty
// cell standing for a figure the row lacks (an agent's chunk with no
// finished episode). It returns the rows that parse and, if any line does
// not, an error naming the first such line; the rows after a bad one are
// kept.
func parseMetrics(b []byte) (*table, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("%s is empty", metricsFile)
	}
	lines := bytes.Split(b, []byte("\n"))
	if len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1]
	}
	header := strings.Split(strings.TrimSuffix(string(lines[0]), "\r"), ",")
	if header[0] != "epoch" && header[0] != "steps" {
		return nil, fmt.Errorf("%s line 1: no header (it should start with epoch or steps, not %q)", metricsFile, clip(header[0]))
	}
	seen := map[string]bool{}
	for _, h := range header {
		if !isColumnName(h) || seen[h] {
			return nil, fmt.Errorf("%s line 1: bad column name %q in the header", metricsFile, clip(h))
		}
		seen[h] = true
	}
	t := &table{cols: header, data: make([][]float64, len(header))}
	var first error
	bad := func(err error) {
		if first == nil {
			first = err
		}
	}
	row := make([]float64, len(header))
rows:
	for i, line := range lines[1:] {
		n := i + 2 // the line's number in the file
		s := strings.TrimSuffix(string(line), "\r")
		last := i == len(lines)-2 && b[len(b)-1] != '\n'
		cells := strings.Split(s, ",")
		if len(cells) != len(header) {
			what := ""
			if last {
				what = ", the last line cut short"
			}
			bad(fmt.Errorf("%s line %d: %d fields, want %d%s", metricsFile, n, len(cells), len(header), what))
			continue
		}
		for c, cell := range cells {
			if cell == "" && c > 0 {
				row[c] = math.NaN()
				continue
			}
			x, err := strconv.ParseFloat(cell, 64)
			if err != nil {
				bad(fmt.Errorf("%s line %d: %s %q is not a number", metricsFile, n, header[c], clip(cell)))
				continue rows
			}
			row[c] = x
		}
		for c := range row {
			t.data[c] = append(t.data[c], row[c])
		}
	}
	return t, first
}

// isColumnName reports whether s is a column name run writes: lower-case
// letters, digits and underscores.
func isColumnName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// clip shortens s, taken from a file, for an error message.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

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
	// test_accuracy, learning_rate; an agent's mean_return, loss, ...),
	// and for next-token prediction train_ and test_bits_per_char, the
	// losses in bits. NaN stands for a figure the row lacks.
	Series map[string][]float64
}

// curvesOf returns the Curves of t, the metrics of a run of task.
func curvesOf(id, task string, t *table) *Curves {
	c := &Curves{ID: id, X: "epoch", Series: map[string][]float64{}}
	if t == nil {
		return c
	}
	c.X = t.cols[0]
	c.Step = t.data[0]
	if secs := t.col("seconds"); secs != nil {
		c.Time = make([]float64, len(secs))
		sum := 0.0
		for i, s := range secs {
			if !math.IsNaN(s) {
				sum += s
			}
			c.Time[i] = sum
		}
	}
	for i, name := range t.cols[1:] {
		if name != "seconds" {
			c.Series[name] = t.data[i+1]
		}
	}
	if task == "next-token" {
		for _, split := range []string{"train", "test"} {
			if loss := t.col(split + "_loss"); loss != nil {
				bits := make([]float64, len(loss))
				for i, l := range loss {
					bits[i] = l / math.Ln2 // train.NextToken's Derived
				}
				c.Series[split+"_bits_per_char"] = bits
			}
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
