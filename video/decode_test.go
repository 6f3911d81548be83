package video

import (
	"context"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pkg/errors"
)

func TestDecodeConstantRate(t *testing.T) {
	path := testsrc(t, t.TempDir(), 2, 25)
	d, err := Open(bg, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if w, h := d.Size(); w != 48 || h != 27 {
		t.Errorf("size %dx%d, want 48x27", w, h)
	}
	if info := d.Info(); info.Width != 160 || info.Height != 90 || info.Rate != 25 || info.Frames != 50 {
		t.Errorf("info %+v", info)
	}
	times, err := decodeAll(t, d)
	if err != nil {
		t.Fatal(err)
	}
	if len(times) != 50 {
		t.Fatalf("%d frames, want 50", len(times))
	}
	for i, tm := range times {
		if math.Abs(tm-float64(i)/25) > 1e-6 {
			t.Fatalf("frame %d at %v, want %v", i, tm, float64(i)/25)
		}
	}
	if d.Truncated() {
		t.Error("truncated")
	}
}

// A variable-rate file: frames 0-9 every 40 ms, then a gap, then every 80
// ms. Each frame must come with its own time.
func TestDecodeVariableRate(t *testing.T) {
	dir := t.TempDir()
	path := ffmpegMake(t, "-f", "lavfi", "-i", "testsrc2=size=64x36:rate=25:duration=1",
		"-vf", "setpts='if(lt(N,10),N,2*N)/25/TB'", "-fps_mode", "passthrough",
		"-c:v", "ffv1", filepath.Join(dir, "vfr.mkv"))
	d, err := Open(bg, path, Options{Width: 16, Height: 9})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	times, err := decodeAll(t, d)
	if err != nil {
		t.Fatal(err)
	}
	if len(times) != 25 {
		t.Fatalf("%d frames, want 25", len(times))
	}
	for i, tm := range times {
		want := float64(i) * 0.04
		if i >= 10 {
			want = float64(i) * 0.08
		}
		if math.Abs(tm-want) > 1e-6 {
			t.Errorf("frame %d at %v, want %v", i, tm, want)
		}
	}
}

// The frames are RGB at the asked size: a red picture reads red.
func TestDecodeColours(t *testing.T) {
	path := ffmpegMake(t, "-f", "lavfi", "-i", "color=c=red:size=64x36:rate=5:duration=1",
		"-c:v", "ffv1", "-pix_fmt", "yuv444p", filepath.Join(t.TempDir(), "red.mkv"))
	d, err := Open(bg, path, Options{Width: 8, Height: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	f, err := d.Next()
	if err != nil {
		t.Fatal(err)
	}
	if len(f.RGB) != 8*4*3 {
		t.Fatalf("%d bytes", len(f.RGB))
	}
	for i := 0; i < len(f.RGB); i += 3 {
		r, g, b := f.RGB[i], f.RGB[i+1], f.RGB[i+2]
		if r < 240 || g > 15 || b > 15 {
			t.Fatalf("pixel %d is (%d,%d,%d), want red", i/3, r, g, b)
		}
	}
}

// Each kind of bad input fails with one line that names the file and
// wraps the right sentinel.
func TestDecodeHostile(t *testing.T) {
	needFFmpeg(t)
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := testsrc(t, dir, 1, 25)
	whole, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	huge := append([]byte("YUV4MPEG2 W10000 H10000 F25:1 Ip A1:1 C420jpeg\nFRAME\n"), make([]byte, 4096)...)
	cases := []struct {
		name string
		path string
		want error
	}{
		{"zero-length", write("empty.mp4", nil), ErrEmpty},
		{"text", write("notes.mp4", []byte("this is not a video\n")), ErrUnreadable},
		{"truncated", write("cut.mp4", whole[:len(whole)/3]), ErrUnreadable},
		{"audio only", ffmpegMake(t, "-f", "lavfi", "-i", "sine=duration=0.5", filepath.Join(dir, "tone.wav")), ErrNoVideo},
		{"10000x10000", write("huge.y4m", huge), ErrTooLarge},
		{"folder", dir, ErrUnreadable},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := Open(bg, c.path, Options{})
			if err == nil {
				_, err = decodeAll(t, d)
				d.Close()
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("error %v, want %v", err, c.want)
			}
			t.Log(err)
			msg := err.Error()
			if strings.Contains(msg, "\n") || !strings.Contains(msg, filepath.Base(c.path)) {
				t.Errorf("error %q: want one line naming %s", msg, filepath.Base(c.path))
			}
		})
	}
}

// On a pipe there is no probe: ffmpeg's own pixel limit refuses the
// 10,000x10,000 stream, a stream of garbage is unreadable, and an MP4
// whose index follows its frames (ffmpeg's default) is refused in a line
// that says how to read it.
func TestDecodeHostilePipe(t *testing.T) {
	needFFmpeg(t)
	huge := append([]byte("YUV4MPEG2 W10000 H10000 F25:1 Ip A1:1 C420jpeg\nFRAME\n"), make([]byte, 4096)...)
	// Larger than the buffer ffmpeg can look back in (a small file is read
	// whole before it is parsed, and decodes).
	mp4, err := os.ReadFile(ffmpegMake(t, "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=4",
		"-c:v", "libx264", "-pix_fmt", "yuv420p", filepath.Join(t.TempDir(), "indexed-at-end.mp4")))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		data string
		want error
		says string
	}{
		{"10000x10000", string(huge), ErrTooLarge, ""},
		{"garbage", strings.Repeat("garbage ", 1000), ErrUnreadable, ""},
		{"nothing", "", ErrUnreadable, ""},
		{"mp4 indexed at its end", string(mp4), ErrUnreadable, "-movflags +faststart"},
	} {
		d, err := OpenReader(bg, strings.NewReader(c.data), "stdin", Options{})
		if err != nil {
			t.Fatal(err)
		}
		_, err = decodeAll(t, d)
		d.Close()
		if !errors.Is(err, c.want) || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: error %v, want one line wrapping %v that says %q", c.name, err, c.want, c.says)
		}
	}
}

