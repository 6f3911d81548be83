package datasets

import (
	"image"
	_ "image/jpeg" // decoder
	_ "image/png"  // decoder
	"os"

	"github.com/pkg/errors"
	"golang.org/x/image/draw"
)

// ReadImage decodes a PNG or JPEG file and converts it to a model input of
// shape [channels height width] (channels 1: grayscale luminance; 3: RGB),
// resized with bilinear interpolation and scaled to [0, 1]. The bundled
// Fashion-MNIST images are light garments on black; a photograph on a
// light background needs inverting to look like them (invert).
func ReadImage(path string, shape []int, invert bool) ([]float32, error) {
	if len(shape) != 3 || (shape[0] != 1 && shape[0] != 3) || shape[1] < 1 || shape[2] < 1 {
		return nil, errors.Errorf("%s: a model input of shape %v is not an image [1 or 3, height, width]", path, shape)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	src, _, err := image.Decode(f)
	if err != nil {
		return nil, errors.Errorf("%s: not a PNG or JPEG image (%v)", path, err)
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
