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

type connect4State struct {
	Pieces [2]uint64
	Height [cols]uint8
	Moves  uint8
	Won    uint8
}

// MarshalBinary returns the game's state, for checkpoints.
func (g *Connect4) MarshalBinary() ([]byte, error) {
	return json.Marshal(connect4State{g.pieces, g.height, g.moves, g.won})
}

// UnmarshalBinary restores a state MarshalBinary returned. A board that no
// sequence of moves makes (pieces off their columns' heights, overlapping,
// a count that disagrees) is an error, and leaves g as it was.
func (g *Connect4) UnmarshalBinary(b []byte) error {
	var s connect4State
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("connect4 state: %v", err)
	}
	return g.set(s)
}

// set sets g to the position s after checking that it is one.
func (g *Connect4) set(s connect4State) error {
	var filled uint64
	n := 0
	for c := 0; c < cols; c++ {
		if int(s.Height[c]) > rows {
			return fmt.Errorf("connect4 state: column %d holds %d pieces", c+1, s.Height[c])
		}
		for r := 0; r < int(s.Height[c]); r++ {
			filled |= 1 << (7*c + r)
		}
		n += int(s.Height[c])
	}
	if s.Pieces[0]&s.Pieces[1] != 0 || s.Pieces[0]|s.Pieces[1] != filled || n != int(s.Moves) || s.Won > 2 {
		return fmt.Errorf("connect4 state: not a position of the game")
	}
	g.pieces, g.height, g.moves, g.won = s.Pieces, s.Height, s.Moves, s.Won
	return nil
}

type vsOpponentState struct {
	connect4State
	Agent int
	Live  bool
	PCG   []byte
}

// MarshalBinary implements Snapshotter: the board, the agent's side and
// the opponent's generator.
func (v *VsOpponent) MarshalBinary() ([]byte, error) {
	pcg, err := v.pcg.MarshalBinary()
	if err != nil {
		return nil, err
	}
	g := v.game
	return json.Marshal(vsOpponentState{connect4State{g.pieces, g.height, g.moves, g.won}, v.agent, v.live, pcg})
}

// UnmarshalBinary implements Snapshotter. A board that no sequence of
// moves makes (see Connect4.UnmarshalBinary) is an error.
func (v *VsOpponent) UnmarshalBinary(b []byte) error {
	var s vsOpponentState
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("connect4 state: %v", err)
	}
	if s.Agent != 0 && s.Agent != 1 {
		return fmt.Errorf("connect4 state: not a position of the game")
	}
	var g Connect4
	if err := g.set(s.connect4State); err != nil {
		return err
	}
	if err := v.pcg.UnmarshalBinary(s.PCG); err != nil {
		return fmt.Errorf("connect4 state: %v", err)
	}
	v.game, v.agent, v.live = g, s.Agent, s.Live
	return nil
}
