package run

import (
	"github.com/dlrun/dlrun/train"
	"github.com/dlrun/dlrun/video"
	"github.com/pkg/errors"
)

// ShotDetector finds a video's cuts with an opened shot detector, as
// video.Detect runs it over the frames it decodes: each frame's
// probability that it lies at the middle of a transition
// (train.ShotStream, the windows an evaluation scores), its detections
// (train.Peaks), each the first frame of a new scene. It holds about a window of frames, however
// long the video.
type ShotDetector struct {
	stream   *train.ShotStream
	peaks    train.Peaks
	w, h     int
	planes   []float32
	times    []float64 // the times of frames from first on, not yet scored
	first    int
	pushed   int
	peakTime float64
	window   int
}

var _ video.Flusher = (*ShotDetector)(nil)

// ShotDetector returns the run's model as a detector of cuts for
// video.Detect. Only a shot detector's run (shots: a model of the task
// train.Shots) finds cuts.
func (r *Run) ShotDetector() (*ShotDetector, error) {
	d, err := newShotDetector(r.Model)
	if errors.Is(err, train.ErrNotShots) {
		return nil, doesNotApply("finding cuts", r.Kind, "a shot detector (shots)")
	}
	return d, err
}

// newShotDetector returns the detector of model m, which reads windows
// of frames [window, 3, h, w].
func newShotDetector(m *train.Model) (*ShotDetector, error) {
	st, err := m.ShotStream()
	if err != nil {
		return nil, err
	}
	in := m.Info.InputShape
	if len(in) != 4 {
		return nil, errors.Errorf("input_shape %v: a shot detector reads [frames, 3, height, width]", in)
	}
	return &ShotDetector{stream: st, window: in[0], h: in[2], w: in[3], planes: make([]float32, st.FrameSize())}, nil
}

// Size returns the frame size the detector reads: decode the video to it
// (video.Options Width and Height).
func (d *ShotDetector) Size() (w, h int) { return d.w, d.h }

// Lag returns how many frames back a cut may name: the lag to give
// video.Detect.
func (d *ShotDetector) Lag() int { return d.window + 4*train.DetectionGap }

// Push implements video.Detector.
func (d *ShotDetector) Push(f video.Frame) ([]video.Cut, error) {
	if f.Width != d.w || f.Height != d.h || len(f.RGB) != 3*d.w*d.h {
		return nil, errors.Errorf("shots: frame %d is %dx%d; the detector reads %dx%d frames", f.Index, f.Width, f.Height, d.w, d.h)
	}
	if f.Index != d.pushed {
		return nil, errors.Errorf("shots: frame %d after %d frames: frames must come in order, none skipped", f.Index, d.pushed)
	}
	d.pushed++
	FramePlanes(f.RGB, d.w*d.h, d.planes)
	d.times = append(d.times, f.Time)
	probs, first, err := d.stream.Push(d.planes)
	if err != nil {
		return nil, err
	}
	return d.scored(probs, first), nil
}

// Flush implements video.Flusher.
func (d *ShotDetector) Flush() ([]video.Cut, error) {
	probs, first, err := d.stream.Flush()
	if err != nil {
		return nil, err
	}
	cuts := d.scored(probs, first)
	if f, ok := d.peaks.End(); ok && f > 0 {
		cuts = append(cuts, video.Cut{Frame: f, Time: d.peakTime})
	}
	return cuts, nil
}

// scored takes the probabilities of frames from first on and returns the
// cuts they decide. A transition detected at a video's first frame starts
// no new scene.
func (d *ShotDetector) scored(probs []float64, first int) []video.Cut {
	var cuts []video.Cut
	for j, p := range probs {
		i := first + j
		at := d.peakTime
		if f, ok := d.peaks.Add(p); ok && f > 0 {
			cuts = append(cuts, video.Cut{Frame: f, Time: at})
		}
		if d.peaks.Peak() == i {
			d.peakTime = d.times[i-d.first]
		}
	}
	// The times of scored frames are no longer needed.
	n := len(probs)
	d.times = append(d.times[:0], d.times[n:]...)
	d.first += n
	return cuts
}
