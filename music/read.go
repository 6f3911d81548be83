package music

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/dlrun/dlrun/internal/safeio"
	"gitlab.com/gomidi/midi/midimessage/channel"
	"gitlab.com/gomidi/midi/midimessage/meta"
	"gitlab.com/gomidi/midi/smf"
	"gitlab.com/gomidi/midi/smf/smfreader"
)

// DrumChannel is the General MIDI percussion channel, channel 10 (9
// counting from zero), whose notes are drum sounds, not pitches: Read
// leaves them out.
const DrumChannel = 9

// Note is a note of a Song, in the file's ticks.
type Note struct {
	Key        int   // MIDI note number, 0 to 127
	Start, End int64 // ticks from the start: the note-on and its note-off (End ≥ Start)
	Channel    int   // 0 to 15
	Velocity   int   // of the note-on, 1 to 127
}

// Song is a Standard MIDI File's music as Read finds it.
type Song struct {
	Name     string  // the file's name, for errors
	Format   int     // 0 (one track) or 1 (simultaneous tracks)
	Division int     // ticks a quarter note
	Tempo    float64 // quarter notes a minute of the first tempo event; DefaultTempo when there is none
	Meter    Meter   // the first time signature; 4/4 when there is none
	Notes    []Note  // the notes of every track but the drums', ordered by Start, then Key, then Channel
	Ticks    int64   // the length: the end of the longest track
}

// ReadFile reads the Standard MIDI File at path (Read). Only a regular
// file of at most MaxFileBytes is read; anything else is a one-line error
// naming path.
func ReadFile(path string) (*Song, error) {
	b, err := safeio.ReadFile(path, MaxFileBytes)
	if err != nil {
		if errors.Is(err, safeio.ErrTooLarge) {
			return nil, fmt.Errorf("%s: more than the %d bytes a MIDI file may hold (MaxFileBytes): %w", path, MaxFileBytes, ErrTooLarge)
		}
		return nil, err
	}
	return Parse(path, b)
}

// Read reads a Standard MIDI File of type 0 or 1 from r, at most
// MaxFileBytes of it; name names it in errors.
func Read(name string, r io.Reader) (*Song, error) {
	b, err := io.ReadAll(safeio.Limit(r, MaxFileBytes, name))
	if err != nil {
		if errors.Is(err, safeio.ErrTooLarge) {
			return nil, fmt.Errorf("%s: more than the %d bytes a MIDI file may hold (MaxFileBytes): %w", name, MaxFileBytes, ErrTooLarge)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return Parse(name, b)
}

// Parse reads the Standard MIDI File b, named name in errors: its notes
// (those on the drum channel left out), the first tempo and time
// signature, and its length. A note-on of velocity 0 is a note-off; a
// note-off ends the earliest note still sounding of its key and channel
// in its track, and a note still sounding at the end of its track ends
// there. Events other than notes, tempo and time signature are skipped.
//
// A file that is not a well-formed Standard MIDI File is an error naming
// it, wrapping ErrMalformed and saying what is wrong and at which byte; a
// type 2 file, or one timed in SMPTE frames, wraps ErrUnsupported; one
// beyond MaxFileBytes, MaxTracks or MaxEvents wraps ErrTooLarge.
func Parse(name string, b []byte) (*Song, error) {
	if len(b) > MaxFileBytes {
		return nil, fmt.Errorf("%s: %d bytes, more than the %d a MIDI file may hold (MaxFileBytes): %w", name, len(b), MaxFileBytes, ErrTooLarge)
	}
	h, checked, err := frame(name, b)
	if err != nil {
		return nil, err
	}
	s := &Song{Name: name, Format: h.format, Division: h.division, Tempo: DefaultTempo}
	tempoAt, meterAt := int64(-1), int64(-1)
	type voice struct{ key, channel int }
	var (
		track int16 = -1
		now   int64
		open  map[voice][]int // indices into s.Notes of the notes sounding, earliest first
	)
	endTrack := func() {
		for _, idx := range open {
			for _, i := range idx {
				s.Notes[i].End = now
			}
		}
		s.Ticks = max(s.Ticks, now)
	}
	rd := smfreader.New(bytes.NewReader(checked))
	for {
		m, err := rd.Read()
		if err == smf.ErrFinished {
			break
		}
		if err != nil {
			// frame has checked what gomidi reads, so this is not expected.
			return nil, fmt.Errorf("%s: %w: %v", name, ErrMalformed, err)
		}
		if t := rd.Track(); t != track {
			track, now, open = t, 0, map[voice][]int{}
		}
		now += int64(rd.Delta())
		switch m := m.(type) {
		case channel.NoteOn:
			if m.Channel() == DrumChannel {
				continue
			}
			v := voice{int(m.Key()), int(m.Channel())}
			open[v] = append(open[v], len(s.Notes))
			s.Notes = append(s.Notes, Note{Key: v.key, Start: now, End: -1, Channel: v.channel, Velocity: int(m.Velocity())})
		case channel.NoteOff:
			v := voice{int(m.Key()), int(m.Channel())}
			if idx := open[v]; len(idx) > 0 {
				s.Notes[idx[0]].End = now
				open[v] = idx[1:]
			}
		case meta.Tempo:
			if tempoAt < 0 || now < tempoAt {
				tempoAt, s.Tempo = now, m.FractionalBPM()
			}
		case meta.TimeSig:
			if meterAt < 0 || now < meterAt {
				meterAt, s.Meter = now, Meter{int(m.Numerator), int(m.Denominator)}
			}
		}
		if m == meta.EndOfTrack {
			endTrack()
		}
	}
	slices.SortStableFunc(s.Notes, func(a, b Note) int {
		return cmp.Or(cmp.Compare(a.Start, b.Start), cmp.Compare(a.Key, b.Key), cmp.Compare(a.Channel, b.Channel))
	})
	return s, nil
}
