package music

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestStep(t *testing.T) {
	var s Step
	for _, n := range []int{21, 60, 84, 85, 108} {
		if err := s.Add(n); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.Notes(); !reflect.DeepEqual(got, []int{21, 60, 84, 85, 108}) || s.Len() != 5 {
		t.Errorf("notes %v, len %d", got, s.Len())
	}
	if !s.Has(85) || s.Has(86) || s.Has(20) || s.Has(109) {
		t.Error("Has is wrong")
	}
	for _, n := range []int{20, 109, -1} {
		if err := s.Add(n); err == nil || !strings.Contains(err.Error(), "outside the piano's 88 keys") {
			t.Errorf("Add(%d): %v", n, err)
		}
	}
	v := make([]float32, Keys)
	s.Fill(v)
	for i, x := range v {
		if want := map[int]float32{0: 1, 39: 1, 63: 1, 64: 1, 87: 1}[i]; x != want {
			t.Fatalf("Fill: key %d is %g, want %g", i, x, want)
		}
	}
	v[39] = 0.49
	v[40] = 0.5
	if got := StepOf(v, 0.5).Notes(); !reflect.DeepEqual(got, []int{21, 61, 84, 85, 108}) {
		t.Errorf("StepOf: %v", got)
	}
}

func TestFromNotesAndTranspose(t *testing.T) {
	r, err := FromNotes([][]int{{60, 64, 67}, {}, {21, 108}}, Quarter)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Notes(); !reflect.DeepEqual(got, [][]int{{60, 64, 67}, {}, {21, 108}}) {
		t.Errorf("notes %v", got)
	}
	if _, ok := r.Transpose(1); ok {
		t.Error("C8 moved up a semitone stayed on the piano")
	}
	r.Steps[2] = Step{}
	up, ok := r.Transpose(2)
	if !ok || !reflect.DeepEqual(up.Notes(), [][]int{{62, 66, 69}, {}, {}}) {
		t.Errorf("up 2: %v", up.Notes())
	}
	if _, err := FromNotes([][]int{{60}, {120}}, Quarter); err == nil || !strings.Contains(err.Error(), "step 2: note 120 (C9)") {
		t.Errorf("a note off the piano: %v", err)
	}
}

func TestNoteNameAndMeter(t *testing.T) {
	for n, want := range map[int]string{21: "A0", 60: "C4", 61: "C#4", 108: "C8", 0: "C-1", 200: "MIDI 200"} {
		if got := NoteName(n); got != want {
			t.Errorf("NoteName(%d) = %q, want %q", n, got, want)
		}
	}
	if (Meter{}).String() != "4/4" || (Meter{6, 8}).String() != "6/8" {
		t.Error("meter names")
	}
	for _, m := range []Meter{{0, 4}, {3, 3}, {4, 128}, {256, 4}} {
		if m.check() == nil {
			t.Errorf("meter %v accepted", m)
		}
	}
}

func TestGrid(t *testing.T) {
	for s, want := range map[string]Grid{"quarter": Quarter, "8th": Eighth, "16th": Sixteenth, " Eighth ": Eighth, "4th": Quarter} {
		g, err := ParseGrid(s)
		if err != nil || g != want {
			t.Errorf("ParseGrid(%q) = %v, %v", s, g, err)
		}
	}
	if _, err := ParseGrid("32nd"); !errors.Is(err, ErrGrid) || !strings.Contains(err.Error(), "want quarter, 8th or 16th") {
		t.Errorf("ParseGrid(32nd): %v", err)
	}
	if Grid(0).String() != "quarter" || Sixteenth.String() != "16th" || Grid(3).Check() == nil {
		t.Error("grid names")
	}
}
