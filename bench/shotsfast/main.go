// Command shotsfast says whether skipping the H.264 deblocking filter
// (video.Options.Fast, ffmpeg's -skip_loop_filter all) changes what
// dlrun cuts finds. It decodes each video given twice, with the filter and
// without, runs the bundled shot detector and the content baseline over
// both, and prints one line per video and detector: the cuts, and those
// that differ. For a clip with shotsynth's labels beside it
// (clip-NNNN.json) it adds the matches (train.MatchTransitions) both ways,
// and at the end the totals and F1 figures of each way:
//
//	go run ./bench/shotsfast /var/tmp/dlrun-shots/test /usr/share/doc/opencv-doc/examples/data/*.avi
//
// A folder stands for the .mp4 clips in it.
package main

import (
	"context"
	"fmt"
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
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: shotsfast VIDEO|FOLDER...")
		os.Exit(2)
	}
	if err := compare(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "shotsfast:", err)
		os.Exit(1)
	}
}

// videos expands folders among args to the .mp4 clips in them.
func videos(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			out = append(out, a)
			continue
		}
		clips, err := filepath.Glob(filepath.Join(a, "*.mp4"))
		if err != nil {
			return nil, err
		}
		slices.Sort(clips)
		out = append(out, clips...)
	}
	return out, nil
}

// labels returns the transitions that the labels beside clip give, if
// there are any.
func labels(clip string) ([]train.Transition, bool, error) {
	b, err := os.ReadFile(strings.TrimSuffix(clip, filepath.Ext(clip)) + ".json")
	if os.IsNotExist(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	l, err := synth.ParseLabels(b)
	if err != nil {
		return nil, false, fmt.Errorf("%s: %v", clip, err)
	}
	return run.ShotTransitions(l), true, nil
}

func compare(args []string) error {
	clips, err := videos(args)
	if err != nil {
		return err
	}
	r, err := run.OpenBundledShots()
	if err != nil {
		return err
	}
	defer r.Close()
	ctx := context.Background()
	var totals [2][2]train.ShotCounts // [detector][fast]
	differ := 0
	for _, clip := range clips {
		trans, labelled, err := labels(clip)
		if err != nil {
			return err
		}
		info, err := video.Probe(ctx, video.Tools{}, clip, 0)
		if err != nil {
			return err
		}
		for k, name := range []string{"learned", "content"} {
			var cuts [2][]int
			for fast := range 2 {
				var det video.Detector
				var lag int
				opt := video.Options{Fast: fast == 1}
				if name == "learned" {
					sd, err := r.ShotDetector()
					if err != nil {
						return err
					}
					det, lag = sd, sd.Lag()
					opt.Width, opt.Height = sd.Size()
				} else {
					det, lag = &video.ContentDetector{}, video.DefaultMinSceneLen+1
					opt.Width, opt.Height = video.ContentFrameSize(info.Width, info.Height)
				}
				if cuts[fast], err = detect(ctx, clip, opt, det, lag); err != nil {
					return err
				}
			}
			same := slices.Equal(cuts[0], cuts[1])
			if !same {
				differ++
			}
			line := fmt.Sprintf("%s %s: same=%v cuts %v", filepath.Base(clip), name, same, cuts[0])
			if !same {
				line += fmt.Sprintf(" fast %v", cuts[1])
			}
			if labelled {
				for fast := range 2 {
					c := train.MatchTransitions(cuts[fast], trans)
					totals[k][fast] = totals[k][fast].Add(c)
					line += fmt.Sprintf(" fast=%v %+v", fast == 1, c)
				}
			}
			fmt.Println(line)
		}
	}
	for k, name := range []string{"learned", "content"} {
		for fast := range 2 {
			c := totals[k][fast]
			fmt.Printf("labelled clips, %s, fast=%v: %+v F1 cuts %.3f gradual %.3f\n", name, fast == 1, c, c.F1Cuts(), c.F1Gradual())
		}
	}
	fmt.Printf("%d of %d detector runs differ\n", differ, 2*len(clips))
	return nil
}

// detect returns the first frames of the scenes after the first that det
// finds in the video at path.
func detect(ctx context.Context, path string, opt video.Options, det video.Detector, lag int) ([]int, error) {
	d, err := video.Open(ctx, path, opt)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	res, err := video.Detect(d, det, lag)
	if err != nil {
		return nil, err
	}
	cuts := []int{}
	for _, s := range res.Scenes[1:] {
		cuts = append(cuts, s.Start)
	}
	return cuts, nil
}
