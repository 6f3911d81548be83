package run_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/train"
	"github.com/dlrun/dlrun/video"
)

// realClip is a video of Debian's opencv-doc with its cuts labelled by
// hand (testdata/opencv-doc-cuts.json).
type realClip struct {
	File string `json:"file"`
	What string `json:"what"`
	Cuts []int  `json:"cuts"`
}

// realClips returns the labelled real clips, skipping the test where
// opencv-doc or ffmpeg is not installed.
func realClips(t *testing.T) []realClip {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "opencv-doc-cuts.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		About string     `json:"about"`
		Clips []realClip `json:"clips"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for _, c := range doc.Clips {
		if _, err := os.Stat(c.File); err != nil {
			t.Skipf("run: %s is not there (Debian's opencv-doc package)", c.File)
		}
	}
	needTools(t)
	return doc.Clips
}

// detectCuts returns the first frames of the scenes after the first that
// det finds in the video at path, decoded at w×h.
func detectCuts(t *testing.T, path string, det video.Detector, lag, w, h int) []int {
	t.Helper()
	d, err := video.Open(context.Background(), path, video.Options{Width: w, Height: h})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	res, err := video.Detect(d, det, lag)
	if err != nil {
		t.Fatal(err)
	}
	var cuts []int
	for _, s := range res.Scenes[1:] {
		cuts = append(cuts, s.Start)
	}
	return cuts
}

// On every real clip the docs use, the bundled detector does at least as
// well as the content baseline: an F1 as high where the clip has cuts, no
// more false positives where it has none.
func TestBundledShotsOnRealClips(t *testing.T) {
	if testing.Short() {
		t.Skip("decodes video")
	}
	clips := realClips(t)
	r, err := run.OpenBundledShots()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, c := range clips {
		var trans []train.Transition
		for _, f := range c.Cuts {
			trans = append(trans, train.Transition{Start: f, End: f})
		}
		info, err := video.Probe(context.Background(), video.Tools{}, c.File, 0)
		if err != nil {
			t.Fatal(err)
		}
		cw, ch := video.ContentFrameSize(info.Width, info.Height)
		content := train.MatchTransitions(detectCuts(t, c.File, &video.ContentDetector{}, video.DefaultMinSceneLen+1, cw, ch), trans)
		sd, err := r.ShotDetector()
		if err != nil {
			t.Fatal(err)
		}
		w, h := sd.Size()
		learned := train.MatchTransitions(detectCuts(t, c.File, sd, sd.Lag(), w, h), trans)
		t.Logf("%s: learned %+v (F1 %.3f), content %+v (F1 %.3f)", filepath.Base(c.File), learned, learned.F1(), content, content.F1())
		if len(c.Cuts) > 0 && learned.F1() < content.F1() || learned.FalsePositives > content.FalsePositives {
			t.Errorf("%s: learned %+v (F1 %.3f), content %+v (F1 %.3f)", c.File, learned, learned.F1(), content, content.F1())
		}
	}
}
