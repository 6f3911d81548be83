package train

import (
	"slices"

	"github.com/pkg/errors"
)

// ShotStream runs a shot-boundary model over a video of any length as it
// is decoded, frame by frame, holding at most Window+1 frames: each frame
// gets the probability that it lies at the middle of a transition from
// the same windows an evaluation of the whole video as one clip would
// score it by (Shots.Pass), so a stream and an evaluation agree.
type ShotStream struct {
	m       *Model
	w, ctx  int
	size    int       // values of a frame
	buf     []float32 // the last w+1 frames pushed: frame i in slot i mod (w+1)
	n       int       // frames pushed
	a       int       // the first frame not yet scored
	x       []float32 // a window
	flushed bool
}

// ErrNotShots is wrapped by the error of ShotStream for a model whose
// task is not Shots.
var ErrNotShots = errors.New("not a shot-boundary model")

// ShotStream returns a stream over m, a shot-boundary model (its task
// Shots); another model is an error wrapping ErrNotShots.
func (m *Model) ShotStream() (*ShotStream, error) {
	if m == nil {
		return nil, errors.New("train: nil model: use train.Load")
	}
	s, ok := m.trainer.task.(*Shots)
	if !ok {
		return nil, errors.Wrapf(ErrNotShots, "the model was trained for %s", m.trainer.task.Name())
	}
	w, size := s.window(), size(s.frameShape())
	return &ShotStream{m: m, w: w, ctx: s.context(), size: size, buf: make([]float32, (w+1)*size), x: make([]float32, w*size)}, nil
}

// FrameSize returns the number of values of a frame, as Push takes it:
// the model's [3, h, w].
func (st *ShotStream) FrameSize() int { return st.size }

// Push takes the next frame (FrameSize values from 0 to 1, the R, G and B
// planes) and returns the probabilities of the frames it lets the stream
// score, from frame first on (none yet, most often).
func (st *ShotStream) Push(frame []float32) (probs []float64, first int, err error) {
	if st.flushed {
		return nil, 0, errors.New("shots: Push after Flush")
	}
	if len(frame) != st.size {
		return nil, 0, errors.Errorf("shots: frame %d has %d values, the model reads %d", st.n, len(frame), st.size)
	}
	copy(st.slot(st.n), frame)
	st.n++
	// A window of frames [start, start+w) scores frames [a, start+w-ctx)
	// once a frame past it shows that it is not the video's last.
	start := max(st.a-st.ctx, 0)
	if st.n <= start+st.w {
		return nil, st.a, nil
	}
	return st.score(start, start+st.w-st.ctx)
}

// Flush scores the frames still unscored after the last one, as the
// evaluation's last window of a clip does; Push may not follow.
func (st *ShotStream) Flush() (probs []float64, first int, err error) {
	if st.flushed || st.a >= st.n {
		st.flushed = true
		return nil, st.a, nil
	}
	st.flushed = true
	return st.score(min(max(st.a-st.ctx, 0), max(st.n-st.w, 0)), st.n)
}

// slot returns the part of buf that holds frame i, one of the last w+1
// frames pushed (or the next).
func (st *ShotStream) slot(i int) []float32 {
	j := i % (st.w + 1)
	return st.buf[j*st.size : (j+1)*st.size]
}

// score runs the window of frames from start (the last frame repeated
// past the video's end) and returns the probabilities of frames [a, b).
func (st *ShotStream) score(start, b int) ([]float64, int, error) {
	for t := range st.w {
		copy(st.x[t*st.size:(t+1)*st.size], st.slot(min(start+t, st.n-1)))
	}
	rows, err := st.m.Predict(st.x)
	if err != nil {
		return nil, 0, err
	}
	first := st.a
	probs := make([]float64, 0, b-first)
	for f := first; f < b; f++ {
		probs = append(probs, rows[f-start][0])
	}
	st.a = b
	return slices.Clip(probs), first, nil
}
