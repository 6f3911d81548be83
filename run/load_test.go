package run_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/runner"
	"github.com/dlrun/dlrun/train"
)

// A config.json whose class names do not match the model's outputs is
// refused by Load rather than mislabelling every prediction.
func TestLoadRefusesClassesThatDoNotMatchTheModel(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "xor")
	if _, err := runner.Train(run.Config{Model: "xor", Config: train.Config{Epochs: 1}}, runner.Options{Out: dir}); err != nil {
		t.Fatal(err)
	}
	if _, err := run.Open(dir, false); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "config.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	c["classes"] = []string{"a", "b", "c"}
	if b, err = json.Marshal(c); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = run.Open(dir, false)
	if err == nil || !strings.Contains(err.Error(), "3 class names") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("3 class names for a model of 1 output: %v", err)
	}
}
