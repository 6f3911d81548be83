package env

import (
	"fmt"
	"math/rand/v2"
)

// opponentStream is the second word of the PCG that VsOpponent.Reset seeds
// for its opponent: "opp" in ASCII.
const opponentStream = 0x6f7070

// VsOpponent is Connect4 as a single-agent Env: the agent plays one side and
// Opponent the other.
//
// Reset(seed) starts an empty board and seeds the opponent's generator,
// rand.New(rand.NewPCG(seed, 0x6f7070)) ("opp"), the only randomness of the
// episode. The agent moves first (plays X, player 0) when AgentFirst(seed) is
// true, and otherwise second, the opponent making its first move inside
// Reset; a nil AgentFirst means the agent always moves first.
//
// Step(action) drops the agent's piece into column action and then, unless
// that ended the game, plays the opponent's reply. The reward is +1 when the
// agent has won, -1 when it has lost, and 0 otherwise: a draw, or a game not
// over. The episode terminates when the game is over and is never
// truncated. An action out of 0..6 or into a full column is an error wrapping
// ErrIllegalAction; an opponent that answers with an illegal column is an
// error too, naming it, and undoes the agent's move (Reset panics, as it has
// no error to return).
//
// Observations are Connect4.Observe's planes, [2 6 7], always from the
// agent's side: plane 0 holds the agent's pieces and plane 1 the
// opponent's, also at the end of a game when the opponent is to move.
//
// Opponent and AgentFirst may be changed between episodes (a self-play loop
// swaps in a newer copy of the agent); a nil Opponent plays as Random. The
// Opponent is handed the VsOpponent's own game, which it must not modify.
type VsOpponent struct {
	Opponent   Opponent               // the other player; nil plays as Random
	AgentFirst func(seed uint64) bool // whether the agent moves first in an episode; nil: always

	game  Connect4
	agent int  // the agent's player: 0 or 1
	live  bool // an episode is running
	pcg   rand.PCG
}

var _ Env = (*VsOpponent)(nil)

// FirstOnEvenSeeds reports whether seed is even: the AgentFirst of
// New("connect4"), under which the agent moves first in even-seeded episodes
// and second in odd ones.
func FirstOnEvenSeeds(seed uint64) bool { return seed%2 == 0 }

// Name returns "connect4".
func (v *VsOpponent) Name() string { return "connect4" }

// ObservationShape returns [2 6 7]: two planes (the agent's pieces, the
// opponent's) of 6 rows (the bottom first) by 7 columns.
func (v *VsOpponent) ObservationShape() []int { return []int{2, rows, cols} }

// NumActions returns 7: the columns.
func (v *VsOpponent) NumActions() int { return cols }

// Reset starts a game, lets the opponent move first if the agent moves
// second, and writes the board from the agent's side into obs.
func (v *VsOpponent) Reset(seed uint64, obs []float32) {
	checkLen("connect4 observation", len(obs), 2*rows*cols)
	v.pcg.Seed(seed, opponentStream)
	v.game = Connect4{}
	v.agent = 0
	if v.AgentFirst != nil && !v.AgentFirst(seed) {
		v.agent = 1
		if err := v.reply(); err != nil {
			panic(err.Error())
		}
	}
	v.live = true
	v.game.observe(v.agent, obs)
}

// Step plays the agent's move in column action and the opponent's reply.
func (v *VsOpponent) Step(action int, obs []float32) (reward float64, terminated, truncated bool, err error) {
	checkLen("connect4 observation", len(obs), 2*rows*cols)
	if !v.live {
		return 0, false, false, fmt.Errorf("env: connect4: %w: %w", ErrIllegalAction, ErrEpisodeOver)
	}
	before := v.game
	if err := v.game.Play(action); err != nil {
		return 0, false, false, err
	}
	if !v.game.Over() {
		if err := v.reply(); err != nil {
			v.game = before
			return 0, false, false, err
		}
	}
	v.game.observe(v.agent, obs)
	if !v.game.Over() {
		return 0, false, false, nil
	}
	v.live = false
	switch v.game.Winner() {
	case v.agent:
		reward = 1
	case 1 - v.agent:
		reward = -1
	}
	return reward, true, false, nil
}

// reply plays the opponent's move.
func (v *VsOpponent) reply() error {
	opp := v.Opponent
	if opp == nil {
		opp = Random{}
	}
	col := opp.Move(&v.game, rand.New(&v.pcg))
	if !v.game.CanPlay(col) {
		return fmt.Errorf("env: connect4: opponent %s played column %d, which is not legal", opp.Name(), col)
	}
	v.game.play(col)
	return nil
}

// Legal writes into mask (length 7) which columns the agent may play: those
// not full while the episode runs, none otherwise.
func (v *VsOpponent) Legal(mask []bool) {
	checkLen("connect4 mask", len(mask), cols)
	for c := range mask {
		mask[c] = v.live && v.game.CanPlay(c)
	}
}

// Game returns a copy of the current game, for drawing (fmt.Print(v.Game())).
func (v *VsOpponent) Game() *Connect4 { return v.game.Clone() }

// Agent returns the agent's player in the current episode: 0 (X, moving
// first) or 1 (O).
func (v *VsOpponent) Agent() int { return v.agent }
