package env

import (
	"fmt"
	"math/bits"
	"strings"
)

// Connect4's board: 6 rows of 7 columns.
const (
	rows = 6
	cols = 7
)

// Connect4 is a game of Connect Four: two players take turns dropping a piece
// into one of 7 columns of a 6-row board, where it falls to the lowest empty
// cell; the first to line up four of their pieces horizontally, vertically or
// diagonally wins, and a full board without four in a row is a draw.
// Player 0 moves first.
//
// Cells are numbered by row from the bottom (row 0) and column from the left
// (column 0). The board is two bitboards, one per player, with cell (row,
// col) at bit 7*col + row: each column takes 7 bits, the 7th always empty, so
// that four in a row in any direction is a shift by 1 (vertical), 7
// (horizontal), 6 or 8 (the diagonals) and an AND.
//
// The zero value is the empty board with player 0 to move, as NewConnect4
// returns; a Connect4 is a small value and may be copied.
type Connect4 struct {
	pieces [2]uint64   // each player's cells
	height [cols]uint8 // pieces in each column
	moves  uint8       // pieces on the board
	won    uint8       // 0: no winner yet; 1 + the winner
}

// NewConnect4 returns the empty board, player 0 to move.
func NewConnect4() *Connect4 { return &Connect4{} }

// Clone returns a copy of the game.
func (g *Connect4) Clone() *Connect4 {
	c := *g
	return &c
}

// ToMove returns the player whose turn it is: 0 after an even number of
// moves, 1 after an odd number.
func (g *Connect4) ToMove() int { return int(g.moves & 1) }

// Moves returns the number of pieces on the board.
func (g *Connect4) Moves() int { return int(g.moves) }

// Winner returns the player who has four in a row, or -1 if none has.
func (g *Connect4) Winner() int { return int(g.won) - 1 }

// Draw reports whether the board is full with no winner.
func (g *Connect4) Draw() bool { return g.won == 0 && g.moves == rows*cols }

// Over reports whether the game has ended, won or drawn.
func (g *Connect4) Over() bool { return g.won != 0 || g.moves == rows*cols }

// CanPlay reports whether col is a legal move now: in 0..6, not full, and the
// game not over.
func (g *Connect4) CanPlay(col int) bool {
	return col >= 0 && col < cols && !g.Over() && g.height[col] < rows
}

// Legal writes into mask (length 7) whether each column may be played now.
func (g *Connect4) Legal(mask []bool) {
	checkLen("connect4 mask", len(mask), cols)
	for c := range mask {
		mask[c] = g.CanPlay(c)
	}
}

// Play drops a piece of the player to move into col. A column out of range
// or full, or any move once the game is over, is an error wrapping
// ErrIllegalAction, and changes nothing.
func (g *Connect4) Play(col int) error {
	switch {
	case col < 0 || col >= cols:
		return fmt.Errorf("env: connect4: %w: column %d is not in 0..6", ErrIllegalAction, col)
	case g.Over():
		return fmt.Errorf("env: connect4: %w: column %d: the game is over", ErrIllegalAction, col)
	case g.height[col] == rows:
		return fmt.Errorf("env: connect4: %w: column %d is full", ErrIllegalAction, col)
	}
	g.play(col)
	return nil
}

// play drops the mover's piece into col, which must be legal.
func (g *Connect4) play(col int) {
	p := g.moves & 1
	g.pieces[p] |= 1 << (7*col + int(g.height[col]))
	g.height[col]++
	g.moves++
	if fourInRow(g.pieces[p]) {
		g.won = p + 1
	}
}

// fourInRow reports whether the bitboard b holds four in a row.
func fourInRow(b uint64) bool {
	for _, s := range [4]uint{1, 7, 6, 8} {
		m := b & (b >> s)
		if m&(m>>(2*s)) != 0 {
			return true
		}
	}
	return false
}

// Observe writes the board into obs (length 2*6*7) from the side of the
// player to move: obs[0*42 + row*7 + col] is 1 where the mover has a piece,
// obs[1*42 + row*7 + col] is 1 where the opponent has one, row 0 the bottom
// row; every other value is 0.
func (g *Connect4) Observe(obs []float32) { g.observe(g.ToMove(), obs) }

// observe writes the board into obs from player's side.
func (g *Connect4) observe(player int, obs []float32) {
	checkLen("connect4 observation", len(obs), 2*rows*cols)
	own, opp := g.pieces[player], g.pieces[1-player]
	for r := range rows {
		for c := range cols {
			bit := uint64(1) << (7*c + r)
			obs[r*cols+c] = float32(bits.OnesCount64(own & bit))
			obs[rows*cols+r*cols+c] = float32(bits.OnesCount64(opp & bit))
		}
	}
}

// At returns the player whose piece is at (row, col), row 0 at the bottom,
// or -1 if the cell is empty or off the board.
func (g *Connect4) At(row, col int) int {
	if row < 0 || row >= rows || col < 0 || col >= cols {
		return -1
	}
	bit := uint64(1) << (7*col + row)
	switch {
	case g.pieces[0]&bit != 0:
		return 0
	case g.pieces[1]&bit != 0:
		return 1
	}
	return -1
}

// String draws the board for a terminal: the top row first, X for player 0,
// O for player 1 and . for an empty cell, separated by spaces, and under it
// the columns numbered 1 to 7. Each line ends with a newline.
func (g *Connect4) String() string {
	var b strings.Builder
	for r := rows - 1; r >= 0; r-- {
		for c := range cols {
			if c > 0 {
				b.WriteByte(' ')
			}
			b.WriteByte(".XO"[g.At(r, c)+1])
		}
		b.WriteByte('\n')
	}
	b.WriteString("1 2 3 4 5 6 7\n")
	return b.String()
}
