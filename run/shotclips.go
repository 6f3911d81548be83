package run

import (
	"github.com/dlrun/dlrun/train"
	"github.com/dlrun/dlrun/video/synth"
)

// shotClips presents a split of shot-boundary material as train.Clips:
// each frame's RGB bytes as [3, h, w] planes of values from 0 to 1.
type shotClips struct{ set *synth.Set }

var (
	_ train.Clips         = shotClips{}
	_ train.HardNegatives = shotClips{}
)

// Len implements train.Data: the frames of all clips.
func (c shotClips) Len() int { return c.set.Frames() }

// NumClips implements train.Clips.
func (c shotClips) NumClips() int { return len(c.set.Clips) }

// Frames implements train.Clips.
func (c shotClips) Frames(i int) int { return c.set.Clips[i].Labels.Frames }

// FrameShape implements train.Clips: [3, h, w].
func (c shotClips) FrameShape() []int { return []int{3, c.set.Height, c.set.Width} }

// Frame implements train.Clips.
func (c shotClips) Frame(i, f int, dst []float32) {
	FramePlanes(c.set.Frame(i, f), c.set.Width*c.set.Height, dst)
}

// Transitions implements train.Clips.
func (c shotClips) Transitions(i int) []train.Transition {
	return ShotTransitions(c.set.Clips[i].Labels)
}

// ShotTransitions returns the transitions that a clip's labels give, as a
// shot detector is trained and scored on them: a dissolve or a fade is
// gradual.
func ShotTransitions(l synth.Labels) []train.Transition {
	out := make([]train.Transition, len(l.Transitions))
	for j, t := range l.Transitions {
		out[j] = train.Transition{Start: t.Start, End: t.End, Gradual: t.Kind != "cut"}
	}
	return out
}

// Negatives implements train.HardNegatives: the flashes, whip pans,
// light switches and sweeps that the material marks.
func (c shotClips) Negatives(i int) []train.FrameSpan {
	labels := c.set.Clips[i].Labels.Negatives
	out := make([]train.FrameSpan, len(labels))
	for j, n := range labels {
		out[j] = train.FrameSpan{Start: n.Start, End: n.End}
	}
	return out
}

// FramePlanes writes a frame's RGB bytes (pixels of 3 bytes, as
// video.Frame holds them) into dst as a shot detector reads them: the R,
// G and B planes of pixels values each, byte/255.
func FramePlanes(rgb []byte, pixels int, dst []float32) {
	for p := range pixels {
		dst[p] = float32(rgb[3*p]) / 255
		dst[pixels+p] = float32(rgb[3*p+1]) / 255
		dst[2*pixels+p] = float32(rgb[3*p+2]) / 255
	}
}
