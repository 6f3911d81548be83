package video

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"strconv"
	"sync"

	"github.com/pkg/errors"
)

// Default frame size: TransNetV2's 48x27, the 16:9 thumbnail its learned
// detector sees.
const (
	DefaultWidth  = 48
	DefaultHeight = 27
)

// Options says how to decode. The zero value decodes whole videos to
// 48x27 frames, refusing streams over DefaultMaxPixels, with ffmpeg from
// PATH.
type Options struct {
	// Width and Height of the frames ffmpeg scales to; zero means 48x27.
	Width, Height int
	// MaxDuration stops decoding at the first frame at or after this time
	// in seconds (Decoder.Truncated then reports it); zero means no limit,
	// which a pipe that never ends needs.
	MaxDuration float64
	// MaxPixels refuses a stream whose frames hold more pixels; zero means
	// DefaultMaxPixels.
	MaxPixels int
	// Fast skips the decoder's in-loop deblocking filter (H.264, HEVC):
	// decoding takes about an eighth less CPU, but the blockiness it
	// leaves builds up from frame to frame until the next key frame, and
	// enough of it survives scaling to thumbnails to move a detection by a
	// frame or two now and then (bench/shotsfast measures it).
	Fast bool
	// Tools names ffmpeg and ffprobe; the zero value finds them on PATH.
	Tools Tools
}

// maxFrameSide bounds Options.Width and Height: the frames are thumbnails.
const maxFrameSide = 4096

func (o Options) size() (int, int, error) {
	w, h := o.Width, o.Height
	if w == 0 && h == 0 {
		w, h = DefaultWidth, DefaultHeight
	}
	if w <= 0 || h <= 0 || w > maxFrameSide || h > maxFrameSide {
		return 0, 0, errors.Wrapf(ErrBadOptions, "video: frame size %dx%d (each side 1 to %d)", o.Width, o.Height, maxFrameSide)
	}
	if o.MaxDuration < 0 || o.MaxDuration != o.MaxDuration {
		return 0, 0, errors.Wrapf(ErrBadOptions, "video: max duration %v", o.MaxDuration)
	}
	return w, h, nil
}

// Frame is one decoded frame.
type Frame struct {
	Index int     // 0 for the first frame, counting every frame decoded
	Time  float64 // presentation time in seconds, as the file gives it
	// Width and Height of the frame in pixels.
	Width, Height int
	// RGB holds Height rows of Width pixels, 3 bytes each (R, G, B). The
	// Decoder reuses it: it is valid until the next call to Next.
	RGB []byte
}

// Decoder hands out a video's frames in presentation order. It is not safe
// for concurrent use.
type Decoder struct {
	input  string
	parent context.Context
	w, h   int
	maxDur float64
	cmd    *exec.Cmd
	stdout io.ReadCloser
	times  chan float64
	cancel context.CancelFunc
	done   chan struct{} // closed when the stderr reader ends
	mu     sync.Mutex
	stderr tail
	rate   float64
	buf    []byte
	n      int
	last   float64
	trunc  bool
	err    error
	closed bool
	info   Info
	pipe   bool // reading a stream, which ffmpeg cannot seek
}

// Open starts decoding the video file at path. It probes the file first,
// so that an empty, corrupt, non-video or oversized file fails here with
// one line of error.
func Open(ctx context.Context, path string, opt Options) (*Decoder, error) {
	if _, _, err := opt.size(); err != nil {
		return nil, err
	}
	if st, err := os.Stat(path); err != nil || !st.Mode().IsRegular() {
		// A FIFO or device is read once: ffmpeg may start only after
		// ffprobe has read it (and Probe's error says what is wrong).
		info, err := Probe(ctx, opt.Tools, path, opt.MaxPixels)
		if err != nil {
			return nil, err
		}
		d, err := start(ctx, path, "file:"+path, nil, opt)
		if err != nil {
			return nil, err
		}
		d.setInfo(info)
		return d, nil
	}
	// ffmpeg starts while ffprobe reads the file, so that neither waits
	// for the other to load; ffmpeg is stopped if the probe finds fault.
	type probed struct {
		info Info
		err  error
	}
	ch := make(chan probed, 1)
	go func() {
		info, err := Probe(ctx, opt.Tools, path, opt.MaxPixels)
		ch <- probed{info, err}
	}()
	d, err := start(ctx, path, "file:"+path, nil, opt)
	p := <-ch
	if p.err != nil {
		if err == nil {
			d.stop()
		}
		return nil, p.err
	}
	if err != nil {
		return nil, err
	}
	d.setInfo(p.info)
	return d, nil
}

// setInfo records what Probe read of the file being decoded.
func (d *Decoder) setInfo(info Info) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.info = info
	if info.Rate > 0 || d.rate == 0 {
		d.rate = info.Rate
	}
}

// OpenReader decodes the video that r streams (a pipe, say), named name in
// errors. ffmpeg finds the container from the bytes; the frame size limit
// is ffmpeg's own max_pixels check, so it fails at the first Next.
func OpenReader(ctx context.Context, r io.Reader, name string, opt Options) (*Decoder, error) {
	return start(ctx, name, "pipe:0", r, opt)
}

