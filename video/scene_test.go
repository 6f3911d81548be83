package video

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/pkg/errors"
)

func TestScenes(t *testing.T) {
	s, err := Scenes([]Cut{{50, 2}, {100, 4}}, 150, 6)
	if err != nil {
		t.Fatal(err)
	}
	want := []Scene{{0, 50, 0, 2}, {50, 100, 2, 4}, {100, 150, 4, 6}}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("scenes %v, want %v", s, want)
	}
	if s, _ := Scenes(nil, 10, 0.4); len(s) != 1 || s[0].End != 10 {
		t.Errorf("no cuts: %v", s)
	}
	for _, cuts := range [][]Cut{{{0, 0}}, {{50, 2}, {50, 2}}, {{150, 6}}, {{60, 2}, {50, 3}}} {
		if _, err := Scenes(cuts, 150, 6); !errors.Is(err, ErrBadOptions) {
			t.Errorf("cuts %v: %v", cuts, err)
		}
	}
	if _, err := Scenes(nil, 0, 0); !errors.Is(err, ErrEmpty) {
		t.Errorf("no frames: %v", err)
	}
}

var threeScenes = []Scene{{0, 50, 0, 2}, {50, 100, 2, 4}, {100, 150, 4, 6}}

// The CSV PySceneDetect 0.6 writes for these scenes of a 25 fps video.
const wantCSV = `Timecode List:,00:00:02.000,00:00:04.000
Scene Number,Start Frame,Start Timecode,Start Time (seconds),End Frame,End Timecode,End Time (seconds),Length (frames),Length (timecode),Length (seconds)
1,1,00:00:00.000,0.000,50,00:00:02.000,2.000,50,00:00:02.000,2.000
2,51,00:00:02.000,2.000,100,00:00:04.000,4.000,50,00:00:02.000,2.000
3,101,00:00:04.000,4.000,150,00:00:06.000,6.000,50,00:00:02.000,2.000
`

func TestWriteCSV(t *testing.T) {
	var b bytes.Buffer
	if err := WriteCSV(&b, threeScenes); err != nil {
		t.Fatal(err)
	}
	if b.String() != wantCSV {
		t.Errorf("got\n%s\nwant\n%s", b.String(), wantCSV)
	}
}

const wantEDL = "TITLE: cut\r\nFCM: NON-DROP FRAME\r\n\r\n" +
	"001  AX       V     C        00:00:00:00 00:00:02:00 00:00:00:00 00:00:02:00\r\n* FROM CLIP NAME: cut.mp4\r\n\r\n" +
	"002  AX       V     C        00:00:02:00 00:00:04:00 00:00:02:00 00:00:04:00\r\n* FROM CLIP NAME: cut.mp4\r\n\r\n" +
	"003  AX       V     C        00:00:04:00 00:00:06:00 00:00:04:00 00:00:06:00\r\n* FROM CLIP NAME: cut.mp4\r\n\r\n"

func TestWriteEDL(t *testing.T) {
	var b bytes.Buffer
	if err := WriteEDL(&b, "cut", "/videos/cut.mp4", threeScenes, 25); err != nil {
		t.Fatal(err)
	}
	if b.String() != wantEDL {
		t.Errorf("got\n%q\nwant\n%q", b.String(), wantEDL)
	}
	if err := WriteEDL(&b, "cut", "cut.mp4", threeScenes, 0); !errors.Is(err, ErrBadOptions) {
		t.Errorf("rate 0: %v", err)
	}
	// 29.97 fps counts 30 frames a second; a 1 s 12-frame scene ends at
	// 00:00:01:12.
	b.Reset()
	WriteEDL(&b, "x", "x.mov", []Scene{{0, 42, 0, 1.4}}, 29.97)
	if !bytes.Contains(b.Bytes(), []byte("00:00:00:00 00:00:01:12 00:00:00:00 00:00:01:12")) {
		t.Errorf("29.97: %q", b.String())
	}
}

func TestTimecode(t *testing.T) {
	for s, want := range map[float64]string{0: "00:00:00.000", 1.0005: "00:00:01.001", 59.9996: "00:01:00.000", 3723.25: "01:02:03.250", -1: "00:00:00.000"} {
		if got := Timecode(s); got != want {
			t.Errorf("Timecode(%v) = %s, want %s", s, got, want)
		}
	}
}

// Detect on a real file: three lavfi sources joined by hard cuts at 2 s
// and 4 s. The content detector finds both; the JSON says so.
func TestDetectFile(t *testing.T) {
	_, res := detectFile(t, threeShots(t, t.TempDir()))
	if !reflect.DeepEqual(res.Scenes, threeScenes) || res.Frames != 150 || res.Duration != 6 || res.Rate != 25 {
		t.Fatalf("result %+v", res)
	}
	if len(res.Features) != 3 || len(res.Features[0]) != LayoutSize {
		t.Fatalf("features: %d", len(res.Features))
	}
	var b bytes.Buffer
	if err := WriteJSON(&b, "cut.mp4", res); err != nil {
		t.Fatal(err)
	}
	var doc listJSON
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Scenes) != 3 || doc.Scenes[1].StartFrame != 50 || doc.Scenes[2].StartTimecode != "00:00:04.000" || doc.Frames != 150 {
		t.Errorf("JSON %s", b.String())
	}
}

// The layout accumulator gives each scene the mean of its own frames even
// when a cut names a frame up to lag frames back.
func TestLayoutAccumulator(t *testing.T) {
	a := newLayoutAcc(3)
	for i := 0; i < 10; i++ {
		col := byte(0)
		if i >= 4 {
			col = 255
		}
		if i == 6 {
			a.cut(4)
		}
		a.add(solid(i, col, col, col))
	}
	f := a.finish()
	if len(f) != 2 || f[0][0] != 0 || f[1][0] != 1 {
		t.Errorf("features %v", f)
	}
}
