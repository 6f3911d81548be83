package run

import (
	"encoding/json"
	"testing"
)

// arrayLen counts the elements of the outermost array only, whatever
// strings, escapes and nested values they hold.
func TestArrayLenCountsTheOutermostArray(t *testing.T) {
	for in, want := range map[string]int{
		`[]`:          0,
		` [ ] `:       0,
		`null`:        0,
		`"a,b"`:       0,
		`{"a":[1,2]}`: 0,
		`[1]`:         1,
		`[[]]`:        1,
		`[{}, []]`:    2,
		`[[1,2],{"a":[1,2],"b":","}, "x,\"],", 3]`: 4,
		`["\\", ",", "\\\""]`:                      3,
	} {
		var probe struct {
			N arrayLen `json:"n"`
		}
		if err := json.Unmarshal([]byte(`{"n":`+in+`}`), &probe); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if int(probe.N) != want {
			t.Errorf("%s: %d elements, want %d", in, probe.N, want)
		}
	}
}
