package video

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/dlrun/dlrun/internal/atomicfile"
	"github.com/dlrun/dlrun/internal/atomicfile/atomicfiletest"
	"github.com/pkg/errors"
)

// Frames written by Create read back through Open: as many, at the
// rate's times, in their colours.
func TestEncodeRoundTrip(t *testing.T) {
	needFFmpeg(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "clip.mp4")
	e, err := Create(bg, path, 64, 36, EncodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		rgb := make([]byte, 64*36*3)
		for p := 0; p < len(rgb); p += 3 {
			rgb[p+1] = byte(200 * (i / 10)) // black, then green
		}
		if err := e.Write(rgb); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Error("file visible before Close")
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	d, err := Open(bg, path, Options{Width: 8, Height: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	n := 0
	for {
		f, err := d.Next()
		if err != nil {
			break
		}
		g := int(f.RGB[1])
		if (n < 10 && g > 20) || (n >= 10 && (g < 180 || g > 220)) || f.Time != float64(n)/25 {
			t.Errorf("frame %d at %v: green %d", n, f.Time, g)
		}
		n++
	}
	if n != 20 {
		t.Errorf("%d frames back, want 20", n)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("folder holds %d files", len(entries))
	}
}

// A failed or abandoned encoding leaves an existing file as it was.
func TestEncodeKeepsExisting(t *testing.T) {
	needFFmpeg(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "clip.mp4")
	os.WriteFile(path, []byte("precious"), 0o644)
	e, err := Create(bg, path, 64, 36, EncodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Write(make([]byte, 10)); !errors.Is(err, ErrBadOptions) {
		t.Errorf("short frame: %v", err)
	}
	e.Abort()
	ctx, cancel := context.WithCancel(bg)
	e, err = Create(ctx, path, 64, 36, EncodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e.Write(make([]byte, 64*36*3))
	cancel()
	if err := e.Close(); err == nil {
		t.Error("cancelled encoding closed without error")
	}
	if b, _ := os.ReadFile(path); string(b) != "precious" {
		t.Errorf("existing file now %q", b)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("folder holds %d files", len(entries))
	}
	for _, bad := range []struct {
		name string
		w, h int
	}{{"x.avi", 64, 36}, {"x.mp4", 63, 36}, {"x.mp4", 0, 36}} {
		if _, err := Create(bg, filepath.Join(dir, bad.name), bad.w, bad.h, EncodeOptions{}); !errors.Is(err, ErrBadOptions) {
			t.Errorf("%v: %v", bad, err)
		}
	}
}

func TestLavfi(t *testing.T) {
	needFFmpeg(t)
	d, err := Lavfi(bg, "mandelbrot=size=96x54:rate=25", Options{MaxDuration: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	times, err := decodeAll(t, d)
	if err != nil || len(times) != 25 || !d.Truncated() {
		t.Fatalf("%d frames, %v, truncated %v", len(times), err, d.Truncated())
	}
}

// Every file ffmpeg writes (Create's encoding, Join's edit, Split's
// scenes) follows internal/atomicfile's rule: a device, FIFO, socket,
// folder or a link to one is refused and left as it was.
func TestEncodersRefuseWhatIsNotARegularFile(t *testing.T) {
	needFFmpeg(t)
	src := filepath.Join(t.TempDir(), "src.mp4")
	e, err := Create(bg, src, 32, 18, EncodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		e.Write(make([]byte, 32*18*3))
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	scenes := []Scene{{Start: 0, End: 10, StartTime: 0, EndTime: 0.4}}
	links := t.TempDir()
	for i, n := range atomicfiletest.Make(t.TempDir()) {
		if n.Reason != "" {
			continue
		}
		// The writers take a video's extension: a link named so leads to
		// the node.
		path := filepath.Join(links, fmt.Sprintf("%d.mp4", i))
		if err := os.Symlink(n.Path, path); err != nil {
			t.Fatal(err)
		}
		var errs []error
		if e, err := Create(bg, path, 32, 18, EncodeOptions{}); err == nil {
			e.Abort()
			errs = append(errs, errors.New("Create accepted it"))
		} else {
			errs = append(errs, err)
		}
		errs = append(errs, Join(bg, Tools{}, src, scenes, path))
		for _, err := range errs {
			if !errors.Is(err, atomicfile.ErrNotRegular) {
				t.Errorf("%s: %v", n.Name, err)
			}
		}
		if err := n.Unchanged(); err != nil {
			t.Errorf("%s: %v", n.Name, err)
		}
	}
}
