package runner

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

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
