package explain

import (
	"cmp"
	"fmt"
	"image"
	"image/color"
	"math"
	"slices"

	"github.com/pkg/errors"
)

// MaxBars is the most bars BarChart draws: the largest values; a line
// beneath says how many it left out.
const MaxBars = 40

// BarChart draws values, one per name (a table's features: Importance's
// mean absolute attributions, or one row's attributions), as horizontal
// bars, the largest in absolute value first, under title: positive
// values in the cool-warm map's red, to the right of the zero line,
// negative ones in its blue, to the left. Names are drawn in printable
// ASCII, cut to 24 characters; at most MaxBars bars are drawn.
func BarChart(title string, names []string, values []float64) (image.Image, error) {
	if len(names) != len(values) {
		return nil, errors.Errorf("explain: bar chart of %d names and %d values", len(names), len(values))
	}
	if len(values) == 0 {
		return nil, errors.New("explain: bar chart of no values")
	}
	for i, v := range values {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, errors.Errorf("explain: bar chart: the value of %q is %v", printable(names[i], 24), v)
		}
	}
	order := make([]int, len(values))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(math.Abs(values[b]), math.Abs(values[a])) })
	left := 0
	if len(order) > MaxBars {
		order, left = order[:MaxBars], len(order)-MaxBars
	}
	lo, hi := 0.0, 0.0
	for _, i := range order {
		lo, hi = math.Min(lo, values[i]), math.Max(hi, values[i])
	}
	span := hi - lo
	if span == 0 {
		span = 1
	}
	const (
		row    = 18
		pad    = 8
		labelW = 24 * charWidth
		plotW  = 360
		valueW = 10 * charWidth
		top    = 2*lineHeight + pad
	)
	height := top + len(order)*row + pad
	if left > 0 {
		height += row
	}
	width := pad + labelW + pad + plotW + pad + valueW + pad
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	fill(img, img.Bounds(), color.White)
	ink := color.RGBA{40, 40, 40, 255}
	drawLabel(img, pad, pad+lineHeight, printable(title, (width-2*pad)/charWidth), ink)
	x0 := pad + labelW + pad
	zero := x0 + int(math.Round(float64(plotW)*(-lo)/span))
	for k, i := range order {
		y := top + k*row
		drawLabel(img, pad, y+lineHeight, printable(names[i], 24), ink)
		w := int(math.Round(float64(plotW) * math.Abs(values[i]) / span))
		c := signedColour(1, 1)
		r := image.Rect(zero, y+3, zero+w, y+row-3)
		if values[i] < 0 {
			c, r = signedColour(-1, 1), image.Rect(zero-w, y+3, zero, y+row-3)
		}
		fill(img, r, c)
		drawLabel(img, x0+plotW+pad, y+lineHeight, fmt.Sprintf("%.4g", values[i]), ink)
	}
	fill(img, image.Rect(zero, top, zero+1, top+len(order)*row), ink)
	if left > 0 {
		drawLabel(img, pad, top+len(order)*row+lineHeight, fmt.Sprintf("and %d more, smaller", left), ink)
	}
	return img, nil
}
