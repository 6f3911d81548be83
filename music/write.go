package music

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/dlrun/dlrun/internal/atomicfile"
	"gitlab.com/gomidi/midi"
	"gitlab.com/gomidi/midi/midimessage/channel"
	"gitlab.com/gomidi/midi/midimessage/meta"
	"gitlab.com/gomidi/midi/smf"
	"gitlab.com/gomidi/midi/smf/smfwriter"
)

// TicksPerQuarter is the time resolution of the files Write writes.
const TicksPerQuarter = 480

// DefaultVelocity is the velocity of the notes Write writes when
// WriteOptions.Velocity is zero: mezzo-forte.
const DefaultVelocity = 80

// WriteOptions are the choices Write leaves open. The zero value writes
// notes of DefaultVelocity for an acoustic grand piano, and no name.
type WriteOptions struct {
	Velocity int    // of every note, 1 to 127; zero means DefaultVelocity
	Program  int    // the General MIDI instrument, 0 to 127 counting from 0; zero is the acoustic grand piano
	Name     string // the sequence name written in the first track, in Latin-1 (a character outside it as '?'); "" writes none
}

// Write writes r to w as a Standard MIDI File of type 1 and
// TicksPerQuarter ticks a quarter note. Its first track holds the name
// (when given), the time signature and the tempo; its second, channel 1,
// the program change and the notes: a key sounding on consecutive steps
// is one note, from the first step's start to the last step's end. Both
// tracks end with the last step, rests included, so the file lasts as
// long as the roll. Nothing is written to w when r or o is invalid (a bad
// grid, tempo or time signature, more than MaxSteps steps, a velocity or
// program outside MIDI's range).
func Write(w io.Writer, r *Roll, o WriteOptions) error {
	b, err := encode(r, o)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// WriteFile writes r to the file at path (Write) atomically: a failed
// write leaves what was at path as it was, and a successful one replaces
// it (a caller that must not replace a file checks first).
func WriteFile(path string, r *Roll, o WriteOptions) error {
	b, err := encode(r, o)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return atomicfile.WriteFile(path, b, 0o644)
}

// encode returns the bytes Write writes.
func encode(r *Roll, o WriteOptions) ([]byte, error) {
	if err := r.Grid.Check(); err != nil {
		return nil, err
	}
	if err := r.Meter.check(); err != nil {
		return nil, err
	}
	if len(r.Steps) > MaxSteps {
		return nil, fmt.Errorf("a roll of %d steps, more than the %d a piece may hold (MaxSteps): %w", len(r.Steps), MaxSteps, ErrTooLarge)
	}
	usPerQuarter := math.Round(6e7 / r.tempo())
	if !(usPerQuarter >= 1 && usPerQuarter <= 0xFFFFFF) {
		return nil, fmt.Errorf("tempo %g: a MIDI file holds tempos from 3.6 to 60,000,000 quarter notes a minute", r.Tempo)
	}
	velocity := cmp.Or(o.Velocity, DefaultVelocity)
	if velocity < 1 || velocity > 127 {
		return nil, fmt.Errorf("velocity %d: want 1 to 127", o.Velocity)
	}
	if o.Program < 0 || o.Program > 127 {
		return nil, fmt.Errorf("program %d: want 0 to 127", o.Program)
	}
	perStep := int64(TicksPerQuarter / r.Grid.Or())
	end := int64(len(r.Steps)) * perStep
	meter := r.Meter.Or44()

	var buf bytes.Buffer
	wr := smfwriter.New(&buf, smfwriter.TimeFormat(smf.MetricTicks(TicksPerQuarter)), smfwriter.NumTracks(2), smfwriter.Format(smf.SMF1))
	t := &trackWriter{w: wr}
	if o.Name != "" {
		t.write(0, meta.TrackSequenceName(latin1(o.Name)))
	}
	t.write(0, meta.TimeSig{Numerator: uint8(meter.Beats), Denominator: uint8(meter.Unit), ClocksPerClick: 24, DemiSemiQuaverPerQuarter: 8})
	t.write(0, meta.Tempo(uint32(usPerQuarter)))
	t.write(end, meta.EndOfTrack)

	t = &trackWriter{w: wr}
	ch := channel.Channel0
	t.write(0, ch.ProgramChange(uint8(o.Program)))
	for _, e := range noteEvents(r, perStep) {
		if e.on {
			t.write(e.tick, ch.NoteOn(uint8(e.key), uint8(velocity)))
		} else {
			t.write(e.tick, ch.NoteOff(uint8(e.key)))
		}
	}
	t.write(end, meta.EndOfTrack)
	if t.err != nil && t.err != smf.ErrFinished {
		return nil, fmt.Errorf("encoding MIDI: %w", t.err)
	}
	return buf.Bytes(), nil
}

// latin1 returns s in ISO 8859-1, the character set in which MIDI readers
// (mido, and so pretty_midi) decode text, a character outside it written
// as '?'.
func latin1(s string) string {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xFF {
			r = '?'
		}
		b = append(b, byte(r))
	}
	return string(b)
}

// trackWriter writes the events of one track at absolute ticks.
type trackWriter struct {
	w   smf.Writer
	now int64
	err error
}

// write writes m at tick (not before the last event's), carrying a wait
// longer than a delta time can hold on empty text events.
func (t *trackWriter) write(tick int64, m midi.Message) {
	if t.err != nil {
		return
	}
	for tick-t.now > maxDelta {
		t.w.SetDelta(maxDelta)
		if t.err = t.w.Write(meta.Text("")); t.err != nil {
			return
		}
		t.now += maxDelta
	}
	t.w.SetDelta(uint32(tick - t.now))
	t.now = tick
	t.err = t.w.Write(m)
}

// noteEvent is a note-on or note-off of the notes track.
type noteEvent struct {
	tick int64
	on   bool
	key  int
}

// noteEvents returns the notes of r, a key sounding on consecutive steps
// one note, as note-ons and note-offs in time order, note-offs first at
// each tick.
func noteEvents(r *Roll, perStep int64) []noteEvent {
	var ev []noteEvent
	for k := Lowest; k <= Highest; k++ {
		for t := 0; t < len(r.Steps); {
			if !r.Steps[t].Has(k) {
				t++
				continue
			}
			u := t
			for u < len(r.Steps) && r.Steps[u].Has(k) {
				u++
			}
			ev = append(ev, noteEvent{int64(t) * perStep, true, k}, noteEvent{int64(u) * perStep, false, k})
			t = u
		}
	}
	slices.SortFunc(ev, func(a, b noteEvent) int {
		if c := cmp.Compare(a.tick, b.tick); c != 0 {
			return c
		}
		if a.on != b.on {
			if a.on {
				return 1
			}
			return -1
		}
		return cmp.Compare(a.key, b.key)
	})
	return ev
}
