package datasets

import (
	"fmt"
	"image"
	"image/color"

	"github.com/dlrun/dlrun/internal/safeio"
	"github.com/pkg/errors"
)

// ReadImage decodes an image file (PNG, JPEG, GIF or WebP, recognised by
// its first bytes) and converts it to a model input of shape [channels
// height width] exactly as an image folder's images are converted for
// training (ImageFiles): resized with draw.BiLinear unless it already has
// that size, one channel the luminance (or the gray value itself), three
// the RGB planes, scaled to [0, 1]. The bundled Fashion-MNIST images are
// light garments on black; a photograph on a light background needs
// inverting to look like them (invert: each value v becomes 1 − v).
//
// The file must be a regular file of at most MaxImageFileBytes. Its
// header is read first, and an image of more than MaxImagePixels, or one
// whose decoding would take more than MaxImageDecodedBytes (DecodedBytes),
// is refused before it is decoded, as is a shape of more pixels than
// MaxImagePixels.
func ReadImage(path string, shape []int, invert bool) ([]float32, error) {
	if err := checkImageShape(path, shape, MaxImagePixels); err != nil {
		return nil, err
	}
	b, err := readImageFile(path, nil)
	if err != nil {
		return nil, err
	}
	return convertImage(b, path, shape, invert, MaxImagePixels, MaxImageDecodedBytes, "MaxImageDecodedBytes")
}

// DecodeImage converts image b (a file's bytes, a request body), named
// name in errors, to a model input of shape [channels height width]
// exactly as ReadImage converts a file: the same checks (MaxImagePixels
// for the shape and the declared dimensions, MaxImageFileBytes for the
// bytes) and the same values. maxDecoded bounds the memory decoding may
// take (DecodedBytes), checked from the header before decoding; 0 means
// MaxImageDecodedBytes. limit names maxDecoded in errors (a flag,
// "--max-image-bytes"). An image past a limit is an error wrapping
// safeio.ErrTooLarge.
func DecodeImage(b []byte, name string, shape []int, invert bool, maxDecoded int64, limit string) ([]float32, error) {
	if err := checkImageShape(name, shape, MaxImagePixels); err != nil {
		return nil, err
	}
	if len(b) > MaxImageFileBytes {
		return nil, fmt.Errorf("%s: %d bytes, more than the %d an image file may hold (MaxImageFileBytes): %w", name, len(b), MaxImageFileBytes, safeio.ErrTooLarge)
	}
	if maxDecoded <= 0 {
		maxDecoded, limit = MaxImageDecodedBytes, "MaxImageDecodedBytes"
	}
	return convertImage(b, name, shape, invert, MaxImagePixels, maxDecoded, limit)
}

// convertImage decodes image file b with the image folders' helper
// (decodeImageFile, maxPixels) and converts it as they do (imageInput),
// inverted if asked.
func convertImage(b []byte, name string, shape []int, invert bool, maxPixels int, maxDecoded int64, limit string) ([]float32, error) {
	img, _, err := decodeImageFile(b, name, maxPixels, maxDecoded, limit)
	if err != nil {
		return nil, err
	}
	c, h, w := shape[0], shape[1], shape[2]
	out := make([]float32, c*h*w)
	imageInput(img, c, h, w, out, nil)
	if invert {
		for i, v := range out {
			out[i] = 1 - v
		}
	}
	return out, nil
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

// mib writes n bytes in MiB, to one decimal.
func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
