package music

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestQuantise(t *testing.T) {
	// 100 ticks a quarter, a 16th grid (25 ticks a step). Starts and ends
	// round to the nearest step, halves up; a note that would last no
	// step lasts one; keys off the piano are counted and left out.
	s := &Song{Name: "q.mid", Division: 100, Tempo: 90, Meter: Meter{3, 4}, Ticks: 240, Notes: []Note{
		{Key: 60, Start: 0, End: 24},    // steps 0
		{Key: 62, Start: 12, End: 63},   // 0.48 → 0, 2.52 → 3: steps 0-2
		{Key: 64, Start: 13, End: 37},   // 0.52 → 1, 1.48 → 1: one step, 1
		{Key: 65, Start: 50, End: 50},   // zero length: step 2
		{Key: 67, Start: 200, End: 299}, // 8 → 12 (past the song's end)
		{Key: 110, Start: 0, End: 100},  // off the piano
		{Key: 12, Start: 0, End: 100},   // off the piano
	}}
	r, outside, err := s.Roll(Sixteenth)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]int{{60, 62}, {62, 64}, {62, 65}, {}, {}, {}, {}, {}, {67}, {67}, {67}, {67}}
	if got := r.Notes(); !reflect.DeepEqual(got, want) {
		t.Errorf("roll %v, want %v", got, want)
	}
	if outside != 2 || r.Tempo != 90 || r.Meter != (Meter{3, 4}) || r.Grid != Sixteenth {
		t.Errorf("outside %d, roll %+v", outside, r)
	}
	s.Notes = nil
	if r, _, _ := s.Roll(Quarter); len(r.Steps) != 2 {
		t.Errorf("240 ticks at 100 a quarter: %d quarter steps, want 2", len(r.Steps))
	}
	if _, _, err := s.Roll(Grid(3)); !errors.Is(err, ErrGrid) {
		t.Errorf("grid 3: %v", err)
	}
	s.Ticks = int64(MaxSteps)*100 + 50
	if _, _, err := s.Roll(Quarter); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "q.mid") {
		t.Errorf("a song past MaxSteps: %v", err)
	}
}
