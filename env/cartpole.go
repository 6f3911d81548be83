package env

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// CartPole-v1's constants, as Gymnasium's cartpole.py declares them.
const (
	gravity        = 9.8
	massCart       = 1.0
	massPole       = 0.1
	totalMass      = massPole + massCart // 1.1, as 0.1 + 1.0 rounds in float64
	poleHalfLength = 0.5                 // Gymnasium's "length": half the pole
	poleMassLength = massPole * poleHalfLength
	forceMag       = 10.0
	tau            = 0.02 // seconds between state updates
	xThreshold     = 2.4
)

// thetaThreshold is 12 degrees in radians, rounded step by step as Python
// computes 12 * 2 * math.pi / 360 (0.20943951023931953); Go's exact constant
// arithmetic would round to the next float64 up.
var thetaThreshold = func() float64 {
	pi := math.Pi
	return 12 * 2 * pi / 360
}()

// MaxSteps is the number of steps after which a CartPole episode is
// truncated: CartPole-v1's time limit.
const MaxSteps = 500

// cartPoleStream is the second word of the PCG that CartPole.Reset seeds:
// "cart" in ASCII.
const cartPoleStream = 0x63617274

// CartPole is Gymnasium's CartPole-v1 (gymnasium/envs/classic_control/
// cartpole.py, after Barto, Sutton and Anderson, 1983): a pole hinged on a
// cart that moves along a frictionless track, to be kept upright by pushing
// the cart left (action 0) or right (action 1) with a force of 10 N.
//
// The observation is [x, x_dot, theta, theta_dot]: the cart's position (m)
// and velocity, the pole's angle from upright (rad, positive leaning right)
// and angular velocity. Each step integrates the equations of motion over
// tau = 0.02 s with Gymnasium's explicit Euler scheme:
//
//	temp      = (force + polemass_length * theta_dot² * sin θ) / total_mass
//	thetaacc  = (gravity * sin θ - cos θ * temp) / (length * (4/3 - masspole * cos² θ / total_mass))
//	xacc      = temp - polemass_length * thetaacc * cos θ / total_mass
//	x         += tau * x_dot
//	x_dot     += tau * xacc
//	theta     += tau * theta_dot
//	theta_dot += tau * thetaacc
//
// with gravity 9.8, masscart 1.0, masspole 0.1, total_mass 1.1, length 0.5
// (half the pole), polemass_length 0.05 and force ±10. Every step, the one
// that ends the episode included, is rewarded 1. The episode terminates when
// |x| > 2.4 or |theta| > 12° (0.20943951023931953 rad), and is truncated at
// MaxSteps (500) steps; a step that does both reports terminated only
// (Gymnasium's TimeLimit wrapper would report both).
//
// The state is kept in float64, as Gymnasium keeps it (Python floats: reset's
// numpy float64 array, then the step's float64 arithmetic), each operation
// rounded in Gymnasium's order (no fused multiply-add); the observation is
// the state rounded to float32, as Gymnasium returns it. Go's math.Sin and
// math.Cos may differ from the C library's in the last bit for some angles,
// so a trajectory follows Gymnasium's to within rounding rather than always
// bit for bit.
//
// Reset(seed) seeds rand.New(rand.NewPCG(seed, 0x63617274)) ("cart") and
// draws x, x_dot, theta and theta_dot, in that order, each as
// -0.05 + 0.1*Float64(): uniform in [-0.05, 0.05), as numpy's uniform
// computes low + (high-low)*u. (Gymnasium's own generator is numpy's PCG64,
// so the start states are not Gymnasium's.)
//
// The zero value is ready for Reset.
type CartPole struct {
	state [4]float64 // x, x_dot, theta, theta_dot
	steps int        // steps taken this episode
	live  bool       // an episode is running
	pcg   rand.PCG
}

var _ Env = (*CartPole)(nil)

// Name returns "cartpole".
func (c *CartPole) Name() string { return "cartpole" }

// ObservationShape returns [4]: x, x_dot, theta, theta_dot.
func (c *CartPole) ObservationShape() []int { return []int{4} }

// NumActions returns 2: push left (0) or right (1).
func (c *CartPole) NumActions() int { return 2 }

// Reset starts an episode from a state drawn from seed (see CartPole) and
// writes it into obs (length 4).
func (c *CartPole) Reset(seed uint64, obs []float32) {
	checkLen("cartpole observation", len(obs), 4)
	c.pcg.Seed(seed, cartPoleStream)
	rng := rand.New(&c.pcg)
	for i := range c.state {
		c.state[i] = -0.05 + float64(0.1*rng.Float64())
	}
	c.steps = 0
	c.live = true
	c.observe(obs)
}

// Step pushes the cart left (action 0) or right (1), advances the system by
// tau and writes the new state into obs. The reward is always 1.
func (c *CartPole) Step(action int, obs []float32) (reward float64, terminated, truncated bool, err error) {
	checkLen("cartpole observation", len(obs), 4)
	if !c.live {
		return 0, false, false, fmt.Errorf("env: cartpole: %w: %w", ErrIllegalAction, ErrEpisodeOver)
	}
	if action != 0 && action != 1 {
		return 0, false, false, fmt.Errorf("env: cartpole: %w %d (want 0 or 1)", ErrIllegalAction, action)
	}
	force := forceMag
	if action == 0 {
		force = -forceMag
	}
	c.state = cartPoleStep(c.state, force)
	c.steps++
	terminated = cartPoleFailed(c.state[0], c.state[2])
	truncated = !terminated && c.steps >= MaxSteps
	c.live = !terminated && !truncated
	c.observe(obs)
	return 1, terminated, truncated, nil
}

// Legal sets both actions legal while an episode runs, neither otherwise.
func (c *CartPole) Legal(mask []bool) {
	checkLen("cartpole mask", len(mask), 2)
	mask[0], mask[1] = c.live, c.live
}

func (c *CartPole) observe(obs []float32) {
	for i, v := range c.state {
		obs[i] = float32(v)
	}
}

// cartPoleStep is one Euler step of Gymnasium's dynamics under force. The
// float64 conversions round each product before it is added, so that no
// architecture fuses them into a multiply-add.
func cartPoleStep(s [4]float64, force float64) [4]float64 {
	x, xDot, theta, thetaDot := s[0], s[1], s[2], s[3]
	cos, sin := math.Cos(theta), math.Sin(theta)
	temp := (force + float64(float64(poleMassLength*float64(thetaDot*thetaDot))*sin)) / totalMass
	thetaAcc := (float64(gravity*sin) - float64(cos*temp)) /
		float64(poleHalfLength*(4.0/3.0-float64(massPole*float64(cos*cos))/totalMass))
	xAcc := temp - float64(float64(poleMassLength*thetaAcc)*cos)/totalMass
	x += float64(tau * xDot)
	xDot += float64(tau * xAcc)
	theta += float64(tau * thetaDot)
	thetaDot += float64(tau * thetaAcc)
	return [4]float64{x, xDot, theta, thetaDot}
}

// cartPoleFailed reports whether the cart at x or the pole at theta is out of
// bounds: the episode terminates.
func cartPoleFailed(x, theta float64) bool {
	return x < -xThreshold || x > xThreshold || theta < -thetaThreshold || theta > thetaThreshold
}
