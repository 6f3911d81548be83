package music

import (
	"errors"
	"fmt"
	"strings"
)

// Grid is the length of a step of a Roll, as the number of steps a
// quarter note holds. The zero Grid means Quarter.
type Grid int

const (
	Quarter   Grid = 1 // a quarter note a step, as the JSB Chorales benchmark
	Eighth    Grid = 2 // an 8th note a step
	Sixteenth Grid = 4 // a 16th note a step
)

// ErrGrid is wrapped by the error of ParseGrid.
var ErrGrid = errors.New("unknown grid")

// ParseGrid reads a grid's name: "quarter", "8th" or "16th" (also
// "eighth", "sixteenth", "4th", case-insensitive).
func ParseGrid(s string) (Grid, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "quarter", "4th":
		return Quarter, nil
	case "8th", "eighth":
		return Eighth, nil
	case "16th", "sixteenth":
		return Sixteenth, nil
	}
	return 0, fmt.Errorf("grid %q: %w: want quarter, 8th or 16th", s, ErrGrid)
}

// Or returns g, or Quarter when g is zero.
func (g Grid) Or() Grid {
	if g == 0 {
		return Quarter
	}
	return g
}

// String returns the grid's name as ParseGrid reads it.
func (g Grid) String() string {
	switch g.Or() {
	case Quarter:
		return "quarter"
	case Eighth:
		return "8th"
	case Sixteenth:
		return "16th"
	}
	return fmt.Sprintf("grid(%d)", int(g))
}

// Check returns an error wrapping ErrGrid unless g is zero, Quarter,
// Eighth or Sixteenth.
func (g Grid) Check() error {
	switch g.Or() {
	case Quarter, Eighth, Sixteenth:
		return nil
	}
	return fmt.Errorf("%w: %d steps a quarter note: want 1 (quarter), 2 (8th) or 4 (16th)", ErrGrid, int(g))
}
