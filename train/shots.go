package train

import (
	"math"
	"math/rand/v2"
	"slices"

	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/nn"
	"github.com/pkg/errors"
)

func init() {
	registerTask("shots", func(info *ModelInfo) (Task, error) {
		s := &Shots{}
		if err := s.setInputShape(info.InputShape); err != nil {
			return nil, err
		}
		if info.Outputs != ShotOutputs {
			return nil, errors.Errorf("outputs %d: a shot-boundary model has %d outputs per frame", info.Outputs, ShotOutputs)
		}
		return s, nil
	})
}

// Clips are videos cut into frames, with their transitions: what Shots
// trains on and is scored by.
type Clips interface {
	Data // Len: the frames of all clips
	// NumClips returns the number of clips.
	NumClips() int
	// Frames returns the number of frames of clip i.
	Frames(i int) int
	// FrameShape returns the shape of a frame as a model reads it: [3, h, w],
	// the R, G and B planes.
	FrameShape() []int
	// Frame copies frame f of clip i into dst: prod(FrameShape) values in
	// [0, 1].
	Frame(i, f int, dst []float32)
	// Transitions returns the transitions of clip i, in order, within its
	// frames.
	Transitions(i int) []Transition
}

// FrameSpan is a run of a clip's frames, Start to End, both included.
type FrameSpan struct{ Start, End int }

// HardNegatives are Clips that also mark their hard negatives: changes
// within a shot that are not transitions (a flash, a whip pan, a light
// switched on or off, an object sweeping past the camera), which Shots
// weighs more in its loss.
type HardNegatives interface {
	// Negatives returns the hard negatives of clip i, within its frames.
	Negatives(i int) []FrameSpan
}

// ShotOutputs is the number of outputs a shot-boundary model gives per
// frame: the logit that the frame lies at the middle of a transition
// (Transition.Middle: a hard cut's first new frame, the middle third of a
// gradual transition; "single", what detections are read from) and the
// logit that the frame is part of a transition ("all", a further target
// that helps training, as in TransNetV2).
const ShotOutputs = 2

// MaxShotWindow bounds Shots.Window.
const MaxShotWindow = 1024

// Shots is the task of finding shot transitions in video: the model reads
// Window consecutive frames ([Window, 3, h, w], values in [0, 1]) and
// gives ShotOutputs logits per frame ([Window, ShotOutputs]). The loss is
// binary cross-entropy (bce) on each output, frames whose target is 1
// weighed PositiveWeight, frames within ShotTolerance of a hard negative
// that the clips mark (HardNegatives) and whose target is 0 weighed
// NegativeWeight, the "all" output's loss weighed AllWeight.
//
// A training pass draws about Len/Window windows at random places in the
// clips, each mirrored left to right or not at random; an evaluation pass
// covers every frame of every clip once, by overlapping windows each of
// which scores its frames at least Context frames from its edges (a clip's
// first and last frames excepted). Frames past a clip's end repeat its
// last frame and weigh 0.
//
// Passes are scored as TransNetV2 is: the frames of a clip whose "single"
// probability is at least Threshold give detections (Detections), which
// match true transitions within ShotTolerance frames (MatchTransitions);
// the figures are the F1 of hard cuts and of gradual transitions,
// precision and recall, over the counts of the whole pass. A training
// pass counts each window as a clip of its own.
type Shots struct {
	// Window is the number of frames the model reads at once; zero means
	// 100.
	Window int
	// Frame is a frame's shape as the model reads it, [3, h, w]; nil
	// means [3 27 48] (TransNetV2's 48×27 thumbnails).
	Frame []int
	// Context is the number of frames at each edge of an evaluation
	// window whose scores the neighbouring windows give instead: at least
	// the model's reach, so that every frame is scored as it would be in
	// a window as long as its clip. Zero means Window/4.
	Context int
	// Threshold is the "single" probability at which a frame belongs to
	// a detection; zero means 0.5.
	Threshold float64
	// PositiveWeight weighs the loss of a frame whose target is 1, which
	// are rare; zero means 5.
	PositiveWeight float64
	// NegativeWeight weighs the loss of a frame near a hard negative
	// (HardNegatives), where a detector is most easily fooled; zero
	// means 5.
	NegativeWeight float64
	// AllWeight weighs the "all" output's loss against the "single"
	// output's; zero means 0.1.
	AllWeight float64

	batch      int
	xT         graph.Data
	yT, wT     [ShotOutputs]graph.Data
	frame      []float32
	row        []float64
	data       Clips
	windows    []shotWindow
	targets    map[int]*shotTargets // by clip, as filled
	pending    map[int][]float64    // an evaluation's probabilities, by clip
	current    []shotWindow         // the windows of the batch last filled
	evaluation bool
}

