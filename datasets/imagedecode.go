package datasets

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"slices"

	"github.com/dlrun/dlrun/internal/safeio"
	"github.com/pkg/errors"
	"golang.org/x/image/draw"
	"golang.org/x/image/webp"
)

// The image-decoding helper shared by the image readers: a file's format
// is recognised by its first bytes (not its name, and not through the
// image package's global registry, so what a reader accepts is stated
// here), its header is read first, and an image declaring more pixels
// than a limit is refused before any pixel memory is reserved: the check
// against decompression bombs. Then the pixels are turned into a model
// input of shape [channels height width] with values in [0, 1].

// imageFormat is one image file format the image-folder reader decodes.
type imageFormat struct {
	name   string
	magic  func(head []byte) bool
	config func(io.Reader) (image.Config, error)
	decode func(io.Reader) (image.Image, error)
}

// imageFormats are the formats of image folders: PNG, JPEG, GIF (its
// first frame) and WebP (lossy and lossless, through
// golang.org/x/image/webp).
var imageFormats = []imageFormat{
	{"PNG", func(h []byte) bool { return bytes.HasPrefix(h, []byte("\x89PNG\r\n\x1a\n")) }, png.DecodeConfig, png.Decode},
	{"JPEG", func(h []byte) bool { return bytes.HasPrefix(h, []byte{0xff, 0xd8}) }, jpeg.DecodeConfig, jpeg.Decode},
	{"GIF", func(h []byte) bool {
		return bytes.HasPrefix(h, []byte("GIF87a")) || bytes.HasPrefix(h, []byte("GIF89a"))
	}, gif.DecodeConfig, gif.Decode},
	{"WebP", func(h []byte) bool { return len(h) >= 12 && string(h[:4]) == "RIFF" && string(h[8:12]) == "WEBP" }, webp.DecodeConfig, webp.Decode},
}

// imageFormatNames is how errors list the formats.
const imageFormatNames = "PNG, JPEG, GIF or WebP"

// imageHeader is what an image file's header declares.
type imageHeader struct {
	format        *imageFormat
	width, height int
	gray          bool  // a grayscale colour model: the image has one channel
	decoded       int64 // the bytes decoding takes (DecodedBytes)
}

// readImageHeader recognises the format of the image file b, named name
// in errors, and reads its header, refusing an image of more than
// maxPixels pixels (an error wrapping safeio.ErrTooLarge).
func readImageHeader(b []byte, name string, maxPixels int) (imageHeader, error) {
	head := b[:min(len(b), 12)]
	var f *imageFormat
	for i := range imageFormats {
		if imageFormats[i].magic(head) {
			f = &imageFormats[i]
			break
		}
	}
	if f == nil {
		return imageHeader{}, errors.Errorf("%s: not a %s image (unknown first bytes % x)", name, imageFormatNames, head)
	}
	cfg, err := f.config(bytes.NewReader(b))
	if err != nil {
		return imageHeader{}, errors.Errorf("%s: not a readable %s image (%v)", name, f.name, err)
	}
	if cfg.Width < 1 || cfg.Height < 1 {
		return imageHeader{}, errors.Errorf("%s: %s image is %dx%d pixels, none to read", name, f.name, cfg.Width, cfg.Height)
	}
	if cfg.Width > maxPixels/cfg.Height {
		return imageHeader{}, fmt.Errorf("%s: %s image is %dx%d pixels, more than the %d an image may have (MaxImagePixels): %w",
			name, f.name, cfg.Width, cfg.Height, maxPixels, safeio.ErrTooLarge)
	}
	return imageHeader{format: f, width: cfg.Width, height: cfg.Height, gray: isGrayModel(cfg.ColorModel), decoded: DecodedBytes(cfg)}, nil
}

// checkDecoded refuses the image of header h, named name, if decoding it
// would take more than maxDecoded bytes (limit names the bound): an error
// wrapping safeio.ErrTooLarge.
func (h imageHeader) checkDecoded(name string, maxDecoded int64, limit string) error {
	if h.decoded > maxDecoded {
		return fmt.Errorf("%s: %s image of %dx%d pixels would take %s to decode, more than the %s allowed (%s): %w",
			name, h.format.name, h.width, h.height, mib(h.decoded), mib(maxDecoded), limit, safeio.ErrTooLarge)
	}
	return nil
}

// isGrayModel reports whether m is a grayscale colour model, or a
// palette of grays only.
func isGrayModel(m color.Model) bool {
	switch m {
	case color.GrayModel, color.Gray16Model:
		return true
	}
	if p, ok := m.(color.Palette); ok {
		for _, c := range p {
			r, g, b, _ := c.RGBA()
			if r != g || g != b {
				return false
			}
		}
		return len(p) > 0
	}
	return false
}

