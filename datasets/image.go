package datasets

import (
	"fmt"
	"image"
	_ "image/jpeg" // decoder
	_ "image/png"  // decoder
	"io"

	"github.com/dlrun/dlrun/internal/safeio"
	"github.com/pkg/errors"
	"golang.org/x/image/draw"
)

// ReadImage decodes a PNG or JPEG file and converts it to a model input of
// shape [channels height width] (channels 1: grayscale luminance; 3: RGB),
// resized with bilinear interpolation and scaled to [0, 1]. The bundled
// Fashion-MNIST images are light garments on black; a photograph on a
// light background needs inverting to look like them (invert).
//
// The file must be a regular file of at most MaxImageFileBytes. Its
// declared dimensions are read first (image.DecodeConfig), and an image of
// more than MaxImagePixels is refused before it is decoded, as is a shape
// of more pixels than that.
func ReadImage(path string, shape []int, invert bool) ([]float32, error) {
	if err := checkImageShape(path, shape, MaxImagePixels); err != nil {
		return nil, err
	}
	s, done, err := openSource(path)
	if err != nil {
		return nil, err
	}
	defer done()
	if s.size > MaxImageFileBytes {
		return nil, fmt.Errorf("%s: %d bytes, more than the %d an image file may hold (MaxImageFileBytes): %w", path, s.size, MaxImageFileBytes, safeio.ErrTooLarge)
	}
	return decodeImage(s.r.(io.ReadSeeker), path, shape, invert, MaxImagePixels)
}

// DecodeImage decodes a PNG or JPEG image read from r, named name in
// errors (a file name, "request body"), and converts it to a model input
// of shape [channels height width] exactly as ReadImage converts a file:
// the same checks (MaxImagePixels for the shape and the declared
// dimensions, MaxImageFileBytes for the bytes read) and the same values.
// An image past a limit is an error wrapping safeio.ErrTooLarge.
func DecodeImage(r io.ReadSeeker, name string, shape []int, invert bool) ([]float32, error) {
	if err := checkImageShape(name, shape, MaxImagePixels); err != nil {
		return nil, err
	}
	return decodeImage(r, name, shape, invert, MaxImagePixels)
}

// checkImageShape checks that shape is an image shape of at most
// maxPixels pixels.
func checkImageShape(name string, shape []int, maxPixels int) error {
	if len(shape) != 3 || (shape[0] != 1 && shape[0] != 3) || shape[1] < 1 || shape[2] < 1 {
		return errors.Errorf("%s: a model input of shape %v is not an image [1 or 3, height, width]", name, shape)
	}
	if shape[1] > maxPixels/shape[2] {
		return errors.Errorf("%s: a model input of shape %v has more than the %d pixels an image may have (MaxImagePixels)", name, shape, maxPixels)
	}
	return nil
}

// decodeImage decodes the image r, named name, refusing one that declares
// more than maxPixels pixels before decoding it, and converts it for
// ReadImage.
func decodeImage(r io.ReadSeeker, name string, shape []int, invert bool, maxPixels int) ([]float32, error) {
	cfg, format, err := image.DecodeConfig(r)
	if err != nil {
		return nil, errors.Errorf("%s: not a PNG or JPEG image (%v)", name, err)
	}
	if cfg.Width < 1 || cfg.Height < 1 {
		return nil, errors.Errorf("%s: %s image is %dx%d pixels, none to read", name, format, cfg.Width, cfg.Height)
	}
	if cfg.Width > maxPixels/cfg.Height {
		return nil, fmt.Errorf("%s: %s image is %dx%d pixels, more than the %d an image may have (MaxImagePixels): %w",
			name, format, cfg.Width, cfg.Height, maxPixels, safeio.ErrTooLarge)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, errors.Errorf("%s: %v", name, err)
	}
	src, _, err := image.Decode(safeio.Limit(r, MaxImageFileBytes, name))
	if err != nil {
		return nil, errors.Errorf("%s: not a PNG or JPEG image (%v)", name, err)
	}
	if b := src.Bounds(); b.Dx() != cfg.Width || b.Dy() != cfg.Height {
		return nil, errors.Errorf("%s: decoded %dx%d pixels, but the header declares %dx%d", name, b.Dx(), b.Dy(), cfg.Width, cfg.Height)
	}
	c, h, w := shape[0], shape[1], shape[2]
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.BiLinear.Scale(dst, dst.Bounds(), src, src.Bounds(), draw.Src, nil)
	out := make([]float32, c*h*w)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			p := dst.RGBAAt(x, y)
			rgb := [3]float32{float32(p.R) / 255, float32(p.G) / 255, float32(p.B) / 255}
			if invert {
				for i := range rgb {
					rgb[i] = 1 - rgb[i]
				}
			}
			if c == 1 {
				out[y*w+x] = 0.299*rgb[0] + 0.587*rgb[1] + 0.114*rgb[2]
				continue
			}
			for ch := 0; ch < 3; ch++ {
				out[(ch*h+y)*w+x] = rgb[ch]
			}
		}
	}
	return out, nil
}
