package run

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/pkg/errors"
)

// Stopped returns the line to show when the training of the run in folder
// dir is stopped by a signal (Ctrl-C, SIGTERM): what it saved, read from
// the folder itself, and the command that continues it, as in "stopped
// after epoch 3 (checkpoint saved); continue with: dlrun train --resume
// runs/cnn".
func Stopped(dir string) string {
	resume := "dlrun train --resume " + shellQuote(dir)
	if _, err := os.Lstat(filepath.Join(dir, agentCheckpointFile)); err == nil {
		return "stopped (checkpoint saved); continue with: " + resume
	}
	path := filepath.Join(dir, checkpointFile)
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return "stopped before its first epoch was saved; start it again with: " + resume
	}
	e, err := checkpointEpoch(path)
	if err != nil {
		return fmt.Sprintf("stopped; its checkpoint cannot be read (%v)", err)
	}
	return fmt.Sprintf("stopped after epoch %d (checkpoint saved); continue with: %s", e, resume)
}

// started calls o.Started, if set, with the run folder dir.
func (o Options) started(dir string) {
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
