package explain

import (
	"image/color"
	"math"
)

// The colour maps of dlrun's pictures, both perceptually uniform: equal
// steps of value look like equal steps of colour, and neither invents
// edges as a rainbow map does.
//
// Signed attributions (integrated gradients, occlusion) use Moreland's
// cool-warm diverging map (Moreland, "Diverging Color Maps for Scientific
// Visualization", 2009; matplotlib's coolwarm): blue for evidence against
// the class, a light grey for none, red for evidence for it. Magnitudes
// (saliency) use viridis (van der Walt and Smith, matplotlib's default),
// dark purple to yellow. Both are matplotlib's, sampled at 33 points and
// interpolated linearly in sRGB.
var (
	coolwarm = [33][3]uint8{{59, 76, 192}, {68, 90, 204}, {78, 104, 216}, {88, 117, 225}, {98, 130, 234}, {108, 143, 241},
		{119, 154, 247}, {130, 166, 251}, {141, 176, 254}, {152, 185, 255}, {163, 194, 254}, {174, 201, 252}, {185, 208, 249},
		{195, 213, 244}, {204, 217, 237}, {213, 219, 229}, {221, 220, 220}, {229, 216, 209}, {236, 211, 197}, {241, 204, 184},
		{245, 196, 172}, {247, 186, 159}, {247, 176, 147}, {246, 165, 134}, {244, 152, 122}, {240, 139, 110}, {235, 125, 98},
		{228, 110, 86}, {221, 95, 75}, {212, 78, 65}, {202, 59, 55}, {190, 36, 46}, {180, 4, 38}}
	viridis = [33][3]uint8{{68, 1, 84}, {71, 13, 96}, {72, 24, 106}, {72, 35, 116}, {71, 45, 123}, {69, 55, 129}, {66, 64, 134},
		{62, 73, 137}, {59, 82, 139}, {55, 91, 141}, {51, 99, 141}, {47, 107, 142}, {44, 114, 142}, {41, 122, 142}, {38, 130, 142},
		{35, 137, 142}, {33, 145, 140}, {31, 152, 139}, {31, 160, 136}, {34, 167, 133}, {40, 174, 128}, {50, 182, 122},
		{63, 188, 115}, {78, 195, 107}, {94, 201, 98}, {112, 207, 87}, {132, 212, 75}, {152, 216, 62}, {173, 220, 48},
		{194, 223, 35}, {216, 226, 25}, {236, 229, 27}, {253, 231, 37}}
)

// sample returns the colour of map m at t in [0, 1] (clamped).
func sample(m *[33][3]uint8, t float64) color.RGBA {
	if !(t > 0) {
		t = 0
	}
	t = math.Min(t, 1) * 32
	i := min(int(t), 31)
	f := t - float64(i)
	c := color.RGBA{A: 255}
	for k, p := range []*uint8{&c.R, &c.G, &c.B} {
		*p = uint8(math.Round(float64(m[i][k])*(1-f) + float64(m[i+1][k])*f))
	}
	return c
}

// signedColour returns the cool-warm colour of v on the scale ±scale.
func signedColour(v, scale float64) color.RGBA { return sample(&coolwarm, 0.5+0.5*v/scale) }

// magnitudeColour returns the viridis colour of v on the scale 0 to scale.
func magnitudeColour(v, scale float64) color.RGBA { return sample(&viridis, v/scale) }

// luminance returns c's relative luminance, about 0 (black) to 1 (white).
func luminance(c color.RGBA) float64 {
	return (0.2126*float64(c.R) + 0.7152*float64(c.G) + 0.0722*float64(c.B)) / 255
}