// decodeImageFile decodes the image file b, named name in errors: its
// header first (readImageHeader, maxPixels), refusing an image whose
// decoding would take more than maxDecoded bytes (DecodedBytes; limit
// names the bound in the error, which wraps safeio.ErrTooLarge), then its
// pixels, which must lie within the size the header declared.
func decodeImageFile(b []byte, name string, maxPixels int, maxDecoded int64, limit string) (image.Image, imageHeader, error) {
	hdr, err := readImageHeader(b, name, maxPixels)
	if err != nil {
		return nil, hdr, err
	}
	if err := hdr.checkDecoded(name, maxDecoded, limit); err != nil {
		return nil, hdr, err
	}
	img, err := hdr.format.decode(bytes.NewReader(b))
	if err != nil {
		return nil, hdr, errors.Errorf("%s: not a readable %s image (%v)", name, hdr.format.name, err)
	}
	if b := img.Bounds(); b.Min.X < 0 || b.Min.Y < 0 || b.Max.X > hdr.width || b.Max.Y > hdr.height || b.Empty() {
		return nil, hdr, errors.Errorf("%s: decoded pixels %v, but the %s header declares %dx%d", name, b, hdr.format.name, hdr.width, hdr.height)
	}
	return img, hdr, nil
}

// readImageFile reads the image file at path whole into buf (grown if
// need be): a regular file of at most MaxImageFileBytes, read in one go.
func readImageFile(path string, buf []byte) ([]byte, error) {
	s, done, err := openSource(path)
	if err != nil {
		return buf, err
	}
	defer done()
	if s.size > MaxImageFileBytes {
		return buf, fmt.Errorf("%s: %d bytes, more than the %d an image file may hold (MaxImageFileBytes): %w", path, s.size, MaxImageFileBytes, safeio.ErrTooLarge)
	}
	buf = slices.Grow(buf[:0], int(s.size))[:s.size]
	if _, err := io.ReadFull(s.r, buf); err != nil {
		return buf, errors.Errorf("%s: %v (the file shrank while it was read?)", path, err)
	}
	return buf, nil
}

// imageInput converts src into dst, a model input of shape [c h w] (c 1
// or 3) with values in [0, 1]: resized to h×w with draw.BiLinear (the
// tent filter, widened when shrinking so that every source pixel counts,
// as torchvision's antialiased bilinear resize does) unless it already has
// that size; transparent pixels count as black (premultiplied alpha).
// One channel is the luminance 0.299R + 0.587G + 0.114B, or the gray
// value itself where R = G = B, so a grayscale image gives exactly
// value/255, as its IDX bytes do; three channels are the red, green and
// blue planes. work, if it has room, holds the resized pixels; the
// RGBA image used is returned for reuse.
func imageInput(src image.Image, c, h, w int, dst []float32, work *image.RGBA) *image.RGBA {
	b := src.Bounds()
	if g, ok := src.(*image.Gray); ok && b.Dx() == w && b.Dy() == h {
		for y := 0; y < h; y++ {
			row := g.Pix[(y)*g.Stride : y*g.Stride+w]
			for x, v := range row {
				p := pixelScale[v]
				for ch := 0; ch < c; ch++ {
					dst[(ch*h+y)*w+x] = p
				}
			}
		}
		return work
	}
	rect := image.Rect(0, 0, w, h)
	if work == nil || work.Bounds() != rect {
		work = image.NewRGBA(rect)
	}
	if b.Dx() == w && b.Dy() == h {
		draw.Draw(work, rect, src, b.Min, draw.Src)
	} else {
		draw.BiLinear.Scale(work, rect, src, b, draw.Src, nil)
	}
	for y := 0; y < h; y++ {
		row := work.Pix[y*work.Stride : y*work.Stride+4*w]
		for x := 0; x < w; x++ {
			r, g, bl := row[4*x], row[4*x+1], row[4*x+2]
			if c == 1 {
				if r == g && g == bl {
					dst[y*w+x] = pixelScale[r]
				} else {
					dst[y*w+x] = 0.299*pixelScale[r] + 0.587*pixelScale[g] + 0.114*pixelScale[bl]
				}
				continue
			}
			dst[y*w+x] = pixelScale[r]
			dst[(h+y)*w+x] = pixelScale[g]
			dst[(2*h+y)*w+x] = pixelScale[bl]
		}
	}
	return work
}
