package train

import "sort"

// Transition is a shot transition in a clip: frames Start to End, both
// included. A hard cut has Start = End, the new shot's first frame; a
// gradual transition (a dissolve, a fade through black) spans every frame
// that mixes or fades the two shots.
type Transition struct {
	Start, End int
	Gradual    bool
}

// Centre returns the transition's middle frame, (Start+End)/2: a hard
// cut's first new frame.
func (t Transition) Centre() int { return (t.Start + t.End) / 2 }

// Middle returns the frames a detector is trained to mark, first and last
// included: a hard cut's first new frame; the middle third of a gradual
// transition, the frames within (End−Start+1)/6 of its Centre. A dissolve
// has no one frame that marks it more than its neighbours, so a detector
// taught a single frame spreads its probability over several, each too
// low to detect; any frame of a gradual transition matches it.
func (t Transition) Middle() (first, last int) {
	c := t.Centre()
	if !t.Gradual {
		return c, c
	}
	r := (t.End - t.Start + 1) / 6
	return c - r, c + r
}

// ShotTolerance is how far, in frames, a detection may lie outside a
// transition and still match it: TransNetV2's evaluation allows 2.
const ShotTolerance = 2

// DetectionGap is the fewest frames between two detections: runs of
// frames above the threshold closer than this are one transition (a
// gradual transition's probability may dip in its middle).
const DetectionGap = 6

// Detections returns the frames where per-frame transition probabilities
// prob mark a transition: each run of frames whose probability is at least
// threshold (runs less than DetectionGap frames apart joined) gives the
// frame of its highest probability, the first of equals. The clip's first
// frame begins a shot as a detection would: a run less than DetectionGap
// frames after it joins it and gives none (a black frame or a fade from
// black before the first shot is no transition). They come in order. It is
// Peaks over the whole clip.
func Detections(prob []float64, threshold float64) []int {
	p := Peaks{Threshold: threshold}
	var out []int
	for _, v := range prob {
		if d, ok := p.Add(v); ok {
			out = append(out, d)
		}
	}
	if d, ok := p.End(); ok {
		out = append(out, d)
	}
	return out
}

// Peaks finds the detections of Detections frame by frame, for a video
// whose probabilities come as it is decoded: Add each frame's probability
// in order, then End. A detection is given as soon as no later frame can
// change it, at most DetectionGap frames after its run ends.
type Peaks struct {
	// Threshold is the probability at which a frame belongs to a
	// detection; zero means 0.5.
	Threshold float64

	n    int // frames added
	peak int // the current run's best frame, -1 for none
	last int // the current run's last frame
	best float64
	init bool
	lead bool // the current run joins the first frame
}

// Add takes the next frame's probability p and returns a detection that
// it completes (a frame before it), if any.
func (k *Peaks) Add(p float64) (det int, ok bool) {
	if !k.init {
		k.peak, k.last, k.init, k.lead = -1, 0, true, true
	}
	i := k.n
	k.n++
	if i-k.last >= DetectionGap {
		k.lead = false
		if k.peak >= 0 {
			det, ok = k.peak, true
			k.peak = -1
		}
	}
	if p < orDefault(k.Threshold, 0.5) {
		return det, ok
	}
	if k.lead {
		k.last = i
		return det, ok
	}
	if k.peak < 0 || p > k.best {
		k.peak, k.best = i, p
	}
	k.last = i
	return det, ok
}

// Peak returns the frame that the current run would be detected at, -1
// if no run is open: the frame Add last made a peak, while it stays one.
func (k *Peaks) Peak() int {
	if !k.init {
		return -1
	}
	return k.peak
}

// End returns the detection of the run still open after the last frame,
// if any.
func (k *Peaks) End() (det int, ok bool) {
	if k.init && k.peak >= 0 {
		det, ok = k.peak, true
		k.peak = -1
	}
	return det, ok
}

