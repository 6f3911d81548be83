package env

import (
	"encoding/json"
	"fmt"
)

// A Snapshotter is an Env whose whole state (mid-episode included) can be
// saved and restored: what a checkpoint of an agent's training needs to
// resume bit for bit. CartPole and VsOpponent are Snapshotters; a
// VsOpponent's opponent is not part of its state.
type Snapshotter interface {
	Env
	MarshalBinary() ([]byte, error)
	UnmarshalBinary(b []byte) error
}

var (
	_ Snapshotter = (*CartPole)(nil)
	_ Snapshotter = (*VsOpponent)(nil)
)

type cartPoleState struct {
	State [4]float64
	Steps int
	Live  bool
	PCG   []byte
}

// MarshalBinary implements Snapshotter.
func (c *CartPole) MarshalBinary() ([]byte, error) {
	pcg, err := c.pcg.MarshalBinary()
	if err != nil {
		return nil, err
	}
	return json.Marshal(cartPoleState{c.state, c.steps, c.live, pcg})
}

// UnmarshalBinary implements Snapshotter.
func (c *CartPole) UnmarshalBinary(b []byte) error {
	var s cartPoleState
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("cartpole state: %v", err)
	}
	if s.Steps < 0 || s.Steps > MaxSteps {
		return fmt.Errorf("cartpole state: %d steps, must be 0 to %d", s.Steps, MaxSteps)
	}
	if err := c.pcg.UnmarshalBinary(s.PCG); err != nil {
		return fmt.Errorf("cartpole state: %v", err)
	}
	c.state, c.steps, c.live = s.State, s.Steps, s.Live
	return nil
}

type vsOpponentState struct {
	Pieces [2]uint64
	Height [cols]uint8
	Moves  uint8
	Won    uint8
	Agent  int
	Live   bool
	PCG    []byte
}

// MarshalBinary implements Snapshotter: the board, the agent's side and
// the opponent's generator.
func (v *VsOpponent) MarshalBinary() ([]byte, error) {
	pcg, err := v.pcg.MarshalBinary()
	if err != nil {
		return nil, err
	}
	g := v.game
	return json.Marshal(vsOpponentState{g.pieces, g.height, g.moves, g.won, v.agent, v.live, pcg})
}

// UnmarshalBinary implements Snapshotter. A board that no sequence of
// moves makes (pieces off their columns' heights, overlapping, a count
// that disagrees) is an error.
func (v *VsOpponent) UnmarshalBinary(b []byte) error {
	var s vsOpponentState
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("connect4 state: %v", err)
	}
	var g Connect4
	g.pieces, g.height, g.moves, g.won = s.Pieces, s.Height, s.Moves, s.Won
	var filled uint64
	n := 0
	for c := 0; c < cols; c++ {
		if int(g.height[c]) > rows {
			return fmt.Errorf("connect4 state: column %d holds %d pieces", c+1, g.height[c])
		}
		for r := 0; r < int(g.height[c]); r++ {
			filled |= 1 << (7*c + r)
		}
		n += int(g.height[c])
	}
	if g.pieces[0]&g.pieces[1] != 0 || g.pieces[0]|g.pieces[1] != filled || n != int(g.moves) || g.won > 2 || (s.Agent != 0 && s.Agent != 1) {
		return fmt.Errorf("connect4 state: not a position of the game")
	}
	if err := v.pcg.UnmarshalBinary(s.PCG); err != nil {
		return fmt.Errorf("connect4 state: %v", err)
	}
	v.game, v.agent, v.live = g, s.Agent, s.Live
	return nil
}
