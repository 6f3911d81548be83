package kernels

import "math"

// FrameStructureChanges is the number of structure signals
// FrameStructureSignals computes per frame.
const FrameStructureChanges = 4

// structureLags are the lags of the structure signals, as those of the
// grid signals: the frames 2 and 1 later, 1 and 2 earlier.
var structureLags = [...]int{-2, -1, 1, 2}

// flatVariance is the variance of a frame's values below which it is
// flat (a standard deviation of 0.01, under 3 of 255 levels): it has no
// structure to correlate.
const flatVariance = 1e-4

// FrameStructureSignals writes the structure signals of each of the t
// frames of one sequence x ([t, 3, h, w], values in [0, 1]) into out
// ([t, FrameStructureChanges]): one minus the correlation (Pearson's, over
// all of the frame's values) of the frame with the frame 2 and 1 later
// and 1 and 2 earlier, from 0 (the same picture, however lit) to 2. A
// change of light scales and shifts a frame's values, which leaves their
// correlation with the frame before as it was, while a new shot breaks
// it: these signals tell a light switched on or off from a cut, which
// the histogram, grid and pixel differences of FrameChangeSignals do not.
// Two flat frames (variance under 1e-4, a black frame of a fade) give 0, a
// flat frame beside one with structure 1. Neighbours past the sequence's
// ends are its edge frames, as in FrameChangeSignals.
func FrameStructureSignals[T Float](x []T, t, h, w int, out []T, s *FrameChangeScratch) {
	size := 3 * h * w
	if cap(s.mean) < t {
		s.mean, s.norm = make([]float64, t), make([]float64, t)
	}
	mean, norm := s.mean[:t], s.norm[:t]
	for f := range t {
		frame := x[f*size : (f+1)*size]
		sum := 0.0
		for _, v := range frame {
			sum += float64(v)
		}
		m, ss := sum/float64(size), 0.0
		for _, v := range frame {
			d := float64(v) - m
			ss += float64(d * d) // rounded: no fused multiply-add on any GOARCH
		}
		mean[f], norm[f] = m, math.Sqrt(ss)
	}
	flat := math.Sqrt(flatVariance * float64(size))
	at := func(f, lag int) int { return min(max(f-lag, 0), t-1) }
	for f := range t {
		for j, lag := range structureLags {
			g := at(f, lag)
			var v float64
			switch fa, fb := norm[f] < flat, norm[g] < flat; {
			case fa && fb:
				v = 0
			case fa || fb:
				v = 1
			default:
				a, b := x[f*size:(f+1)*size], x[g*size:(g+1)*size]
				cov := 0.0
				for i := range a {
					cov += float64((float64(a[i]) - mean[f]) * (float64(b[i]) - mean[g])) // rounded, as above
				}
				v = 1 - cov/(norm[f]*norm[g])
			}
			out[f*FrameStructureChanges+j] = T(v)
		}
	}
}
