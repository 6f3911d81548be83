package explain

import (
	"math"

	"github.com/pkg/errors"
)

// planes views an example's values as lead planes of h×w: an image
// [channels, height, width] (any leading axes are planes too) or
// [height, width], or a table's row [features] as one plane of 1×features.
type planes struct {
	lead, h, w int
	image      bool
}

func newPlanes(shape []int) (planes, error) {
	switch len(shape) {
	case 0:
		return planes{}, errors.New("explain: an input with no shape")
	case 1:
		return planes{lead: 1, h: 1, w: shape[0]}, nil
	}
	n := len(shape)
	return planes{lead: size(shape[:n-2]), h: shape[n-2], w: shape[n-1], image: true}, nil
}

// window is a rectangle of a plane: rows y to y+h, columns x to x+w, in a
// plane of width stride.
type window struct{ y, x, h, w, stride int }

// each calls f with the index within the plane of every value of w.
func (w window) each(f func(k int)) {
	for i := w.y; i < w.y+w.h; i++ {
		for j := w.x; j < w.x+w.w; j++ {
			f(i*w.stride + j)
		}
	}
}

// windows returns occlusion's windows: squares of side win (a run of win
// features of a table's row) every stride values, the last of each row and
// column against the far edge, so that every value is covered.
func (p planes) windows(win, stride int) []window {
	wh := win
	if !p.image {
		wh = 1
	}
	var out []window
	for _, y := range positions(p.h, wh, stride) {
		for _, x := range positions(p.w, win, stride) {
			out = append(out, window{y, x, wh, win, p.w})
		}
	}
	return out
}

// positions returns the starts of windows of k along n values, every s,
// and n-k if the last of them falls short of the end.
func positions(n, k, s int) []int {
	var out []int
	for p := 0; p+k <= n; p += s {
		out = append(out, p)
	}
	if last := out[len(out)-1]; last+k < n {
		out = append(out, n-k)
	}
	return out
}

// baseline returns opt's baseline for the input v of shape: zeros (Black)
// or v blurred (Blur).
func baseline(opt Options, shape []int, v []float64) ([]float64, error) {
	if opt.Baseline != Blur {
		return make([]float64, len(v)), nil
	}
	p, err := newPlanes(shape)
	if err != nil {
		return nil, err
	}
	if !p.image {
		return nil, errors.Errorf("explain: the blur baseline needs an image ([height, width] or [channels, height, width]), not an input of shape %v", shape)
	}
	sigma := opt.BlurSigma
	if sigma == 0 {
		sigma = float64(max(p.h, p.w)) / 8
	}
	return blur(v, p, sigma), nil
}

// blur returns each plane of v convolved with a Gaussian of standard
// deviation sigma, separably, the edges extended: a kernel of radius
// ⌈3σ⌉ (at most the plane's larger side), normalised to sum to 1.
func blur(v []float64, p planes, sigma float64) []float64 {
	r := min(int(math.Ceil(3*sigma)), max(p.h, p.w))
	k := make([]float64, 2*r+1)
	total := 0.0
	for i := range k {
		d := float64(i - r)
		k[i] = math.Exp(-d * d / (2 * sigma * sigma))
		total += k[i]
	}
	for i := range k {
		k[i] /= total
	}
	clamp := func(i, n int) int { return min(max(i, 0), n-1) }
	out := make([]float64, len(v))
	tmp := make([]float64, p.h*p.w)
	for c := 0; c < p.lead; c++ {
		src, dst := v[c*p.h*p.w:(c+1)*p.h*p.w], out[c*p.h*p.w:(c+1)*p.h*p.w]
		for y := 0; y < p.h; y++ {
			for x := 0; x < p.w; x++ {
				s := 0.0
				for i, kv := range k {
					s += kv * src[y*p.w+clamp(x+i-r, p.w)]
				}
				tmp[y*p.w+x] = s
			}
		}
		for y := 0; y < p.h; y++ {
			for x := 0; x < p.w; x++ {
				s := 0.0
				for i, kv := range k {
					s += kv * tmp[clamp(y+i-r, p.h)*p.w+x]
				}
				dst[y*p.w+x] = s
			}
		}
	}
	return out
}
