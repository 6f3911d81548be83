package run

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// checkpointEpoch reads the epoch from a checkpoint's header, and refuses
// what is not one without reserving what its header claims.
func TestCheckpointEpochReadsTheHeaderOnly(t *testing.T) {
	dir := t.TempDir()
	header := func(h string) []byte {
		b := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
		return append(b, h...)
	}
	for _, c := range []struct {
		name string
		data []byte
		want string // the epoch, or a part of the error
	}{
		{"ok", header(`{"__metadata__":{"format":"dlrun-checkpoint-1","epoch":"7"}}`), "7"},
		{"weights", header(`{"__metadata__":{"format":"dlrun"}}`), "not a dlrun checkpoint"},
		{"short", []byte{1, 2, 3}, "not a checkpoint (3 bytes)"},
		{"huge header", binary.LittleEndian.AppendUint64(nil, 1<<62), "a header of 4611686018427387904 bytes"},
		{"cut header", header(`{"__metadata__":{}}`)[:12], "a header of 19 bytes"},
		{"bad epoch", header(`{"__metadata__":{"format":"dlrun-checkpoint-1","epoch":"-1"}}`), `bad epoch "-1"`},
	} {
		p := filepath.Join(dir, c.name)
		os.WriteFile(p, c.data, 0o644)
		e, err := checkpointEpoch(p)
		got := strconv.Itoa(e)
		if err != nil {
			got = err.Error()
		}
		if !strings.Contains(got, c.want) {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
	if e, err := checkpointEpoch(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("a folder: %d, %v", e, err)
	}
}
