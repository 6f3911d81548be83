package train_test

import (
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/nn"
	"github.com/dlrun/dlrun/train"
)

func TestDetections(t *testing.T) {
	lead := make([]float64, train.DetectionGap) // frames that keep a run apart from the start
	after := func(p ...float64) []float64 { return append(append([]float64{}, lead...), p...) }
	for _, c := range []struct {
		prob []float64
		want []int
	}{
		{after(0, 0.2, 0.9, 0.6, 0, 0), []int{8}},
		// Runs 5 frames apart are one; 6 apart are two.
		{after(0.7, 0, 0, 0, 0, 0.9, 0, 0, 0, 0, 0, 0.8), []int{11, 17}},
		{after(0.5, 0.5), []int{6}},
		{after(0.1, 0.4), nil},
		{nil, nil},
		// The first frame begins a shot: a run less than DetectionGap
		// frames after it joins it (a black first frame, a fade from
		// black), and so does a run less than DetectionGap after that.
		{[]float64{0.2, 0.95, 0.3, 0, 0, 0, 0, 0, 0, 0.8}, []int{9}},
		{[]float64{0.9, 0, 0, 0, 0, 0.9, 0.9, 0, 0, 0, 0, 0.6}, nil},
		{[]float64{0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0, 0, 0, 0, 0, 0, 0.7}, []int{14}},
	} {
		if got := train.Detections(c.prob, 0.5); !reflect.DeepEqual(got, c.want) {
			t.Errorf("Detections(%v) = %v, want %v", c.prob, got, c.want)
		}
	}
	// Frame by frame, a detection comes DetectionGap frames after the
	// last frame of its run, and Peak names it while it is open.
	p := train.Peaks{}
	var at []int
	for i, v := range after(0.7, 0, 0, 0, 0, 0, 0.9, 0.6, 0, 0, 0, 0, 0, 0, 0, 0.8) {
		if d, ok := p.Add(v); ok {
			at = append(at, d, i)
		}
		if i == 13 && p.Peak() != 12 {
			t.Errorf("at frame 13 the open run peaks at %d, want 12", p.Peak())
		}
	}
	if d, ok := p.End(); !ok || d != 21 || p.Peak() != -1 {
		t.Errorf("End: %d, %v", d, ok)
	}
	if want := []int{6, 12, 12, 19}; !reflect.DeepEqual(at, want) {
		t.Errorf("detections and the frames that gave them %v, want %v", at, want)
	}
}

func TestMatchTransitions(t *testing.T) {
	trans := []train.Transition{{Start: 10, End: 10}, {Start: 30, End: 40, Gradual: true}, {Start: 60, End: 60}, {Start: 90, End: 99, Gradual: true}}
	// 12 reaches the cut at 10; 28 reaches the dissolve from 30; 35 reaches
	// nothing left; 63 is 3 frames past the cut at 60.
	got := train.MatchTransitions([]int{35, 12, 28, 63}, trans)
	want := train.ShotCounts{Cuts: 1, MissedCuts: 1, Gradual: 1, MissedGradual: 1, FalsePositives: 2}
	if got != want {
		t.Fatalf("counts %+v, want %+v", got, want)
	}
	if f := got.F1Cuts(); math.Abs(f-2.0/5) > 1e-12 { // 2·1/(2·1+2+1)
		t.Errorf("F1 of cuts %v, want 0.4", f)
	}
	if p, r, f := got.Precision(), got.Recall(), got.F1(); p != 0.5 || r != 0.5 || f != 0.5 {
		t.Errorf("precision %v, recall %v, F1 %v: want 0.5 each", p, r, f)
	}
	if c := train.MatchTransitions(nil, nil); c.Precision() != 1 || c.Recall() != 1 || c.F1Cuts() != 0 {
		t.Errorf("nothing against nothing: %+v", c)
	}
	if u := train.Unmatched([]int{35, 12, 28, 63}, trans); !reflect.DeepEqual(u, []int{35, 63}) {
		t.Errorf("unmatched %v, want [35 63]", u)
	}
}

// clipSet is train.Clips in memory.
type clipSet struct {
	frames [][][]float32
	trans  [][]train.Transition
	shape  []int
}

