package music

import (
	"fmt"
	"math/bits"
)

const (
	// Keys is the number of keys of a piano roll: the 88 keys of a piano.
	Keys = 88
	// Lowest is the MIDI note number of the lowest key, A0.
	Lowest = 21
	// Highest is the MIDI note number of the highest key, C8.
	Highest = Lowest + Keys - 1

	// DefaultTempo is the tempo of a Roll whose Tempo is zero, in quarter
	// notes per minute: MIDI's default, 120.
	DefaultTempo = 120.0
)

// Step is the set of piano keys sounding at one step of a Roll, by MIDI
// note number (Lowest to Highest). The zero Step is a rest.
type Step struct{ bits [2]uint64 }

// Has reports whether the key with MIDI number note sounds; a note
// outside the piano's range never does.
func (s Step) Has(note int) bool {
	i := note - Lowest
	if i < 0 || i >= Keys {
		return false
	}
	return s.bits[i/64]&(1<<(i%64)) != 0
}

// Add sounds the key with MIDI number note; a note outside the piano's
// range (Lowest to Highest) is an error naming it.
func (s *Step) Add(note int) error {
	i := note - Lowest
	if i < 0 || i >= Keys {
		return fmt.Errorf("note %d (%s) is outside the piano's %d keys, %d to %d", note, NoteName(note), Keys, Lowest, Highest)
	}
	s.bits[i/64] |= 1 << (i % 64)
	return nil
}

// Len returns how many keys sound.
func (s Step) Len() int { return bits.OnesCount64(s.bits[0]) + bits.OnesCount64(s.bits[1]) }

// Notes returns the MIDI numbers of the keys that sound, ascending.
func (s Step) Notes() []int {
	out := make([]int, 0, s.Len())
	for i := 0; i < Keys; i++ {
		if s.bits[i/64]&(1<<(i%64)) != 0 {
			out = append(out, Lowest+i)
		}
	}
	return out
}

// Fill writes the step into dst, which must hold Keys values: dst[i] is 1
// when key Lowest+i sounds and 0 otherwise.
func (s Step) Fill(dst []float32) {
	_ = dst[Keys-1]
	for i := 0; i < Keys; i++ {
		dst[i] = float32(s.bits[i/64] >> (i % 64) & 1)
	}
}

// StepOf returns the step in which the keys whose values in v (Keys of
// them, key Lowest+i at v[i]) are at least threshold sound.
func StepOf(v []float32, threshold float32) Step {
	_ = v[Keys-1]
	var s Step
	for i := 0; i < Keys; i++ {
		if v[i] >= threshold {
			s.bits[i/64] |= 1 << (i % 64)
		}
	}
	return s
}

// Meter is a time signature: Beats beats of a Unit note a bar (3/4 is
// Beats 3, Unit 4). The zero Meter means 4/4.
type Meter struct {
	Beats int // beats a bar, 1 to 255
	Unit  int // the note value of a beat: 1, 2, 4, ..., 64
}

// Or44 returns m, or 4/4 when m is the zero Meter.
func (m Meter) Or44() Meter {
	if m == (Meter{}) {
		return Meter{4, 4}
	}
	return m
}

// String returns the meter as "3/4".
func (m Meter) String() string {
	m = m.Or44()
	return fmt.Sprintf("%d/%d", m.Beats, m.Unit)
}

// check returns an error unless m is a time signature a MIDI file can
// hold.
func (m Meter) check() error {
	m = m.Or44()
	if m.Beats < 1 || m.Beats > 255 {
		return fmt.Errorf("time signature %d/%d: the beats of a bar must be 1 to 255", m.Beats, m.Unit)
	}
	if m.Unit < 1 || m.Unit > 64 || m.Unit&(m.Unit-1) != 0 {
		return fmt.Errorf("time signature %d/%d: the beat's note value must be 1, 2, 4, 8, 16, 32 or 64", m.Beats, m.Unit)
	}
	return nil
}

// Roll is a piano roll: a piece as a sequence of steps on a regular grid.
type Roll struct {
	Steps []Step
	Grid  Grid    // the length of a step; zero means Quarter
	Tempo float64 // quarter notes per minute; zero means DefaultTempo
	Meter Meter   // time signature; zero means 4/4
}

// FromNotes builds a roll on grid g from lists of MIDI note numbers, one
// list a step (an empty list is a rest), as the JSB Chorales are
// published. A note outside the piano's range is an error naming the step.
func FromNotes(steps [][]int, g Grid) (*Roll, error) {
	r := &Roll{Steps: make([]Step, len(steps)), Grid: g}
	for t, notes := range steps {
		for _, n := range notes {
			if err := r.Steps[t].Add(n); err != nil {
				return nil, fmt.Errorf("step %d: %w", t+1, err)
			}
		}
	}
	return r, nil
}

// Notes returns the MIDI note numbers sounding at each step.
func (r *Roll) Notes() [][]int {
	out := make([][]int, len(r.Steps))
	for t, s := range r.Steps {
		out[t] = s.Notes()
	}
	return out
}

// Transpose returns a copy of r moved by semitones (up when positive), or
// false when a note would leave the piano's range.
func (r *Roll) Transpose(semitones int) (*Roll, bool) {
	out := *r
	out.Steps = make([]Step, len(r.Steps))
	for t, s := range r.Steps {
		for _, n := range s.Notes() {
			if out.Steps[t].Add(n+semitones) != nil {
				return nil, false
			}
		}
	}
	return &out, true
}

// Seconds returns the length of the roll in seconds at its tempo.
func (r *Roll) Seconds() float64 {
	return float64(len(r.Steps)) / float64(r.Grid.Or()) * 60 / r.tempo()
}

// tempo returns r.Tempo, or DefaultTempo when it is zero.
func (r *Roll) tempo() float64 {
	if r.Tempo == 0 {
		return DefaultTempo
	}
	return r.Tempo
}

// noteNames are the pitch classes' names, from C.
var noteNames = [12]string{"C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"}

// NoteName returns the scientific name of a MIDI note number: 60 is "C4",
// 21 "A0". A number outside MIDI's 0 to 127 is named by its number.
func NoteName(note int) string {
	if note < 0 || note > 127 {
		return fmt.Sprintf("MIDI %d", note)
	}
	return fmt.Sprintf("%s%d", noteNames[note%12], note/12-1)
}
