package env

import (
	"fmt"
	"testing"
)

// An environment restored from a snapshot taken mid-episode goes on
// exactly as the original does, episode resets included.
func TestSnapshotsResume(t *testing.T) {
	for _, mk := range []func() Snapshotter{
		func() Snapshotter { return &CartPole{} },
		func() Snapshotter { return &VsOpponent{Opponent: AlphaBeta{Depth: 2}, AgentFirst: FirstOnEvenSeeds} },
	} {
		a, b := mk(), mk()
		t.Run(a.Name(), func(t *testing.T) {
			obs := make([]float32, size(a.ObservationShape()))
			legal := make([]bool, a.NumActions())
			a.Reset(3, obs)
			play := func(e Env, n int, seed uint64) string {
				var log string
				o := make([]float32, len(obs))
				for i := 0; i < n; i++ {
					e.Legal(legal)
					act := (i * 5) % len(legal)
					for !legal[act] {
						act = (act + 1) % len(legal)
					}
					r, term, trunc, err := e.Step(act, o)
					if err != nil {
						t.Fatal(err)
					}
					log += fmt.Sprint(o, r, term, trunc, ";")
					if term || trunc {
						seed++
						e.Reset(seed, o)
						log += fmt.Sprint(o, "|")
					}
				}
				return log
			}
			play(a, 5, 3)
			snap, err := a.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			if err := b.UnmarshalBinary(snap); err != nil {
				t.Fatal(err)
			}
			if la, lb := play(a, 60, 10), play(b, 60, 10); la != lb {
				t.Errorf("the restored environment went another way:\n%s\n%s", la, lb)
			}
			if err := b.UnmarshalBinary([]byte("{")); err == nil {
				t.Error("a malformed snapshot: no error")
			}
		})
	}
}

func size(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// A Connect4 game's state survives MarshalBinary and UnmarshalBinary, and
// a state that no game reaches is refused, leaving the game as it was.
func TestConnect4State(t *testing.T) {
	var g Connect4
	for _, c := range []int{3, 3, 4, 2, 5, 6, 0} {
		if err := g.Play(c); err != nil {
			t.Fatal(err)
		}
	}
	b, err := g.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var h Connect4
	if err := h.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if h != g {
		t.Errorf("restored %+v, want %+v", h, g)
	}
	for _, bad := range []string{
		`{`,
		`{"Pieces":[1,1],"Height":[1,0,0,0,0,0,0],"Moves":2}`, // one cell, both players
		`{"Pieces":[1,0],"Height":[1,0,0,0,0,0,0],"Moves":2}`, // one piece, two moves
		`{"Pieces":[2,0],"Height":[1,0,0,0,0,0,0],"Moves":1}`, // a piece floating above an empty cell
		`{"Pieces":[0,0],"Height":[7,0,0,0,0,0,0],"Moves":0}`, // a column of 7
		`{"Pieces":[0,0],"Height":[0,0,0,0,0,0,0],"Won":3}`,   // a third player won
	} {
		before := h
		if err := h.UnmarshalBinary([]byte(bad)); err == nil {
			t.Errorf("%s: no error", bad)
		}
		if h != before {
			t.Errorf("%s: the game changed", bad)
		}
	}
}
