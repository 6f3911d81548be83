package video

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

var benchMinutes = flag.Float64("video.minutes", 1, "BenchmarkDetectStream: minutes of video to stream")

// BenchmarkDecode1080p decodes a 1080p H.264 clip at 25 fps to 48x27
// frames: the decoding half of the speed budget (25 fps video at 20x real
// time is 500 frames/s). ffmpeg uses the cores it finds.
func BenchmarkDecode1080p(b *testing.B) {
	needFFmpeg(b)
	path := ffmpegMake(b, "-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=25:duration=4",
		"-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", filepath.Join(b.TempDir(), "hd.mp4"))
	for _, fast := range []bool{false, true} {
		b.Run(fmt.Sprintf("fast=%v", fast), func(b *testing.B) {
			frames := 0
			for range b.N {
				d, err := Open(bg, path, Options{Fast: fast})
				if err != nil {
					b.Fatal(err)
				}
				for {
					if _, err := d.Next(); err == io.EOF {
						break
					} else if err != nil {
						b.Fatal(err)
					}
					frames++
				}
				d.Close()
			}
			b.ReportMetric(float64(frames)/b.Elapsed().Seconds(), "frames/s")
		})
	}
}

// BenchmarkDetectStream streams -video.minutes of 320x180 H.264 (made on
// the fly by a second ffmpeg) through a pipe into the decoder and the
// content detector, and reports the largest live Go heap seen (after a
// collection, every 2,500 frames): memory must not grow with the video's
// length (compare -video.minutes=1 and 60).
func BenchmarkDetectStream(b *testing.B) {
	needFFmpeg(b)
	for range b.N {
		ctx, cancel := context.WithCancel(bg)
		src := exec.CommandContext(ctx, "ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i",
			fmt.Sprintf("testsrc2=size=320x180:rate=25:duration=%g", *benchMinutes*60),
			"-c:v", "libx264", "-preset", "ultrafast", "-g", "250", "-f", "mpegts", "pipe:1")
		pipe, err := src.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		if err := src.Start(); err != nil {
			b.Fatal(err)
		}
		d, err := OpenReader(ctx, pipe, "stream", Options{})
		if err != nil {
			b.Fatal(err)
		}
		var peak uint64
		var ms runtime.MemStats
		det := &sampledDetector{ContentDetector: &ContentDetector{}, every: 2500, peak: &peak, ms: &ms}
		res, err := Detect(d, det, DefaultMinSceneLen)
		d.Close()
		cancel()
		src.Wait()
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(res.Frames), "frames")
		b.ReportMetric(float64(peak)/(1<<20), "peak-live-heap-MB")
		b.ReportMetric(float64(res.Frames)/b.Elapsed().Seconds(), "frames/s")
	}
}

// sampledDetector reads the heap every so many frames.
type sampledDetector struct {
	*ContentDetector
	every, n int
	peak     *uint64
	ms       *runtime.MemStats
}

func (s *sampledDetector) Push(f Frame) ([]Cut, error) {
	if s.n%s.every == 0 {
		runtime.GC()
		runtime.ReadMemStats(s.ms)
		*s.peak = max(*s.peak, s.ms.HeapAlloc)
	}
	s.n++
	return s.ContentDetector.Push(f)
}
