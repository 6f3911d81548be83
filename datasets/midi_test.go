package datasets

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/internal/safeio"
	"github.com/dlrun/dlrun/music"
)

// writeMIDI writes a MIDI file of the roll given by its steps' notes at
// dir/rel, making the folders on the way.
func writeMIDI(t testing.TB, dir, rel string, g music.Grid, steps ...[]int) {
	t.Helper()
	r, err := music.FromNotes(steps, g)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := music.WriteFile(path, r, music.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
}

// midiFolder writes a folder of n MIDI files, some in subfolders, with a
// hidden folder, a hidden file and a text file that are not read.
func midiFolder(t testing.TB, n int) (string, []string) {
	dir := t.TempDir()
	var rels []string
	for i := 0; i < n; i++ {
		rel := []string{"a.mid", "b.MID", "sub/c.midi", "sub/deeper/d.mid"}[i%4]
		if i >= 4 {
			rel = strings.Replace(rel, ".", "-"+string(rune('a'+i))+".", 1)
		}
		writeMIDI(t, dir, rel, music.Quarter, []int{60 + i, 64}, []int{60 + i, 64}, []int{})
		rels = append(rels, rel)
	}
	writeMIDI(t, dir, ".git/x.mid", music.Quarter, []int{60})
	writeMIDI(t, dir, ".hidden.mid", music.Quarter, []int{60})
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not music"), 0o644)
	slices.Sort(rels)
	return dir, rels
}

func TestLoadMIDIDir(t *testing.T) {
	dir, rels := midiFolder(t, 12)
	m, err := LoadMIDIDir(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != dir || m.Grid != music.Quarter || len(m.Train) != 10 || len(m.Valid) != 1 || len(m.Test) != 1 || m.OutOfRange != 0 {
		t.Fatalf("%s: grid %v, %d/%d/%d pieces", m.Name, m.Grid, len(m.Train), len(m.Valid), len(m.Test))
	}
	var names []string
	for _, split := range [][]Piece{m.Train, m.Valid, m.Test} {
		for i, p := range split {
			if i > 0 && split[i-1].Name >= p.Name {
				t.Errorf("pieces out of path order: %s, %s", split[i-1].Name, p.Name)
			}
			names = append(names, p.Name)
		}
	}
	slices.Sort(names)
	if !reflect.DeepEqual(names, rels) {
		t.Errorf("pieces %v, want %v", names, rels)
	}
	if a := piece(m, "a.mid"); a == nil || !reflect.DeepEqual(a.Roll.Notes(), [][]int{{60, 64}, {60, 64}, {}}) {
		t.Errorf("a.mid: %v", a)
	}

	// The same files elsewhere, written in another order: the same split
	// and hash.
	other := t.TempDir()
	for i := len(rels) - 1; i >= 0; i-- {
		b, _ := os.ReadFile(filepath.Join(dir, rels[i]))
		os.MkdirAll(filepath.Dir(filepath.Join(other, rels[i])), 0o755)
		os.WriteFile(filepath.Join(other, rels[i]), b, 0o644)
	}
	m2, err := LoadMIDIDir(other, music.Quarter)
	if err != nil {
		t.Fatal(err)
	}
	if m2.SHA256 != m.SHA256 || m2.Test[0].Name != m.Test[0].Name || m2.Valid[0].Name != m.Valid[0].Name {
		t.Error("the same files in another folder split or hash differently")
	}

	// Three files: one in each set. 25 files: 3 each for test and valid.
	small, _ := midiFolder(t, 3)
	if m, err := LoadMIDIDir(small, 0); err != nil || len(m.Train) != 1 || len(m.Valid) != 1 || len(m.Test) != 1 {
		t.Errorf("3 files: %v", err)
	}
	big, _ := midiFolder(t, 25)
	if m, err := LoadMIDIDir(big, 0); err != nil || len(m.Train) != 19 || len(m.Valid) != 3 || len(m.Test) != 3 {
		t.Errorf("25 files: %v", err)
	}
}

func TestLoadMIDIDirGridAndRange(t *testing.T) {
	dir := t.TempDir()
	for _, rel := range []string{"a.mid", "b.mid", "c.mid"} {
		writeMIDI(t, dir, rel, music.Sixteenth, []int{60, 108}, []int{60}, []int{}, []int{64})
	}
	// A 16th-note grid keeps the files' steps; an 8th-note grid halves
	// them, rounding as music.Song.Roll does: the 16th note C8 rounds to
	// the first 8th, the last 16th's E4 starts on the second 8th boundary
	// and lasts one step.
	m, err := LoadMIDIDir(dir, music.Sixteenth)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Train[0].Roll.Notes(); !reflect.DeepEqual(got, [][]int{{60, 108}, {60}, {}, {64}}) || m.Grid != music.Sixteenth {
		t.Errorf("16th: %v", got)
	}
	m, err = LoadMIDIDir(dir, music.Eighth)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Train[0].Roll.Notes(); !reflect.DeepEqual(got, [][]int{{60, 108}, {}, {64}}) {
		t.Errorf("8th: %v", got)
	}
	if _, err := LoadMIDIDir(dir, music.Grid(3)); !errors.Is(err, music.ErrGrid) || !strings.Contains(err.Error(), dir) {
		t.Errorf("grid 3: %v", err)
	}
}

func TestLoadMIDIDirErrors(t *testing.T) {
	check := func(what string, err error, want ...string) {
		t.Helper()
		if err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %v, want one line", what, err)
			return
		}
		for _, w := range want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q, want it to say %q", what, err, w)
			}
		}
	}
	dir, _ := midiFolder(t, 3)
	_, err := LoadMIDIDir(filepath.Join(dir, "a.mid"), 0)
	check("a file", err, "not a folder")
	_, err = LoadMIDIDir(filepath.Join(dir, "missing"), 0)
	check("a missing folder", err, "missing")
	two, _ := midiFolder(t, 2)
	_, err = LoadMIDIDir(two, 0)
	check("two files", err, two, "2 MIDI files", "at least 3")

	bad := filepath.Join(dir, "sub", "bad.mid")
	os.WriteFile(bad, []byte("MThd\x00\x00\x00\x06\x00\x02\x00\x01\x00\x60"), 0o644)
	_, err = LoadMIDIDir(dir, 0)
	check("a type 2 file", err, bad, "type 2")
	if !errors.Is(err, music.ErrUnsupported) {
		t.Errorf("type 2: %v does not wrap music.ErrUnsupported", err)
	}
	os.WriteFile(bad, []byte("MThd\x00\x00\x00\x06\x00\x01\x00\x02\x00\x60MTrk\x00\x00\x00\x04\x00\xFF\x2F\x00"), 0o644)
	_, err = LoadMIDIDir(dir, 0)
	check("a truncated file", err, bad, "declares 2 tracks")

	// Drums only: no notes on the piano.
	drums := []byte("MThd\x00\x00\x00\x06\x00\x00\x00\x01\x00\x60MTrk\x00\x00\x00\x0C\x00\x99\x24\x64\x60\x89\x24\x00\x00\xFF\x2F\x00")
	os.WriteFile(bad, drums, 0o644)
	_, err = LoadMIDIDir(dir, 0)
	check("drums only", err, bad, "no notes on the piano's 88 keys")

	os.Remove(bad)
	if err := os.Mkdir(bad, 0o755); err != nil {
		t.Fatal(err)
	}
	_, err = LoadMIDIDir(dir, 0)
	if err != nil {
		t.Errorf("a folder named bad.mid is a folder, not a file: %v", err)
	}
	os.Remove(bad)
	if err := os.Symlink("/dev/zero", bad); err == nil {
		_, err = LoadMIDIDir(dir, 0)
		check("a link to a device", err, bad, "not a regular file")
	}
}

