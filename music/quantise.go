package music

import "fmt"

// Roll quantises the song to grid g, as Magenta quantises a note
// sequence: each note's start and end move to the nearest step boundary
// (halfway rounds up), a note that would then last no step lasts one, and
// the note sounds on the steps from its start to its end. The roll lasts
// to the song's end (rounded to the nearest step) or its last note's,
// whichever is later, and keeps the song's tempo and time signature.
//
// A key outside the piano's 88 is left out, and counted in the result's
// second value. A song that would need more than MaxSteps steps is an
// error naming it, wrapping ErrTooLarge.
func (s *Song) Roll(g Grid) (*Roll, int, error) {
	if err := g.Check(); err != nil {
		return nil, 0, fmt.Errorf("%s: %w", s.Name, err)
	}
	g = g.Or()
	if s.Division <= 0 {
		return nil, 0, fmt.Errorf("%s: %w: %d ticks a quarter note", s.Name, ErrMalformed, s.Division)
	}
	step := func(tick int64) int64 { // the nearest step boundary, halves up
		return (2*tick*int64(g) + int64(s.Division)) / (2 * int64(s.Division))
	}
	n := step(s.Ticks)
	for _, x := range s.Notes {
		end := max(step(x.End), step(x.Start)+1)
		n = max(n, end)
	}
	if n > MaxSteps {
		return nil, 0, fmt.Errorf("%s: %d steps of a %s note, more than the %d a piece may hold (MaxSteps): %w", s.Name, n, g, MaxSteps, ErrTooLarge)
	}
	r := &Roll{Steps: make([]Step, n), Grid: g, Tempo: s.Tempo, Meter: s.Meter}
	outside := 0
	for _, x := range s.Notes {
		if x.Key < Lowest || x.Key > Highest {
			outside++
			continue
		}
		from := step(x.Start)
		to := max(step(x.End), from+1)
		for t := from; t < to; t++ {
			r.Steps[t].Add(x.Key)
		}
	}
	return r, outside, nil
}
