package env

import (
	"fmt"
)

// A Policy chooses an action for an observation, given which actions are
// legal now: a trained agent's greedy play, or a person's.
type Policy func(obs []float32, legal []bool) (int, error)

// Episodes plays episodes episodes of e with policy, the i-th reset with
// seed+i, and returns their returns.
func Episodes(e Env, policy Policy, episodes int, seed uint64) ([]float64, error) {
	if episodes < 1 {
		return nil, fmt.Errorf("playing %d episodes: want at least 1", episodes)
	}
	n := 1
	for _, d := range e.ObservationShape() {
		n *= d
	}
	obs := make([]float32, n)
	legal := make([]bool, e.NumActions())
	out := make([]float64, episodes)
	for i := range out {
		e.Reset(seed+uint64(i), obs)
		for {
			e.Legal(legal)
			a, err := policy(obs, legal)
			if err != nil {
				return nil, err
			}
			r, term, trunc, err := e.Step(a, obs)
			if err != nil {
				return nil, err
			}
			out[i] += r
			if term || trunc {
				break
			}
		}
	}
	return out, nil
}

// ReferenceOpponents are the opponents a Connect4 player is scored
// against when none is named: random, then alphabeta at depths 1 to 4.
var ReferenceOpponents = []string{"random", "alphabeta:1", "alphabeta:2", "alphabeta:3", "alphabeta:4"}

// Arena scores a policy at a game by name. Its Play is what a trained
// agent's evaluation calls (run.Games), so that code which scores agents
// need not link the games themselves.
type Arena struct{}

// Play plays episodes greedy episodes of game with policy, seeded from
// seed, and returns their mean return. Connect4 is played against
// opponent (random or alphabeta:D), or if opponent is "" against each of
// ReferenceOpponents, half the games first (FirstOnEvenSeeds); scores
// holds the score against each (a win 1, a draw ½, a loss 0) and the mean
// return is that against the first. An opponent for a game without one is
// an error.
func (Arena) Play(policy func(obs []float32, legal []bool) (int, error), game string, episodes int, seed uint64, opponent string) (meanReturn float64, scores map[string]float64, err error) {
	if game != "connect4" {
		if opponent != "" {
			return 0, nil, fmt.Errorf("opponent %s: %s has no opponent", opponent, game)
		}
		e, err := New(game)
		if err != nil {
			return 0, nil, err
		}
		rets, err := Episodes(e, policy, episodes, seed)
		if err != nil {
			return 0, nil, err
		}
		for _, r := range rets {
			meanReturn += r / float64(len(rets))
		}
		return meanReturn, nil, nil
	}
	opps := ReferenceOpponents
	if opponent != "" {
		opps = []string{opponent}
	}
	scores = map[string]float64{}
	for _, name := range opps {
		opp, err := ParseOpponent(name)
		if err != nil {
			return 0, nil, fmt.Errorf("opponent: %w", err)
		}
		e := &VsOpponent{Opponent: opp, AgentFirst: FirstOnEvenSeeds}
		rets, err := Episodes(e, policy, episodes, seed)
		if err != nil {
			return 0, nil, err
		}
		s := 0.0
		for _, r := range rets {
			s += (r + 1) / 2
		}
		scores[name] = s / float64(episodes)
		if name == opps[0] {
			meanReturn = 2*scores[name] - 1
		}
	}
	return meanReturn, scores, nil
}
