package runner

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/dlrun/dlrun/rundir"
	"github.com/dlrun/dlrun/train"
	"github.com/pkg/errors"
)

// Stopped returns the line to show when the training of the run in folder
// dir is stopped by a signal (Ctrl-C, SIGTERM): what it saved, read from
// the folder itself, and the command that continues it, as in "stopped
// after epoch 3 (checkpoint saved); continue with: dlrun train --resume
// runs/cnn".
func Stopped(dir string) string {
	resume := "dlrun train --resume " + shellQuote(dir)
	if _, err := os.Lstat(filepath.Join(dir, rundir.AgentCheckpoint)); err == nil {
		return "stopped (checkpoint saved); continue with: " + resume
	}
	path := filepath.Join(dir, rundir.Checkpoint)
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return "stopped before its first epoch was saved; start it again with: " + resume
	}
	info, err := train.ReadCheckpointInfo(path)
	if err != nil {
		return fmt.Sprintf("stopped; its checkpoint cannot be read (%v)", err)
	}
	return fmt.Sprintf("stopped after epoch %d (checkpoint saved); continue with: %s", info.Epoch, resume)
}

// tellStarted calls o.Started, if set, with the run folder dir.
func (o Options) tellStarted(dir string) {
	if o.Started != nil {
		o.Started(dir)
	}
}

// shellQuote returns s as a shell word: as it is when it holds only
// letters, digits and -_./:=+@%, otherwise in single quotes.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=+@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// A Stopper lets a signal handler end the process during a training in
// agreement with the run folder and the log: Stop waits while a step is
// being saved (from its checkpoint to its log line), then prints the log
// line kept back (that of the last saved step, when the log shows every
// few epochs) and returns; the caller then says what was saved (Stopped)
// and exits. After Stop, the training saves no further step. The zero
// value is ready to use; a nil *Stopper does nothing.
type Stopper struct {
	mu      sync.Mutex
	holding bool      // the training goroutine holds mu (a step is being saved)
	log     *epochLog // the training's log, once it has one
}

// Stop waits until no step is being saved, flushes the log's kept-back
// line and keeps every later step from being saved.
func (s *Stopper) Stop() {
	if s == nil {
		return
	}
	s.mu.Lock() // never released: the process is ending
	if s.log != nil {
		s.log.flush()
	}
}

// saving marks the start of a step's saving, before its checkpoint.
func (s *Stopper) saving() {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.holding = true
}

// saved marks the end of a step's saving, after its log line, or of a
// saving that failed; log is the training's log.
func (s *Stopper) saved(log *epochLog) {
	if s == nil || !s.holding {
		return
	}
	s.log, s.holding = log, false
	s.mu.Unlock()
}
