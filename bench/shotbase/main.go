// Command shotbase runs the content baseline (PySceneDetect's
// ContentDetector, as the video package implements it) over every clip of
// a folder and prints one JSON line per clip with the frames where it
// cuts, for bench/shots_ref.py to score beside the learned detector:
//
//	go run ./bench/shotbase /tmp/shots/test > /tmp/content.jsonl
//
// Frames are decoded at the clip's own size (PySceneDetect does not
// downscale frames narrower than 256 pixels).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/dlrun/dlrun/video"
)

func main() {
	threshold := flag.Float64("threshold", video.DefaultThreshold, "content threshold")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: shotbase [-threshold 27] FOLDER")
		os.Exit(2)
	}
	clips, err := filepath.Glob(filepath.Join(flag.Arg(0), "*.mp4"))
	if err != nil || len(clips) == 0 {
		fmt.Fprintln(os.Stderr, "shotbase: no .mp4 clips in", flag.Arg(0))
		os.Exit(1)
	}
	sort.Strings(clips)
	ctx := context.Background()
	enc := json.NewEncoder(os.Stdout)
	for _, clip := range clips {
		info, err := video.Probe(ctx, video.Tools{}, clip, 0)
		if err != nil {
			fmt.Fprintln(os.Stderr, "shotbase:", err)
			os.Exit(1)
		}
		d, err := video.Open(ctx, clip, video.Options{Width: info.Width, Height: info.Height})
		if err != nil {
			fmt.Fprintln(os.Stderr, "shotbase:", err)
			os.Exit(1)
		}
		res, err := video.Detect(d, &video.ContentDetector{Threshold: *threshold}, video.DefaultMinSceneLen)
		d.Close()
		if err != nil {
			fmt.Fprintln(os.Stderr, "shotbase:", err)
			os.Exit(1)
		}
		cuts := []int{}
		for _, s := range res.Scenes[1:] {
			cuts = append(cuts, s.Start)
		}
		enc.Encode(map[string]any{"clip": filepath.Base(clip), "frames": res.Frames, "cuts": cuts})
	}
}
