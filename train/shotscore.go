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

// Centre returns the transition's middle frame, (Start+End)/2: the frame
// a detector is trained to mark, and a hard cut's first new frame.
func (t Transition) Centre() int { return (t.Start + t.End) / 2 }

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
// frame of its highest probability, the first of equals. They come in
// order.
func Detections(prob []float64, threshold float64) []int {
	var out []int
	peak, last := -1, -DetectionGap
	for i, p := range prob {
		if p < threshold {
			continue
		}
		if peak >= 0 && i-last >= DetectionGap {
			out = append(out, peak)
			peak = -1
		}
		if peak < 0 || p > prob[peak] {
			peak = i
		}
		last = i
	}
	if peak >= 0 {
		out = append(out, peak)
	}
	return out
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
