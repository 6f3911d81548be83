package train

import (
	"testing"

	"github.com/dlrun/dlrun/nn"
)

// hardClips is one clip of grey frames with a hard cut, a dissolve and a
// hard negative: Clips and HardNegatives.
type hardClips struct{ n int }

func (c hardClips) Len() int                      { return c.n }
func (c hardClips) NumClips() int                 { return 1 }
func (c hardClips) Frames(int) int                { return c.n }
func (c hardClips) FrameShape() []int             { return []int{3, 3, 4} }
func (c hardClips) Frame(_, f int, dst []float32) { fill(dst, float32(f)/float32(c.n)) }
func (c hardClips) Transitions(int) []Transition {
	return []Transition{{Start: 5, End: 5}, {Start: 10, End: 27, Gradual: true}}
}
func (c hardClips) Negatives(int) []FrameSpan { return []FrameSpan{{Start: 33, End: 33}} }

// The "single" target marks a hard cut's first new frame and the middle
// third of a gradual transition (Transition.Middle); frames within
// ShotTolerance of a hard negative weigh NegativeWeight, frames whose
// target is 1 PositiveWeight, the others 1.
func TestShotTargetsAndWeights(t *testing.T) {
	for _, c := range []struct {
		t           Transition
		first, last int
	}{{Transition{5, 5, false}, 5, 5}, {Transition{10, 27, true}, 15, 21}, {Transition{0, 4, true}, 2, 2}, {Transition{0, 5, true}, 1, 3}} {
		if f, l := c.t.Middle(); f != c.first || l != c.last {
			t.Errorf("%+v: middle %d to %d, want %d to %d", c.t, f, l, c.first, c.last)
		}
	}
	spec, err := nn.ParseSpec([]byte("{name: m, layers: [{frame_changes: {}}, {dense: {units: 2}}]}"), "m")
	if err != nil {
		t.Fatal(err)
	}
	m, err := spec.Build()
	if err != nil {
		t.Fatal(err)
	}
	const n = 40
	task := &Shots{Window: n, Frame: []int{3, 3, 4}, PositiveWeight: 4, NegativeWeight: 3}
	tr, err := New(m, task, Config{BatchSize: 1, Loss: "bce"})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	data := hardClips{n}
	if _, err := task.Pass(data, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := task.Fill(0); err != nil {
		t.Fatal(err)
	}
	y1, w1, y2, w2 := task.yT[0].Float32s(), task.wT[0].Float32s(), task.yT[1].Float32s(), task.wT[1].Float32s()
	for f := range n {
		single := f == 5 || f >= 15 && f <= 21
		all := f == 5 || f >= 10 && f <= 27
		hard := f >= 31 && f <= 35
		weight := func(target bool) float32 {
			switch {
			case target:
				return 4
			case hard:
				return 3
			}
			return 1
		}
		if want := b2f(single); y1[f] != want || w1[f] != weight(single) {
			t.Errorf("frame %d: single target %v weight %v, want %v and %v", f, y1[f], w1[f], want, weight(single))
		}
		if want := b2f(all); y2[f] != want || w2[f] != weight(all) {
			t.Errorf("frame %d: all target %v weight %v, want %v and %v", f, y2[f], w2[f], want, weight(all))
		}
	}
}

func b2f(b bool) float32 {
	if b {
		return 1
	}
	return 0
}
