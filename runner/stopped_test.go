package runner_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/datasets"
	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/runner"
	"github.com/dlrun/dlrun/train"
)

// Train and Resume tell Options.Started the run folder once it is locked,
// and Stopped says what the folder holds and how to go on, with the
// folder quoted for the shell where it needs to be.
func TestStartedAndStopped(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "it's a run")
	resume := `dlrun train --resume '` + strings.ReplaceAll(dir, "'", `'\''`) + `'`
	if got, want := runner.Stopped(dir), "stopped before its first epoch was saved; start it again with: "+resume; got != want {
		t.Errorf("no checkpoint: %q, want %q", got, want)
	}
	d := datasets.XOR()
	var started []string
	opts := runner.Options{Data: run.FromDataset(d), Out: dir, Started: func(dir string) { started = append(started, dir) }}
	if _, err := runner.Train(run.Config{Model: "xor", Dataset: d.Name, Config: train.Config{Epochs: 2}}, opts); err != nil {
		t.Fatal(err)
	}
	opts.Epochs = 3
	if _, err := runner.Resume(dir, opts); err != nil {
		t.Fatal(err)
	}
	if len(started) != 2 || started[0] != dir || started[1] != dir {
		t.Errorf("Started called with %q, want %q for Train and for Resume", started, dir)
	}
	if got, want := runner.Stopped(dir), "stopped after epoch 3 (checkpoint saved); continue with: "+resume; got != want {
		t.Errorf("after epoch 3: %q, want %q", got, want)
	}
	if err := os.WriteFile(filepath.Join(dir, "checkpoint.safetensors"), []byte("not one"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := runner.Stopped(dir); !strings.HasPrefix(got, "stopped; its checkpoint cannot be read (") {
		t.Errorf("unreadable checkpoint: %q", got)
	}

	agent := t.TempDir()
	if err := os.WriteFile(filepath.Join(agent, "checkpoint.gob"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got, want := runner.Stopped(agent), "stopped (checkpoint saved); continue with: dlrun train --resume "+agent; got != want {
		t.Errorf("an agent: %q, want %q", got, want)
	}
}
