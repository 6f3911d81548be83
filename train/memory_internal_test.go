package train

import (
	"strings"
	"testing"

	"github.com/dlrun/dlrun/nn"
)

// New refuses a model whose graph needs more memory than the process may
// still use, with a one-line error naming the batch and both figures, and
// builds it when there is room.
func TestNewRefusesAModelTheMemoryCannotHold(t *testing.T) {
	defer func(f func() (int64, string, bool)) { availableMemory = f }(availableMemory)
	build := func(batch int) (*Trainer, error) {
		ref, err := nn.ReferenceByName("rnn")
		if err != nil {
			t.Fatal(err)
		}
		m, err := ref.New([]int{28, 28}, 10)
		if err != nil {
			t.Fatal(err)
		}
		return New(m, &Classify{Shape: []int{28, 28}, Outputs: 10}, Config{BatchSize: batch})
	}
	availableMemory = func() (int64, string, bool) { return 1 << 40, "test", true }
	tr, err := build(64)
	if err != nil {
		t.Fatal(err)
	}
	need64 := tr.min.Program().MemoryEstimate()
	tr.Close()
	tr, err = build(128)
	if err != nil {
		t.Fatal(err)
	}
	need128 := tr.min.Program().MemoryEstimate()
	tr.Close()
	// The recurrent layer's caches and every activation grow with the batch.
	if need64 < 4<<20 || need128 < need64*3/2 {
		t.Fatalf("estimates %d bytes at batch 64, %d at 128", need64, need128)
	}
	availableMemory = func() (int64, string, bool) { return need128, "ulimit -v", true }
	if _, err := build(64); err != nil {
		t.Fatalf("batch 64 (%d bytes) with %d available: %v", need64, need128, err)
	}
	_, err = build(128)
	if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "a batch of 128") || !strings.Contains(err.Error(), "ulimit -v") {
		t.Fatalf("batch 128 with only its own estimate available (no room to spare): %v", err)
	}
	availableMemory = func() (int64, string, bool) { return 0, "", false }
	if tr, err := build(128); err != nil {
		t.Fatalf("nothing known about the memory: %v", err)
	} else {
		tr.Close()
	}
}