func (c *clipSet) Len() int {
	n := 0
	for _, f := range c.frames {
		n += len(f)
	}
	return n
}
func (c *clipSet) NumClips() int                        { return len(c.frames) }
func (c *clipSet) Frames(i int) int                     { return len(c.frames[i]) }
func (c *clipSet) FrameShape() []int                    { return c.shape }
func (c *clipSet) Frame(i, f int, dst []float32)        { copy(dst, c.frames[i][f]) }
func (c *clipSet) Transitions(i int) []train.Transition { return c.trans[i] }

// makeClips makes n clips of flat-coloured shots with noise, joined by
// hard cuts and 6-frame dissolves.
func makeClips(seed uint64, n int) *clipSet {
	const h, w = 9, 16
	r := rand.New(rand.NewPCG(seed, 1))
	c := &clipSet{shape: []int{3, h, w}}
	colour := func() [3]float32 { return [3]float32{r.Float32(), r.Float32(), r.Float32()} }
	frame := func(a, b [3]float32, mix float32) []float32 {
		f := make([]float32, 3*h*w)
		for k := range f {
			ch := k / (h * w)
			v := (1-mix)*a[ch] + mix*b[ch] + 0.03*(r.Float32()-0.5)
			f[k] = min(max(v, 0), 1)
		}
		return f
	}
	for range n {
		var frames [][]float32
		var trans []train.Transition
		cur := colour()
		for s := range 6 {
			if s > 0 {
				next := colour()
				if s%2 == 0 {
					start := len(frames)
					for k := range 6 {
						frames = append(frames, frame(cur, next, float32(k+1)/7))
					}
					trans = append(trans, train.Transition{Start: start, End: len(frames) - 1, Gradual: true})
				} else {
					trans = append(trans, train.Transition{Start: len(frames), End: len(frames)})
				}
				cur = next
			}
			for range 12 + r.IntN(20) {
				frames = append(frames, frame(cur, cur, 0))
			}
		}
		c.frames = append(c.frames, frames)
		c.trans = append(c.trans, trans)
	}
	return c
}

