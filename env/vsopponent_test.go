package env

import (
	"errors"
	"math/rand/v2"
	"testing"
)

// script is an opponent that plays cols in turn.
func script(cols ...int) Opponent {
	i := 0
	return OpponentFunc{Label: "script", Func: func(*Connect4, *rand.Rand) int {
		i++
		return cols[i-1]
	}}
}

// TestVsOpponentFirst checks who moves first under New("connect4"): the
// agent on even seeds, the opponent (inside Reset) on odd ones.
func TestVsOpponentFirst(t *testing.T) {
	e, err := New("connect4")
	if err != nil {
		t.Fatal(err)
	}
	v := e.(*VsOpponent)
	obs := make([]float32, 84)
	for seed := range uint64(6) {
		v.Reset(seed, obs)
		var own, opp float32
		for i := range 42 {
			own += obs[i]
			opp += obs[42+i]
		}
		first := seed%2 == 0
		wantMoves := map[bool]int{true: 0, false: 1}[first]
		if v.Agent() != map[bool]int{true: 0, false: 1}[first] || v.Game().Moves() != wantMoves || own != 0 || opp != float32(wantMoves) {
			t.Errorf("seed %d: agent %d, %d moves, planes %v/%v; want the agent first: %v", seed, v.Agent(), v.Game().Moves(), own, opp, first)
		}
	}
}

// TestVsOpponentRewards checks +1 for a win, -1 for a loss, 0 for a draw
// and while the game goes on, and that only the last step terminates.
func TestVsOpponentRewards(t *testing.T) {
	obs := make([]float32, 84)
	for _, c := range []struct {
		name       string
		agent, opp []int
		first      bool
		want       float64
	}{
		{"win", []int{0, 0, 0, 0}, []int{6, 6, 6}, true, 1},
		{"loss", []int{0, 1, 0, 1}, []int{6, 6, 6, 6}, true, -1},
		{"win second", []int{0, 0, 0, 0}, []int{6, 6, 5, 5}, false, 1},
		{"loss second", []int{0, 1, 0}, []int{6, 6, 6, 6}, false, -1},
		{"draw, the agent's move last", evens(drawGame[1:]), evens(drawGame), false, 0},
		{"draw, the opponent's move last", evens(drawGame), evens(drawGame[1:]), true, 0},
	} {
		v := &VsOpponent{Opponent: script(c.opp...), AgentFirst: func(uint64) bool { return c.first }}
		v.Reset(1, obs)
		for i, a := range c.agent {
			r, term, trunc, err := v.Step(a, obs)
			last := i == len(c.agent)-1
			if err != nil || trunc || term != last || (last && r != c.want) || (!last && r != 0) {
				t.Fatalf("%s: step %d: Step = %v, %v, %v, %v; want %v, %v, false, nil\n%s",
					c.name, i+1, r, term, trunc, err, map[bool]float64{true: c.want}[last], last, v.Game())
			}
		}
		// The observation stays on the agent's side at the end.
		g := v.Game()
		for i := range 42 {
			r, col := i/7, i%7
			if obs[i] != b2f(g.At(r, col) == v.Agent()) || obs[42+i] != b2f(g.At(r, col) == 1-v.Agent()) {
				t.Fatalf("%s: obs at (%d,%d) = %v/%v, the cell holds %d, the agent is %d", c.name, r, col, obs[i], obs[42+i], g.At(r, col), v.Agent())
			}
		}
		if _, _, _, err := v.Step(3, obs); !errors.Is(err, ErrEpisodeOver) || !errors.Is(err, ErrIllegalAction) {
			t.Errorf("%s: Step after the end: err = %v, want ErrEpisodeOver and ErrIllegalAction", c.name, err)
		}
		mask := make([]bool, 7)
		if v.Legal(mask); !equalBools(mask, make([]bool, 7)) {
			t.Errorf("%s: Legal after the end = %v, want none", c.name, mask)
		}
	}
}

// evens returns s[0], s[2], s[4], ...
func evens(s []int) []int {
	var out []int
	for i := 0; i < len(s); i += 2 {
		out = append(out, s[i])
	}
	return out
}

func b2f(b bool) float32 {
	if b {
		return 1
	}
	return 0
}