// shotWindow is one window of a pass: frames [start, start+Window) of
// clip, the frames [from, to) of which (counted from start) are scored;
// last is set on an evaluation's last window of its clip.
type shotWindow struct {
	clip, start, from, to int
	mirror, last          bool
}

// shotTargets are a clip's per-frame targets, and the frames near its
// hard negatives (nil where the clips mark none).
type shotTargets struct {
	single, all, hard []bool
}

var (
	_ Task         = (*Shots)(nil)
	_ buildChecker = (*Shots)(nil)
	_ batchMemory  = (*Shots)(nil)
)

// Name implements Task.
func (s *Shots) Name() string { return "shots" }

func (s *Shots) window() int {
	if s.Window == 0 {
		return 100
	}
	return s.Window
}

func (s *Shots) frameShape() []int {
	if s.Frame == nil {
		return []int{3, 27, 48}
	}
	return s.Frame
}

func (s *Shots) context() int {
	if s.Context == 0 {
		return s.window() / 4
	}
	return s.Context
}

func (s *Shots) threshold() float64 {
	if s.Threshold == 0 {
		return 0.5
	}
	return s.Threshold
}

func orDefault(v, d float64) float64 {
	if v == 0 {
		return d
	}
	return v
}

// InputShape implements Task: [Window, 3, h, w].
func (s *Shots) InputShape() []int { return append([]int{s.window()}, s.frameShape()...) }

// OutputSize implements Task: ShotOutputs per frame.
func (s *Shots) OutputSize() int { return ShotOutputs }

// setInputShape sets Window and Frame from a model's input shape.
func (s *Shots) setInputShape(shape []int) error {
	if len(shape) != 4 || shape[1] != 3 {
		return errors.Errorf("input_shape %v: a shot-boundary model reads [frames, 3, height, width]", shape)
	}
	s.Window, s.Frame = shape[0], slices.Clone(shape[1:])
	return s.check()
}

// check reports settings out of range.
func (s *Shots) check() error {
	w, f := s.window(), s.frameShape()
	if w < 1 || w > MaxShotWindow {
		return errors.Errorf("shots: window of %d frames: must be 1 to %d", w, MaxShotWindow)
	}
	if len(f) != 3 || f[0] != 3 || f[1] < 1 || f[2] < 1 {
		return errors.Errorf("shots: frame shape %v: want [3 height width]", f)
	}
	if err := CheckInputShape(s.InputShape()); err != nil {
		return errors.Wrap(err, "shots")
	}
	if c := s.context(); c < 0 || 2*c >= w {
		return errors.Errorf("shots: context of %d frames: must leave frames to score in a window of %d (0 to %d)", c, w, (w-1)/2)
	}
	if t := s.threshold(); !(t > 0 && t < 1) {
		return errors.Errorf("shots: threshold %v: must lie between 0 and 1", t)
	}
	for _, v := range []struct {
		name string
		v    float64
	}{{"positive weight", s.PositiveWeight}, {"negative weight", s.NegativeWeight}, {"all weight", s.AllWeight}} {
		if v.v < 0 || math.IsNaN(v.v) || math.IsInf(v.v, 0) {
			return errors.Errorf("shots: %s %v: must be a positive number (0 for the default)", v.name, v.v)
		}
	}
	return nil
}

