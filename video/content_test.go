package video

import (
	"reflect"
	"testing"
)

// OpenCV's conversion, worked by hand from its fixed-point tables.
func TestHSVPixel(t *testing.T) {
	for _, c := range []struct {
		r, g, b int32
		h, s, v uint8
	}{
		{255, 0, 0, 0, 255, 255},
		{0, 255, 0, 60, 255, 255},
		{0, 0, 255, 120, 255, 255},
		{128, 128, 128, 0, 0, 128},
		{0, 0, 0, 0, 0, 0},
		{255, 128, 0, 15, 255, 255},   // (128·482 + 2048) >> 12 = 15
		{255, 0, 1, 0, 255, 255},      // (-1·482 + 2048) >> 12 = 0: no wrap to 180
		{100, 50, 200, 130, 191, 200}, // hue (650·819 + 2048) >> 12 = 130
	} {
		h, s, v := hsvPixel(c.r, c.g, c.b)
		if h != c.h || s != c.s || v != c.v {
			t.Errorf("RGB(%d,%d,%d) -> HSV(%d,%d,%d), want (%d,%d,%d)", c.r, c.g, c.b, h, s, v, c.h, c.s, c.v)
		}
	}
}

// solid makes a frame of one colour.
func solid(i int, r, g, b byte) Frame {
	rgb := make([]byte, 8*4*3)
	for p := 0; p < len(rgb); p += 3 {
		rgb[p], rgb[p+1], rgb[p+2] = r, g, b
	}
	return Frame{Index: i, Time: float64(i) / 25, Width: 8, Height: 4, RGB: rgb}
}

// run pushes frames of the colours colour(i) for i < n and collects cuts
// and scores.
func runContent(t *testing.T, c *ContentDetector, n int, colour func(int) [3]byte) ([]int, []float64) {
	t.Helper()
	var cuts []int
	var scores []float64
	for i := 0; i < n; i++ {
		col := colour(i)
		cs, err := c.Push(solid(i, col[0], col[1], col[2]))
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range cs {
			cuts = append(cuts, k.Frame)
		}
		scores = append(scores, c.Score())
	}
	return cuts, scores
}

var red, blue, white = [3]byte{255, 0, 0}, [3]byte{0, 0, 255}, [3]byte{255, 255, 255}

func TestContentDetector(t *testing.T) {
	// A cut from red to blue: hue moves 120, saturation and value stay:
	// score (120 + 0 + 0) / 3 = 40 >= 27.
	var c ContentDetector
	cuts, scores := runContent(t, &c, 60, func(i int) [3]byte {
		if i < 30 {
			return red
		}
		return blue
	})
	if !reflect.DeepEqual(cuts, []int{30}) || scores[30] != 40 || scores[0] != 0 || scores[31] != 0 {
		t.Errorf("cuts %v, scores[29:32] %v", cuts, scores[29:32])
	}

	// A cut 10 frames in is closer than MinSceneLen to the start: none.
	c = ContentDetector{}
	if cuts, _ := runContent(t, &c, 60, func(i int) [3]byte {
		if i < 10 {
			return red
		}
		return blue
	}); len(cuts) != 0 {
		t.Errorf("early cut: %v", cuts)
	}

	// MinSceneLen -1: every frame over the threshold cuts.
	c = ContentDetector{MinSceneLen: -1}
	if cuts, _ := runContent(t, &c, 60, func(i int) [3]byte {
		if i < 10 {
			return red
		}
		return blue
	}); !reflect.DeepEqual(cuts, []int{10}) {
		t.Errorf("unfiltered: %v", cuts)
	}

	// A higher threshold than the change: no cut.
	c = ContentDetector{Threshold: 41}
	if cuts, _ := runContent(t, &c, 60, func(i int) [3]byte {
		if i < 30 {
			return red
		}
		return blue
	}); len(cuts) != 0 {
		t.Errorf("threshold 41: %v", cuts)
	}
}

// The flash filter's MERGE mode, traced by hand through PySceneDetect's
// FlashFilter._filter_merge: a burst of alternating frames from 40 to 60
// (white on even frames, blue on odd) after a cut at 20 first cuts at 40
// (far enough from 20), then merges 41..59, and once 15 quiet frames
// follow (at 74) cuts at the burst's last frame above the threshold, 59,
// since the merged run 41..59 lasted at least 15 frames.
func TestContentFlashMerge(t *testing.T) {
	var c ContentDetector
	cuts, _ := runContent(t, &c, 100, func(i int) [3]byte {
		switch {
		case i < 20:
			return red
		case i >= 40 && i < 60 && i%2 == 0:
			return white
		}
		return blue
	})
	if !reflect.DeepEqual(cuts, []int{20, 40, 59}) {
		t.Errorf("cuts %v, want [20 40 59]", cuts)
	}
	// A burst shorter than MinSceneLen (yellow on 41, 43, 45: hue 30 from
	// blue's 120, score 30) cuts at its
	// first frame, and the rest is merged away for good.
	c = ContentDetector{}
	cuts, _ = runContent(t, &c, 100, func(i int) [3]byte {
		switch {
		case i < 20:
			return red
		case i >= 40 && i < 46:
			return [3]byte{byte(255 * (i % 2)), byte(255 * (i % 2)), byte(255 * (1 - i%2))}
		}
		return blue
	})
	if !reflect.DeepEqual(cuts, []int{20, 41}) {
		t.Errorf("short burst: cuts %v, want [20 41]", cuts)
	}
}

func TestContentBadFrames(t *testing.T) {
	var c ContentDetector
	if _, err := c.Push(Frame{RGB: make([]byte, 5)}); err == nil {
		t.Error("5 bytes accepted")
	}
	if _, err := c.Push(solid(0, 1, 2, 3)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Push(Frame{Index: 1, RGB: make([]byte, 6)}); err == nil {
		t.Error("frame of another size accepted")
	}
}

func TestContentFrameSize(t *testing.T) {
	for _, c := range [][4]int{{1920, 1080, 256, 144}, {720, 528, 256, 186}, {160, 90, 160, 90}, {161, 91, 160, 90}, {100000, 1, 256, 2}} {
		if w, h := ContentFrameSize(c[0], c[1]); w != c[2] || h != c[3] {
			t.Errorf("%dx%d: %dx%d, want %dx%d", c[0], c[1], w, h, c[2], c[3])
		}
	}
}
