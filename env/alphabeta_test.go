package env

import (
	"math/rand/v2"
	"testing"
)

// TestWindows checks that there are 69 distinct windows of four cells.
func TestWindows(t *testing.T) {
	seen := map[uint64]bool{}
	for _, w := range windows {
		if n := popcount(w); n != 4 || w>>49 != 0 {
			t.Errorf("window %#x has %d cells", w, n)
		}
		seen[w] = true
	}
	if len(windows) != 69 || len(seen) != 69 {
		t.Errorf("%d windows, %d distinct, want 69", len(windows), len(seen))
	}
}

func popcount(w uint64) int {
	n := 0
	for ; w != 0; w &= w - 1 {
		n++
	}
	return n
}

// TestEvaluate checks the heuristic on positions scored by hand.
func TestEvaluate(t *testing.T) {
	for _, c := range []struct {
		moves []int
		want  int
	}{
		{nil, 0},
		// X at (0,3); O to move: h(O) - h(X) = 0 - 3 (one centre piece).
		{[]int{3}, -3},
		// X at (0,3), (0,4); O at (1,3); O to move. h(X): the bottom row's
		// windows over columns 1-4, 2-5 and 3-6 hold 2 X and 2 empty: 3×2, plus
		// 3 for the centre piece = 9. h(O): 3 for its centre piece (no window
		// holds 2 O). 3 - 9 = -6.
		{[]int{3, 3, 4}, -6},
		// X at (0,3), (0,4), (0,5); O at (1,3), (1,4); O to move. h(X): windows
		// 2-5 and 3-6 of the bottom row hold 3 X and 1 empty: 2×5; window 1-4
		// holds 2 X: 2; centre 3: 15. h(O): row 1's windows 1-4, 2-5, 3-6 hold
		// 2 O: 3×2; centre 3: 9. 9 - 15 = -6.
		{[]int{3, 3, 4, 4, 5}, -6},
	} {
		g := NewConnect4()
		play(t, g, c.moves...)
		if got := evaluate(g); got != c.want {
			t.Errorf("after %v: evaluate = %d, want %d", c.moves, got, c.want)
		}
	}
}

// TestAlphaBetaWins checks that every depth takes an immediate win, even in
// the last column it tries.
func TestAlphaBetaWins(t *testing.T) {
	g := NewConnect4()
	play(t, g, 6, 0, 6, 0, 6, 1) // X has three in column 6
	for d := 1; d <= MaxDepth; d++ {
		before := *g
		if got := (AlphaBeta{Depth: d}).Move(g, nil); got != 6 {
			t.Errorf("depth %d: Move = %d, want the win in column 6", d, got)
		}
		if *g != before {
			t.Errorf("depth %d: Move changed the game", d)
		}
	}
}

// TestAlphaBetaBlocks checks that depth 2 and deeper block a win the
// opponent threatens, vertically and horizontally, on either side.
func TestAlphaBetaBlocks(t *testing.T) {
	for _, c := range []struct {
		moves []int
		want  int
	}{
		{[]int{6, 0, 6, 0, 6}, 6},    // X threatens column 6; O blocks
		{[]int{0, 0, 1, 1, 2}, 3},    // X threatens (0,3) on the bottom row; O blocks
		{[]int{0, 6, 0, 6, 1, 6}, 6}, // O threatens column 6; X blocks
	} {
		g := NewConnect4()
		play(t, g, c.moves...)
		for d := 2; d <= MaxDepth; d++ {
			if got := (AlphaBeta{Depth: d}).Move(g, nil); got != c.want {
				t.Errorf("after %v, depth %d: Move = %d, want the block in column %d\n%s", c.moves, d, got, c.want, g)
			}
		}
	}
}

// playGame plays first against second from the position after opening and
// returns the winner, -1 for a draw.
func playGame(t *testing.T, first, second Opponent, opening []int, rng *rand.Rand) int {
	t.Helper()
	g := NewConnect4()
	play(t, g, opening...)
	players := [2]Opponent{first, second}
	for !g.Over() {
		play(t, g, players[g.ToMove()].Move(g, rng))
	}
	return g.Winner()
}

// TestAlphaBetaBeatsRandom checks that alphabeta:2 wins at least 95 of 100
// games against Random on each side.
func TestAlphaBetaBeatsRandom(t *testing.T) {
	ab := AlphaBeta{Depth: 2}
	for side := range 2 {
		wins := 0
		for game := range 100 {
			rng := rand.New(rand.NewPCG(uint64(game), uint64(side)))
			players := [2]Opponent{ab, Random{}}
			if side == 1 {
				players = [2]Opponent{Random{}, ab}
			}
			if playGame(t, players[0], players[1], nil, rng) == side {
				wins++
			}
		}
		t.Logf("moving %s: alphabeta:2 won %d of 100 games against random", []string{"first", "second"}[side], wins)
		if wins < 95 {
			t.Errorf("moving %s: alphabeta:2 won %d of 100 games against random, want at least 95", []string{"first", "second"}[side], wins)
		}
	}
}

// TestDeeperBeatsShallower plays alphabeta:6 against alphabeta:3 from 8
// random two-move openings, each on both sides: the deeper must win more
// than half of the 16 games.
func TestDeeperBeatsShallower(t *testing.T) {
	deep, shallow := AlphaBeta{Depth: 6}, AlphaBeta{Depth: 3}
	rng := rand.New(rand.NewPCG(9, 9))
	wins, games := 0, 0
	for range 8 {
		opening := []int{rng.IntN(7), rng.IntN(7)}
		if playGame(t, deep, shallow, opening, nil) == 0 {
			wins++
		}
		if playGame(t, shallow, deep, opening, nil) == 1 {
			wins++
		}
		games += 2
	}
	if 2*wins <= games {
		t.Errorf("alphabeta:6 won %d of %d games against alphabeta:3", wins, games)
	}
	t.Logf("alphabeta:6 won %d of %d games against alphabeta:3", wins, games)
}

// minimax is AlphaBeta's search without pruning or shortcuts: the value of g
// to the player to move, depth plies deep.
func minimax(g *Connect4, depth int) int {
	switch {
	case g.Winner() >= 0:
		return -(winScore + depth)
	case g.Draw():
		return 0
	case depth == 0:
		return evaluate(g)
	}
	best := -infinity
	for col := range 7 {
		if g.CanPlay(col) {
			c := g.Clone()
			c.Play(col)
			best = max(best, -minimax(c, depth-1))
		}
	}
	return best
}

// TestAlphaBetaMatchesMinimax checks on random positions that AlphaBeta
// chooses the first column, in centre-first order, of those plain minimax
// values highest.
func TestAlphaBetaMatchesMinimax(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	for i := range 100 {
		g := NewConnect4()
		for n := rng.IntN(30); n > 0 && !g.Over(); n-- {
			play(t, g, Random{}.Move(g, rng))
		}
		if g.Over() {
			continue
		}
		for d := 1; d <= 5; d++ {
			best, want := -infinity, -1
			for _, col := range moveOrder {
				if g.CanPlay(col) {
					c := g.Clone()
					play(t, c, col)
					if v := -minimax(c, d-1); v > best {
						best, want = v, col
					}
				}
			}
			if got := (AlphaBeta{Depth: d}).Move(g, nil); got != want {
				t.Errorf("position %d, depth %d: Move = %d, minimax chooses %d\n%s", i, d, got, want, g)
			}
		}
	}
}
