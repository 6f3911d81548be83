package env

import (
	"errors"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

// TestCartPoleConstants checks the constants against Gymnasium's values as
// Python computes them.
func TestCartPoleConstants(t *testing.T) {
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"total_mass", totalMass, 0.1 + 1.0},
		{"polemass_length", poleMassLength, 0.05},
		{"theta_threshold_radians", thetaThreshold, 0.20943951023931953}, // Python: 12 * 2 * math.pi / 360
	} {
		if c.got != c.want {
			t.Errorf("%s = %.17g, want %.17g", c.name, c.got, c.want)
		}
	}
}

// TestCartPoleStep checks one step from the state (0.01, -0.02, 0.03, 0.04)
// against values worked out by hand with Gymnasium's formulas (each line
// below in float64, as Python computes it; Go's and glibc's cos and sin agree
// to the last bit at 0.03):
//
//	cos θ = cos 0.03 = 0.9995500337489875,  sin θ = 0.02999550020249566
//	push right, force = +10:
//	temp     = (10 + 0.05 * 0.04² * sin θ) / 1.1                  = 9.090911272400014
//	thetaacc = (9.8 sin θ - cos θ temp) / (0.5 (4/3 - 0.1 cos²θ / 1.1)) = -14.153435898000405
//	xacc     = temp - 0.05 thetaacc cos θ / 1.1                   = 9.733959787377762
//	x         = 0.01 + 0.02 * -0.02     = 0.009600000000000001
//	x_dot     = -0.02 + 0.02 * xacc     = 0.17467919574755525
//	theta     = 0.03 + 0.02 * 0.04      = 0.030799999999999998
//	theta_dot = 0.04 + 0.02 * thetaacc  = -0.2430687179600081
//	push left, force = -10:
//	temp = -9.090906909418166, thetaacc = 15.099761188801958, xacc = -9.776950855139468
//	x = 0.009600000000000001, x_dot = -0.21553901710278936,
//	theta = 0.030799999999999998, theta_dot = 0.34199522377603914
func TestCartPoleStep(t *testing.T) {
	start := [4]float64{0.01, -0.02, 0.03, 0.04}
	for _, c := range []struct {
		action int
		want   [4]float64
	}{
		{1, [4]float64{0.009600000000000001, 0.17467919574755525, 0.030799999999999998, -0.2430687179600081}},
		{0, [4]float64{0.009600000000000001, -0.21553901710278936, 0.030799999999999998, 0.34199522377603914}},
	} {
		p := &CartPole{state: start, live: true}
		obs := make([]float32, 4)
		r, term, trunc, err := p.Step(c.action, obs)
		if err != nil || r != 1 || term || trunc {
			t.Fatalf("action %d: Step = %v, %v, %v, %v; want 1, false, false, nil", c.action, r, term, trunc, err)
		}
		for i, v := range c.want {
			if !sameFloat(p.state[i], v) {
				t.Errorf("action %d: state[%d] = %.17g, want %.17g", c.action, i, p.state[i], v)
			}
			if obs[i] != float32(p.state[i]) || !sameFloat(float64(obs[i]), float64(float32(v))) {
				t.Errorf("action %d: obs[%d] = %v, want float32(%.17g)", c.action, i, obs[i], v)
			}
		}
	}
}

// sameFloat reports whether a and b are equal: exactly on amd64, where Go's
// math package computes cos and sin without fused multiply-adds (as the hand
// computation above does), and within 4 ulps elsewhere.
func sameFloat(a, b float64) bool {
	if runtime.GOARCH == "amd64" {
		return a == b
	}
	d := int64(math.Float64bits(a)) - int64(math.Float64bits(b))
	return math.Signbit(a) == math.Signbit(b) && d >= -4 && d <= 4
}

// TestCartPoleTermination checks the bounds: |x| > 2.4 or |theta| > 12°
// ends the episode, the bounds themselves do not, and the terminating step
// is rewarded 1.
func TestCartPoleTermination(t *testing.T) {
	thr := thetaThreshold
	for _, c := range []struct {
		x, theta float64
		want     bool
	}{
		{0, 0, false},
		{2.4, 0, false},
		{-2.4, 0, false},
		{math.Nextafter(2.4, 3), 0, true},
		{math.Nextafter(-2.4, -3), 0, true},
		{0, thr, false},
		{0, -thr, false},
		{0, math.Nextafter(thr, 1), true},
		{0, math.Nextafter(-thr, -1), true},
	} {
		if got := cartPoleFailed(c.x, c.theta); got != c.want {
			t.Errorf("cartPoleFailed(%.17g, %.17g) = %v, want %v", c.x, c.theta, got, c.want)
		}
	}

	// x = 2.39 + 0.02 * 1 = 2.41 > 2.4 after one step; theta = 0.2 + 0.02 * 1 = 0.22 > 0.2094.
	for _, s := range [][4]float64{{2.39, 1, 0, 0}, {-2.39, -1, 0, 0}, {0, 0, 0.2, 1}, {0, 0, -0.2, -1}} {
		p := &CartPole{state: s, live: true}
		obs := make([]float32, 4)
		r, term, trunc, err := p.Step(1, obs)
		if err != nil || r != 1 || !term || trunc {
			t.Errorf("from %v: Step = %v, %v, %v, %v; want 1, true, false, nil", s, r, term, trunc, err)
		}
		mask := []bool{true, true}
		p.Legal(mask)
		if mask[0] || mask[1] {
			t.Errorf("from %v: Legal after the end = %v, want none", s, mask)
		}
		_, _, _, err = p.Step(0, obs)
		if !errors.Is(err, ErrEpisodeOver) || !errors.Is(err, ErrIllegalAction) {
			t.Errorf("from %v: Step after the end: err = %v, want ErrEpisodeOver and ErrIllegalAction", s, err)
		}
	}
	var p CartPole
	if _, _, _, err := p.Step(0, make([]float32, 4)); !errors.Is(err, ErrEpisodeOver) {
		t.Errorf("Step before Reset: err = %v, want ErrEpisodeOver", err)
	}
}

