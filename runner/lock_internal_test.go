//go:build unix

package runner

import "testing"

func TestHolderInProcLocks(t *testing.T) {
	locks := []byte(`1: POSIX  ADVISORY  WRITE 88 00:1f:4242 0 EOF
2: FLOCK  ADVISORY  WRITE 1234 fd:01:5678 0 EOF
2: -> FLOCK  ADVISORY  WRITE 999 fd:01:9999 0 EOF
3: FLOCK  ADVISORY  WRITE 4321 fd:01:9999 0 EOF
`)
	for id, want := range map[string]int{"fd:01:5678": 1234, "fd:01:9999": 4321, "00:1f:4242": 0, "fd:01:1": 0} {
		if got := holderIn(locks, id); got != want {
			t.Errorf("holderIn(%s) = %d, want %d", id, got, want)
		}
	}
}