// checkBuild implements buildChecker.
func (s *Shots) checkBuild(model nn.Layer, batch int, loss Loss) error {
	if err := s.check(); err != nil {
		return err
	}
	if loss.Kind != graph.SigmoidCrossEntropy {
		return errors.Errorf("shots: a shot-boundary model trains with bce, not %s", loss.Name)
	}
	in := s.InputShape()
	if err := batchValues("shots", batch, size(in), "a window of frames"); err != nil {
		return err
	}
	shape, err := model.OutputShape(in)
	if err != nil {
		return err
	}
	if len(shape) != 2 || shape[0] != in[0] || shape[1] != ShotOutputs {
		return errors.Errorf("model %s maps %v frames to %v, want [%d %d]: %d logits per frame", model.Name(), in, shape, in[0], ShotOutputs, ShotOutputs)
	}
	return nil
}

// batchValues implements batchMemory: the frames, and per frame two
// targets, two weights and two logits.
func (s *Shots) batchValues(batch int) int64 {
	return int64(batch) * int64(size(s.InputShape())+6*s.window())
}

// Build implements Task. The loss must be bce.
func (s *Shots) Build(g *graph.Graph, model nn.Layer, batch int, loss Loss) (out, lossNode *graph.Node, err error) {
	if err := s.checkBuild(model, batch, loss); err != nil {
		return nil, nil, err
	}
	s.batch = batch
	W := s.window()
	x, err := g.Input("x", append([]int{batch}, s.InputShape()...)...)
	if err != nil {
		return nil, nil, err
	}
	logits, err := model.Build(g, x)
	if err != nil {
		return nil, nil, err
	}
	if out, err = graph.Reshape(logits, batch*W, ShotOutputs); err != nil {
		return nil, nil, err
	}
	if s.xT, err = g.InputData(x); err != nil {
		return nil, nil, err
	}
	names := [ShotOutputs]string{"", "_all"}
	weights := [ShotOutputs]float64{1, orDefault(s.AllWeight, 0.1)}
	for k := range ShotOutputs {
		y, err := g.Input("y"+names[k], batch*W, 1)
		if err != nil {
			return nil, nil, err
		}
		w, err := g.Input("weights"+names[k], batch*W)
		if err != nil {
			return nil, nil, err
		}
		col, err := graph.Column(out, k)
		if err != nil {
			return nil, nil, err
		}
		if col, err = graph.Reshape(col, batch*W, 1); err != nil {
			return nil, nil, err
		}
		l, err := graph.Loss(graph.SigmoidCrossEntropy, col, y, w)
		if err != nil {
			return nil, nil, err
		}
		if weights[k] != 1 {
			if l, err = graph.Scale(l, weights[k]); err != nil {
				return nil, nil, err
			}
		}
		if lossNode == nil {
			lossNode = l
		} else if lossNode, err = graph.Add(lossNode, l); err != nil {
			return nil, nil, err
		}
		if s.yT[k], err = g.InputData(y); err != nil {
			return nil, nil, err
		}
		if s.wT[k], err = g.InputData(w); err != nil {
			return nil, nil, err
		}
	}
	s.frame = make([]float32, size(s.frameShape()))
	s.row = make([]float64, ShotOutputs)
	return out, lossNode, nil
}

