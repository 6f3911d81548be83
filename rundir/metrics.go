package rundir

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Table is a metrics.csv: its columns (the first counts epochs, or an
// agent's environment steps) and its rows, column by column.
type Table struct {
	Columns []string
	// Data[c][i] is column c of the i-th row; NaN stands for an empty
	// cell, a figure the row lacks (an agent's chunk in which no episode
	// ended).
	Data [][]float64
}

// NewTable returns an empty table of the given columns.
func NewTable(columns ...string) *Table {
	return &Table{Columns: columns, Data: make([][]float64, len(columns))}
}

// Append adds a row, one value per column.
func (t *Table) Append(row ...float64) {
	for c := range t.Columns {
		t.Data[c] = append(t.Data[c], row[c])
	}
}

// Column returns the values of the column called name, or nil.
func (t *Table) Column(name string) []float64 {
	if t == nil {
		return nil
	}
	for i, c := range t.Columns {
		if c == name {
			return t.Data[i]
		}
	}
	return nil
}

// Rows returns the number of rows.
func (t *Table) Rows() int {
	if t == nil || len(t.Data) == 0 {
		return 0
	}
	return len(t.Data[0])
}

// Encode returns the table as metrics.csv holds it: the header, then a
// line per row. Numbers are written in full precision (so two runs with
// the same seed give byte-identical columns), whole numbers as integers,
// the seconds column to the millisecond, and NaN as an empty cell.
func (t *Table) Encode() []byte {
	var b bytes.Buffer
	b.WriteString(strings.Join(t.Columns, ",") + "\n")
	for i := range t.Rows() {
		for c, name := range t.Columns {
			if c > 0 {
				b.WriteByte(',')
			}
			b.WriteString(formatCell(name, t.Data[c][i]))
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// formatCell formats a value of column name.
func formatCell(name string, v float64) string {
	switch {
	case math.IsNaN(v):
		return ""
	case name == "seconds":
		return strconv.FormatFloat(v, 'f', 3, 64)
	case v == math.Trunc(v) && math.Abs(v) < 1<<53:
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// ParseMetrics parses the metrics.csv b: a header naming the columns
// (epoch first, or steps for an agent; names of lower-case letters,
// digits and underscores, none twice), then rows of numbers, an empty
// cell standing for a figure the row lacks. It returns the rows that
// parse and, if any line does not, an error naming the first such line;
// the rows after a bad one are kept, so a reader that tolerates a damaged
// file (the board) still shows the rest.
func ParseMetrics(b []byte) (*Table, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("%s is empty", Metrics)
	}
	lines := bytes.Split(b, []byte("\n"))
	if len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1]
	}
	header := strings.Split(strings.TrimSuffix(string(lines[0]), "\r"), ",")
	if header[0] != "epoch" && header[0] != "steps" {
		return nil, fmt.Errorf("%s line 1: no header (it should start with epoch or steps, not %q)", Metrics, Clip(header[0]))
	}
	seen := map[string]bool{}
	for _, h := range header {
		if !isColumnName(h) || seen[h] {
			return nil, fmt.Errorf("%s line 1: bad column name %q in the header", Metrics, Clip(h))
		}
		seen[h] = true
	}
	t := NewTable(header...)
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
			bad(fmt.Errorf("%s line %d: %d fields, want %d%s", Metrics, n, len(cells), len(header), what))
			continue
		}
		for c, cell := range cells {
			if cell == "" && c > 0 {
				row[c] = math.NaN()
				continue
			}
			x, err := strconv.ParseFloat(cell, 64)
			if err != nil {
				bad(fmt.Errorf("%s line %d: %s %q is not a number", Metrics, n, header[c], Clip(cell)))
				continue rows
			}
			row[c] = x
		}
		t.Append(row...)
	}
	return t, first
}

// isColumnName reports whether s is a column name runs write: lower-case
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

// Clip shortens s, taken from a file, for an error message.
func Clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
