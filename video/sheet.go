package video

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"

	"github.com/dlrun/dlrun/internal/atomicfile"
	"github.com/pkg/errors"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// SheetOptions lays out a contact sheet. The zero value makes thumbnails
// 192 pixels wide in 4 columns.
type SheetOptions struct {
	ThumbWidth int // zero means 192
	Columns    int // zero means 4
	Tools      Tools
}

// maxSheetScenes bounds a contact sheet: past it the PNG would be huge.
const maxSheetScenes = 2000

// ContactSheet draws one frame of each scene (the frame at the middle of
// the scene) of the video at path, in scene order, each captioned with its
// number and start time code, and writes the sheet as a PNG to out
// (atomically: an existing file is replaced only by a complete sheet).
// info gives the video's frame size, for the thumbnails' aspect.
func ContactSheet(ctx context.Context, path string, info Info, scenes []Scene, out string, opt SheetOptions) error {
	img, err := sheetImage(ctx, path, info, scenes, opt)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return errors.Wrapf(err, "video: encoding %s", out)
	}
	return atomicfile.WriteFile(out, b.Bytes(), 0o644)
}

func sheetImage(ctx context.Context, path string, info Info, scenes []Scene, opt SheetOptions) (*image.RGBA, error) {
	tw, cols := opt.ThumbWidth, opt.Columns
	if tw == 0 {
		tw = 192
	}
	if cols == 0 {
		cols = 4
	}
	if tw < 16 || tw > 1920 || cols < 1 || cols > 64 || len(scenes) == 0 || len(scenes) > maxSheetScenes {
		return nil, errors.Wrapf(ErrBadOptions, "video: contact sheet of %d scenes, %d columns of %d pixels", len(scenes), cols, tw)
	}
	if info.Width <= 0 || info.Height <= 0 {
		return nil, errors.Wrapf(ErrBadOptions, "video: contact sheet of %s: frame size unknown", path)
	}
	th := max(2, int(float64(tw)*float64(info.Height)/float64(info.Width)+0.5)&^1)
	const pad, caption = 6, 16
	rows := (len(scenes) + cols - 1) / cols
	cw, ch := tw+pad, th+caption+pad
	img := image.NewRGBA(image.Rect(0, 0, cols*cw+pad, rows*ch+pad))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.RGBA{24, 24, 24, 255}), image.Point{}, draw.Src)
	face := basicfont.Face7x13
	for i, s := range scenes {
		rgb, err := Still(ctx, opt.Tools, path, (s.StartTime+s.EndTime)/2, tw, th)
		if err != nil {
			return nil, err
		}
		x0, y0 := pad+(i%cols)*cw, pad+(i/cols)*ch
		for y := 0; y < th; y++ {
			for x := 0; x < tw; x++ {
				p := (y*tw + x) * 3
				img.SetRGBA(x0+x, y0+y, color.RGBA{rgb[p], rgb[p+1], rgb[p+2], 255})
			}
		}
		d := font.Drawer{Dst: img, Src: image.NewUniform(color.RGBA{230, 230, 230, 255}), Face: face,
			Dot: fixed.P(x0, y0+th+13)}
		d.DrawString(fmt.Sprintf("%d  %s", i+1, Timecode(s.StartTime)))
	}
	return img, nil
}
