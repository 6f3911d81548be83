package video

import (
	"image/png"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// threeShots makes a 6 s clip of three lavfi sources joined by hard cuts
// at 2 s and 4 s, with a tone for sound.
func threeShots(t *testing.T, dir string) string {
	return ffmpegMake(t, "-f", "lavfi", "-i",
		"testsrc2=s=160x90:r=25:d=2,format=yuv420p[a];"+
			"mandelbrot=s=160x90:r=25,trim=duration=2,setpts=PTS-STARTPTS,format=yuv420p[b];"+
			"smptehdbars=s=160x90:r=25:d=2,format=yuv420p[c];[a][b][c]concat=n=3[out0]",
		"-f", "lavfi", "-i", "sine=frequency=440:duration=6",
		"-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", filepath.Join(dir, "three.mp4"))
}

func detectFile(t *testing.T, path string) (Info, Result) {
	t.Helper()
	d, err := Open(bg, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	res, err := Detect(d, &ContentDetector{}, DefaultMinSceneLen)
	if err != nil {
		t.Fatal(err)
	}
	return d.Info(), res
}

func TestSheetSplitSummary(t *testing.T) {
	dir := t.TempDir()
	path := threeShots(t, dir)
	info, res := detectFile(t, path)
	if len(res.Scenes) != 3 {
		t.Fatalf("%d scenes", len(res.Scenes))
	}

	// The contact sheet: 3 thumbnails of 192x108 in a row of 4 columns.
	sheet := filepath.Join(dir, "sheet.png")
	if err := ContactSheet(bg, path, info, res.Scenes, sheet, SheetOptions{}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(sheet)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 4*198+6 || b.Dy() != 108+16+12 {
		t.Errorf("sheet %v", b)
	}
	// The second thumbnail shows the mandelbrot's black interior, the
	// third the bars' bright colours: they differ.
	r1, g1, b1, _ := img.At(6+198+96, 6+54).RGBA()
	r2, g2, b2, _ := img.At(6+2*198+20, 6+20).RGBA()
	if r1 == r2 && g1 == g2 && b1 == b2 {
		t.Error("thumbnails alike")
	}

	// Split: one file per scene, 2 s each, with sound.
	parts := filepath.Join(dir, "parts")
	os.Mkdir(parts, 0o755)
	files, err := Split(bg, Tools{}, path, res.Scenes, parts)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"three-Scene-001.mp4", "three-Scene-002.mp4", "three-Scene-003.mp4"}
	for i, f := range files {
		if filepath.Base(f) != want[i] {
			t.Errorf("file %s, want %s", f, want[i])
		}
		pi, err := Probe(bg, Tools{}, f, 0)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(pi.Duration-2) > 0.05 {
			t.Errorf("%s lasts %v s", f, pi.Duration)
		}
	}
	if entries, _ := os.ReadDir(parts); len(entries) != 3 {
		t.Errorf("%d files in the split folder", len(entries))
	}

	// A summary of 2 shots lasts 4 s and plays.
	short := filepath.Join(dir, "short.mp4")
	used, err := Summary(bg, Tools{}, path, res, 2, short)
	if err != nil {
		t.Fatal(err)
	}
	pi, err := Probe(bg, Tools{}, short, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(used) != 2 || math.Abs(pi.Duration-4) > 0.1 || used[0].Start >= used[1].Start {
		t.Errorf("summary of %v lasts %v s", used, pi.Duration)
	}
	d, err := Open(bg, short, Options{})
	if err != nil {
		t.Fatal(err)
	}
	times, err := decodeAll(t, d)
	d.Close()
	if err != nil || len(times) != 100 {
		t.Errorf("summary decodes to %d frames, %v", len(times), err)
	}
}

// Farthest-point selection: from four shots, two of one colour and two of
// others, a pick of three takes one of each.
func TestPickShots(t *testing.T) {
	scenes := []Scene{{0, 25, 0, 1}, {25, 50, 1, 2}, {50, 75, 2, 3}, {75, 100, 3, 4}}
	feats := [][]float64{{0, 0}, {0.01, 0}, {1, 0}, {0, 1}}
	got, err := PickShots(scenes, feats, 3, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[1] != 2 || got[2] != 3 || (got[0] != 0 && got[0] != 1) {
		t.Errorf("picked %v", got)
	}
	if all, _ := PickShots(scenes, feats, 10, 0); !reflect.DeepEqual(all, []int{0, 1, 2, 3}) {
		t.Errorf("more than there are: %v", all)
	}
	if _, err := PickShots(scenes, feats[:2], 1, 0); err == nil {
		t.Error("mismatched features accepted")
	}
}
