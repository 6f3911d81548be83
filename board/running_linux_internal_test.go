package board

import (
	"maps"
	"slices"
	"testing"
)

func TestParseLocks(t *testing.T) {
	text := `1: FLOCK  ADVISORY  WRITE 1234 fd:01:5678 0 EOF
1: -> FLOCK  ADVISORY  WRITE 999 fd:01:1111 0 EOF
2: POSIX  ADVISORY  WRITE 42 08:02:77 0 EOF
3: FLOCK  ADVISORY  READ 0 103:00:12 0 EOF
garbage
`
	got := slices.Sorted(maps.Keys(parseLocks([]byte(text))))
	if want := []string{"103:00:12", "fd:01:5678"}; !slices.Equal(got, want) {
		t.Errorf("parseLocks: %q, want %q", got, want)
	}
}