// Check implements Task: d must be Clips of the model's frame shape, each
// with at least one frame and transitions within its frames.
func (s *Shots) Check(d Data, role string) error {
	c, ok := d.(Clips)
	if !ok {
		return errors.Errorf("%s data (%T) are not train.Clips, which shot-boundary detection needs", role, d)
	}
	if !slices.Equal(c.FrameShape(), s.frameShape()) {
		return errors.Errorf("%s data: frames of shape %v; the model reads %v", role, c.FrameShape(), s.frameShape())
	}
	if c.NumClips() < 1 {
		return errors.Errorf("%s data: no clips", role)
	}
	for i := range c.NumClips() {
		n := c.Frames(i)
		if n < 1 {
			return errors.Errorf("%s data: clip %d has no frames", role, i)
		}
		for j, t := range c.Transitions(i) {
			if t.Start < 0 || t.End < t.Start || t.End >= n || !t.Gradual && t.End != t.Start {
				return errors.Errorf("%s data: clip %d, transition %d (frames %d to %d) is not a transition within its %d frames", role, i, j, t.Start, t.End, n)
			}
		}
	}
	return nil
}

// Pass implements Task: with rng, about Len/Window windows at random
// places, each mirrored or not; without, every frame once, in order.
func (s *Shots) Pass(d Data, rng *rand.Rand) (int, error) {
	c, ok := d.(Clips)
	if !ok || s.batch == 0 {
		return 0, errors.New("shots: Pass needs Clips, after Build")
	}
	if s.data != d {
		s.targets = map[int]*shotTargets{}
	}
	s.data, s.windows, s.pending = c, s.windows[:0], map[int][]float64{}
	W := s.window()
	s.evaluation = rng == nil
	if rng != nil {
		// A window may start anywhere its clip has a frame to fill it:
		// every (clip, start) equally likely.
		starts := make([]int, c.NumClips()+1) // cumulative
		for i := range c.NumClips() {
			starts[i+1] = starts[i] + max(c.Frames(i)-W+1, 1)
		}
		for range max((c.Len()+W-1)/W, 1) {
			k := rng.IntN(starts[len(starts)-1])
			i, _ := slices.BinarySearch(starts, k+1)
			i--
			n := c.Frames(i)
			s.windows = append(s.windows, shotWindow{clip: i, start: k - starts[i], to: min(W, n), mirror: rng.IntN(2) == 1})
		}
	} else {
		ctx := s.context()
		for i := range c.NumClips() {
			n := c.Frames(i)
			for a := 0; a < n; {
				// The window of the frames from a on starts ctx frames
				// before them, or at the clip's start, or W frames before
				// its end; it scores up to ctx frames before its own end,
				// or to the clip's end where it reaches it.
				start := min(max(a-ctx, 0), max(n-W, 0))
				b := min(start+W-ctx, n)
				if start+W >= n {
					b = n
				}
				s.windows = append(s.windows, shotWindow{clip: i, start: start, from: a - start, to: b - start, last: b == n})
				a = b
			}
		}
	}
	return (len(s.windows) + s.batch - 1) / s.batch, nil
}

// targetsOf returns clip i's per-frame targets.
func (s *Shots) targetsOf(i int) *shotTargets {
	if t, ok := s.targets[i]; ok {
		return t
	}
	n := s.data.Frames(i)
	t := &shotTargets{single: make([]bool, n), all: make([]bool, n)}
	for _, tr := range s.data.Transitions(i) {
		first, last := tr.Middle()
		for f := first; f <= last; f++ {
			t.single[f] = true
		}
		for f := tr.Start; f <= tr.End; f++ {
			t.all[f] = true
		}
	}
	if hn, ok := s.data.(HardNegatives); ok {
		for _, sp := range hn.Negatives(i) {
			if t.hard == nil {
				t.hard = make([]bool, n)
			}
			for f := max(sp.Start-ShotTolerance, 0); f <= min(sp.End+ShotTolerance, n-1); f++ {
				t.hard[f] = true
			}
		}
	}
	s.targets[i] = t
	return t
}

