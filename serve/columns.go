package serve

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// maxColumnValues bounds the model inputs that one request of named
// columns makes (rows × the preprocessing's inputs): 16 Mi values, 64 MiB
// of float32.
const maxColumnValues = 1 << 24

// readColumns reads the request of a model trained on a CSV table that
// names its columns, one input per column, as a table's columns (in any
// order; the target and columns the model does not read may be there):
// each of shape [N] (or [N, 1]), datatype BYTES (text) or a number type,
// its data the N values (null or "" for a missing value). The rows pass
// through the run's preprocessing, as training's rows did.
func (m *model) readColumns(inputs []RequestInput) ([]float32, int, error) {
	p := m.t.Table
	header := make([]string, len(inputs))
	cols := make([][]string, len(inputs))
	rows := -1
	for i, in := range inputs {
		header[i] = in.Name
		if len(in.Shape) < 1 || len(in.Shape) > 2 || len(in.Shape) == 2 && in.Shape[1] != 1 || in.Shape[0] < 1 {
			return nil, 0, badRequest("input %q: shape %v, want [rows] (a column)", truncate(in.Name), in.Shape)
		}
		if rows >= 0 && in.Shape[0] != int64(rows) {
			return nil, 0, badRequest("input %q: %d rows, but input %q has %d", truncate(in.Name), in.Shape[0], truncate(inputs[0].Name), rows)
		}
		if in.Shape[0] > int64(maxColumnValues/max(p.Width(), 1)) {
			return nil, 0, badRequest("input %q: %d rows, more than the %d a request may send", truncate(in.Name), in.Shape[0], maxColumnValues/max(p.Width(), 1))
		}
		rows = int(in.Shape[0])
		switch in.Datatype {
		case BYTES, FP32, FP64, INT64, INT32:
		default:
			return nil, 0, badRequest("input %q: datatype %q, want %s (text) or a number type (%s, %s, %s, %s)", truncate(in.Name), truncate(in.Datatype), BYTES, FP32, FP64, INT64, INT32)
		}
		vals, err := columnValues(in.Data, rows)
		if err != nil {
			return nil, 0, badRequest("input %q: %v", truncate(in.Name), err)
		}
		cols[i] = vals
	}
	enc, err := p.Encoder(header)
	if err != nil {
		return nil, 0, badRequest("%v", err)
	}
	w := p.Width()
	x := make([]float32, rows*w)
	rec := make([]string, len(cols))
	for r := 0; r < rows; r++ {
		for j := range cols {
			rec[j] = cols[j][r]
		}
		if err := enc.Encode(rec, x[r*w:(r+1)*w]); err != nil {
			return nil, 0, badRequest("row %d: %v", r, err)
		}
	}
	return x, rows, nil
}

// columnValues reads a column's data, rows values (flat, or each in an
// array of one), as the text of each: a string as it is, a number as
// written, null as "" (missing).
func columnValues(data json.RawMessage, rows int) ([]string, error) {
	var raw []json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("data: want an array of %d values", rows)
	}
	if len(raw) != rows {
		return nil, fmt.Errorf("data holds %d values, want %d", len(raw), rows)
	}
	out := make([]string, rows)
	for i, v := range raw {
		v = bytes.TrimSpace(v)
		if len(v) > 0 && v[0] == '[' {
			var one []json.RawMessage
			if err := json.Unmarshal(v, &one); err != nil || len(one) != 1 {
				return nil, fmt.Errorf("value %d: want one value, not an array of %d", i, len(one))
			}
			v = bytes.TrimSpace(one[0])
		}
		switch {
		case string(v) == "null":
		case len(v) > 0 && v[0] == '"':
			if err := json.Unmarshal(v, &out[i]); err != nil {
				return nil, fmt.Errorf("value %d: %v", i, err)
			}
		case len(v) > 0 && (v[0] == '-' || v[0] >= '0' && v[0] <= '9'):
			out[i] = string(v)
		default:
			return nil, fmt.Errorf("value %d: %s, want a number, a string or null", i, truncate(strings.TrimSpace(string(v))))
		}
	}
	return out, nil
}
