package music

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseType0(t *testing.T) {
	// One track, 96 ticks a quarter: C4 for a quarter, then E4 and G4
	// together for a half (running status, a note-on of velocity 0 as
	// note-off), with a drum note on channel 10 that is left out.
	b := smfFile(0, 96, cat(
		tempoEv(0, 500000),
		ev(0, 0xFF, 0x58, 0x04, 3, 2, 24, 8), // 3/4
		ev(0, 0x90, 60, 100),
		ev(0, 0x99, 36, 90), // drums
		ev(96, 0x80, 60, 0),
		ev(0, 0x90, 64, 80),
		ev(0, 67, 80), // running status
		ev(192, 64, 0),
		ev(0, 67, 0),
		ev(0, 0x89, 36, 0),
		eot,
	))
	s, err := Parse("t.mid", b)
	if err != nil {
		t.Fatal(err)
	}
	want := []Note{
		{Key: 60, Start: 0, End: 96, Channel: 0, Velocity: 100},
		{Key: 64, Start: 96, End: 288, Channel: 0, Velocity: 80},
		{Key: 67, Start: 96, End: 288, Channel: 0, Velocity: 80},
	}
	if !reflect.DeepEqual(s.Notes, want) {
		t.Errorf("notes %+v, want %+v", s.Notes, want)
	}
	if s.Format != 0 || s.Division != 96 || s.Tempo != 120 || s.Meter != (Meter{3, 4}) || s.Ticks != 288 {
		t.Errorf("song %+v", s)
	}
}

func TestParseType1(t *testing.T) {
	// A conductor track with a tempo change, and two note tracks; the
	// second lacks its end-of-track event, the first has bytes after it,
	// and an unknown chunk sits between them.
	conductor := cat(tempoEv(0, 400000), tempoEv(960, 600000), ev(0, 0xFF, 0x03, 0x02, 'h', 'i'), eot)
	t1 := cat(ev(0, 0xC0, 5), ev(0, 0x90, 72, 64), ev(0, 0xF0, 0x03, 0x43, 0x12, 0xF7), ev(480, 0x80, 72, 64), eot, ev(0, 0x90, 1, 1))
	t2 := cat(ev(240, 0x91, 48, 70), ev(0, 0xB1, 7, 100), ev(480, 0x81, 48, 0))
	b := smfFile(1, 480, conductor, t1)
	b = append(b, chunk("XFIH", []byte{1, 2, 3})...)
	b = append(b, chunk("MTrk", t2)...)
	binary16(b[10:], 3)
	s, err := Parse("t.mid", b)
	if err != nil {
		t.Fatal(err)
	}
	want := []Note{
		{Key: 72, Start: 0, End: 480, Channel: 0, Velocity: 64},
		{Key: 48, Start: 240, End: 720, Channel: 1, Velocity: 70},
	}
	if !reflect.DeepEqual(s.Notes, want) {
		t.Errorf("notes %+v, want %+v", s.Notes, want)
	}
	if s.Tempo != 150 || s.Ticks != 960 || s.Meter != (Meter{}) {
		t.Errorf("tempo %g, ticks %d, meter %v; want 150, 960, none", s.Tempo, s.Ticks, s.Meter)
	}
}

// binary16 writes v big-endian into b.
func binary16(b []byte, v int) { b[0], b[1] = byte(v>>8), byte(v) }

func TestParseOverlapsAndUnclosedNotes(t *testing.T) {
	// Two note-ons of one key before its note-offs: each note-off ends
	// the earliest; a note never ended lasts to the end of its track; a
	// stray note-off is ignored; running status carries across a meta
	// event, as other readers allow.
	b := smfFile(0, 4, cat(
		ev(0, 0x90, 60, 10),
		ev(1, 0x90, 60, 20),
		ev(1, 0xFF, 0x01, 0x00),
		ev(0, 60, 0),
		ev(1, 0x80, 60, 0),
		ev(0, 0x80, 61, 0),
		ev(0, 0x90, 62, 30),
		ev(5, 0xFF, 0x2F, 0x00),
	))
	s, err := Parse("t.mid", b)
	if err != nil {
		t.Fatal(err)
	}
	want := []Note{
		{Key: 60, Start: 0, End: 2, Velocity: 10},
		{Key: 60, Start: 1, End: 3, Velocity: 20},
		{Key: 62, Start: 3, End: 8, Velocity: 30},
	}
	if !reflect.DeepEqual(s.Notes, want) {
		t.Errorf("notes %+v, want %+v", s.Notes, want)
	}
}

func TestParseLongSkippedWaits(t *testing.T) {
	// Skipped events whose waits add up past what one delta time holds.
	b := smfFile(0, 1, cat(
		ev(maxDelta, 0xFF, 0x01, 0x00),
		ev(maxDelta, 0xC0, 1),
		ev(maxDelta, 0x90, 60, 1),
		ev(1, 0x80, 60, 0),
		eot,
	))
	s, err := Parse("t.mid", b)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Notes) != 1 || s.Notes[0].Start != 3*maxDelta || s.Ticks != 3*maxDelta+1 {
		t.Fatalf("notes %+v, length %d", s.Notes, s.Ticks)
	}
}

