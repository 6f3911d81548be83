package video

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// needFFmpeg skips a test when Debian's ffmpeg is missing, unless
// DLRUN_REQUIRE_FFMPEG is set (as CI sets it), which makes it fail.
func needFFmpeg(t testing.TB) {
	t.Helper()
	for _, p := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(p); err != nil {
			if os.Getenv("DLRUN_REQUIRE_FFMPEG") != "" {
				t.Fatalf("%s is required (DLRUN_REQUIRE_FFMPEG is set): %v", p, err)
			}
			t.Skipf("%s not installed", p)
		}
	}
}

// ffmpegMake runs ffmpeg with args (quiet, overwriting) to make a fixture
// in a test's temporary folder and returns the path of its last argument.
func ffmpegMake(t testing.TB, args ...string) string {
	t.Helper()
	needFFmpeg(t)
	out := args[len(args)-1]
	args[len(args)-1] = out
	cmd := exec.Command("ffmpeg", append([]string{"-nostdin", "-v", "error", "-y"}, args...)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %v: %v\n%s", args, err, b)
	}
	return out
}

// testsrc makes a constant-rate H.264 clip of ffmpeg's testsrc2 in dir.
func testsrc(t testing.TB, dir string, seconds float64, rate int) string {
	return ffmpegMake(t, "-f", "lavfi", "-i",
		fmt.Sprintf("testsrc2=size=160x90:rate=%d:duration=%g", rate, seconds),
		"-c:v", "libx264", "-pix_fmt", "yuv420p", filepath.Join(dir, "testsrc.mp4"))
}

// endless streams a YUV4MPEG2 video of w x h grey frames at 25 fps that
// never ends: a pipe from a camera or a live feed.
type endless struct {
	header, frame []byte
	pos           int
	sent          bool
}

func newEndless(w, h int) *endless {
	frame := append([]byte("FRAME\n"), make([]byte, w*h*3/2)...)
	for i := 6; i < len(frame); i++ {
		frame[i] = 128
	}
	return &endless{header: []byte(fmt.Sprintf("YUV4MPEG2 W%d H%d F25:1 Ip A1:1 C420jpeg\n", w, h)), frame: frame}
}

func (e *endless) Read(p []byte) (int, error) {
	if !e.sent {
		e.sent = true
		return copy(p, e.header), nil
	}
	n := copy(p, e.frame[e.pos:])
	e.pos = (e.pos + n) % len(e.frame)
	return n, nil
}

var _ io.Reader = (*endless)(nil)

// decodeAll reads every frame's time.
func decodeAll(t testing.TB, d *Decoder) ([]float64, error) {
	t.Helper()
	var times []float64
	for {
		f, err := d.Next()
		if err == io.EOF {
			return times, nil
		}
		if err != nil {
			return times, err
		}
		if f.Index != len(times) {
			t.Fatalf("frame index %d, want %d", f.Index, len(times))
		}
		times = append(times, f.Time)
	}
}

var bg = context.Background()
