// Package musictest writes small folders of MIDI files for the tests of
// the packages that train on music, read it or serve it.
package musictest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/dlrun/dlrun/music"
)

// Write writes n Standard MIDI Files into folder dir, p0.mid to
// p<n-1>.mid: piece i is 12+i quarter-note steps of a three-note chord
// cycling through the I, IV and V of the major key on MIDI note 48+i%7.
func Write(dir string, n int) error {
	for i := 0; i < n; i++ {
		root := 48 + i%7
		chords := [][]int{{root, root + 4, root + 7}, {root + 5, root + 9, root + 12}, {root + 7, root + 11, root + 14}}
		steps := make([][]int, 12+i)
		for s := range steps {
			steps[s] = chords[s%3]
		}
		r, err := music.FromNotes(steps, music.Quarter)
		if err != nil {
			return err
		}
		if err := music.WriteFile(filepath.Join(dir, fmt.Sprintf("p%d.mid", i)), r, music.WriteOptions{}); err != nil {
			return err
		}
	}
	return nil
}

// Folder writes n pieces (Write) into a new folder below t.TempDir() and
// returns its path; an error fails the test.
func Folder(t testing.TB, n int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "midi")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := Write(dir, n); err != nil {
		t.Fatal(err)
	}
	return dir
}