// ShotCounts are detections matched against a clip's true transitions:
// the hard cuts and gradual transitions found and missed, and the
// detections that match none.
type ShotCounts struct {
	Cuts, MissedCuts       int
	Gradual, MissedGradual int
	FalsePositives         int
}

// MatchTransitions matches detections (frames, any order) against the
// transitions of a clip: a detection matches a transition when it lies
// from ShotTolerance frames before its start to ShotTolerance frames after
// its end. Detections are taken in order, each matching the earliest
// transition not yet matched that it reaches, so each transition and each
// detection counts at most once.
func MatchTransitions(detections []int, transitions []Transition) ShotCounts {
	c, _ := match(detections, transitions)
	return c
}

// Unmatched returns the detections (frames, in order) that match no
// transition as MatchTransitions matches them: the false positives.
func Unmatched(detections []int, transitions []Transition) []int {
	_, u := match(detections, transitions)
	return u
}

// match is MatchTransitions, with the detections that match none.
func match(detections []int, transitions []Transition) (c ShotCounts, unmatched []int) {
	dets := append([]int(nil), detections...)
	sort.Ints(dets)
	trans := append([]Transition(nil), transitions...)
	sort.SliceStable(trans, func(i, j int) bool { return trans[i].Start < trans[j].Start })
	used := make([]bool, len(trans))
	for _, d := range dets {
		hit := false
		for i, t := range trans {
			if !used[i] && t.Start-ShotTolerance <= d && d <= t.End+ShotTolerance {
				used[i], hit = true, true
				break
			}
		}
		if !hit {
			c.FalsePositives++
			unmatched = append(unmatched, d)
		}
	}
	for i, t := range trans {
		switch {
		case t.Gradual && used[i]:
			c.Gradual++
		case t.Gradual:
			c.MissedGradual++
		case used[i]:
			c.Cuts++
		default:
			c.MissedCuts++
		}
	}
	return c, unmatched
}

// Add returns the sums of c's counts and o's.
func (c ShotCounts) Add(o ShotCounts) ShotCounts {
	return ShotCounts{c.Cuts + o.Cuts, c.MissedCuts + o.MissedCuts, c.Gradual + o.Gradual, c.MissedGradual + o.MissedGradual, c.FalsePositives + o.FalsePositives}
}

// f1 is the harmonic mean of precision tp/(tp+fp) and recall tp/(tp+fn),
// 0 where both are 0 or undefined.
func f1(tp, fp, fn float64) float64 {
	if tp == 0 {
		return 0
	}
	return 2 * tp / (2*tp + fp + fn)
}

// F1Cuts is the F1 score of the hard cuts: the cuts found against those
// missed and every detection that matches no transition (a false positive
// counts against both kinds, as it is neither).
func (c ShotCounts) F1Cuts() float64 {
	return f1(float64(c.Cuts), float64(c.FalsePositives), float64(c.MissedCuts))
}

// F1Gradual is the F1 score of the gradual transitions, counted as F1Cuts
// counts the cuts.
func (c ShotCounts) F1Gradual() float64 {
	return f1(float64(c.Gradual), float64(c.FalsePositives), float64(c.MissedGradual))
}

// Precision is the share of detections that match a transition (1 for no
// detections).
func (c ShotCounts) Precision() float64 {
	tp := float64(c.Cuts + c.Gradual)
	if tp+float64(c.FalsePositives) == 0 {
		return 1
	}
	return tp / (tp + float64(c.FalsePositives))
}

// Recall is the share of transitions found (1 for a clip without any).
func (c ShotCounts) Recall() float64 {
	tp := float64(c.Cuts + c.Gradual)
	all := tp + float64(c.MissedCuts+c.MissedGradual)
	if all == 0 {
		return 1
	}
	return tp / all
}

// F1 is the F1 score of all transitions, both kinds together.
func (c ShotCounts) F1() float64 {
	return f1(float64(c.Cuts+c.Gradual), float64(c.FalsePositives), float64(c.MissedCuts+c.MissedGradual))
}
