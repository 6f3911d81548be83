package music

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestBestScale(t *testing.T) {
	// A major triads: A C# E, D F# A, E G# B. F# natural minor holds the
	// same notes as A major and comes first in the order of ties.
	r, _ := FromNotes([][]int{{57, 61, 64}, {62, 66, 69}, {64, 68, 71}}, Quarter)
	if s, n := BestScale(r); s != (Scale{6, NaturalMinor}) || n != 9 {
		t.Errorf("A major triads: %v holding %d", s, n)
	}
	r, _ = FromNotes([][]int{{57, 61, 64}, {62, 66, 69}, {64, 68, 71}, {57, 61, 64, 69}}, Quarter)
	if s, n := BestScale(r); s != (Scale{6, NaturalMinor}) || n != 13 {
		t.Errorf("A major triads: %v holding %d", s, n)
	}
	// A harmonic minor: A B C D E F G#.
	r, _ = FromNotes([][]int{{57, 60, 64}, {59, 62, 65}, {56, 59, 64}, {57, 60, 64}}, Quarter)
	if s, n := BestScale(r); s != (Scale{9, HarmonicMinor}) || n != 12 || s.String() != "A harmonic minor" {
		t.Errorf("A harmonic minor: %v holding %d", s, n)
	}
	// D natural minor: D E F G A Bb C.
	r, _ = FromNotes([][]int{{62, 65, 69}, {58, 62, 65}, {60, 64, 67}, {55, 58, 62}}, Quarter)
	if s, _ := BestScale(r); s != (Scale{2, NaturalMinor}) {
		t.Errorf("D natural minor: %v", s)
	}
	if !(Scale{0, Major}).Has(72) || (Scale{0, Major}).Has(61) || !(Scale{11, HarmonicMinor}).Has(10) {
		t.Error("Scale.Has")
	}
}

func TestMeasure(t *testing.T) {
	a, _ := FromNotes([][]int{{60, 64, 67}, {60, 64, 67, 72}, {}, {61, 62}}, Quarter)
	b, _ := FromNotes([][]int{{62, 66, 69, 74}, {62, 66, 69, 74}}, Quarter)
	st := Measure([]*Roll{a, b})
	// Steps: 6, of which 4 hold 3 or 4 notes. Notes: 9 + 8 = 17. No scale
	// holds the three semitones C, C#, D, so a's best holds 8 of its 9;
	// D major holds all of b's.
	if st.Pieces != 2 || st.Steps != 6 || st.Notes != 17 || math.Abs(st.ThreeOrFour-4.0/6) > 1e-12 || math.Abs(st.InScale-16.0/17) > 1e-12 {
		t.Errorf("%+v", st)
	}
	if s := Measure(nil); s != (Stats{}) {
		t.Errorf("no pieces: %+v", s)
	}
}

func TestMeasureRandomNotes(t *testing.T) {
	// 64 steps of 4 keys drawn uniformly from the 88: about 64% of the
	// notes fall in the best-fitting scale, as the baseline says.
	rng := rand.New(rand.NewPCG(1, 2))
	var pieces []*Roll
	for i := 0; i < 200; i++ {
		r := &Roll{Steps: make([]Step, 64)}
		for t := range r.Steps {
			for r.Steps[t].Len() < 4 {
				r.Steps[t].Add(Lowest + rng.IntN(Keys))
			}
		}
		pieces = append(pieces, r)
	}
	st := Measure(pieces)
	if st.ThreeOrFour != 1 || st.InScale < 0.62 || st.InScale > 0.66 {
		t.Errorf("random notes: %v", st)
	}
}
