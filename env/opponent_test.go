package env

import (
	"errors"
	"math/rand/v2"
	"testing"
)

// TestRandomLegal checks that Random plays only legal columns, every legal
// column about as often, and -1 once the game is over.
func TestRandomLegal(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	g := NewConnect4()
	play(t, g, 0, 0, 0, 0, 0, 0, 6, 6, 6, 6, 6, 6) // columns 0 and 6 full
	var count [7]int
	for range 5000 {
		c := Random{}.Move(g, rng)
		if !g.CanPlay(c) {
			t.Fatalf("Random played %d, which is not legal", c)
		}
		count[c]++
	}
	for c := 1; c <= 5; c++ {
		if count[c] < 900 || count[c] > 1100 { // 1000 expected, sd 28
			t.Errorf("column %d drawn %d times of 5000, want about 1000", c, count[c])
		}
	}
	for range 200 {
		g := NewConnect4()
		for !g.Over() {
			play(t, g, Random{}.Move(g, rng))
		}
		if c := (Random{}).Move(g, rng); c != -1 {
			t.Errorf("Move after the end = %d, want -1", c)
		}
	}
}

// TestParseOpponent checks the names ParseOpponent accepts, that they round
// trip through Name, and the one-line errors for the rest.
func TestParseOpponent(t *testing.T) {
	for _, s := range []string{"random", "alphabeta:1", "alphabeta:4", "alphabeta:8"} {
		o, err := ParseOpponent(s)
		if err != nil || o.Name() != s {
			t.Errorf("ParseOpponent(%q) = %v, %v; want an opponent named %q", s, o, err, s)
		}
	}
	if o, _ := ParseOpponent("alphabeta:3"); o != (AlphaBeta{Depth: 3}) {
		t.Errorf("alphabeta:3 = %#v", o)
	}
	for _, s := range []string{"", "Random", "alphabeta", "alphabeta:", "alphabeta:0", "alphabeta:9", "alphabeta:-1", "alphabeta:x", "alphabeta:03", "alphabeta:+3", "alphabeta:3 "} {
		o, err := ParseOpponent(s)
		if err == nil || !errors.Is(err, ErrUnknown) {
			t.Errorf("ParseOpponent(%q) = %v, %v; want an error", s, o, err)
			continue
		}
		want := `env: unknown opponent "` + s + `" (want random or alphabeta:D, D from 1 to 8)`
		if err.Error() != want {
			t.Errorf("ParseOpponent(%q): %q, want %q", s, err, want)
		}
	}
}

// TestOpponentFunc checks that an OpponentFunc carries its name and function.
func TestOpponentFunc(t *testing.T) {
	f := OpponentFunc{Label: "leftmost", Func: func(g *Connect4, _ *rand.Rand) int {
		mask := make([]bool, 7)
		g.Legal(mask)
		for c, ok := range mask {
			if ok {
				return c
			}
		}
		return -1
	}}
	g := NewConnect4()
	play(t, g, 0, 0, 0, 0, 0, 0)
	if f.Name() != "leftmost" || f.Move(g, nil) != 1 {
		t.Errorf("OpponentFunc: Name %q Move %d, want leftmost 1", f.Name(), f.Move(g, nil))
	}
}
