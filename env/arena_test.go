package env_test

import (
	"strings"
	"testing"

	"github.com/dlrun/dlrun/env"
)

// The arena scores a policy: CartPole by its mean return, Connect4 against
// each reference opponent (a win 1, a draw ½), half the games first.
func TestArenaPlay(t *testing.T) {
	left := func(obs []float32, legal []bool) (int, error) { return 0, nil }
	mean, scores, err := env.Arena{}.Play(left, "cartpole", 4, 1, "")
	if err != nil || scores != nil || !(mean > 5 && mean < 30) {
		t.Fatalf("cartpole pushed left: mean %v, scores %v, %v", mean, scores, err)
	}
	firstLegal := func(obs []float32, legal []bool) (int, error) {
		for i, ok := range legal {
			if ok {
				return i, nil
			}
		}
		return 0, nil
	}
	mean, scores, err = env.Arena{}.Play(firstLegal, "connect4", 4, 1, "")
	if err != nil || len(scores) != len(env.ReferenceOpponents) {
		t.Fatalf("connect4: %v, %v", scores, err)
	}
	if mean != 2*scores["random"]-1 || scores["alphabeta:4"] != 0 {
		t.Fatalf("connect4: mean %v, scores %v", mean, scores)
	}
	if _, _, err := (env.Arena{}).Play(left, "cartpole", 1, 1, "random"); err == nil || !strings.Contains(err.Error(), "cartpole has no opponent") {
		t.Fatalf("an opponent for cartpole: %v", err)
	}
	if _, _, err := (env.Arena{}).Play(left, "connect4", 1, 1, "minimax"); err == nil || !strings.Contains(err.Error(), "opponent") {
		t.Fatalf("an unknown opponent: %v", err)
	}
}
