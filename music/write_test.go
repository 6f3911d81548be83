package music

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// chorale is a short four-part roll: held notes, repeated steps, a rest.
func chorale(t *testing.T, g Grid) *Roll {
	t.Helper()
	r, err := FromNotes([][]int{
		{48, 64, 67, 72}, {48, 64, 67, 72}, {53, 65, 69, 72}, {55, 62, 67, 71},
		{}, {48, 60, 64, 72}, {48, 60, 64}, {21, 108},
	}, g)
	if err != nil {
		t.Fatal(err)
	}
	r.Tempo, r.Meter = 72, Meter{3, 4}
	return r
}

func TestWriteReadsBack(t *testing.T) {
	for _, g := range []Grid{Quarter, Eighth, Sixteenth} {
		r := chorale(t, g)
		var buf bytes.Buffer
		if err := Write(&buf, r, WriteOptions{Name: "chorale", Program: 19, Velocity: 100}); err != nil {
			t.Fatal(err)
		}
		s, err := Parse("w.mid", buf.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		perStep := int64(TicksPerQuarter / int(g))
		// 72 quarter notes a minute are 833,333 µs a quarter note in the file.
		if s.Format != 1 || s.Division != TicksPerQuarter || math.Abs(s.Tempo-72) > 1e-4 || s.Meter != (Meter{3, 4}) || s.Ticks != 8*perStep {
			t.Errorf("%v: song %+v", g, s)
		}
		// The held C3 (steps 0-1), E4 (0-1) and C5 (0-2) are one note each.
		var c5 []Note
		for _, n := range s.Notes {
			if n.Key == 72 {
				c5 = append(c5, n)
			}
			if n.Velocity != 100 || n.Channel != 0 {
				t.Fatalf("%v: note %+v", g, n)
			}
		}
		if want := []Note{{72, 0, 3 * perStep, 0, 100}, {72, 5 * perStep, 6 * perStep, 0, 100}}; !reflect.DeepEqual(c5, want) {
			t.Errorf("%v: C5 written as %+v, want %+v", g, c5, want)
		}
		back, outside, err := s.Roll(g)
		if err != nil || outside != 0 {
			t.Fatal(err, outside)
		}
		back.Tempo = 72
		if !reflect.DeepEqual(back, r) {
			t.Errorf("%v: read back %+v\nwant %+v", g, back.Notes(), r.Notes())
		}
	}
}

func TestWriteLongRest(t *testing.T) {
	// A rest longer than one delta time holds: 2^20 quarter steps are
	// 2^20·480 ticks.
	r := &Roll{Steps: make([]Step, MaxSteps)}
	r.Steps[0].Add(60)
	r.Steps[MaxSteps-1].Add(62)
	var buf bytes.Buffer
	if err := Write(&buf, r, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	s, err := Parse("long.mid", buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	end := int64(MaxSteps) * TicksPerQuarter
	want := []Note{{60, 0, TicksPerQuarter, 0, DefaultVelocity}, {62, end - TicksPerQuarter, end, 0, DefaultVelocity}}
	if !reflect.DeepEqual(s.Notes, want) || s.Ticks != end || s.Tempo != DefaultTempo || s.Meter != (Meter{4, 4}) {
		t.Errorf("notes %+v, ticks %d, tempo %g, meter %v", s.Notes, s.Ticks, s.Tempo, s.Meter)
	}
}

func TestWriteRefuses(t *testing.T) {
	ok := func() *Roll { return &Roll{Steps: make([]Step, 2)} }
	cases := []struct {
		r    *Roll
		o    WriteOptions
		want string
	}{
		{&Roll{Grid: 3}, WriteOptions{}, "unknown grid"},
		{&Roll{Meter: Meter{4, 3}}, WriteOptions{}, "time signature 4/3"},
		{&Roll{Tempo: 3}, WriteOptions{}, "tempo 3"},
		{&Roll{Tempo: math.NaN()}, WriteOptions{}, "tempo NaN"},
		{&Roll{Tempo: -60}, WriteOptions{}, "tempo -60"},
		{&Roll{Steps: make([]Step, MaxSteps+1)}, WriteOptions{}, "MaxSteps"},
		{ok(), WriteOptions{Velocity: 128}, "velocity 128"},
		{ok(), WriteOptions{Velocity: -1}, "velocity -1"},
		{ok(), WriteOptions{Program: 128}, "program 128"},
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "keep.mid")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		var buf bytes.Buffer
		err := Write(&buf, c.r, c.o)
		if err == nil || !strings.Contains(err.Error(), c.want) || buf.Len() != 0 {
			t.Errorf("%+v: error %v, %d bytes written; want %q and nothing", c.o, err, buf.Len(), c.want)
		}
		if err := WriteFile(path, c.r, c.o); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("WriteFile: error %v, want one naming %s", err, path)
		}
		if b, _ := os.ReadFile(path); string(b) != "old" {
			t.Fatalf("a refused write changed %s", path)
		}
	}
	if err := WriteFile(filepath.Join(dir, "no", "such", "x.mid"), ok(), WriteOptions{}); err == nil {
		t.Error("writing into a missing folder succeeded")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the folder holds %d files, want only keep.mid", len(entries))
	}
}

func TestWriteFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.mid")
	r := chorale(t, Quarter)
	if err := WriteFile(path, r, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	s, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if back, _, _ := s.Roll(Quarter); !reflect.DeepEqual(back.Notes(), r.Notes()) {
		t.Errorf("read back %v", back.Notes())
	}
	if err := WriteFile(path, r, WriteOptions{Velocity: 200}); err == nil {
		t.Error("velocity 200 accepted")
	}
}
