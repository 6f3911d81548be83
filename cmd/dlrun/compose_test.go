package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/music"
	"github.com/dlrun/dlrun/music/musictest"
)

// `dlrun compose` writes a MIDI file that reads back as the piece, the
// same for the same seed; --stats prints the corpus statistics of 20
// pieces; a missing -o, a folder that does not exist and a non-music run
// are one-line errors naming the flag.
func TestComposeCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds dlrun")
	}
	data := musictest.Folder(t, 5)
	dir := filepath.Join(t.TempDir(), "m")
	if _, stderr, ok := runBinary(t, "train", "--model", "music-lstm", "--data", data, "--epochs", "1", "--batch", "2", "--seq-len", "12", "--out", dir); !ok {
		t.Fatalf("train: %s", stderr)
	}
	out := t.TempDir()
	a, b := filepath.Join(out, "a.mid"), filepath.Join(out, "b.mid")
	for _, f := range []string{a, b} {
		if _, stderr, ok := runBinary(t, "compose", "--run", dir, "-o", f, "--steps", "16", "--seed", "7"); !ok {
			t.Fatalf("compose: %s", stderr)
		}
	}
	ab, bb := mustReadFile(t, a), mustReadFile(t, b)
	if !bytes.Equal(ab, bb) {
		t.Error("the same seed composed two different files")
	}
	song, err := music.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	if roll, _, err := song.Roll(music.Quarter); err != nil || len(roll.Steps) > 17 {
		t.Errorf("a.mid reads back as %v steps, %v; want at most 17", len(roll.Steps), err)
	}
	stdout, stderr, ok := runBinary(t, "compose", "--run", dir, "--stats", "--steps", "8")
	if !ok || !strings.Contains(stdout, "20 pieces, 160 steps") || !strings.Contains(stdout, "3 or 4 notes sound at") {
		t.Errorf("--stats: %s%s", stdout, stderr)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"compose", "--run", dir}, "-o: name the MIDI file to write"},
		{[]string{"compose", "-o", a}, "--run: name the run folder"},
		{[]string{"compose", "--run", dir, "-o", filepath.Join(out, "no", "x.mid")}, "--out " + filepath.Join(out, "no", "x.mid") + ": the folder"},
		{[]string{"compose", "--run", dir, "-o", a, "--steps", "0"}, "--steps 0"},
		{[]string{"compose", "--run", dir, "-o", a, "--prime", filepath.Join(out, "none.mid")}, "--prime"},
	} {
		_, stderr, ok := runBinary(t, c.args...)
		if ok || !strings.Contains(stderr, c.want) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
			t.Errorf("%v: %q, want one line with %q", c.args, stderr, c.want)
		}
	}
	if !bytes.Equal(mustReadFile(t, a), ab) {
		t.Error("a refused compose changed a.mid")
	}
}

func mustReadFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