// TestCartPoleTruncation checks that the 500th step truncates, the 499th
// does not, and a 500th step that also terminates reports terminated only.
func TestCartPoleTruncation(t *testing.T) {
	obs := make([]float32, 4)
	for _, c := range []struct {
		steps       int
		state       [4]float64
		term, trunc bool
	}{
		{MaxSteps - 2, [4]float64{}, false, false},
		{MaxSteps - 1, [4]float64{}, false, true},
		{MaxSteps - 1, [4]float64{2.39, 1, 0, 0}, true, false},
	} {
		p := &CartPole{state: c.state, steps: c.steps, live: true}
		_, term, trunc, err := p.Step(1, obs)
		if err != nil || term != c.term || trunc != c.trunc {
			t.Errorf("step %d from %v: terminated %v truncated %v err %v; want %v %v nil",
				c.steps+1, c.state, term, trunc, err, c.term, c.trunc)
		}
	}

	// A controller that balances the pole: the episode lasts exactly 500 steps.
	var p CartPole
	p.Reset(3, obs)
	for n := 1; ; n++ {
		a := 0
		if 0.1*obs[0]+0.5*obs[1]+10*obs[2]+2*obs[3] > 0 {
			a = 1
		}
		r, term, trunc, err := p.Step(a, obs)
		if err != nil || r != 1 || term {
			t.Fatalf("step %d: Step = %v, %v, %v, %v; want the pole balanced", n, r, term, trunc, err)
		}
		if trunc != (n == MaxSteps) {
			t.Fatalf("step %d: truncated = %v", n, trunc)
		}
		if trunc {
			break
		}
	}
}

// TestCartPoleReset checks the start state's stream: four draws of
// rand.New(rand.NewPCG(seed, "cart")), each -0.05 + 0.1*u, and that the same
// seed replays the same episode.
func TestCartPoleReset(t *testing.T) {
	obs := make([]float32, 4)
	for _, seed := range []uint64{0, 1, 42} {
		var p CartPole
		p.Reset(seed, obs)
		rng := rand.New(rand.NewPCG(seed, 0x63617274))
		for i := range 4 {
			want := -0.05 + float64(0.1*rng.Float64())
			if p.state[i] != want || obs[i] != float32(want) || want < -0.05 || want >= 0.05 {
				t.Errorf("seed %d: state[%d] = %v (obs %v), want %v in [-0.05, 0.05)", seed, i, p.state[i], obs[i], want)
			}
		}
	}

	episode := func(seed uint64) [][4]float32 {
		var p CartPole
		o := make([]float32, 4)
		p.Reset(seed, o)
		var out [][4]float32
		for i := 0; ; i++ {
			out = append(out, [4]float32(o))
			_, term, trunc, err := p.Step(i*i%3%2, o)
			if err != nil {
				t.Fatal(err)
			}
			if term || trunc {
				return append(out, [4]float32(o))
			}
		}
	}
	a, b, c := episode(7), episode(7), episode(8)
	if len(a) != len(b) {
		t.Fatalf("seed 7 twice: %d and %d steps", len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("seed 7 twice: step %d differs: %v and %v", i, a[i], b[i])
		}
	}
	if a[0] == c[0] {
		t.Errorf("seeds 7 and 8 start alike: %v", a[0])
	}

	// Reset mid-episode starts afresh.
	var p CartPole
	p.Reset(7, obs)
	p.Step(1, obs)
	p.Reset(7, obs)
	if [4]float32(obs) != a[0] || p.steps != 0 {
		t.Errorf("Reset mid-episode: obs %v steps %d, want %v 0", obs, p.steps, a[0])
	}
}

// TestCartPoleIllegal checks that an action other than 0 or 1 is refused and
// changes nothing.
func TestCartPoleIllegal(t *testing.T) {
	obs := make([]float32, 4)
	var p CartPole
	p.Reset(5, obs)
	before := p
	for _, a := range []int{-1, 2, 100} {
		if _, _, _, err := p.Step(a, obs); !errors.Is(err, ErrIllegalAction) || errors.Is(err, ErrEpisodeOver) {
			t.Errorf("Step(%d): err = %v, want ErrIllegalAction", a, err)
		}
	}
	if p != before {
		t.Errorf("illegal actions changed the state: %+v, was %+v", p, before)
	}
	mask := make([]bool, 2)
	p.Legal(mask)
	if !mask[0] || !mask[1] {
		t.Errorf("Legal = %v, want both", mask)
	}
}
