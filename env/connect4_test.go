package env

import (
	"errors"
	"math/rand/v2"
	"testing"
)

// play plays cols in g, failing the test on an error.
func play(t *testing.T, g *Connect4, cols ...int) {
	t.Helper()
	for _, c := range cols {
		if err := g.Play(c); err != nil {
			t.Fatalf("Play(%d) after %d moves: %v", c, g.Moves(), err)
		}
	}
}

// drawGame fills the board without four in a row (found by random play):
//
//	O X O O X X O
//	X X O O O X X
//	O O O X X O O
//	X X X O X X X
//	X O X O X O O
//	X O X O O X O
var drawGame = []int{0, 1, 5, 5, 0, 4, 4, 1, 4, 6, 0, 6, 1, 3, 5, 5, 6, 0, 5, 1, 4, 3, 2, 4, 4, 3, 3, 3, 0, 0, 5, 3, 2, 6, 2, 2, 1, 2, 6, 2, 1, 6}

// TestConnect4Wins checks a win in each of the four directions, by either
// player, and that the game is then over.
func TestConnect4Wins(t *testing.T) {
	for _, c := range []struct {
		name   string
		moves  []int
		winner int
	}{
		{"horizontal", []int{0, 0, 1, 1, 2, 2, 3}, 0},
		{"vertical", []int{6, 0, 6, 0, 6, 0, 5, 0}, 1},
		{"diagonal /", []int{0, 1, 1, 2, 2, 3, 2, 3, 3, 6, 3}, 0},
		{"diagonal \\", []int{6, 5, 5, 4, 4, 3, 4, 3, 3, 0, 3}, 0},
		{"diagonal \\ by O", []int{3, 3, 3, 4, 4, 4, 5, 5, 5, 6, 6, 6, 0, 3}, 1},
	} {
		g := NewConnect4()
		for i, m := range c.moves {
			if g.Over() {
				t.Fatalf("%s: over after %d moves", c.name, i)
			}
			play(t, g, m)
		}
		if g.Winner() != c.winner || !g.Over() || g.Draw() {
			t.Errorf("%s: Winner %d Over %v Draw %v, want %d true false\n%s", c.name, g.Winner(), g.Over(), g.Draw(), c.winner, g)
		}
	}
}

// TestConnect4Draw checks a full board without four in a row.
func TestConnect4Draw(t *testing.T) {
	g := NewConnect4()
	play(t, g, drawGame[:41]...)
	if g.Over() || g.Draw() {
		t.Fatalf("over after 41 moves")
	}
	play(t, g, drawGame[41])
	if !g.Draw() || !g.Over() || g.Winner() != -1 || g.Moves() != 42 {
		t.Errorf("full board: Draw %v Over %v Winner %d Moves %d, want true true -1 42", g.Draw(), g.Over(), g.Winner(), g.Moves())
	}
	want := "O X O O X X O\n" +
		"X X O O O X X\n" +
		"O O O X X O O\n" +
		"X X X O X X X\n" +
		"X O X O X O O\n" +
		"X O X O O X O\n" +
		"1 2 3 4 5 6 7\n"
	if g.String() != want {
		t.Errorf("String:\n%s\nwant\n%s", g, want)
	}
}

// TestConnect4Illegal checks that a column out of range, a full column and
// any move after the end are refused and change nothing.
func TestConnect4Illegal(t *testing.T) {
	g := NewConnect4()
	play(t, g, 2, 2, 2, 2, 2, 2)
	before := *g
	for _, c := range []int{-1, 7, 2} {
		if err := g.Play(c); !errors.Is(err, ErrIllegalAction) {
			t.Errorf("Play(%d): err = %v, want ErrIllegalAction", c, err)
		}
	}
	if *g != before {
		t.Errorf("illegal moves changed the game")
	}
	mask := make([]bool, 7)
	g.Legal(mask)
	if want := []bool{true, true, false, true, true, true, true}; !equalBools(mask, want) {
		t.Errorf("Legal = %v, want %v", mask, want)
	}
	play(t, g, 0, 1, 0, 1, 0, 1, 0) // X wins vertically in column 0
	if err := g.Play(3); !errors.Is(err, ErrIllegalAction) {
		t.Errorf("Play after the win: err = %v, want ErrIllegalAction", err)
	}
	g.Legal(mask)
	if !equalBools(mask, make([]bool, 7)) {
		t.Errorf("Legal after the win = %v, want none", mask)
	}
}

