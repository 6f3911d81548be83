package explain

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"slices"

	"github.com/pkg/errors"
)

// HeatMapSize is the least side, in pixels, of the picture HeatMap draws:
// a small image is enlarged by a whole factor to reach it.
const HeatMapSize = 224

// HeatMap draws a's attributions over x, the image they explain (a.Shape:
// [channels, height, width] or [height, width], pixels in [0, 1]), as a
// picture: the image in grey, each pixel tinted by its attribution, and
// beneath it a colour bar with the scale. A pixel's attribution is the sum
// over its channels (the largest for saliency; occlusion's, the same in
// every channel). Signed attributions are drawn in Moreland's cool-warm
// map, red for the class and blue against it; saliency's magnitudes in
// viridis. The tint's opacity grows with the attribution's size, so that
// the image shows where the attributions are small. The scale is the
// 99th percentile of the pixels' absolute attributions, so that a few
// extreme pixels do not wash out the rest; larger ones are drawn at full
// colour. A small image is enlarged (each pixel a square) to at least
// HeatMapSize pixels a side.
func HeatMap(a *Attribution, x []float32) (image.Image, error) {
	if a == nil {
		return nil, errors.New("explain: heat map of a nil attribution")
	}
	p, err := newPlanes(a.Shape)
	if err != nil {
		return nil, err
	}
	if !p.image {
		return nil, errors.Errorf("explain: a heat map needs an image ([height, width] or [channels, height, width]), not an input of shape %v", a.Shape)
	}
	if len(x) != size(a.Shape) || len(a.Values) != len(x) {
		return nil, errors.Errorf("explain: heat map: %d pixel values and %d attributions for an image of shape %v", len(x), len(a.Values), a.Shape)
	}
	if err := finite("explain: heat map: the image", x); err != nil {
		return nil, err
	}
	magnitude := a.Method == Saliency && !a.Signed // drawn in viridis from 0
	plane := p.h * p.w
	m := make([]float64, plane)
	grey := make([]float64, plane)
	for j := range plane {
		for c := 0; c < p.lead; c++ {
			v := a.Values[c*plane+j]
			switch {
			case magnitude:
				m[j] = math.Max(m[j], v)
			case a.Method == Occlusion:
				m[j] = v
			default:
				m[j] += v
			}
		}
		grey[j] = pixelGrey(x, p, j)
	}
	scale := percentileAbs(m, 0.99)
	k := max(1, (HeatMapSize+max(p.h, p.w)-1)/max(p.h, p.w))
	W, H := p.w*k, p.h*k
	const bar = 40 // the colour bar and its labels
	img := image.NewRGBA(image.Rect(0, 0, max(W, 3*10*charWidth), H+bar))
	fill(img, img.Bounds(), color.White)
	for y := range H {
		for xx := range W {
			j := (y/k)*p.w + xx/k
			img.SetRGBA(xx, y, tint(grey[j], m[j], scale, magnitude))
		}
	}
	// The colour bar, with its ends and middle labelled.
	bw := img.Bounds().Dx() - 2*4
	for xx := range bw {
		t := float64(xx) / float64(bw-1)
		var c color.RGBA
		if magnitude {
			c = magnitudeColour(t, 1)
		} else {
			c = signedColour(2*t-1, 1)
		}
		fill(img, image.Rect(4+xx, H+6, 5+xx, H+18), c)
	}
	lo, mid, hi := fmt.Sprintf("%.3g", -scale), "0", fmt.Sprintf("%+.3g", scale)
	if magnitude {
		lo, mid, hi = "0", fmt.Sprintf("%.3g", scale/2), fmt.Sprintf("%.3g", scale)
	}
	ink := color.RGBA{40, 40, 40, 255}
	drawLabel(img, 4, H+32, lo, ink)
	drawLabel(img, 4+bw/2-len(mid)*charWidth/2, H+32, mid, ink)
	drawLabel(img, 4+bw-len(hi)*charWidth, H+32, hi, ink)
	return img, nil
}

// pixelGrey returns the grey level in [0, 1] of pixel j of image x: its
// value for one channel, the luminance of three (sRGB weights), the mean
// of any other number.
func pixelGrey(x []float32, p planes, j int) float64 {
	plane := p.h * p.w
	at := func(c int) float64 { return math.Min(math.Max(float64(x[c*plane+j]), 0), 1) }
	switch p.lead {
	case 1:
		return at(0)
	case 3:
		return 0.2126*at(0) + 0.7152*at(1) + 0.0722*at(2)
	}
	s := 0.0
	for c := 0; c < p.lead; c++ {
		s += at(c)
	}
	return s / float64(p.lead)
}

// tint returns a pixel of grey level g tinted by attribution v on scale:
// the map's colour over the grey with opacity |v|/scale (at most 0.85).
func tint(g, v, scale float64, magnitude bool) color.RGBA {
	c := signedColour(v, scale)
	if magnitude {
		c = magnitudeColour(v, scale)
	}
	alpha := 0.85 * math.Min(math.Abs(v)/scale, 1)
	base := 255 * (0.15 + 0.7*g) // the image, dimmed a little so that tints show on white
	mix := func(t uint8) uint8 { return uint8(math.Round(alpha*float64(t) + (1-alpha)*base)) }
	return color.RGBA{mix(c.R), mix(c.G), mix(c.B), 255}
}

// percentileAbs returns the q-quantile of |v| (the largest if that is 0,
// and 1 if every value is 0).
func percentileAbs(v []float64, q float64) float64 {
	a := make([]float64, len(v))
	for i, x := range v {
		a[i] = math.Abs(x)
	}
	slices.Sort(a)
	s := a[min(len(a)-1, int(q*float64(len(a))))]
	if s == 0 {
		s = a[len(a)-1]
	}
	if s == 0 || math.IsNaN(s) {
		s = 1
	}
	return s
}
