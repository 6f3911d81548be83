package env

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// An Opponent chooses Connect4 moves: the other player of a VsOpponent.
type Opponent interface {
	// Name names the opponent: "random", "alphabeta:4".
	Name() string
	// Move returns a legal column for the player to move in g, which is not
	// over, drawing any randomness from rng. It must not modify g.
	Move(g *Connect4, rng *rand.Rand) int
}

// Random plays a column drawn uniformly from the legal ones: rng.IntN(n) picks
// among the n columns that are not full, in increasing order. Its Move needs
// an rng (VsOpponent hands it one).
type Random struct{}

var _ Opponent = Random{}

// Name returns "random".
func (Random) Name() string { return "random" }

// Move returns a legal column of g drawn with rng, or -1 if the game is over.
func (Random) Move(g *Connect4, rng *rand.Rand) int {
	if g.Over() {
		return -1
	}
	var legal [cols]int
	n := 0
	for c := range cols {
		if g.height[c] < rows {
			legal[n] = c
			n++
		}
	}
	return legal[rng.IntN(n)]
}

// OpponentFunc is an Opponent made of a function: a hand-written strategy, or
// an agent playing against a past copy of itself (self-play), whose Func
// observes g with g.Observe (from the side of the player to move, the
// opponent's) and masks its choice with g.Legal.
type OpponentFunc struct {
	Label string                                // what Name returns
	Func  func(g *Connect4, rng *rand.Rand) int // what Move returns
}

var _ Opponent = OpponentFunc{}

// Name returns f.Label.
func (f OpponentFunc) Name() string { return f.Label }

// Move returns f.Func(g, rng).
func (f OpponentFunc) Move(g *Connect4, rng *rand.Rand) int { return f.Func(g, rng) }

// MaxDepth is the deepest AlphaBeta that ParseOpponent accepts.
const MaxDepth = 8

// ParseOpponent returns the opponent s names: "random" (Random) or
// "alphabeta:D" (AlphaBeta{Depth: D}, D from 1 to MaxDepth). Anything else is
// a one-line error wrapping ErrUnknown that names s.
func ParseOpponent(s string) (Opponent, error) {
	if s == "random" {
		return Random{}, nil
	}
	if d, ok := strings.CutPrefix(s, "alphabeta:"); ok {
		n, err := strconv.Atoi(d)
		if err == nil && n >= 1 && n <= MaxDepth && d == strconv.Itoa(n) {
			return AlphaBeta{Depth: n}, nil
		}
	}
	return nil, fmt.Errorf("env: %w opponent %q (want random or alphabeta:D, D from 1 to %d)", ErrUnknown, s, MaxDepth)
}
