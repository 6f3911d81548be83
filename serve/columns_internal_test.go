package serve

import (
	"encoding/json"
	"strings"
	"testing"
)

// A column's values are read as the text a CSV field would hold: strings
// as they are, numbers as written, null as missing; anything else is an
// error naming the value.
func TestColumnValues(t *testing.T) {
	got, err := columnValues(json.RawMessage(`["red", 1.5, null, [-2], ""]`), 5)
	if err != nil || strings.Join(got, "|") != "red|1.5||-2|" {
		t.Fatalf("%q, %v", got, err)
	}
	for _, c := range []struct{ data, want string }{
		{`[1, 2]`, "data holds 2 values, want 3"},
		{`{"a": 1}`, "want an array of 3 values"},
		{`[1, true, 2]`, "value 1: true, want a number, a string or null"},
		{`[1, [2, 3], 4]`, "value 1: want one value, not an array of 2"},
	} {
		if _, err := columnValues(json.RawMessage(c.data), 3); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.data, err, c.want)
		}
	}
}

// FuzzColumnValues: any data is read or refused with an error, never a
// panic, and a value read is one per row.
func FuzzColumnValues(f *testing.F) {
	for _, s := range []string{`["a", 1, null]`, `[[1], [2], [3]]`, `[1, 2]`, `[{}, [], "x"]`, `["\u00e9", -0.5e3, "1,2"]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		vals, err := columnValues(json.RawMessage(b), 3)
		if err == nil && len(vals) != 3 {
			t.Fatalf("%d values for 3 rows", len(vals))
		}
	})
}
