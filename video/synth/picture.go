package synth

import (
	"context"
	"image"
	_ "image/jpeg" // photographs
	_ "image/png"  // artwork
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/dlrun/dlrun/internal/safeio"
	"github.com/dlrun/dlrun/video"
	"github.com/pkg/errors"
)

// picture is an 8-bit RGB image.
type picture struct {
	w, h int
	pix  []uint8 // (y*w + x)*3 + channel
}

// maxPhotoBytes bounds a photograph file read.
const maxPhotoBytes = 64 << 20

// photoWidth is the width photographs are reduced to before shots pan
// over them: about four frames' widths, enough for a zoom of 4.
const photoWidth = 640

// loadPhoto reads a JPEG or PNG and reduces it by box filtering to
// photoWidth pixels wide.
func loadPhoto(path string) (*picture, error) {
	f, err := safeio.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, _, err := image.Decode(io.LimitReader(f, maxPhotoBytes))
	if err != nil {
		return nil, errors.Wrapf(err, "synth: %s", path)
	}
	b := img.Bounds()
	sw, sh := b.Dx(), b.Dy()
	if sw < 64 || sh < 36 {
		return nil, errors.Errorf("synth: %s: %dx%d is too small", path, sw, sh)
	}
	w := min(photoWidth, sw)
	h := int(math.Round(float64(sh) * float64(w) / float64(sw)))
	sum := make([]float32, w*h*3)
	count := make([]float32, w*h)
	for y := 0; y < sh; y++ {
		ty := y * h / sh
		for x := 0; x < sw; x++ {
			tx := x * w / sw
			r, g, bl, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			i := ty*w + tx
			sum[i*3] += float32(r >> 8)
			sum[i*3+1] += float32(g >> 8)
			sum[i*3+2] += float32(bl >> 8)
			count[i]++
		}
	}
	p := &picture{w: w, h: h, pix: make([]uint8, w*h*3)}
	for i, c := range count {
		for k := 0; k < 3; k++ {
			if c > 0 {
				p.pix[i*3+k] = clamp8(sum[i*3+k] / c)
			}
		}
	}
	return p, nil
}

// lavfiLength is how many frames of each lavfi source are rendered (and
// kept): a shot starts up to 100 frames in and lasts up to 100.
const lavfiLength = 200

// lavfiFrames renders n frames of a lavfi generator at w x h.
func lavfiFrames(ctx context.Context, graph string, w, h, n int) ([]*picture, error) {
	// The size and rate go to the source, the first filter of the chain.
	src, rest, chained := strings.Cut(graph, ",")
	sep := "="
	if strings.Contains(src, "=") {
		sep = ":"
	}
	src += sep + "size=" + strconv.Itoa(w) + "x" + strconv.Itoa(h) + ":rate=25"
	if chained {
		src += "," + rest
	}
	d, err := video.Lavfi(ctx, src,
		video.Options{Width: w, Height: h, MaxDuration: float64(n) / 25})
	if err != nil {
		return nil, err
	}
	defer d.Close()
	var out []*picture
	for {
		f, err := d.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		out = append(out, &picture{w: w, h: h, pix: append([]uint8(nil), f.RGB...)})
	}
	if len(out) == 0 {
		return nil, errors.Errorf("synth: lavfi %s gave no frames", graph)
	}
	for len(out) < n { // a generator that ended early holds its last frame
		out = append(out, out[len(out)-1])
	}
	return out, nil
}

// sample reads p at (x, y) in pixels, bilinearly, clamped at the edges.
func (p *picture) sample(x, y float64, out []float32) {
	x = math.Max(0, math.Min(x, float64(p.w-1)))
	y = math.Max(0, math.Min(y, float64(p.h-1)))
	x0, y0 := int(x), int(y)
	x1, y1 := min(x0+1, p.w-1), min(y0+1, p.h-1)
	fx, fy := float32(x-float64(x0)), float32(y-float64(y0))
	i00, i01, i10, i11 := (y0*p.w+x0)*3, (y0*p.w+x1)*3, (y1*p.w+x0)*3, (y1*p.w+x1)*3
	for c := 0; c < 3; c++ {
		a := float32(p.pix[i00+c])*(1-fx) + float32(p.pix[i01+c])*fx
		b := float32(p.pix[i10+c])*(1-fx) + float32(p.pix[i11+c])*fx
		out[c] = a*(1-fy) + b*fy
	}
}