// TestVsOpponentIllegal checks that an illegal agent move, and an illegal
// reply, change nothing.
func TestVsOpponentIllegal(t *testing.T) {
	obs := make([]float32, 84)
	v := &VsOpponent{Opponent: script(1, 1, 1, 3, 7)}
	v.Reset(0, obs)
	for range 3 { // column 1 fills: X O X O X O
		if _, _, _, err := v.Step(1, obs); err != nil {
			t.Fatal(err)
		}
	}
	before := v.Game()
	for _, a := range []int{-1, 7, 1} {
		if _, _, _, err := v.Step(a, obs); !errors.Is(err, ErrIllegalAction) || errors.Is(err, ErrEpisodeOver) {
			t.Errorf("Step(%d): err = %v, want ErrIllegalAction", a, err)
		}
	}
	if *v.Game() != *before {
		t.Errorf("illegal moves changed the game")
	}
	if _, _, _, err := v.Step(4, obs); err != nil { // the opponent answers 3
		t.Fatal(err)
	}
	before = v.Game()
	_, _, _, err := v.Step(4, obs) // the opponent answers 7
	if err == nil || errors.Is(err, ErrIllegalAction) || err.Error() != "env: connect4: opponent script played column 7, which is not legal" {
		t.Errorf("illegal reply: err = %v", err)
	}
	if *v.Game() != *before {
		t.Errorf("an illegal reply changed the game:\n%s\nwas\n%s", v.Game(), before)
	}
}

// TestVsOpponentSeed checks that the same seed and actions replay the same
// game against Random, and that the default opponent is Random.
func TestVsOpponentSeed(t *testing.T) {
	run := func(v *VsOpponent, seed uint64) []float32 {
		obs := make([]float32, 84)
		v.Reset(seed, obs)
		mask := make([]bool, 7)
		var all []float32
		for i := 0; ; i++ {
			v.Legal(mask)
			a := i % 7
			for !mask[a] {
				a = (a + 1) % 7
			}
			_, term, _, err := v.Step(a, obs)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, obs...)
			if term {
				return all
			}
		}
	}
	a := run(&VsOpponent{Opponent: Random{}}, 11)
	b := run(&VsOpponent{}, 11)
	c := run(&VsOpponent{}, 12)
	if len(a) != len(b) {
		t.Fatalf("seed 11 twice: %d and %d values", len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("seed 11 twice: differs at %d", i)
		}
	}
	same := len(a) == len(c)
	for i := 0; same && i < len(a); i++ {
		same = a[i] == c[i]
	}
	if same {
		t.Errorf("seeds 11 and 12 play the same game")
	}
}

// TestSelfPlay checks that an OpponentFunc observes the board from its own
// side: a copy of the agent's policy sees what the agent would.
func TestSelfPlay(t *testing.T) {
	// The policy: the first legal column holding none of the mover's pieces.
	policy := func(obs []float32, mask []bool) int {
		for c := range 7 {
			mine := float32(0)
			for r := range 6 {
				mine += obs[r*7+c]
			}
			if mask[c] && mine == 0 {
				return c
			}
		}
		return -1
	}
	self := OpponentFunc{Label: "self", Func: func(g *Connect4, _ *rand.Rand) int {
		obs, mask := make([]float32, 84), make([]bool, 7)
		g.Observe(obs)
		g.Legal(mask)
		return policy(obs, mask)
	}}
	v := &VsOpponent{Opponent: self}
	obs, mask := make([]float32, 84), make([]bool, 7)
	v.Reset(0, obs)
	for range 3 {
		v.Legal(mask)
		if _, _, _, err := v.Step(policy(obs, mask), obs); err != nil {
			t.Fatal(err)
		}
	}
	// Each side played columns 0, 1, 2 in turn, X on the bottom row and O
	// on top of it. Had the opponent seen the agent's planes (X's pieces as
	// its own), it would have answered column 0 with column 1.
	want := ". . . . . . .\n" +
		". . . . . . .\n" +
		". . . . . . .\n" +
		". . . . . . .\n" +
		"O O O . . . .\n" +
		"X X X . . . .\n" +
		"1 2 3 4 5 6 7\n"
	if got := v.Game().String(); got != want {
		t.Errorf("self-play:\n%s\nwant\n%s", got, want)
	}
}

// TestVsOpponentResetPanics checks that an illegal first move of the
// opponent, which Reset cannot return as an error, panics naming it.
func TestVsOpponentResetPanics(t *testing.T) {
	defer func() {
		if r := recover(); r != "env: connect4: opponent script played column 9, which is not legal" {
			t.Errorf("recovered %v", r)
		}
	}()
	v := &VsOpponent{Opponent: script(9), AgentFirst: func(uint64) bool { return false }}
	v.Reset(0, make([]float32, 84))
}
