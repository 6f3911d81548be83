package kernels

import (
	"math"
	"testing"
)

// Two black frames then three white ones: each signal is 0 or its largest
// value, by which neighbours straddle the cut.
func TestFrameChangeSignalsAtACut(t *testing.T) {
	const n, h, w = 5, 6, 8
	x := make([]float64, n*3*h*w)
	for i := 2 * 3 * h * w; i < len(x); i++ {
		x[i] = 1
	}
	out := make([]float64, n*FrameChanges)
	FrameChangeSignals(x, n, h, w, out, &FrameChangeScratch{})
	want := [n][FrameChanges]float64{
		// histogram at -3 -2 -1 1 2 3, grid at -2 -1 1 2, pixels at -1 1
		{2, 2, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0},
		{2, 2, 2, 0, 0, 0, 4, 4, 0, 0, 4, 0},
		{0, 0, 0, 2, 2, 2, 0, 0, 4, 4, 0, 4},
		{0, 0, 0, 0, 2, 2, 0, 0, 0, 4, 0, 0},
		{0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0},
	}
	for f := range n {
		for j := range FrameChanges {
			if got := out[f*FrameChanges+j]; math.Abs(got-want[f][j]) > 1e-12 {
				t.Errorf("frame %d signal %d = %v, want %v", f, j, got, want[f][j])
			}
		}
	}
}

// A change in one cell of the grid moves the grid signal by its share of
// the cells, and the pixel signal by its share of the pixels; the
// histogram moves by twice the share of pixels that change bin. Cells cut
// as PyTorch's adaptive pooling cuts them: 5 rows in 3 cells are rows
// 0-1, 1-3 and 3-4.
func TestFrameChangeSignalsShares(t *testing.T) {
	const n, h, w = 2, 5, 8
	x := make([]float32, n*3*h*w)
	// Frame 1: red channel of pixel (0, 0) set to 1.
	x[3*h*w] = 1
	out := make([]float32, n*FrameChanges)
	FrameChangeSignals(x, n, h, w, out, &FrameChangeScratch{})
	o := out[FrameChanges:] // frame 1 against frame 0 at lag 1
	if want := float32(2.0 / (h * w)); math.Abs(float64(o[3]-want)) > 1e-7 {
		t.Errorf("histogram at lag 1 = %v, want %v", o[3], want)
	}
	// Cell (0, 0) holds rows 0-1 and columns 0-1: 4 pixels.
	if want := float32(4 * (1.0 / 4) / 36); math.Abs(float64(o[8]-want)) > 1e-7 {
		t.Errorf("grid at lag 1 = %v, want %v", o[8], want)
	}
	if want := float32(4.0 / (3 * h * w)); math.Abs(float64(o[11]-want)) > 1e-7 {
		t.Errorf("pixels at lag 1 = %v, want %v", o[11], want)
	}
	for _, j := range []int{0, 1, 2, 6, 7, 10} { // later neighbours: the edge repeated
		if o[j] != 0 {
			t.Errorf("frame 1, signal %d = %v: its later neighbour is itself", j, o[j])
		}
	}
}

// A frame scaled and shifted (a light switched on) keeps its structure
// signals at 0; a different picture (a cut) moves them towards 1; two flat
// frames give 0 and a flat one beside a picture 1.
func TestFrameStructureSignals(t *testing.T) {
	const h, w = 4, 6
	size := 3 * h * w
	picture := func(seed int) []float64 {
		p := make([]float64, size)
		for i := range p {
			p[i] = float64((i*7+seed*13)%17) / 20
		}
		return p
	}
	a, b := picture(0), picture(5)
	lit := make([]float64, size)
	for i, v := range a {
		lit[i] = 0.4*v + 0.1
	}
	flat := make([]float64, size)
	// Frames: a, a lit darker, b (a cut), black, black.
	x := append(append(append(append(append([]float64{}, a...), lit...), b...), flat...), flat...)
	out := make([]float64, 5*FrameStructureChanges)
	FrameStructureSignals(x, 5, h, w, out, &FrameChangeScratch{})
	corr := func(p, q []float64) float64 {
		mp, mq := 0.0, 0.0
		for i := range p {
			mp, mq = mp+p[i], mq+q[i]
		}
		mp, mq = mp/float64(size), mq/float64(size)
		c, vp, vq := 0.0, 0.0, 0.0
		for i := range p {
			c += (p[i] - mp) * (q[i] - mq)
			vp += (p[i] - mp) * (p[i] - mp)
			vq += (q[i] - mq) * (q[i] - mq)
		}
		return c / math.Sqrt(vp*vq)
	}
	cut := 1 - corr(a, b)
	if cut < 0.5 {
		t.Fatalf("two pictures correlate %v; the test needs different ones", 1-cut)
	}
	want := [5][FrameStructureChanges]float64{
		// lags -2 -1 1 2: the frames 2 and 1 later, 1 and 2 earlier
		{cut, 0, 0, 0},
		{1, cut, 0, 0},
		{1, 1, cut, cut},
		{0, 0, 1, 1},
		{0, 0, 0, 1},
	}
	for f := range 5 {
		for j := range FrameStructureChanges {
			if got := out[f*FrameStructureChanges+j]; math.Abs(got-want[f][j]) > 1e-9 {
				t.Errorf("frame %d signal %d = %v, want %v", f, j, got, want[f][j])
			}
		}
	}
}
