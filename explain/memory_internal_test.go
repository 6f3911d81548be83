package explain

import (
	"strings"
	"testing"

	"github.com/dlrun/dlrun/nn"
	"github.com/dlrun/dlrun/train"
)

// An explanation whose batch would not fit in the memory left is refused
// before it is built, in one line that says what to change.
func TestMemoryIsAdmittedFirst(t *testing.T) {
	model := nn.NewSequential("mlp", nn.NewDense(64), nn.ReLU(), nn.NewDense(2))
	tr, err := train.New(model, &train.Classify{Shape: []int{100}, Outputs: 2}, train.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	e, err := New(tr)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	defer func(f func() (int64, string, bool)) { availableMemory = f }(availableMemory)
	availableMemory = func() (int64, string, bool) { return 0, "a test's limit", true }
	_, err = e.Attribute(make([]float32, 100), Options{})
	if err == nil || !strings.Contains(err.Error(), "more than the 0.0 MiB this process may still use (a test's limit)") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("no memory left: %v", err)
	}
	if len(e.nets) != 0 {
		t.Errorf("%d graphs built before the memory was admitted", len(e.nets))
	}
	availableMemory = func() (int64, string, bool) { return 1 << 30, "a test's limit", true }
	if _, err := e.Attribute(make([]float32, 100), Options{}); err != nil {
		t.Fatalf("1 GiB left: %v", err)
	}
}