// Lavfi decodes what one of ffmpeg's lavfi source filters generates, such
// as "mandelbrot=size=320x180:rate=25" or "testsrc2=duration=4": test
// patterns and synthetic scenes, bounded by the graph's own duration or
// by Options.MaxDuration.
func Lavfi(ctx context.Context, graph string, opt Options) (*Decoder, error) {
	return start(ctx, "lavfi "+graph, graph, nil, opt, "-f", "lavfi")
}

// pipeSize is the room asked for in the pipe of frames (Linux's most for
// a user by default): 269 frames of 48x27 read ahead, ten seconds of 25 fps
// video, so that decoding goes on while a detector scores a window.
const pipeSize = 1 << 20

// maxQueued bounds the frame times read from ffmpeg's log ahead of their
// frames: more than the frames of 48x27 that the pipe holds, so that the
// log never holds ffmpeg back while the pipe has room.
const maxQueued = 1024

// start runs ffmpeg on input (a file: URL, pipe:0 reading stdin, or what
// the input options before it name).
func start(ctx context.Context, name, input string, stdin io.Reader, opt Options, inputOpts ...string) (*Decoder, error) {
	w, h, err := opt.size()
	if err != nil {
		return nil, err
	}
	prog, err := opt.Tools.ffmpeg()
	if err != nil {
		return nil, err
	}
	maxPixels := opt.MaxPixels
	if maxPixels <= 0 {
		maxPixels = DefaultMaxPixels
	}
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	// showinfo, last in the chain, logs each frame as it leaves the
	// filters, so its n-th line is the n-th frame on stdout; passthrough
	// keeps ffmpeg from dropping or duplicating frames to a constant rate.
	vf := fmt.Sprintf("scale=%d:%d:flags=area,format=rgb24,showinfo", w, h)
	args := []string{"-nostdin", "-hide_banner", "-nostats", "-loglevel", "info",
		"-max_pixels", strconv.Itoa(maxPixels)}
	if opt.Fast {
		args = append(args, "-skip_loop_filter", "all")
	}
	args = append(args, inputOpts...)
	args = append(args, "-i", input,
		"-map", "0:v:0", "-an", "-sn", "-dn", "-fps_mode", "passthrough",
		"-vf", vf, "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1")
	cmd := command(ctx, prog, args...)
	cmd.Stdin = stdin
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		return nil, errors.Wrap(err, "video")
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		cancel()
		return nil, errors.Wrap(err, "video")
	}
	growPipe(stdout, pipeSize)
	d := &Decoder{
		input: name, parent: parent, w: w, h: h, maxDur: opt.MaxDuration, cmd: cmd, stdout: stdout,
		times: make(chan float64, maxQueued), cancel: cancel, done: make(chan struct{}),
		stderr: tail{keep: 16}, buf: make([]byte, w*h*3), pipe: stdin != nil,
	}
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, errors.Wrapf(err, "video: starting %s", prog)
	}
	go d.readStderr(stderr)
	return d, nil
}

// readStderr sends each frame's time from showinfo's log lines to d.times
// and keeps the last other lines for error messages. Lines are read with a
// bounded buffer: an over-long line is cut, never held whole.
func (d *Decoder) readStderr(r io.Reader) {
	defer close(d.done)
	defer close(d.times)
	br := bufio.NewReaderSize(r, maxLine)
	for {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			// Skip the rest of an over-long line.
			d.note(line)
			for err == bufio.ErrBufferFull {
				_, err = br.ReadSlice('\n')
			}
			if err != nil {
				return
			}
			continue
		}
		if len(line) > 0 {
			if t, ok := showinfoTime(line); ok {
				d.times <- t
			} else if r, ok := showinfoRate(line); ok {
				d.mu.Lock()
				if d.rate == 0 {
					d.rate = r
				}
				d.mu.Unlock()
			} else {
				d.note(line)
			}
		}
		if err != nil {
			return
		}
	}
}

func (d *Decoder) note(line []byte) {
	d.mu.Lock()
	d.stderr.Write(line)
	if len(line) == 0 || line[len(line)-1] != '\n' {
		d.stderr.Write([]byte{'\n'})
	}
	d.mu.Unlock()
}

var (
	showinfoTag = []byte("[Parsed_showinfo")
	ptsTimeTag  = []byte(" pts_time:")
	rateTag     = []byte("config in time_base:")
	frameRate   = []byte("frame_rate: ")
)

// showinfoTime reads pts_time from showinfo's line for one frame:
// "[Parsed_showinfo_2 @ 0x..] n:   0 pts:      0 pts_time:0       pos: ...".
// A frame without a time reads as NaN.
func showinfoTime(line []byte) (float64, bool) {
	if !bytes.HasPrefix(line, showinfoTag) {
		return 0, false
	}
	i := bytes.Index(line, ptsTimeTag)
	if i < 0 || !bytes.Contains(line[:i], []byte(" n:")) {
		return 0, false
	}
	f := bytes.Fields(line[i+len(ptsTimeTag):])
	if len(f) == 0 {
		return 0, false
	}
	t, err := strconv.ParseFloat(string(f[0]), 64)
	if err != nil {
		return math.NaN(), true
	}
	return t, true
}

