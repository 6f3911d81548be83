package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// Re-running an experiment into a folder that holds it says what
// 'dlrun run' can do (another --out, or remove the folder), not train's
// --resume.
func TestRunIntoExistingOut(t *testing.T) {
	exp := filepath.Join(t.TempDir(), "exp")
	cfg := cliFixture("xor-one-epoch.yaml")
	if _, err := dlrun(t, "run", cfg, "--out", exp); err != nil {
		t.Fatal(err)
	}
	_, err := dlrun(t, "run", cfg, "--out", exp)
	oneLineError(t, "run again", err, "already holds a run", "choose another --out, or remove "+exp+" to run the experiment again")
	if err != nil && strings.Contains(err.Error(), "--resume") {
		t.Errorf("run suggests --resume, which it does not have: %v", err)
	}
	// train keeps its own hint.
	_, err = dlrun(t, "train", "--model", "xor", "--epochs", "1", "--out", filepath.Join(exp, "seed-1"))
	oneLineError(t, "train again", err, "continue it with --resume")
}
