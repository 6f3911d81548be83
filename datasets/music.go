package datasets

import "github.com/dlrun/dlrun/music"

// Music is a dataset of pieces of music as piano rolls (music.Roll: the
// 88 keys sounding at each step of a grid), split into training,
// validation and test pieces. A sequence model learns from it to predict
// each step of a piece from the steps before it.
type Music struct {
	Name   string     // "jsb-chorales", or the folder it was read from
	Grid   music.Grid // the grid of every piece
	Train  []Piece
	Valid  []Piece
	Test   []Piece
	SHA256 string // hex SHA-256 over the source files, in a fixed order

	// OutOfRange counts the notes of the source files that lie outside
	// the piano's 88 keys and so are left out of the rolls.
	OutOfRange int
}

// Piece is one piece of a Music dataset.
type Piece struct {
	Name string // where it came from: "train/1" (JSB), or a file's path in its folder
	Roll *music.Roll
}

// Rolls returns the rolls of the pieces, in order.
func Rolls(pieces []Piece) []*music.Roll {
	out := make([]*music.Roll, len(pieces))
	for i, p := range pieces {
		out[i] = p.Roll
	}
	return out
}

// Steps returns the number of steps of the pieces together.
func Steps(pieces []Piece) int {
	n := 0
	for _, p := range pieces {
		n += len(p.Roll.Steps)
	}
	return n
}
