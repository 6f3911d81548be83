package explain

import (
	"image"
	"image/color"
	"image/draw"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// The labels of dlrun's pictures are drawn in basicfont's 7×13 face,
// which holds printable ASCII.
const (
	charWidth  = 7
	lineHeight = 13
)

// drawLabel writes s with its baseline at y, from x, in colour c.
func drawLabel(dst draw.Image, x, y int, s string, c color.Color) {
	d := font.Drawer{Dst: dst, Src: image.NewUniform(c), Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

// printable returns s with every character outside printable ASCII
// replaced by '?', cut to at most max characters (the last three then
// "...").
func printable(s string, max int) string {
	var b strings.Builder
	n := 0
	for _, r := range s {
		if r < ' ' || r > '~' {
			r = '?'
		}
		b.WriteRune(r)
		n++
	}
	out := b.String()
	if n > max {
		out = out[:max-3] + "..."
	}
	return out
}

// fill paints rectangle r of dst in c.
func fill(dst draw.Image, r image.Rectangle, c color.Color) {
	draw.Draw(dst, r, image.NewUniform(c), image.Point{}, draw.Src)
}
