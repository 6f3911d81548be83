package kernels

import "math"

// FrameChanges is the number of change signals FrameChangeSignals computes
// per frame.
const FrameChanges = 12

// The lags, in frames, of the change signals: a negative lag compares a
// frame with a later one, a positive lag with an earlier one.
var (
	histogramLags = [...]int{-3, -2, -1, 1, 2, 3}
	gridLags      = [...]int{-2, -1, 1, 2}
	pixelLags     = [...]int{-1, 1}
)

// The colour layout grid the grid signals compare: gridRows × gridCols
// cells of each channel's mean.
const gridRows, gridCols = 3, 4

// FrameChangeScratch holds FrameChangeSignals' per-frame histograms and
// grids, and FrameStructureSignals' means and spreads, between calls, so
// that a sequence allocates them once.
type FrameChangeScratch struct {
	hist, grid, mean, norm []float64
}

// FrameChangeSignals writes the change signals of each of the t frames of
// one sequence x ([t, 3, h, w]: each frame's R, G and B planes, values in
// [0, 1]) into out ([t, FrameChanges]): cues of a transition that are
// computed, not learned, from the frame and its neighbours. In order:
//
//   - the L1 distance between the frame's 64-bin colour histogram (each
//     channel's byte value in 4 levels, counts over the frame's pixels)
//     and that of the frame 3, 2, 1 later and 1, 2, 3 earlier (0 to 2);
//   - four times the mean absolute difference of a 3×4 grid of each
//     channel's cell means (PyTorch's adaptive_avg_pool2d to (3, 4)) with
//     the frame 2 and 1 later and 1 and 2 earlier;
//   - four times the mean absolute difference of the whole frame with the
//     frame 1 later and 1 earlier.
//
// A neighbour before the first frame or after the last is the first or
// the last (the sequence's edge repeated). The sums run in a fixed order:
// the signals do not depend on anything but x.
func FrameChangeSignals[T Float](x []T, t, h, w int, out []T, s *FrameChangeScratch) {
	const bins = 64
	plane := h * w
	size := 3 * plane
	grid := 3 * gridRows * gridCols
	if cap(s.hist) < t*bins {
		s.hist = make([]float64, t*bins)
	}
	if cap(s.grid) < t*grid {
		s.grid = make([]float64, t*grid)
	}
	hist, cells := s.hist[:t*bins], s.grid[:t*grid]
	clear(hist)
	for f := range t {
		frame := x[f*size : (f+1)*size]
		hf := hist[f*bins : (f+1)*bins]
		for p := range plane {
			bin := level(frame[p])<<4 | level(frame[plane+p])<<2 | level(frame[2*plane+p])
			hf[bin]++
		}
		for b := range hf {
			hf[b] /= float64(plane)
		}
		cellMeans(frame, h, w, cells[f*grid:(f+1)*grid])
	}
	at := func(f, lag int) int { return min(max(f-lag, 0), t-1) }
	for f := range t {
		o := out[f*FrameChanges : (f+1)*FrameChanges]
		j := 0
		for _, lag := range histogramLags {
			o[j] = T(l1(hist[f*bins:(f+1)*bins], hist[at(f, lag)*bins:(at(f, lag)+1)*bins]))
			j++
		}
		for _, lag := range gridLags {
			g := at(f, lag)
			o[j] = T(4 * l1(cells[f*grid:(f+1)*grid], cells[g*grid:(g+1)*grid]) / float64(grid))
			j++
		}
		for _, lag := range pixelLags {
			g := at(f, lag)
			sum := 0.0
			a, b := x[f*size:(f+1)*size], x[g*size:(g+1)*size]
			for i := range a {
				sum += math.Abs(float64(a[i]) - float64(b[i]))
			}
			o[j] = T(4 * sum / float64(size))
			j++
		}
	}
}

// level returns the histogram level (0 to 3) of a value in [0, 1]: its
// byte value, 0 to 255, divided by 64.
func level[T Float](v T) int {
	b := math.Round(float64(v) * 255)
	return int(min(max(b, 0), 255)) >> 6
}

// l1 returns Σ|a[i] - b[i]|.
func l1(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += math.Abs(a[i] - b[i])
	}
	return s
}

// cellMeans writes the mean of each channel of frame ([3, h, w]) over
// each cell of a gridRows × gridCols grid, channel by channel, row by
// row: cell (i, j) spans rows ⌊i·h/3⌋ to ⌈(i+1)·h/3⌉ and columns likewise,
// as PyTorch's adaptive average pooling cuts them.
func cellMeans[T Float](frame []T, h, w int, out []float64) {
	plane := h * w
	for c := range 3 {
		for i := range gridRows {
			y0, y1 := i*h/gridRows, ((i+1)*h+gridRows-1)/gridRows
			for j := range gridCols {
				x0, x1 := j*w/gridCols, ((j+1)*w+gridCols-1)/gridCols
				sum := 0.0
				for y := y0; y < y1; y++ {
					row := frame[c*plane+y*w : c*plane+y*w+w]
					for x := x0; x < x1; x++ {
						sum += float64(row[x])
					}
				}
				out[(c*gridRows+i)*gridCols+j] = sum / float64((y1-y0)*(x1-x0))
			}
		}
	}
}