func shotModel(t *testing.T) nn.Layer {
	t.Helper()
	spec, err := nn.ParseSpec([]byte("{name: changes, layers: [{frame_changes: {}}, {dense: {units: 16}}, {relu: {}}, {dense: {units: 2}}]}"), "changes")
	if err != nil {
		t.Fatal(err)
	}
	m, err := spec.Build()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// A model of the change signals learns to find flat shots' cuts and
// dissolves; its evaluation scores every frame once, whatever the window,
// the context and the batch: two trainers of one model's weights agree on
// the figures. (The loss, a mean weighed within each batch, may differ.)
func TestShotsTaskTrains(t *testing.T) {
	trainSet, testSet := makeClips(1, 24), makeClips(2, 6)
	cfg := train.Config{Epochs: 30, BatchSize: 8, Optimizer: "adam", LearningRate: 0.01, Loss: "bce", Seed: 3}
	tr, err := train.New(shotModel(t), &train.Shots{Window: 32, Frame: []int{3, 9, 16}}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	hist, err := tr.Fit(trainSet, testSet, nil)
	if err != nil {
		t.Fatal(err)
	}
	last := hist[len(hist)-1]
	for _, m := range []string{"test_f1_cuts", "test_f1_gradual", "test_precision", "test_recall"} {
		if v := last.Value0(m); v < 0.9 {
			t.Errorf("%s %.3f after %d epochs, want at least 0.9", m, v, len(hist))
		}
	}
	if last.Value0("train_f1_cuts") == 0 {
		t.Errorf("no training figures: %+v", last.Metrics)
	}
	other, err := train.New(shotModel(t), &train.Shots{Window: 20, Context: 5, Frame: []int{3, 9, 16}}, train.Config{BatchSize: 3, Loss: "bce"})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := other.Graph().ShareValues(tr.Graph()); err != nil {
		t.Fatal(err)
	}
	a, err := tr.Evaluate(testSet)
	if err != nil {
		t.Fatal(err)
	}
	b, err := other.Evaluate(testSet)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a.Metrics, b.Metrics) {
		t.Errorf("windows of 32 by 8: %v; windows of 20 by 3: %v", a.Metrics, b.Metrics)
	}
	if len(a.Probabilities) != testSet.NumClips() || !reflect.DeepEqual(a.Probabilities, b.Probabilities) {
		t.Errorf("probabilities of %d and %d clips (of %d), or they differ", len(a.Probabilities), len(b.Probabilities), testSet.NumClips())
	}
	for i, p := range a.Probabilities {
		if len(p) != testSet.Frames(i) {
			t.Errorf("clip %d: %d probabilities for %d frames", i, len(p), testSet.Frames(i))
		}
	}
}

func TestShotsTaskRefuses(t *testing.T) {
	good := makeClips(1, 2)
	for _, c := range []struct {
		name string
		task *train.Shots
		cfg  train.Config
		data train.Data
		want string
	}{
		{"loss", &train.Shots{Window: 16, Frame: []int{3, 9, 16}}, train.Config{Loss: "mse"}, good, "trains with bce"},
		{"window", &train.Shots{Window: 5000, Frame: []int{3, 9, 16}}, train.Config{Loss: "bce"}, good, "window of 5000 frames"},
		{"context", &train.Shots{Window: 16, Context: 8, Frame: []int{3, 9, 16}}, train.Config{Loss: "bce"}, good, "context of 8 frames"},
		{"threshold", &train.Shots{Window: 16, Threshold: 1.5, Frame: []int{3, 9, 16}}, train.Config{Loss: "bce"}, good, "threshold 1.5"},
		{"negative weight", &train.Shots{Window: 16, NegativeWeight: -1, Frame: []int{3, 9, 16}}, train.Config{Loss: "bce"}, good, "negative weight -1"},
		{"frame", &train.Shots{Window: 16, Frame: []int{3, 9, 17}}, train.Config{Loss: "bce"}, good, "frames of shape [3 9 16]"},
		{"data", &train.Shots{Window: 16, Frame: []int{3, 9, 16}}, train.Config{Loss: "bce"}, train.Tokens{1, 2}, "not train.Clips"},
		{"transition", &train.Shots{Window: 16, Frame: []int{3, 9, 16}}, train.Config{Loss: "bce"},
			&clipSet{frames: good.frames[:1], trans: [][]train.Transition{{{Start: 3, End: 5}}}, shape: good.shape}, "transition 0 (frames 3 to 5)"},
	} {
		tr, err := train.New(shotModel(t), c.task, c.cfg)
		if err == nil {
			_, err = tr.Fit(c.data, c.data, nil)
			tr.Close()
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one saying %q", c.name, err, c.want)
		}
	}
}

// A stream scores every frame of a clip as an evaluation of the whole clip
// does, whatever the clip's length against the window: the same
// probabilities, frame for frame.
func TestShotStreamAgreesWithEvaluation(t *testing.T) {
	clips := makeClips(4, 3)
	clips.frames[2] = clips.frames[2][:11] // shorter than a window
	clips.trans[2] = nil
	tr, err := train.New(shotModel(t), &train.Shots{Window: 32, Frame: []int{3, 9, 16}}, train.Config{Epochs: 2, BatchSize: 4, Optimizer: "adam", LearningRate: 0.01, Loss: "bce", Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if _, err := tr.Fit(clips, clips, nil); err != nil {
		t.Fatal(err)
	}
	ev, err := tr.Evaluate(clips)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := tr.Save(dir); err != nil {
		t.Fatal(err)
	}
	m, err := train.Load(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for i, want := range ev.Probabilities {
		st, err := m.ShotStream()
		if err != nil {
			t.Fatal(err)
		}
		got := make([]float64, 0, len(want))
		add := func(p []float64, first int, err error) {
			if err != nil {
				t.Fatal(err)
			}
			if first != len(got) {
				t.Fatalf("clip %d: probabilities from frame %d after %d", i, first, len(got))
			}
			got = append(got, p...)
		}
		for f := range clips.Frames(i) {
			add(st.Push(clips.frames[i][f]))
			if f+1-len(got) > 33 {
				t.Fatalf("clip %d: %d frames held after frame %d", i, f+1-len(got), f)
			}
		}
		add(st.Flush())
		if !reflect.DeepEqual(got, want) {
			t.Errorf("clip %d of %d frames: stream\n%v\nevaluation\n%v", i, clips.Frames(i), got, want)
		}
	}
	st, err := m.ShotStream()
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.Push(make([]float32, 5)); err == nil || !strings.Contains(err.Error(), "432") {
		t.Errorf("a frame of 5 values: %v", err)
	}
}