// Fill implements Task: batch i's windows, frames past a clip's end its
// last frame repeated at weight 0, rows past the pass's windows weight 0.
func (s *Shots) Fill(i int) (int, error) {
	lo := min(i*s.batch, len(s.windows))
	hi := min(lo+s.batch, len(s.windows))
	s.current = s.windows[lo:hi]
	if s.xT.Float32s() != nil {
		return fillShots(s, s.xT.Float32s(), s.yT[0].Float32s(), s.wT[0].Float32s(), s.yT[1].Float32s(), s.wT[1].Float32s()), nil
	}
	return fillShots(s, s.xT.Float64s(), s.yT[0].Float64s(), s.wT[0].Float64s(), s.yT[1].Float64s(), s.wT[1].Float64s()), nil
}

func fillShots[T float32 | float64](s *Shots, x, y1, w1, y2, w2 []T) int {
	W, fs := s.window(), len(s.frame)
	shape := s.frameShape()
	h, w := shape[1], shape[2]
	pos, neg := T(orDefault(s.PositiveWeight, 5)), T(orDefault(s.NegativeWeight, 5))
	clear(w1)
	clear(w2)
	real := 0
	for r := range s.batch {
		if r >= len(s.current) {
			clear(x[r*W*fs : (r+1)*W*fs])
			continue
		}
		win := s.current[r]
		n := s.data.Frames(win.clip)
		tg := s.targetsOf(win.clip)
		for t := range W {
			f := min(win.start+t, n-1)
			s.data.Frame(win.clip, f, s.frame)
			dst := x[(r*W+t)*fs : (r*W+t+1)*fs]
			for k, v := range s.frame {
				dst[k] = T(v)
			}
			if win.mirror {
				for row := range 3 * h {
					slices.Reverse(dst[row*w : (row+1)*w])
				}
			}
			j := r*W + t
			y1[j], y2[j] = 0, 0
			if t < win.from || t >= win.to || win.start+t >= n {
				continue
			}
			w1[j], w2[j] = 1, 1
			if tg.hard != nil && tg.hard[f] {
				w1[j], w2[j] = neg, neg
			}
			if tg.single[f] {
				y1[j], w1[j] = 1, pos
			}
			if tg.all[f] {
				y2[j], w2[j] = 1, pos
			}
			real++
		}
	}
	return real
}

// Detect returns the frames where a clip's per-frame "single"
// probabilities prob mark a transition: Detections at the task's
// Threshold.
func (s *Shots) Detect(prob []float64) []int { return Detections(prob, s.threshold()) }

// shotFigures is the number of counts each metric of Shots takes:
// ShotCounts' five.
const shotFigures = 5

// counts returns the ShotCounts of a metric's totals.
func counts(t []float64) ShotCounts {
	return ShotCounts{int(t[0]), int(t[1]), int(t[2]), int(t[3]), int(t[4])}
}

// The figures a shot-boundary model is scored by.
var (
	// F1Cuts is the F1 score of hard cuts (ShotCounts.F1Cuts).
	F1Cuts = Metric{Name: "f1_cuts", HigherIsBetter: true, Counts: shotFigures, Of: func(t []float64) float64 { return counts(t).F1Cuts() }}
	// F1Gradual is the F1 score of gradual transitions.
	F1Gradual = Metric{Name: "f1_gradual", HigherIsBetter: true, Counts: shotFigures, Of: func(t []float64) float64 { return counts(t).F1Gradual() }}
	// Precision is the share of detections that are transitions.
	Precision = Metric{Name: "precision", HigherIsBetter: true, Counts: shotFigures, Of: func(t []float64) float64 { return counts(t).Precision() }}
	// Recall is the share of transitions detected.
	Recall = Metric{Name: "recall", HigherIsBetter: true, Counts: shotFigures, Of: func(t []float64) float64 { return counts(t).Recall() }}
)

// Metrics implements Task: F1Cuts, F1Gradual, Precision and Recall.
func (s *Shots) Metrics() []Metric { return []Metric{F1Cuts, F1Gradual, Precision, Recall} }

