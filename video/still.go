package video

import (
	"context"
	"io"
	"strconv"

	"github.com/pkg/errors"
)

// Still decodes the frame of the file at path shown at time t (seconds),
// scaled to w x h, as packed RGB. ffmpeg seeks to the keyframe before t
// and decodes forward, so the frame is exact.
func Still(ctx context.Context, tools Tools, path string, t float64, w, h int) ([]byte, error) {
	if t < 0 || t != t {
		return nil, errors.Wrapf(ErrBadOptions, "video: still of %s at %v s", path, t)
	}
	d, err := start(ctx, path, "file:"+path, nil, Options{Width: w, Height: h, Tools: tools},
		"-ss", strconv.FormatFloat(t, 'f', 6, 64))
	if err != nil {
		return nil, err
	}
	defer d.Close()
	f, err := d.Next()
	if err == io.EOF {
		return nil, errors.Wrapf(ErrEmpty, "video: %s: no frame at %.3f s", path, t)
	}
	if err != nil {
		return nil, err
	}
	return append([]byte(nil), f.RGB...), nil
}
