package video

import (
	"io"

	"github.com/pkg/errors"
)

// Scene is one shot: frames [Start, End) and their times [StartTime,
// EndTime) in seconds, as PySceneDetect's scene list holds them.
type Scene struct {
	Start, End         int
	StartTime, EndTime float64
}

// Frames returns the scene's length in frames.
func (s Scene) Frames() int { return s.End - s.Start }

// Duration returns the scene's length in seconds.
func (s Scene) Duration() float64 { return s.EndTime - s.StartTime }

// Scenes turns cuts (in order) into the scene list of a video of frames
// frames ending at time end: the first scene starts at frame 0, each cut
// starts a new one, and the last ends with the video. A video without
// cuts is one scene. Cuts out of order or out of range are refused.
func Scenes(cuts []Cut, frames int, end float64) ([]Scene, error) {
	if frames <= 0 {
		return nil, errors.Wrapf(ErrEmpty, "video: scene list of %d frames", frames)
	}
	scenes := make([]Scene, 0, len(cuts)+1)
	cur := Scene{}
	for _, c := range cuts {
		if c.Frame <= cur.Start || c.Frame >= frames || c.Time < cur.StartTime || c.Time > end {
			return nil, errors.Wrapf(ErrBadOptions, "video: cut at frame %d (%.3f s) out of order or outside frames 1 to %d", c.Frame, c.Time, frames-1)
		}
		cur.End, cur.EndTime = c.Frame, c.Time
		scenes = append(scenes, cur)
		cur = Scene{Start: c.Frame, StartTime: c.Time}
	}
	cur.End, cur.EndTime = frames, end
	return append(scenes, cur), nil
}

// Detector decides cuts frame by frame; ContentDetector is one.
type Detector interface {
	// Push takes the next frame and returns the cuts it decides, which
	// may name earlier frames, in order.
	Push(Frame) ([]Cut, error)
}

var _ Detector = (*ContentDetector)(nil)

// A Flusher is a Detector that decides a frame only once it has seen later
// ones (a learned detector reads windows of frames): Detect calls Flush
// after the last frame for the cuts it still holds.
type Flusher interface {
	Detector
	// Flush returns the cuts still undecided after the last frame.
	Flush() ([]Cut, error)
}

// Result is what Detect finds in a video.
type Result struct {
	Scenes    []Scene
	Features  [][]float64 // per scene: its mean colour layout (Layout)
	Frames    int         // frames decoded
	Duration  float64     // end of the last frame, seconds
	Rate      float64     // nominal frame rate, 0 if unknown
	Truncated bool        // stopped at Options.MaxDuration
}

// Detect runs det over every frame d decodes (then Flush, for a Flusher)
// and returns the scenes, each with its features. Memory stays flat
// however long the video: frames are folded into their scene's features
// as soon as no later cut can name them, lag frames after they were
// decoded: det's cuts must name frames at most lag frames back.
func Detect(d *Decoder, det Detector, lag int) (Result, error) {
	var (
		res     Result
		cuts    []Cut
		acc     = newLayoutAcc(lag)
		last    float64
		prev    float64
		nframes int
	)
	for {
		f, err := d.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Result{}, err
		}
		cs, err := det.Push(f)
		if err != nil {
			return Result{}, err
		}
		for _, c := range cs {
			acc.cut(c.Frame)
		}
		cuts = append(cuts, cs...)
		acc.add(f)
		prev, last = last, f.Time
		nframes++
	}
	if nframes == 0 {
		return Result{}, errors.Wrapf(ErrEmpty, "video: %s: no frames", d.input)
	}
	if fl, ok := det.(Flusher); ok {
		cs, err := fl.Flush()
		if err != nil {
			return Result{}, err
		}
		for _, c := range cs {
			acc.cut(c.Frame)
		}
		cuts = append(cuts, cs...)
	}
	res.Frames = nframes
	res.Rate = d.Rate()
	res.Truncated = d.Truncated()
	// The last frame lasts one frame at the nominal rate, or as long as
	// the one before it.
	step := prev - last
	if step < 0 {
		step = -step
	}
	if res.Rate > 0 {
		step = 1 / res.Rate
	}
	if nframes == 1 && step == 0 {
		step = 1.0 / 25
	}
	res.Duration = last + step
	scenes, err := Scenes(cuts, nframes, res.Duration)
	if err != nil {
		return Result{}, err
	}
	res.Scenes = scenes
	res.Features = acc.finish()
	return res, nil
}

// Layout is a frame's colour layout: the mean R, G, B of each cell of a
// 4x3 grid, scaled to [0, 1]; the features that Summary compares shots by.
const layoutW, layoutH = 4, 3

// LayoutSize is the length of a Layout feature vector.
const LayoutSize = layoutW * layoutH * 3

func layout(rgb []byte, w, h int, out []float64) {
	var n [layoutW * layoutH]float64
	for i := range out {
		out[i] = 0
	}
	for y := 0; y < h; y++ {
		cy := y * layoutH / h
		for x := 0; x < w; x++ {
			cell := cy*layoutW + x*layoutW/w
			p := (y*w + x) * 3
			out[cell*3] += float64(rgb[p])
			out[cell*3+1] += float64(rgb[p+1])
			out[cell*3+2] += float64(rgb[p+2])
			n[cell]++
		}
	}
	for c := range n {
		for k := 0; k < 3; k++ {
			if n[c] > 0 {
				out[c*3+k] /= 255 * n[c]
			}
		}
	}
}

// layoutAcc sums each scene's frame layouts. Frames wait in a ring of lag
// frames, since a cut may name a frame up to lag frames back.
type layoutAcc struct {
	lag    int
	ring   []pending
	sums   [][]float64
	counts []int
	cur    []float64
	curN   int
}

type pending struct {
	frame int
	feat  []float64
}

func newLayoutAcc(lag int) *layoutAcc {
	if lag < 1 {
		lag = 1
	}
	return &layoutAcc{lag: lag, cur: make([]float64, LayoutSize)}
}

func (a *layoutAcc) add(f Frame) {
	var feat []float64
	if len(a.ring) >= a.lag {
		feat = a.ring[0].feat
		a.fold(a.ring[0].feat)
		a.ring = a.ring[1:]
	}
	if feat == nil {
		feat = make([]float64, LayoutSize)
	}
	if f.Width > 0 && f.Height > 0 && f.Width*f.Height*3 == len(f.RGB) {
		layout(f.RGB, f.Width, f.Height, feat)
	}
	a.ring = append(a.ring, pending{f.Index, feat})
	if cap(a.ring) > 4*a.lag {
		a.ring = append([]pending(nil), a.ring...)
	}
}

func (a *layoutAcc) fold(feat []float64) {
	for i, v := range feat {
		a.cur[i] += v
	}
	a.curN++
}

// cut closes the current scene before frame.
func (a *layoutAcc) cut(frame int) {
	i := 0
	for i < len(a.ring) && a.ring[i].frame < frame {
		a.fold(a.ring[i].feat)
		i++
	}
	a.ring = a.ring[i:]
	a.close()
}

func (a *layoutAcc) close() {
	mean := make([]float64, LayoutSize)
	for i := range mean {
		if a.curN > 0 {
			mean[i] = a.cur[i] / float64(a.curN)
		}
		a.cur[i] = 0
	}
	a.sums = append(a.sums, mean)
	a.curN = 0
}

func (a *layoutAcc) finish() [][]float64 {
	for _, p := range a.ring {
		a.fold(p.feat)
	}
	a.ring = nil
	a.close()
	return a.sums
}