func TestParseErrors(t *testing.T) {
	note := cat(ev(0, 0x90, 60, 1), ev(1, 0x80, 60, 0), eot)
	head := func(format, tracks, division int) []byte {
		b := smfFile(format, division)
		binary16(b[10:], tracks)
		return b
	}
	cases := []struct {
		name string
		b    []byte
		want string
		is   error
	}{
		{"empty", nil, "not a Standard MIDI File", ErrMalformed},
		{"riff", []byte("RIFF\x00\x00\x00\x00RMIDdata"), "not a Standard MIDI File", ErrMalformed},
		{"short header", append([]byte("MThd\x00\x00\x00\x02\x00\x00"), make([]byte, 4)...), "header chunk of 2 bytes", ErrMalformed},
		{"type 2", smfFile(2, 96, note), "type 2", ErrUnsupported},
		{"format 7", smfFile(7, 96, note), "format 7", ErrMalformed},
		{"smpte", smfFile(1, 0xE728, note), "SMPTE", ErrUnsupported},
		{"zero division", smfFile(1, 0, note), "zero ticks", ErrMalformed},
		{"no tracks", smfFile(1, 96), "declares no tracks", ErrMalformed},
		{"too many tracks", head(1, MaxTracks+1, 96), "MaxTracks", ErrTooLarge},
		{"missing tracks", append(head(1, 2, 96), chunk("MTrk", note)...), "declares 2 tracks, the file ends after 1", ErrMalformed},
		{"truncated chunk", smfFile(0, 96, note)[:30], "a chunk of 12 bytes, but only 8 remain", ErrMalformed},
		{"long varint", smfFile(0, 96, cat([]byte{0x81, 0x81, 0x81, 0x81, 0x01, 0x90, 60, 1}, eot)), "delta time longer than 4 bytes", ErrMalformed},
		{"meta too long", smfFile(0, 96, cat(ev(0, 0xFF, 0x01, 0x8F, 0xFF, 0xFF, 0x7F, 'x'))), "meta event of 33554431 bytes", ErrMalformed},
		{"sysex too long", smfFile(0, 96, ev(0, 0xF0, 0x05, 0x43)), "system-exclusive event of 5 bytes", ErrMalformed},
		{"bad status", smfFile(0, 96, cat(ev(0, 0xF4), eot)), "status byte 0xF4", ErrMalformed},
		{"no running status", smfFile(0, 96, cat(ev(0, 60, 1), eot)), "no running status", ErrMalformed},
		{"status in data", smfFile(0, 96, cat(ev(0, 0x90, 0x90, 1), eot)), "byte 0x90 where a data byte belongs", ErrMalformed},
		{"ends in event", smfFile(0, 96, cat(ev(0, 0x90, 60))), "ends inside a channel message", ErrMalformed},
		{"ends in delta", smfFile(0, 96, []byte{0x81}), "ends inside a delta time", ErrMalformed},
		{"bad tempo", smfFile(0, 96, cat(ev(0, 0xFF, 0x51, 0x02, 1, 2), eot)), "tempo event of 2 bytes", ErrMalformed},
		{"zero tempo", smfFile(0, 96, cat(tempoEv(0, 0), eot)), "tempo of 0", ErrMalformed},
		{"bad meter", smfFile(0, 96, cat(ev(0, 0xFF, 0x58, 0x04, 4, 9, 24, 8), eot)), "time signature 4/2^9", ErrMalformed},
	}
	for _, c := range cases {
		_, err := Parse("bad.mid", c.b)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "bad.mid: ") || strings.Contains(msg, "\n") || !strings.Contains(msg, c.want) || !errors.Is(err, c.is) {
			t.Errorf("%s: error %q, want one line naming bad.mid, saying %q, wrapping %v", c.name, msg, c.want, c.is)
		}
	}
}

func TestParseTooManyEvents(t *testing.T) {
	track := bytes.Repeat([]byte{0, 0xC0, 0}, MaxEvents+1)
	_, err := Parse("big.mid", smfFile(0, 96, track))
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "MaxEvents") {
		t.Fatalf("error %v, want MaxEvents", err)
	}
}

func TestReadFileLimits(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadFile(dir); err == nil || !strings.Contains(err.Error(), dir) {
		t.Errorf("a folder: error %v, want one naming it", err)
	}
	big := filepath.Join(dir, "big.mid")
	if err := os.WriteFile(big, make([]byte, MaxFileBytes+1), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(big); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), big) {
		t.Errorf("an oversized file: error %v, want MaxFileBytes naming it", err)
	}
	if _, err := Read("stream.mid", bytes.NewReader(make([]byte, MaxFileBytes+1))); !errors.Is(err, ErrTooLarge) {
		t.Errorf("an oversized stream: error %v", err)
	}
	missing := filepath.Join(dir, "missing.mid")
	if _, err := ReadFile(missing); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("a missing file: error %v", err)
	}
}
