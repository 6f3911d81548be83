// Command shotsthreshold scores the shot detector bundled in dlrun on
// labelled clips (shotsynth's clip-NNNN.mp4 with clip-NNNN.json beside
// it) at every detection threshold from 0.05 to 0.95, to choose the
// threshold on clips that are not the test split:
//
//	go run ./video/synth/shotsynth -seed 2 -train 40 -test 1 -out /tmp/val
//	go run ./bench/shotsthreshold /tmp/val/train
//
// Each clip is decoded to the detector's frame size and scored as dlrun
// cuts scores a video (train.ShotStream); the detections at each
// threshold are matched against the labels (train.MatchTransitions). It
// prints one line per threshold: the counts, the F1 of hard cuts, of
// gradual transitions and of both together.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/train"
	"github.com/dlrun/dlrun/video"
	"github.com/dlrun/dlrun/video/synth"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: shotsthreshold FOLDER")
		os.Exit(2)
	}
	if err := sweep(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "shotsthreshold:", err)
		os.Exit(1)
	}
}

func sweep(dir string) error {
	clips, err := filepath.Glob(filepath.Join(dir, "*.mp4"))
	if err != nil {
		return err
	}
	if len(clips) == 0 {
		return fmt.Errorf("no .mp4 clips in %s", dir)
	}
	slices.Sort(clips)
	r, err := run.OpenBundledShots()
	if err != nil {
		return err
	}
	defer r.Close()
	var thresholds []float64
	for t := 5; t <= 95; t += 5 {
		thresholds = append(thresholds, float64(t)/100)
	}
	counts := make([]train.ShotCounts, len(thresholds))
	for _, clip := range clips {
		b, err := os.ReadFile(strings.TrimSuffix(clip, ".mp4") + ".json")
		if err != nil {
			return err
		}
		l, err := synth.ParseLabels(b)
		if err != nil {
			return fmt.Errorf("%s: %v", clip, err)
		}
		trans := run.ShotTransitions(l)
		prob, err := probabilities(r, clip)
		if err != nil {
			return err
		}
		for i, t := range thresholds {
			counts[i] = counts[i].Add(train.MatchTransitions(train.Detections(prob, t), trans))
		}
	}
	fmt.Printf("%d clips of %s\n", len(clips), dir)
	for i, t := range thresholds {
		c := counts[i]
		fmt.Printf("threshold %.2f: %+v F1 cuts %.3f gradual %.3f all %.3f\n", t, c, c.F1Cuts(), c.F1Gradual(), c.F1())
	}
	return nil
}

// probabilities returns the bundled detector's probability for each frame
// of the video at path.
func probabilities(r *run.Run, path string) ([]float64, error) {
	st, err := r.Model.ShotStream()
	if err != nil {
		return nil, err
	}
	in := r.Model.Info.InputShape
	h, w := in[2], in[3]
	d, err := video.Open(context.Background(), path, video.Options{Width: w, Height: h})
	if err != nil {
		return nil, err
	}
	defer d.Close()
	planes := make([]float32, st.FrameSize())
	var prob []float64
	add := func(p []float64, first int, err error) error {
		if err != nil {
			return err
		}
		if first != len(prob) {
			return fmt.Errorf("%s: probabilities from frame %d after %d", path, first, len(prob))
		}
		prob = append(prob, p...)
		return nil
	}
	for {
		f, err := d.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		run.FramePlanes(f.RGB, w*h, planes)
		if err := add(st.Push(planes)); err != nil {
			return nil, err
		}
	}
	if err := add(st.Flush()); err != nil {
		return nil, err
	}
	return prob, nil
}