func TestLoadMIDIDirOutOfRange(t *testing.T) {
	dir, _ := midiFolder(t, 3)
	// C9 (120) is beyond the piano's top key; it is counted and left out.
	b := []byte("MThd\x00\x00\x00\x06\x00\x00\x00\x01\x01\xE0MTrk\x00\x00\x00\x13\x00\x90\x3C\x40\x00\x78\x40\x83\x60\x80\x3C\x00\x00\x78\x00\x00\xFF\x2F\x00")
	os.WriteFile(filepath.Join(dir, "a.mid"), b, 0o644)
	m, err := LoadMIDIDir(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	if m.OutOfRange != 1 {
		t.Errorf("%d notes out of range, want 1", m.OutOfRange)
	}
	if a := piece(m, "a.mid"); !reflect.DeepEqual(a.Roll.Notes(), [][]int{{60}}) {
		t.Errorf("a.mid: %v", a.Roll.Notes())
	}
}

// piece returns the piece of m named name, or nil.
func piece(m *Music, name string) *Piece {
	for _, split := range [][]Piece{m.Train, m.Valid, m.Test} {
		for i := range split {
			if split[i].Name == name {
				return &split[i]
			}
		}
	}
	return nil
}

// FuzzLoadMIDIDir puts arbitrary bytes in a folder beside two valid MIDI
// files: loading must not panic, and an error must be one line naming the
// file.
func FuzzLoadMIDIDir(f *testing.F) {
	seed := t0Folder(f)
	for _, name := range []string{"a.mid", "b.MID"} {
		b, err := os.ReadFile(filepath.Join(seed, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("MThd\x00\x00\x00\x06\x00\x02\x00\x01\x00\x60"))
	f.Add([]byte("MThd\x00\x00\x00\x06\x00\x00\x00\x01\x00\x60MTrk\x00\x00\x00\x0C\x00\x99\x24\x64\x60\x89\x24\x00\x00\xFF\x2F\x00"))
	f.Add([]byte("MThd\x00\x00\x00\x06\x00\x00\x00\x01\x00\x01MTrk\x00\x00\x00\x09\x8F\xFF\xFF\x7F\x90\x3C\x40\x00\x3C"))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		writeMIDI(t, dir, "one.mid", music.Quarter, []int{60, 64, 67})
		writeMIDI(t, dir, "two.mid", music.Quarter, []int{62, 65, 69})
		path := filepath.Join(dir, "fuzz.mid")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		m, err := LoadMIDIDir(dir, music.Sixteenth)
		if err != nil {
			if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, path) {
				t.Fatalf("error %q is not one line naming %s", msg, path)
			}
			if errors.Is(err, safeio.ErrTooLarge) != errors.Is(err, music.ErrTooLarge) {
				t.Fatal("ErrTooLarge differs between packages")
			}
			return
		}
		if n := len(m.Train) + len(m.Valid) + len(m.Test); n != 3 {
			t.Fatalf("%d pieces from 3 files", n)
		}
	})
}

// t0Folder returns a folder of three valid MIDI files for the fuzz seeds.
func t0Folder(tb testing.TB) string {
	dir, _ := midiFolder(tb, 3)
	return dir
}
