package video

import (
	"context"
	"io"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/dlrun/dlrun/internal/atomicfile"
	"github.com/pkg/errors"
)

// EncodeOptions says how Create encodes. The zero value writes H.264 (or
// VP9 for .webm) at 25 frames per second, quality CRF 23.
type EncodeOptions struct {
	Rate  float64 // frames per second; zero means 25
	CRF   int     // x264's or libvpx's constant quality, 0-51; zero means 23
	Tools Tools
}

// muxers maps the extensions Create writes to ffmpeg's muxer and codec.
var muxers = map[string][2]string{
	".mp4":  {"mp4", "libx264"},
	".mov":  {"mov", "libx264"},
	".mkv":  {"matroska", "libx264"},
	".webm": {"webm", "libvpx-vp9"},
}

// Encoder writes RGB frames to a video file through ffmpeg. The file
// appears at its path only when Close succeeds: until then ffmpeg writes a
// temporary file beside it, so a failed or abandoned encoding never leaves
// a half-written video or destroys an existing one. The path follows
// internal/atomicfile's rule: a regular file or nothing (a link is
// followed to one).
type Encoder struct {
	path   string
	out    *atomicfile.File // the temporary file ffmpeg writes
	w, h   int
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr *tail
	cancel context.CancelFunc
	done   bool
}

// Create starts encoding w x h RGB frames to path (.mp4, .mov, .mkv or
// .webm). Sides must be even (4:2:0 chroma).
func Create(ctx context.Context, path string, w, h int, opt EncodeOptions) (*Encoder, error) {
	m, ok := muxers[strings.ToLower(filepath.Ext(path))]
	if !ok {
		return nil, errors.Wrapf(ErrBadOptions, "video: %s: write .mp4, .mov, .mkv or .webm", path)
	}
	if w <= 0 || h <= 0 || w%2 != 0 || h%2 != 0 || w > 8192 || h > 8192 {
		return nil, errors.Wrapf(ErrBadOptions, "video: %s: frame size %dx%d (even sides up to 8192)", path, w, h)
	}
	rate, crf := opt.Rate, opt.CRF
	if rate == 0 {
		rate = 25
	}
	if crf == 0 {
		crf = 23
	}
	if rate < 0 || rate > 1000 || crf < 0 || crf > 51 {
		return nil, errors.Wrapf(ErrBadOptions, "video: %s: rate %v, crf %d", path, rate, crf)
	}
	prog, err := opt.Tools.ffmpeg()
	if err != nil {
		return nil, err
	}
	f, err := atomicfile.Create(path, 0o644)
	if err != nil {
		return nil, errors.Wrap(err, "video")
	}
	tmp := f.TempName()
	ctx, cancel := context.WithCancel(ctx)
	args := []string{"-nostdin", "-hide_banner", "-nostats", "-loglevel", "error", "-y",
		"-f", "rawvideo", "-pix_fmt", "rgb24", "-s", strconv.Itoa(w) + "x" + strconv.Itoa(h),
		"-framerate", strconv.FormatFloat(rate, 'g', -1, 64), "-i", "pipe:0",
		"-c:v", m[1], "-crf", strconv.Itoa(crf), "-pix_fmt", "yuv420p"}
	if m[1] == "libvpx-vp9" {
		args = append(args, "-b:v", "0")
	} else {
		args = append(args, "-preset", "veryfast")
	}
	args = append(args, "-f", m[0], tmp)
	cmd := command(ctx, prog, args...)
	e := &Encoder{path: path, out: f, w: w, h: h, cmd: cmd, stderr: &tail{keep: 8}, cancel: cancel}
	cmd.Stderr = e.stderr
	if e.stdin, err = cmd.StdinPipe(); err != nil {
		cancel()
		f.Abort()
		return nil, errors.Wrap(err, "video")
	}
	if err := cmd.Start(); err != nil {
		cancel()
		f.Abort()
		return nil, errors.Wrapf(err, "video: starting %s", prog)
	}
	return e, nil
}

// Write appends one frame of w*h*3 bytes (R, G, B).
func (e *Encoder) Write(rgb []byte) error {
	if e.done {
		return errors.Errorf("video: %s: write after close", e.path)
	}
	if len(rgb) != e.w*e.h*3 {
		return errors.Wrapf(ErrBadOptions, "video: %s: frame of %d bytes, want %dx%dx3 = %d", e.path, len(rgb), e.w, e.h, e.w*e.h*3)
	}
	if _, err := e.stdin.Write(rgb); err != nil {
		e.Abort()
		return errors.Wrapf(ErrUnreadable, "video: encoding %s: %s", e.path, e.stderr.cause())
	}
	return nil
}

// Close finishes the file and moves it into place.
func (e *Encoder) Close() error {
	if e.done {
		return nil
	}
	e.done = true
	e.stdin.Close()
	err := e.cmd.Wait()
	e.cancel()
	if err != nil {
		e.out.Abort()
		return errors.Errorf("video: encoding %s: %s", e.path, e.stderr.cause())
	}
	return errors.Wrap(e.out.Commit(), "video")
}

// Abort stops ffmpeg and removes the unfinished file; the path is left
// as it was.
func (e *Encoder) Abort() {
	if e.done {
		return
	}
	e.done = true
	e.cancel()
	e.stdin.Close()
	e.cmd.Wait()
	e.out.Abort()
}
