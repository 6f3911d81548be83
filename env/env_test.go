package env

import (
	"errors"
	"strings"
	"testing"
)

// TestNew checks the registry: the names, each environment's shape and
// actions, and the error for an unknown name.
func TestNew(t *testing.T) {
	if got := strings.Join(Names(), " "); got != "cartpole connect4" {
		t.Errorf("Names = %q", got)
	}
	for _, c := range []struct {
		name    string
		shape   []int
		actions int
	}{
		{"cartpole", []int{4}, 2},
		{"connect4", []int{2, 6, 7}, 7},
	} {
		e, err := New(c.name)
		if err != nil {
			t.Fatal(err)
		}
		if e.Name() != c.name || !equalInts(e.ObservationShape(), c.shape) || e.NumActions() != c.actions {
			t.Errorf("%s: Name %q shape %v actions %d", c.name, e.Name(), e.ObservationShape(), e.NumActions())
		}
		n := 1
		for _, d := range c.shape {
			n *= d
		}
		obs, mask := make([]float32, n), make([]bool, c.actions)
		e.Legal(mask)
		for _, ok := range mask {
			if ok {
				t.Errorf("%s: an action is legal before Reset", c.name)
			}
		}
		if _, _, _, err := e.Step(0, obs); !errors.Is(err, ErrEpisodeOver) {
			t.Errorf("%s: Step before Reset: err = %v, want ErrEpisodeOver", c.name, err)
		}
		e.Reset(1, obs)
		e.Legal(mask)
		for a, ok := range mask {
			if !ok {
				t.Errorf("%s: action %d illegal after Reset", c.name, a)
			}
		}
	}
	e1, _ := New("connect4")
	e2, _ := New("connect4")
	if e1 == e2 {
		t.Errorf("New returns the same environment twice")
	}
	_, err := New("pong")
	if !errors.Is(err, ErrUnknown) || err.Error() != `env: unknown environment "pong" (known: cartpole, connect4)` {
		t.Errorf("New(pong): %v", err)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestRegisterPanics checks that Register refuses a malformed name, a nil
// constructor and a name taken.
func TestRegisterPanics(t *testing.T) {
	for _, c := range []struct {
		name string
		f    func() Env
	}{
		{"Pong", func() Env { return &CartPole{} }},
		{"", func() Env { return &CartPole{} }},
		{"pong", nil},
		{"cartpole", func() Env { return &CartPole{} }},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Register(%q) did not panic", c.name)
				}
			}()
			Register(c.name, c.f)
		}()
	}
}

// TestWrongLength checks that an observation of the wrong length panics with
// a message that names it.
func TestWrongLength(t *testing.T) {
	defer func() {
		if r := recover(); r != "env: cartpole observation has length 3, want 4" {
			t.Errorf("recovered %v", r)
		}
	}()
	var p CartPole
	p.Reset(0, make([]float32, 3))
}
