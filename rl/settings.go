package rl

import "github.com/pkg/errors"

// maxSetting bounds the counts of an agent's settings (environments,
// batch, buffer, ...): 2^24, far above any use and small enough that no
// product of two allocates past memory unnoticed.
const maxSetting = 1 << 24

// intSetting is a whole-number setting and its allowed range.
type intSetting struct {
	name   string
	v      int
	lo, hi int
}

// floatSetting is a setting that must lie in [0, 1].
type floatSetting struct {
	name string
	v    float64
}

// checkSettings returns a one-line error naming the first of an agent's
// settings out of its range: a count out of [lo, hi], a rate or fraction
// out of [0, 1] (NaN included), a layer of fewer than 1 unit.
func checkSettings(agent string, ints []intSetting, floats []floatSetting, layers []int) error {
	for _, f := range ints {
		if f.v < f.lo || f.v > f.hi {
			return errors.Errorf("%s: %s %d: must be %d to %d", agent, f.name, f.v, f.lo, f.hi)
		}
	}
	for _, f := range floats {
		if !(f.v >= 0 && f.v <= 1) { // NaN fails too
			return errors.Errorf("%s: %s %v: must be in [0, 1]", agent, f.name, f.v)
		}
	}
	for _, h := range layers {
		if h < 1 || h > maxSetting {
			return errors.Errorf("%s: a layer of %d units or filters: must be 1 to %d", agent, h, maxSetting)
		}
	}
	return nil
}
