package datasets

import (
	"fmt"
	"image"
	"image/color"
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
// declared dimensions and color model are read first (image.DecodeConfig),
// and an image of more than MaxImagePixels, or one whose decoding would
// take more than MaxImageDecodedBytes (DecodedBytes), is refused before it
// is decoded, as is a shape of more pixels than MaxImagePixels.
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
	return decodeImage(s.r.(io.ReadSeeker), path, shape, invert, MaxImagePixels, MaxImageDecodedBytes, "MaxImageDecodedBytes")
}

// DecodeImage decodes a PNG or JPEG image read from r, named name in
// errors (a file name, "request body"), and converts it to a model input
// of shape [channels height width] exactly as ReadImage converts a file:
// the same checks (MaxImagePixels for the shape and the declared
// dimensions, MaxImageFileBytes for the bytes read) and the same values.
// maxDecoded bounds the memory decoding may take (DecodedBytes), checked
// from the header before decoding; 0 means MaxImageDecodedBytes. limit
// names maxDecoded in errors (a flag, "--max-image-bytes"). An image past
// a limit is an error wrapping safeio.ErrTooLarge.
func DecodeImage(r io.ReadSeeker, name string, shape []int, invert bool, maxDecoded int64, limit string) ([]float32, error) {
	if err := checkImageShape(name, shape, MaxImagePixels); err != nil {
		return nil, err
	}
	if maxDecoded <= 0 {
		maxDecoded, limit = MaxImageDecodedBytes, "MaxImageDecodedBytes"
	}
	return decodeImage(r, name, shape, invert, MaxImagePixels, maxDecoded, limit)
}

// DecodedBytes returns the bytes that Go's decoders reserve for an image
// whose header declares cfg: width × height × channels × bytes per
// sample of its color model (8 for one Go does not name, the most any
// takes). A JPEG's YCbCr counts 3 bytes a pixel, its most (4:4:4).
func DecodedBytes(cfg image.Config) int64 {
	per := int64(8)
	switch m := cfg.ColorModel; {
	case m == color.GrayModel, m == color.AlphaModel:
		per = 1
	case m == color.Gray16Model, m == color.Alpha16Model:
		per = 2
	case m == color.YCbCrModel:
		per = 3
	case m == color.RGBAModel, m == color.NRGBAModel, m == color.CMYKModel, m == color.NYCbCrAModel:
		per = 4
	case m == color.RGBA64Model, m == color.NRGBA64Model:
		per = 8
	default:
		if _, ok := m.(color.Palette); ok {
			per = 1
		}
	}
	return int64(cfg.Width) * int64(cfg.Height) * per
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
// more than maxPixels pixels, or whose decoding would take more than
// maxDecoded bytes (limit names it), before decoding it, and converts it
// for ReadImage.
func decodeImage(r io.ReadSeeker, name string, shape []int, invert bool, maxPixels int, maxDecoded int64, limit string) ([]float32, error) {
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
	if need := DecodedBytes(cfg); need > maxDecoded {
		return nil, fmt.Errorf("%s: %s image of %dx%d pixels would take %s to decode, more than the %s allowed (%s): %w",
			name, format, cfg.Width, cfg.Height, mib(need), mib(maxDecoded), limit, safeio.ErrTooLarge)
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

// mib writes n bytes in MiB, to one decimal.
func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
