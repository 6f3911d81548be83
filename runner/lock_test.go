package runner_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/dlrun/dlrun/datasets"
	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/runner"
)

// gate is a log that blocks the run writing to it at its first line (the
// run has then written config.json and model.json and holds its folder)
// until released.
type gate struct {
	once    sync.Once
	reached chan struct{}
	release chan struct{}
}

func newGate() *gate { return &gate{reached: make(chan struct{}), release: make(chan struct{})} }

func (g *gate) Write(p []byte) (int, error) {
	g.once.Do(func() {
		close(g.reached)
		<-g.release
	})
	return len(p), nil
}

// Two runs into one folder: the second, started while the first holds the
// folder, fails at once with a one-line error naming the folder (and, on
// Linux, the holder's pid) and writes nothing; the first run's files are
// all its own. Resume is refused the same way.
func TestSecondRunIntoALockedFolderIsRefused(t *testing.T) {
	d := datasets.XOR()
	dir := filepath.Join(t.TempDir(), "run")
	first := runConfig("xor", d)
	first.Epochs, first.Optimizer = 3, "adam"
	g := newGate()
	done := make(chan error, 1)
	go func() {
		_, err := runner.Train(first, runner.Options{Data: run.FromDataset(d), Out: dir, Log: g})
		done <- err
	}()
	<-g.reached
	second := runConfig("xor", d)
	second.Epochs, second.Optimizer = 3, "sgd"
	_, err := runner.Train(second, runner.Options{Data: run.FromDataset(d), Out: dir})
	if !errors.Is(err, runner.ErrInUse) || !strings.Contains(err.Error(), "run folder "+dir+" is in use") || strings.Contains(err.Error(), "\n") {
		t.Errorf("second Train: %v", err)
	}
	if runtime.GOOS == "linux" && err != nil && !strings.Contains(err.Error(), fmt.Sprintf("(pid %d)", os.Getpid())) {
		t.Errorf("second Train does not name the holder's pid %d: %v", os.Getpid(), err)
	}
	if _, err := runner.Resume(dir, runner.Options{Epochs: 5, Data: run.FromDataset(d)}); !errors.Is(err, runner.ErrInUse) {
		t.Errorf("Resume of a folder in use: %v", err)
	}
	close(g.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	cfg, err := run.ReadConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Optimizer != "adam" || cfg.Epochs != 3 {
		t.Errorf("config.json says %s for %d epochs, want the first run's adam for 3", cfg.Optimizer, cfg.Epochs)
	}
	// The lock goes with the run: the folder can be resumed now.
	if _, err := runner.Resume(dir, runner.Options{Epochs: 4, Data: run.FromDataset(d)}); err != nil {
		t.Errorf("Resume after the run ended: %v", err)
	}
}
