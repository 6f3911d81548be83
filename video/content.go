package video

import "github.com/pkg/errors"

// ContentDetector finds hard cuts as PySceneDetect's ContentDetector does
// (scenedetect/detectors/content_detector.py, with FlashFilter from
// scenedetect/detector.py, PySceneDetect 0.6.x, BSD-3-Clause):
//
//   - each frame is converted to HSV as OpenCV does (hsv.go);
//   - its score is the mean absolute difference from the previous frame
//     of hue, saturation and value, each averaged over the pixels, then
//     averaged over the three (PySceneDetect's default weights 1, 1, 1 and
//     0 for edges); the first frame scores 0;
//   - a frame scoring at or above Threshold (27) is a candidate cut, and
//     the flash filter in its default MERGE mode enforces MinSceneLen
//     (15 frames): a candidate at least MinSceneLen frames after the last
//     candidate is a cut at once; candidates closer together than that
//     (a flash, a burst of motion) are merged, and the cut is placed at
//     the last of them once MinSceneLen quiet frames follow, provided the
//     burst itself lasted MinSceneLen frames.
//
// PySceneDetect counts MinSceneLen in frames (newer releases convert it to
// seconds at the first frame's rate: the same for constant-rate video).
// It sees frames downscaled to about 256 pixels wide; the frames given
// here are whatever size they were decoded at, and smaller frames average
// away fine detail, so scores differ a little from PySceneDetect's on
// the same file.
//
// The zero value is ready to use with PySceneDetect's defaults.
type ContentDetector struct {
	// Threshold: a frame whose score reaches it is a candidate cut; zero
	// means 27, PySceneDetect's default.
	Threshold float64
	// MinSceneLen in frames; zero means 15, PySceneDetect's default;
	// negative turns the flash filter off (every candidate is a cut).
	MinSceneLen int
	// LumaOnly scores the value (brightness) channel alone, as
	// PySceneDetect's --luma-only does.
	LumaOnly bool

	score       float64
	n           int // frames seen
	h, s, v     []uint8
	ph, ps, pv  []uint8
	lastAbove   Cut // last frame above the threshold
	mergeOn     bool
	merging     bool
	mergeStart  int
	initialised bool
}

// Cut is the first frame of a new shot.
type Cut struct {
	Frame int     // frame index
	Time  float64 // its presentation time in seconds
}

// DefaultThreshold and DefaultMinSceneLen are ContentDetector's defaults,
// PySceneDetect's.
const (
	DefaultThreshold   = 27.0
	DefaultMinSceneLen = 15
)

// ContentFrameSize returns the frame size to decode a w×h video at for
// ContentDetector: about 256 pixels wide, as PySceneDetect downscales
// (its default minimum width), the aspect kept, even sides; a narrower
// video keeps its size.
func ContentFrameSize(w, h int) (int, int) {
	if w <= 256 || h <= 0 {
		return max(w&^1, 2), max(h&^1, 2)
	}
	return 256, max(2, (256*h/w)&^1)
}

func (c *ContentDetector) threshold() float64 {
	if c.Threshold == 0 {
		return DefaultThreshold
	}
	return c.Threshold
}

func (c *ContentDetector) minLen() int {
	if c.MinSceneLen == 0 {
		return DefaultMinSceneLen
	}
	return c.MinSceneLen
}

// Push scores frame f (its RGB pixels, of the same size at every call)
// and returns the cuts that it decides, if any; a merged cut may name an
// earlier frame. Frames must come in order.
func (c *ContentDetector) Push(f Frame) ([]Cut, error) {
	px := len(f.RGB) / 3
	if px == 0 || len(f.RGB)%3 != 0 {
		return nil, errors.Wrapf(ErrBadOptions, "video: content detector: frame %d has %d bytes, not a whole number of RGB pixels", f.Index, len(f.RGB))
	}
	if c.h == nil {
		c.h, c.s, c.v = make([]uint8, px), make([]uint8, px), make([]uint8, px)
		c.ph, c.ps, c.pv = make([]uint8, px), make([]uint8, px), make([]uint8, px)
	} else if len(c.h) != px {
		return nil, errors.Wrapf(ErrBadOptions, "video: content detector: frame %d has %d pixels, earlier frames %d", f.Index, px, len(c.h))
	}
	toHSV(f.RGB, c.h, c.s, c.v)
	if c.n == 0 {
		c.score = 0
	} else {
		dv := meanDistance(c.v, c.pv)
		if c.LumaOnly {
			c.score = dv
		} else {
			c.score = (meanDistance(c.h, c.ph) + meanDistance(c.s, c.ps) + dv) / 3
		}
	}
	c.h, c.ph = c.ph, c.h
	c.s, c.ps = c.ps, c.s
	c.v, c.pv = c.pv, c.v
	c.n++
	return c.filter(Cut{f.Index, f.Time}, c.score >= c.threshold()), nil
}

// Score returns the last frame's score (0 for the first frame).
func (c *ContentDetector) Score() float64 { return c.score }

// meanDistance is the mean absolute difference of two planes.
func meanDistance(a, b []uint8) float64 {
	var sum int64
	for i := range a {
		d := int32(a[i]) - int32(b[i])
		if d < 0 {
			d = -d
		}
		sum += int64(d)
	}
	return float64(sum) / float64(len(a))
}

// filter is FlashFilter's MERGE mode, in frames.
func (c *ContentDetector) filter(f Cut, above bool) []Cut {
	length := c.minLen()
	if length < 0 {
		if above {
			return []Cut{f}
		}
		return nil
	}
	if !c.initialised {
		c.lastAbove = f
		c.initialised = true
	}
	met := f.Frame-c.lastAbove.Frame >= length
	if above {
		c.lastAbove = f
	}
	if c.merging {
		if met && !above && c.lastAbove.Frame-c.mergeStart >= length {
			c.merging = false
			return []Cut{c.lastAbove}
		}
		return nil
	}
	if !above {
		return nil
	}
	if met {
		c.mergeOn = true
		return []Cut{f}
	}
	if c.mergeOn {
		c.merging = true
		c.mergeStart = f.Frame
	}
	return nil
}
