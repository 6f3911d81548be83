package train

import (
	"bytes"
	"testing"

	"github.com/dlrun/dlrun/internal/allocs"
)

// FuzzRestore restores arbitrary bytes as a checkpoint of the tiny
// model's trainer: no panic, a one-line error, the trainer exactly as it
// was on error, and bounded allocation.
func FuzzRestore(f *testing.F) {
	addFixtures(f, "checkpoint-", "weights-valid")
	tr := tinyTrainer(f, "")
	f.Fuzz(func(t *testing.T, b []byte) {
		before := snapshot(t, tr)
		var err error
		n := allocs.Bytes(func() {
			var st *stFile
			if st, err = readHeader(bytes.NewReader(b), int64(len(b)), checkpointNames(tr.g)); err != nil {
				return
			}
			var ck *checkpoint
			if ck, err = readCheckpoint(st, tr.resumable()); err != nil {
				return
			}
			err = ck.apply(tr.resumable())
		})
		if n > allocBound(len(b)) {
			t.Fatalf("restoring %d bytes allocated %d", len(b), n)
		}
		checkError(t, err)
		if err != nil {
			if d := sameState(before, snapshot(t, tr)); d != "" {
				t.Fatalf("a failed restore (%v) changed %s", err, d)
			}
		}
	})
}

// FuzzCheckpointInfoAndTensors reads arbitrary bytes as a checkpoint's
// metadata (ParseCheckpointInfo) and checks every tensor (CheckTensors),
// as run.Check does without a model: no panic, a one-line error, and
// bounded allocation.
func FuzzCheckpointInfoAndTensors(f *testing.F) {
	addFixtures(f, "checkpoint-", "weights-valid")
	f.Fuzz(func(t *testing.T, b []byte) {
		var err1, err2 error
		n := allocs.Bytes(func() {
			_, err1 = ParseCheckpointInfo(bytes.NewReader(b), int64(len(b)))
			err2 = CheckTensors(bytes.NewReader(b), int64(len(b)))
		})
		if n > 2*allocBound(len(b)) {
			t.Fatalf("reading %d bytes allocated %d", len(b), n)
		}
		checkError(t, err1)
		checkError(t, err2)
	})
}
