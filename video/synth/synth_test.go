package synth

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/dlrun/dlrun/video"
)

func needFFmpeg(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		if os.Getenv("DLRUN_REQUIRE_FFMPEG") != "" {
			t.Fatal("ffmpeg is required (DLRUN_REQUIRE_FFMPEG is set)")
		}
		t.Skip("ffmpeg not installed")
	}
}

// Every source lands on one side; each generator kind and package has
// sources on both; the split of a source does not depend on the others.
func TestSplit(t *testing.T) {
	srcs := Generators(8)
	for i := 0; i < 12; i++ {
		srcs = append(srcs, Source{Name: "photo/p/" + string(rune('a'+i)), Kind: "photo", Package: "p"})
	}
	train, test := Split(srcs, 25)
	if len(train)+len(test) != len(srcs) {
		t.Fatalf("%d + %d != %d", len(train), len(test), len(srcs))
	}
	seen := map[string]string{}
	for _, s := range train {
		seen[s.Name] = "train"
	}
	for _, s := range test {
		if seen[s.Name] != "" {
			t.Fatalf("%s on both sides", s.Name)
		}
		seen[s.Name] = "test"
	}
	kinds := map[string][2]int{}
	for _, s := range srcs {
		k := kinds[group(s)]
		if seen[s.Name] == "test" {
			k[1]++
		} else {
			k[0]++
		}
		kinds[group(s)] = k
	}
	for g, k := range kinds {
		if k[0] == 0 || k[1] == 0 {
			t.Errorf("%s: %d train, %d test", g, k[0], k[1])
		}
	}
	// Listing fewer sources leaves the rest where they were.
	train2, _ := Split(srcs[:len(srcs)-3], 25)
	for _, s := range train2 {
		if seen[s.Name] != "train" && s.Kind != "photo" {
			t.Errorf("%s moved to train", s.Name)
		}
	}
}

// testPhoto writes a 320x200 PNG with a colour gradient and a few blocks.
func testPhoto(t *testing.T, dir string, seed uint64) Source {
	img := image.NewRGBA(image.Rect(0, 0, 320, 200))
	r := rand.New(rand.NewPCG(seed, 0))
	c0 := [3]float64{255 * r.Float64(), 255 * r.Float64(), 255 * r.Float64()}
	for y := 0; y < 200; y++ {
		for x := 0; x < 320; x++ {
			f := float64(x+y) / 520
			img.Set(x, y, color.RGBA{uint8(c0[0] * f), uint8(c0[1] * (1 - f)), uint8(c0[2]), 255})
		}
	}
	path := filepath.Join(dir, "photo.png")
	var b bytes.Buffer
	png.Encode(&b, img)
	os.WriteFile(path, b.Bytes(), 0o644)
	return Source{Name: "photo/test/gradient", Kind: "photo", Path: path, Package: "test", Licence: "test"}
}

// A clip's labels agree with its frames: as many frames as decoded, shots
// in order covering the clip, transitions inside it; the same seed gives
// the same labels and the same pictures.
func TestMakeClip(t *testing.T) {
	needFFmpeg(t)
	dir := t.TempDir()
	srcs := []Source{testPhoto(t, dir, 1), Generators(1)[3]} // a photo and testsrc2
	cfg := Config{Out: dir, Width: 32, Height: 18, Shots: 5}
	if err := cfg.defaults(); err != nil {
		t.Fatal(err)
	}
	var labs []Labels
	var sums [][]byte
	for run := 0; run < 2; run++ {
		path := filepath.Join(dir, "clip.mp4")
		lab, err := makeClip(context.Background(), rand.New(rand.NewPCG(7, 0)), cfg, srcs, &pictures{}, path)
		if err != nil {
			t.Fatal(err)
		}
		labs = append(labs, lab)
		d, err := video.Open(context.Background(), path, video.Options{Width: 16, Height: 9})
		if err != nil {
			t.Fatal(err)
		}
		var all []byte
		n := 0
		for {
			f, err := d.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, f.RGB...)
			n++
		}
		d.Close()
		if n != lab.Frames {
			t.Fatalf("%d frames decoded, labels say %d", n, lab.Frames)
		}
		sums = append(sums, all)
	}
	if !reflect.DeepEqual(labs[0], labs[1]) || !bytes.Equal(sums[0], sums[1]) {
		t.Error("the same seed gave different clips")
	}
	lab := labs[0]
	if len(lab.Shots) != 5 || len(lab.Transitions) != len(lab.Shots)-1 {
		t.Fatalf("%d shots, %d transitions", len(lab.Shots), len(lab.Transitions))
	}
	if lab.Shots[0].Start != 0 || lab.Shots[len(lab.Shots)-1].End != lab.Frames {
		t.Errorf("shots do not cover the clip: %+v", lab.Shots)
	}
	last := -1
	for i, tr := range lab.Transitions {
		if tr.Start <= last || tr.End < tr.Start || tr.End >= lab.Frames {
			t.Errorf("transition %d %+v out of order or range", i, tr)
		}
		if tr.Kind == "cut" && (tr.Start != tr.End || lab.Shots[i+1].Start != tr.Start) {
			t.Errorf("cut %+v, next shot starts at %d", tr, lab.Shots[i+1].Start)
		}
		if tr.Kind != "cut" && (tr.End-tr.Start+1 < 5 || tr.End-tr.Start+1 > 30) {
			t.Errorf("%s of %d frames", tr.Kind, tr.End-tr.Start+1)
		}
		last = tr.End
	}
}

func TestConfigRefused(t *testing.T) {
	for _, c := range []Config{{}, {Out: "x", Width: 33, Height: 18}, {Out: "x", Train: -1}, {Out: "x", TestPercent: 95}} {
		if err := c.defaults(); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}
