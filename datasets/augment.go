package datasets

import (
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/pkg/errors"
)

// Augmentation is the random variation of training images that keeps a
// model from learning their exact pixels: torchvision's RandomCrop with
// padding and RandomHorizontalFlip. It applies to training passes only;
// evaluation reads every image as it is. The random draws come from a
// generator the caller seeds, so the same seed gives the same images.
// The zero value changes nothing.
type Augmentation struct {
	// CropPadding pads each side of the image with this many black
	// pixels and crops it back to its size at a random offset, every
	// offset from 0 to 2·CropPadding equally likely on each axis
	// (RandomCrop(size, padding=CropPadding)). 0: no crop.
	CropPadding int
	// Flip mirrors the image left to right with probability 1/2
	// (RandomHorizontalFlip).
	Flip bool
}

// DefaultCropPadding is the padding of "crop" without a number: 4
// pixels, as the usual CIFAR-10 recipe (RandomCrop(32, padding=4)).
const DefaultCropPadding = 4

// MaxCropPadding bounds CropPadding (64 pixels).
const MaxCropPadding = 64

// ParseAugmentation reads an augmentation from its comma-separated
// words: "crop" (padding DefaultCropPadding), "crop=N" (padding N, 1 to
// MaxCropPadding), "flip"; "" or "none" is none.
func ParseAugmentation(s string) (Augmentation, error) {
	var a Augmentation
	if strings.TrimSpace(s) == "" || s == "none" {
		return a, nil
	}
	for _, w := range strings.Split(s, ",") {
		w = strings.TrimSpace(w)
		name, arg, hasArg := strings.Cut(w, "=")
		switch {
		case name == "flip" && !hasArg:
			a.Flip = true
		case name == "crop" && !hasArg:
			a.CropPadding = DefaultCropPadding
		case name == "crop":
			n, err := strconv.Atoi(arg)
			if err != nil || n < 1 || n > MaxCropPadding {
				return Augmentation{}, errors.Errorf("augmentation %q: crop padding %q must be a whole number of pixels from 1 to %d", s, arg, MaxCropPadding)
			}
			a.CropPadding = n
		default:
			return Augmentation{}, errors.Errorf("augmentation %q: unknown %q (want crop, crop=N or flip, separated by commas)", s, w)
		}
	}
	return a, nil
}

// String returns a in ParseAugmentation's words ("none" for none).
func (a Augmentation) String() string {
	var w []string
	switch a.CropPadding {
	case 0:
	case DefaultCropPadding:
		w = append(w, "crop")
	default:
		w = append(w, "crop="+strconv.Itoa(a.CropPadding))
	}
	if a.Flip {
		w = append(w, "flip")
	}
	if len(w) == 0 {
		return "none"
	}
	return strings.Join(w, ",")
}

// Check reports whether a is an augmentation Apply can make.
func (a Augmentation) Check() error {
	if a.CropPadding < 0 || a.CropPadding > MaxCropPadding {
		return errors.Errorf("augmentation: crop padding %d must be 0 to %d", a.CropPadding, MaxCropPadding)
	}
	return nil
}

// Active reports whether a changes anything.
func (a Augmentation) Active() bool { return a.CropPadding > 0 || a.Flip }

// Apply augments the image x of shape [c h w] in place, drawing from
// rng: first the crop's row and column offsets (two draws, when
// CropPadding is set), then the flip (one draw, when Flip is set). work
// must hold c·h·w values when cropping. Every channel moves alike.
func (a Augmentation) Apply(x []float32, c, h, w int, rng *rand.Rand, work []float32) {
	if p := a.CropPadding; p > 0 {
		dy, dx := rng.IntN(2*p+1)-p, rng.IntN(2*p+1)-p
		// Output pixel (y, x) is input pixel (y+dy, x+dx), or padding.
		copy(work, x[:c*h*w])
		for ch := 0; ch < c; ch++ {
			for y := 0; y < h; y++ {
				out := x[(ch*h+y)*w : (ch*h+y+1)*w]
				sy := y + dy
				if sy < 0 || sy >= h {
					clear(out)
					continue
				}
				in := work[(ch*h+sy)*w : (ch*h+sy+1)*w]
				for xx := range out {
					if sx := xx + dx; sx >= 0 && sx < w {
						out[xx] = in[sx]
					} else {
						out[xx] = 0
					}
				}
			}
		}
	}
	if a.Flip && rng.IntN(2) == 1 {
		for row := 0; row < c*h; row++ {
			r := x[row*w : (row+1)*w]
			for i, j := 0, w-1; i < j; i, j = i+1, j-1 {
				r[i], r[j] = r[j], r[i]
			}
		}
	}
}
