package board_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/dlrun/dlrun/board"
	"golang.org/x/sys/unix"
)

// A run folder whose .dlrun.lock a process holds, as a training run
// holds it, is running; once the lock is released, it has failed. The
// board tells without touching the file: it keeps its size, mode and
// times.
func TestRunningByLock(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "r", "config.json"), goodConfig)
	write(t, filepath.Join(dir, "r", "metrics.csv"), header+row1)
	f, err := os.OpenFile(filepath.Join(dir, "r", ".dlrun.lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	before := snapshotDir(t, dir)
	s, err := board.New(dir, board.Options{ScanEvery: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if r := s.Runs()[0]; r.Status != board.Running || r.Problem != "" {
		t.Errorf("locked: %q %q, want running", r.Status, r.Problem)
	}
	// The board's look leaves the lock to its holder: another process can
	// still not take it, and the holder can release it.
	if err := unix.Flock(int(f.Fd()), unix.LOCK_UN); err != nil {
		t.Fatal(err)
	}
	if r := s.Runs()[0]; r.Status != board.Failed {
		t.Errorf("released: %q, want failed", r.Status)
	}
	if after := snapshotDir(t, dir); !sameFiles(before, after) {
		t.Errorf("the board changed the folder:\nbefore %v\nafter  %v", before, after)
	}
}