func equalBools(a, b []bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestConnect4Observe checks the planes from the mover's side, row 0 at the
// bottom, and the drawing.
func TestConnect4Observe(t *testing.T) {
	g := NewConnect4()
	play(t, g, 3, 3, 4) // X (3,0) O (3,1) X (4,0); O to move
	if g.ToMove() != 1 || g.Moves() != 3 {
		t.Fatalf("ToMove %d Moves %d, want 1 3", g.ToMove(), g.Moves())
	}
	obs := make([]float32, 84)
	g.Observe(obs)
	want := make([]float32, 84)
	want[0*42+1*7+3] = 1 // the mover's (O's) piece at row 1, column 3
	want[1*42+0*7+3] = 1 // X's pieces at row 0, columns 3 and 4
	want[1*42+0*7+4] = 1
	for i := range want {
		if obs[i] != want[i] {
			t.Errorf("obs[%d] = %v, want %v", i, obs[i], want[i])
		}
	}
	play(t, g, 0) // X to move: the planes swap
	g.Observe(obs)
	if obs[0*42+3] != 1 || obs[0*42+4] != 1 || obs[1*42+7+3] != 1 || obs[1*42+0] != 1 {
		t.Errorf("X to move: obs = %v", obs)
	}
	if g.At(0, 3) != 0 || g.At(1, 3) != 1 || g.At(2, 3) != -1 || g.At(6, 3) != -1 || g.At(0, 7) != -1 {
		t.Errorf("At: wrong cells")
	}
	want4 := ". . . . . . .\n" +
		". . . . . . .\n" +
		". . . . . . .\n" +
		". . . . . . .\n" +
		". . . O . . .\n" +
		"O . . X X . .\n" +
		"1 2 3 4 5 6 7\n"
	if g.String() != want4 {
		t.Errorf("String:\n%s\nwant\n%s", g, want4)
	}
}

// TestConnect4Clone checks that a clone and the original move apart.
func TestConnect4Clone(t *testing.T) {
	g := NewConnect4()
	play(t, g, 3)
	c := g.Clone()
	play(t, c, 4)
	if g.Moves() != 1 || c.Moves() != 2 || g.At(0, 4) != -1 || c.At(0, 4) != 1 {
		t.Errorf("clone shares state: g %d moves, clone %d", g.Moves(), c.Moves())
	}
}

// naiveWinner finds four in a row by walking every cell and direction.
func naiveWinner(g *Connect4) int {
	for r := range 6 {
		for c := range 7 {
			p := g.At(r, c)
			if p < 0 {
				continue
			}
			for _, d := range [][2]int{{0, 1}, {1, 0}, {1, 1}, {1, -1}} {
				n := 1
				for n < 4 && g.At(r+n*d[0], c+n*d[1]) == p {
					n++
				}
				if n == 4 {
					return p
				}
			}
		}
	}
	return -1
}

// TestConnect4MatchesNaive plays 2,000 random games and checks the bitboard's
// winner against a cell-by-cell search after every move.
func TestConnect4MatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for range 2000 {
		g := NewConnect4()
		for !g.Over() {
			play(t, g, Random{}.Move(g, rng))
			if w := naiveWinner(g); w != g.Winner() {
				t.Fatalf("Winner %d, cells say %d\n%s", g.Winner(), w, g)
			}
		}
	}
}