// A pipe that never ends stops at MaxDuration.
func TestDecodeMaxDuration(t *testing.T) {
	needFFmpeg(t)
	d, err := OpenReader(bg, newEndless(64, 36), "stdin", Options{MaxDuration: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	times, err := decodeAll(t, d)
	if err != nil {
		t.Fatal(err)
	}
	if len(times) != 50 || !d.Truncated() {
		t.Fatalf("%d frames, truncated %v; want 50 and true", len(times), d.Truncated())
	}
	if d.Rate() != 25 {
		t.Errorf("rate %v, want 25", d.Rate())
	}
}

// Cancelling the context kills ffmpeg: Next returns the context's error
// at once rather than waiting for a stream that never ends.
func TestDecodeCancel(t *testing.T) {
	needFFmpeg(t)
	ctx, cancel := context.WithCancel(bg)
	d, err := OpenReader(ctx, newEndless(64, 36), "stdin", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for range 10 {
		if _, err := d.Next(); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	cancel()
	var n int
	for {
		_, err = d.Next()
		if err != nil {
			break
		}
		n++
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("cancel took %v", el)
	}
	if d.cmd.ProcessState == nil {
		t.Error("ffmpeg not reaped")
	}
}

// Closing before the end kills and reaps ffmpeg; Next then fails.
func TestDecodeCloseEarly(t *testing.T) {
	d, err := Open(bg, testsrc(t, t.TempDir(), 2, 25), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Next(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if d.cmd.ProcessState == nil {
		t.Error("ffmpeg not reaped")
	}
	if _, err := d.Next(); err == nil || err == io.EOF {
		t.Errorf("Next after Close: %v", err)
	}
}

func TestDecodeBadOptions(t *testing.T) {
	for _, o := range []Options{{Width: -1, Height: 5}, {Width: 5000, Height: 10}, {MaxDuration: -1}} {
		if _, err := OpenReader(bg, strings.NewReader(""), "x", o); !errors.Is(err, ErrBadOptions) {
			t.Errorf("%+v: %v", o, err)
		}
	}
	if _, err := Open(bg, "x.mp4", Options{Tools: Tools{FFprobe: "no-such-ffprobe"}}); !errors.Is(err, ErrNoFFmpeg) || !strings.Contains(err.Error(), "ffmpeg") {
		t.Errorf("missing ffprobe: %v", err)
	}
}