// showinfoRate reads the frame rate from showinfo's configuration line,
// "config in time_base: 1/12800, frame_rate: 25/1"; 0/1 means unknown.
func showinfoRate(line []byte) (float64, bool) {
	if !bytes.HasPrefix(line, showinfoTag) || !bytes.Contains(line, rateTag) {
		return 0, false
	}
	i := bytes.Index(line, frameRate)
	if i < 0 {
		return 0, true
	}
	f := bytes.Fields(line[i+len(frameRate):])
	if len(f) == 0 {
		return 0, true
	}
	return ratio(string(f[0])), true
}

// Size returns the frames' width and height.
func (d *Decoder) Size() (int, int) { return d.w, d.h }

// Info returns what Probe read of a file; zero for OpenReader's streams.
func (d *Decoder) Info() Info { return d.info }

// Rate returns the stream's nominal frame rate in frames per second, the
// container's average rate for a file, the rate ffmpeg's filters see for a
// stream; 0 while unknown.
func (d *Decoder) Rate() float64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.rate
}

// Truncated reports whether decoding stopped at Options.MaxDuration before
// the video's end.
func (d *Decoder) Truncated() bool { return d.trunc }

// Next returns the next frame, or io.EOF after the last. Any other error
// is one line naming the input; after it, or io.EOF, Next returns the same
// error again. The frame's RGB is valid until the next call.
func (d *Decoder) Next() (Frame, error) {
	if d.err != nil {
		return Frame{}, d.err
	}
	if _, err := io.ReadFull(d.stdout, d.buf); err != nil {
		if err == io.ErrUnexpectedEOF || err == io.EOF {
			d.err = d.finish()
		} else {
			d.err = d.finish()
			if d.err == io.EOF {
				d.err = errors.Wrapf(err, "video: reading %s", d.input)
			}
		}
		return Frame{}, d.err
	}
	t, ok := <-d.times
	if !ok || t != t {
		// A frame with no time of its own follows the last at the nominal
		// rate (or 25 fps while that is unknown).
		step := 1 / 25.0
		if r := d.Rate(); r > 0 {
			step = 1 / r
		}
		t = d.last + step
		if d.n == 0 {
			t = 0
		}
	}
	if d.maxDur > 0 && t >= d.maxDur {
		d.trunc = true
		d.stop()
		d.err = io.EOF
		return Frame{}, d.err
	}
	f := Frame{Index: d.n, Time: t, Width: d.w, Height: d.h, RGB: d.buf}
	d.n++
	d.last = t
	return f, nil
}

// finish waits for ffmpeg after its output ended and says why it ended:
// io.EOF after a clean end with frames, otherwise one line of error.
func (d *Decoder) finish() error {
	d.closed = true
	go drain(d.times)
	<-d.done
	werr := d.cmd.Wait()
	d.cancel()
	if err := d.parent.Err(); err != nil {
		return errors.Wrapf(err, "video: decoding %s", d.input)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if werr != nil {
		if _, ok := werr.(*exec.ExitError); ok {
			if d.pipe && d.n == 0 && d.stderr.has("partial file") {
				// An MP4 or MOV whose index (moov) follows its samples:
				// ffmpeg reads the index at the stream's end and cannot
				// go back for the samples.
				return errors.Wrapf(ErrUnreadable, "video: %s: an MP4 or MOV whose index (moov atom) comes after its frames cannot be read from a pipe: give the file's path, or remux it with ffmpeg -movflags +faststart", d.input)
			}
			err := classify(d.input, &d.stderr)
			if d.n > 0 && errors.Is(err, ErrUnreadable) {
				return errors.Wrapf(ErrUnreadable, "video: %s: after %d frames: %s", d.input, d.n, d.stderr.cause())
			}
			return err
		}
		return errors.Wrapf(werr, "video: decoding %s", d.input)
	}
	if d.n == 0 {
		return errors.Wrapf(ErrEmpty, "video: %s: no frames", d.input)
	}
	return io.EOF
}

// stop kills ffmpeg and reaps it.
func (d *Decoder) stop() {
	if d.closed {
		return
	}
	d.closed = true
	d.cancel()
	// Drain what ffmpeg logs while it dies, so the reader can end.
	go drain(d.times)
	<-d.done
	d.cmd.Wait()
}

// drain empties ch until it is closed.
func drain(ch chan float64) {
	for range ch {
	}
}

// Close stops ffmpeg if it is still running and releases the Decoder.
// Closing early (before io.EOF) is not an error.
func (d *Decoder) Close() error {
	d.stop()
	if d.err == nil {
		d.err = errors.Errorf("video: %s: decoder closed", d.input)
	}
	return nil
}
