package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/dlrun/dlrun/internal/atomicfile"
	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/video"
	"github.com/pkg/errors"
	"github.com/spf13/cobra"
)

// cutsOptions are the flags of dlrun cuts.
type cutsOptions struct {
	method      string
	dir         string
	best        bool
	outs        []string
	split       string
	thumbs      string
	summary     int
	maxDuration float64
	threshold   float64
	minScene    int
	fast        bool
}

// The extensions of -o: scene lists, and the summary edit's containers.
var (
	sceneListExts = []string{".csv", ".json", ".edl"}
	summaryExts   = []string{".mp4", ".mov", ".mkv"}
)

func newCutsCmd() *cobra.Command {
	var o cutsOptions
	cmd := &cobra.Command{
		Use:   "cuts VIDEO",
		Short: "Find the shots of a video (its cuts, dissolves and fades) and make an edit from them",
		Long: `Decode any video Debian's ffmpeg reads (VIDEO "-" reads standard input), at the
times the file gives its frames, find where one shot ends and the next
begins, and print the scenes.

  --method learned  a shot detector (the default): --run DIR names a trained
                    one (dlrun train --model shots); without it, the detector
                    bundled in dlrun (experiments/shots.yaml reproduces it);
  --method content  PySceneDetect's ContentDetector: HSV content difference
                    between frames, threshold 27 (--threshold), scenes of at
                    least 15 frames (--min-scene-len).

Outputs, each written whole or not at all (an existing file is replaced only
by a complete one):
  -o scenes.csv     PySceneDetect's scene-list CSV;
  -o scenes.json    the scenes with their frames, times and time codes;
  -o scenes.edl     a CMX 3600 edit decision list an editor imports;
  --split DIR       one file per scene (NAME-Scene-001.mp4), cut by ffmpeg;
  --thumbs a.png    a contact sheet: a frame of each scene with its time code;
  --summary N -o short.mp4
                    an edit of the N shots that differ most, joined in order.
-o may be given more than once. --max-duration stops decoding at that time
(a pipe that never ends). --fast skips H.264's and HEVC's deblocking filter:
decoding takes about an eighth less CPU, and a detection may move a frame or
two within a dissolve.`,
		Example: `  dlrun cuts film.mp4
  dlrun cuts film.mp4 -o scenes.csv --thumbs sheet.png --split scenes/
  dlrun cuts film.mp4 --method content -o scenes.edl
  dlrun cuts film.mp4 --run runs/shots --summary 5 -o short.mp4
  ffmpeg -i rtsp://camera -f matroska - | dlrun cuts - --max-duration 60`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return errors.Errorf("name one VIDEO, a file or - for standard input (see '%s --help')", cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := untilSignal(cmd.Context())
			defer stop()
			return cuts(ctx, cmd.OutOrStdout(), args[0], o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.method, "method", "learned", "learned (a shot detector) or content (PySceneDetect's ContentDetector)")
	f.StringVar(&o.dir, "run", "", "run folder of a trained shot detector (default: the bundled one)")
	f.BoolVar(&o.best, "best", false, "use the best epoch's weights of --run instead of the last")
	f.StringArrayVarP(&o.outs, "out", "o", nil, "write the scenes to FILE.csv, .json or .edl; with --summary, the edit to FILE.mp4, .mov or .mkv")
	f.StringVar(&o.split, "split", "", "write each scene to its own file in folder `DIR`")
	f.StringVar(&o.thumbs, "thumbs", "", "write a contact sheet of the scenes to `FILE`.png")
	f.Var(nonNegativeInt{&o.summary}, "summary", "make an edit of the N shots that differ most (-o names it)")
	f.Var(nonNegativeFloat{&o.maxDuration}, "max-duration", "stop decoding at this time in seconds (0: the whole video)")
	f.Var(nonNegativeFloat{&o.threshold}, "threshold", "content method: the HSV content difference that makes a cut (0: 27)")
	f.Var(nonNegativeInt{&o.minScene}, "min-scene-len", "content method: the fewest frames of a scene (0: 15)")
	f.BoolVar(&o.fast, "fast", false, "decode without the H.264/HEVC deblocking filter: faster, detections may move a frame or two")
	return cmd
}

// cutsPlan is what dlrun cuts writes, checked before any decoding.
type cutsPlan struct {
	lists   []string // scene lists
	summary string   // the summary edit
}

// plan checks the flags and every destination, so that nothing is decoded
// for an output that cannot be written.
func (o cutsOptions) plan(path string) (cutsPlan, error) {
	var p cutsPlan
	switch o.method {
	case "learned":
		if o.threshold != 0 || o.minScene != 0 {
			return p, errors.New("--threshold and --min-scene-len set the content method's detector: give --method content, or leave them out")
		}
	case "content":
		if o.dir != "" {
			return p, errors.New("--run names a trained shot detector, which --method content does not use")
		}
	default:
		return p, errors.Errorf("--method %q: want learned or content", o.method)
	}
	if o.best && o.dir == "" {
		return p, errors.New("--best: give --run DIR, a run that keeps its best weights")
	}
	for _, out := range o.outs {
		ext := strings.ToLower(filepath.Ext(out))
		switch {
		case slices.Contains(sceneListExts, ext):
			p.lists = append(p.lists, out)
		case slices.Contains(summaryExts, ext):
			if o.summary == 0 {
				return p, errors.Errorf("-o %s: a video is the edit of --summary N: give N, the shots to keep", out)
			}
			if p.summary != "" {
				return p, errors.Errorf("-o %s: the edit goes to %s already", out, p.summary)
			}
			p.summary = out
		default:
			return p, errors.Errorf("-o %s: write a scene list (%s) or, with --summary, an edit (%s)", out, strings.Join(sceneListExts, ", "), strings.Join(summaryExts, ", "))
		}
		if err := checkOut("out", out); err != nil {
			return p, err
		}
	}
	if o.summary > 0 && p.summary == "" {
		return p, errors.Errorf("--summary %d: name the edit with -o FILE (%s)", o.summary, strings.Join(summaryExts, ", "))
	}
	if o.thumbs != "" {
		if ext := strings.ToLower(filepath.Ext(o.thumbs)); ext != ".png" {
			return p, errors.Errorf("--thumbs %s: the contact sheet is a PNG: name it FILE.png", o.thumbs)
		}
		if err := checkOut("thumbs", o.thumbs); err != nil {
			return p, err
		}
	}
	if err := checkOutFolder("split", o.split); err != nil {
		return p, err
	}
	if path == "-" && (o.split != "" || o.thumbs != "" || p.summary != "") {
		return p, errors.New("--split, --thumbs and --summary read the video again: name a file, not standard input")
	}
	return p, nil
}

// cuts runs dlrun cuts on the video at path ("-": standard input).
func cuts(ctx context.Context, w io.Writer, path string, o cutsOptions) error {
	p, err := o.plan(path)
	if err != nil {
		return err
	}
	var (
		det  video.Detector
		lag  int
		opt  = video.Options{MaxDuration: o.maxDuration, Fast: o.fast}
		name = "stdin"
	)
	if path != "-" {
		name = filepath.Base(path)
	}
	switch o.method {
	case "content":
		opt.Width, opt.Height = video.ContentFrameSize(1280, 720) // a pipe's size is not known ahead
		if path != "-" {
			info, err := video.Probe(ctx, video.Tools{}, path, 0)
			if err != nil {
				return err
			}
			opt.Width, opt.Height = video.ContentFrameSize(info.Width, info.Height)
		}
		det, lag = &video.ContentDetector{Threshold: o.threshold, MinSceneLen: o.minScene}, max(o.minScene, video.DefaultMinSceneLen)+1
	default:
		var r *run.Run
		if o.dir != "" {
			r, err = run.Open(o.dir, o.best)
			if err != nil {
				return atFlag("run", err)
			}
		} else if r, err = run.OpenBundledShots(); err != nil {
			return err
		}
		defer r.Close()
		sd, err := r.ShotDetector()
		if err != nil {
			return atFlag("run", err)
		}
		det, lag = sd, sd.Lag()
		opt.Width, opt.Height = sd.Size()
	}
	var d *video.Decoder
	if path == "-" {
		d, err = video.OpenReader(ctx, os.Stdin, name, opt)
	} else {
		d, err = video.Open(ctx, path, opt)
	}
	if err != nil {
		return err
	}
	defer d.Close()
	res, err := video.Detect(d, det, lag)
	if err != nil {
		return err
	}
	printScenes(w, res)
	for _, out := range p.lists {
		if err := writeSceneList(out, name, path, res); err != nil {
			return err
		}
	}
	if o.thumbs != "" {
		if err := video.ContactSheet(ctx, path, d.Info(), res.Scenes, o.thumbs, video.SheetOptions{}); err != nil {
			return atFlag("thumbs", err)
		}
	}
	if o.split != "" {
		if _, err := atomicfile.MkdirAll(o.split, 0o755); err != nil {
			return outError("split", o.split, err)
		}
		files, err := video.Split(ctx, video.Tools{}, path, res.Scenes, o.split)
		if err != nil {
			return atFlag("split", err)
		}
		fmt.Fprintf(w, "split into %d files in %s\n", len(files), o.split)
	}
	if p.summary != "" {
		scenes, err := video.Summary(ctx, video.Tools{}, path, res, o.summary, p.summary)
		if err != nil {
			return atFlag("summary", err)
		}
		total := 0.0
		for _, s := range scenes {
			total += s.Duration()
		}
		fmt.Fprintf(w, "summary: %d shots, %s, in %s\n", len(scenes), video.Timecode(total), p.summary)
	}
	return nil
}

// writeSceneList writes res's scenes to out by its extension.
func writeSceneList(out, name, path string, res video.Result) error {
	f, err := atomicfile.Create(out, 0o644)
	if err != nil {
		return outError("out", out, err)
	}
	switch strings.ToLower(filepath.Ext(out)) {
	case ".csv":
		err = video.WriteCSV(f, res.Scenes)
	case ".json":
		err = video.WriteJSON(f, name, res)
	default:
		err = video.WriteEDL(f, strings.TrimSuffix(name, filepath.Ext(name)), path, res.Scenes, res.Rate)
	}
	if err != nil {
		f.Abort()
		return outError("out", out, err)
	}
	if err := f.Commit(); err != nil {
		return outError("out", out, err)
	}
	return nil
}

// printScenes prints a line per scene: its number, first and last frame
// (counted from 1, as PySceneDetect's list and CSV count them), start and
// end time codes, and length in seconds; a note when decoding stopped at
// --max-duration.
func printScenes(w io.Writer, res video.Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scene\tfirst_frame\tlast_frame\tstart\tend\tseconds")
	for i, s := range res.Scenes {
		fmt.Fprintf(tw, "%d\t%d\t%d\t%s\t%s\t%.3f\n", i+1, s.Start+1, s.End, video.Timecode(s.StartTime), video.Timecode(s.EndTime), s.Duration())
	}
	tw.Flush()
	if res.Truncated {
		fmt.Fprintf(w, "stopped at --max-duration: %d frames, %.3f s\n", res.Frames, res.Duration)
	}
}
