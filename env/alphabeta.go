package env

import (
	"math/bits"
	"math/rand/v2"
	"strconv"
)

// Scores of AlphaBeta's search, from the side of the player to move.
const (
	winScore    = 100000 // a won game, plus the plies left to search
	threeScore  = 5      // a window of 4 with 3 of a player's pieces and 1 empty cell
	twoScore    = 2      // a window of 4 with 2 of a player's pieces and 2 empty cells
	centreScore = 3      // each of a player's pieces in the centre column
	infinity    = 1 << 30
)

// moveOrder is the order AlphaBeta tries columns in: centre first.
var moveOrder = [cols]int{3, 2, 4, 1, 5, 0, 6}

// windows are the 69 lines of four cells on the board, as bitboards: 24
// horizontal, 21 vertical and 12 along each diagonal.
var windows = func() []uint64 {
	var w []uint64
	line := func(r, c, dr, dc int) {
		var m uint64
		for i := range 4 {
			m |= 1 << (7*(c+i*dc) + r + i*dr)
		}
		w = append(w, m)
	}
	for r := range rows {
		for c := range cols {
			if c+3 < cols {
				line(r, c, 0, 1)
			}
			if r+3 < rows {
				line(r, c, 1, 0)
			}
			if r+3 < rows && c+3 < cols {
				line(r, c, 1, 1)
			}
			if r-3 >= 0 && c+3 < cols {
				line(r, c, -1, 1)
			}
		}
	}
	return w
}()

// centreColumn is column 3's cells.
const centreColumn uint64 = 0x3f << (7 * 3)

// AlphaBeta is the reference Connect4 opponent: a negamax search with
// alpha-beta pruning, Depth plies deep (1 to 8 through ParseOpponent; less
// than 1 searches 1), whose only randomness is the choice among equally
// scored moves.
//
// A position whose last move won is worth -(100000 + d) to the player to
// move, where d is the number of plies the search had still to go there
// (Depth less the plies from the root), so that a sooner win scores higher
// and a later loss less badly; a full board is worth 0. At depth 0 a
// position is scored from the side of the player to move, P, against the other, Q, as h(P) - h(Q), where
//
//	h(X) = 5 × (windows holding 3 of X's pieces and 1 empty cell)
//	     + 2 × (windows holding 2 of X's pieces and 2 empty cells)
//	     + 3 × (X's pieces in the centre column, column 3)
//
// over the board's 69 windows (lines of four cells: 24 horizontal, 21
// vertical, 24 diagonal). Columns are searched centre first: 3, 2, 4, 1, 5,
// 0, 6; of moves that score alike, Move chooses one at random with the rng
// it is given (VsOpponent's, seeded by the episode, so that games differ
// from seed to seed), or with a nil rng the first in that order. Above
// depth 0, a position where the player to move can win at once is given that
// win's value without searching further: the value a full search would give
// it, found sooner, so the choice is plain minimax's to Depth plies.
type AlphaBeta struct {
	Depth int // plies to search
}

var _ Opponent = AlphaBeta{}

// Name returns "alphabeta:D", D the depth, as ParseOpponent reads it.
func (a AlphaBeta) Name() string { return "alphabeta:" + strconv.Itoa(a.Depth) }

// Move returns the column the search chooses for the player to move in g,
// or -1 if the game is over. It does not modify g.
func (a AlphaBeta) Move(g *Connect4, rng *rand.Rand) int {
	if g.Over() {
		return -1
	}
	depth := max(a.Depth, 1)
	best := -infinity
	var ties []int // the columns of value best, in search order
	for _, col := range moveOrder {
		if g.height[col] == rows {
			continue
		}
		child := *g
		child.play(col)
		// A window just below best: a child as good as the best so far
		// gets its exact value, so that ties are seen.
		v := -negamax(&child, depth-1, -infinity, -(best - 1))
		switch {
		case v > best:
			best, ties = v, append(ties[:0], col)
		case v == best:
			ties = append(ties, col)
		}
	}
	if rng == nil || len(ties) == 1 {
		return ties[0]
	}
	return ties[rng.IntN(len(ties))]
}

// negamax returns the value of g to the player to move, searched depth plies
// deeper, within the window (alpha, beta): a value at or below alpha is an
// upper bound, one at or above beta a lower bound.
func negamax(g *Connect4, depth, alpha, beta int) int {
	if g.won != 0 {
		return -(winScore + depth)
	}
	if g.moves == rows*cols {
		return 0
	}
	if depth == 0 {
		return evaluate(g)
	}
	if winsNow(g) {
		return winScore + depth - 1 // as the winning child would score: the soonest win
	}
	best := -infinity
	for _, col := range moveOrder {
		if g.height[col] == rows {
			continue
		}
		child := *g
		child.play(col)
		v := -negamax(&child, depth-1, -beta, -max(alpha, best))
		if v > best {
			best = v
			if best >= beta {
				break
			}
		}
	}
	return best
}

// winsNow reports whether the player to move in g can win with its next move.
func winsNow(g *Connect4) bool {
	own := g.pieces[g.moves&1]
	for col := range cols {
		if h := g.height[col]; h < rows && fourInRow(own|1<<(7*col+int(h))) {
			return true
		}
	}
	return false
}

// evaluate is AlphaBeta's heuristic: h(mover) - h(other).
func evaluate(g *Connect4) int {
	p := g.moves & 1
	return heuristic(g.pieces[p], g.pieces[1-p]) - heuristic(g.pieces[1-p], g.pieces[p])
}

// heuristic is h(X) for the player whose pieces are own, against other's.
func heuristic(own, other uint64) int {
	h := centreScore * bits.OnesCount64(own&centreColumn)
	for _, w := range windows {
		if other&w != 0 {
			continue
		}
		switch bits.OnesCount64(own & w) {
		case 3:
			h += threeScore
		case 2:
			h += twoScore
		}
	}
	return h
}