// Score implements Task: the batch's windows' "single" probabilities are
// read into their clips; a clip complete (an evaluation's last window of
// it, or a training window) is matched against its transitions. With ev,
// an evaluation keeps its clips' probabilities in ev.Probabilities.
func (s *Shots) Score(p *graph.Program, ev *Evaluation) ([]float64, error) {
	var c ShotCounts
	W := s.window()
	for r, win := range s.current {
		n := s.data.Frames(win.clip)
		probs := s.pending[win.clip]
		if !s.evaluation || probs == nil {
			probs = make([]float64, n)
		}
		for t := win.from; t < win.to && win.start+t < n; t++ {
			if err := p.OutputRow(0, r*W+t, s.row); err != nil {
				return nil, err
			}
			probs[win.start+t] = 1 / (1 + math.Exp(-s.row[0]))
		}
		if s.evaluation {
			s.pending[win.clip] = probs
			if !win.last {
				continue
			}
			delete(s.pending, win.clip)
			c = c.Add(MatchTransitions(s.Detect(probs), s.data.Transitions(win.clip)))
			if ev != nil {
				ev.Probabilities = append(ev.Probabilities, probs)
			}
			continue
		}
		// A training window is a clip of its own: the transitions centred
		// on its frames, its detections.
		end := min(win.start+win.to, n)
		var trans []Transition
		for _, t := range s.data.Transitions(win.clip) {
			if c := t.Centre(); c >= win.start && c < end {
				trans = append(trans, Transition{t.Start - win.start, t.End - win.start, t.Gradual})
			}
		}
		c = c.Add(MatchTransitions(s.Detect(probs[win.start:end]), trans))
	}
	one := []float64{float64(c.Cuts), float64(c.MissedCuts), float64(c.Gradual), float64(c.MissedGradual), float64(c.FalsePositives)}
	out := make([]float64, 0, len(s.Metrics())*shotFigures)
	for range s.Metrics() {
		out = append(out, one...)
	}
	return out, nil
}

// shotWindows runs shot-boundary model s on the windows of frames x, a
// batch at a time: per frame its logits, or with probs their sigmoids.
func (m *Model) shotWindows(s *Shots, x []float32, probs bool) ([][]float64, error) {
	per := size(s.InputShape())
	if len(x) == 0 || len(x)%per != 0 {
		return nil, errors.Errorf("outputs: %d values are not a whole number of windows of shape %v", len(x), s.InputShape())
	}
	for i, v := range x {
		if v-v != 0 {
			return nil, errors.Errorf("outputs: value %d (%v) is not a number: frames hold values from 0 to 1", i, v)
		}
	}
	W := s.window()
	n, batch := len(x)/per, m.trainer.cfg.BatchSize
	out := make([][]float64, 0, n*W)
	for start := 0; start < n; start += batch {
		k := min(batch, n-start)
		t, err := m.forBatch(k)
		if err != nil {
			return nil, err
		}
		st := t.task.(*Shots)
		part := x[start*per : (start+k)*per]
		if d := st.xT.Float32s(); d != nil {
			copy(d, part)
		} else {
			d := st.xT.Float64s()
			for i, v := range part {
				d[i] = float64(v)
			}
		}
		for o := range ShotOutputs { // the loss is run, not read: any weights do
			if d := st.wT[o].Float32s(); d != nil {
				fill(d, 1)
			} else {
				fill(st.wT[o].Float64s(), 1)
			}
		}
		if _, err := t.min.Loss(); err != nil {
			return nil, err
		}
		for r := range k * W {
			row := make([]float64, ShotOutputs)
			if err := t.min.prog.OutputRow(0, r, row); err != nil {
				return nil, err
			}
			if probs {
				for j, v := range row {
					row[j] = 1 / (1 + math.Exp(-v))
				}
			}
			out = append(out, row)
		}
	}
	return out, nil
}

// fill sets every value of d to v.
func fill[T float32 | float64](d []T, v T) {
	for i := range d {
		d[i] = v
	}
}
