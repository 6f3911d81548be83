package env_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/dlrun/dlrun/env"
)

// Corridor is a game of one's own: a walk along five cells, starting on one
// of the middle three (drawn from the seed), rewarded 1 for reaching the
// right end. The left end, too, ends the episode; 20 steps cut it short.
type Corridor struct {
	pos, steps int
	live       bool
}

func (c *Corridor) Name() string            { return "corridor" }
func (c *Corridor) ObservationShape() []int { return []int{5} }
func (c *Corridor) NumActions() int         { return 2 } // 0: left, 1: right

func (c *Corridor) Reset(seed uint64, obs []float32) {
	rng := rand.New(rand.NewPCG(seed, 0x636f72)) // "cor"
	c.pos, c.steps, c.live = 1+rng.IntN(3), 0, true
	c.observe(obs)
}

func (c *Corridor) Step(action int, obs []float32) (float64, bool, bool, error) {
	if !c.live {
		return 0, false, false, fmt.Errorf("corridor: %w: %w", env.ErrIllegalAction, env.ErrEpisodeOver)
	}
	if action != 0 && action != 1 {
		return 0, false, false, fmt.Errorf("corridor: %w %d", env.ErrIllegalAction, action)
	}
	c.pos += 2*action - 1
	c.steps++
	c.observe(obs)
	terminated := c.pos == 0 || c.pos == 4
	truncated := !terminated && c.steps == 20
	c.live = !terminated && !truncated
	if c.pos == 4 {
		return 1, true, false, nil
	}
	return 0, terminated, truncated, nil
}

func (c *Corridor) Legal(mask []bool) { mask[0], mask[1] = c.live, c.live }

func (c *Corridor) observe(obs []float32) {
	clear(obs)
	obs[c.pos] = 1
}

// An environment of one's own implements Env; env.Register("corridor",
// func() env.Env { return &Corridor{} }) in an init function would make
// env.New know it.
func Example_ownGame() {
	var e env.Env = &Corridor{}
	obs := make([]float32, 5)
	e.Reset(3, obs)
	fmt.Println(obs)
	for _, a := range []int{0, 1, 1, 1, 1} {
		r, term, trunc, err := e.Step(a, obs)
		fmt.Println(obs, r, term, trunc, err)
	}
	// Output:
	// [0 0 1 0 0]
	// [0 1 0 0 0] 0 false false <nil>
	// [0 0 1 0 0] 0 false false <nil>
	// [0 0 0 1 0] 0 false false <nil>
	// [0 0 0 0 1] 1 true false <nil>
	// [0 0 0 0 1] 0 false false corridor: illegal action: the episode is over
}
