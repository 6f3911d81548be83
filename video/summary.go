package video

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pkg/errors"
)

// PickShots chooses n scenes whose features differ most, by farthest-point
// selection: first the scene farthest from the mean of all, then, one at a
// time, the scene whose nearest chosen scene is farthest (ties go to the
// longer scene, then the earlier). It returns their indices in time order.
// Scenes shorter than minSeconds are passed over while enough others are
// left.
func PickShots(scenes []Scene, features [][]float64, n int, minSeconds float64) ([]int, error) {
	if len(features) != len(scenes) {
		return nil, errors.Wrapf(ErrBadOptions, "video: %d scenes but %d feature vectors", len(scenes), len(features))
	}
	if n <= 0 {
		return nil, errors.Wrapf(ErrBadOptions, "video: a summary of %d shots", n)
	}
	var cand []int
	for i, s := range scenes {
		if s.Duration() >= minSeconds {
			cand = append(cand, i)
		}
	}
	if len(cand) < n {
		cand = cand[:0]
		for i := range scenes {
			cand = append(cand, i)
		}
	}
	if n >= len(cand) {
		return cand, nil
	}
	dim := len(features[0])
	mean := make([]float64, dim)
	for _, i := range cand {
		for k, v := range features[i] {
			mean[k] += v / float64(len(cand))
		}
	}
	near := make([]float64, len(scenes)) // distance to the nearest chosen
	for _, i := range cand {
		near[i] = dist(features[i], mean)
	}
	chosen := map[int]bool{}
	var picked []int
	for len(picked) < n {
		best := -1
		for _, i := range cand {
			if chosen[i] {
				continue
			}
			if best < 0 || near[i] > near[best] || (near[i] == near[best] && scenes[i].Duration() > scenes[best].Duration()) {
				best = i
			}
		}
		chosen[best] = true
		picked = append(picked, best)
		for _, i := range cand {
			d := dist(features[i], features[best])
			if len(picked) == 1 || d < near[i] {
				near[i] = d
			}
		}
	}
	sort.Ints(picked)
	return picked, nil
}

func dist(a, b []float64) float64 {
	var s float64
	for i := range a {
		d := a[i] - b[i]
		s += d * d
	}
	return math.Sqrt(s)
}

// Join cuts the given scenes out of the video at path and joins them, in
// order, into one playable file at out (H.264 and, when the video has
// sound, AAC; MP4, MOV or MKV by out's extension), written atomically. Its
// duration is the scenes' total.
func Join(ctx context.Context, tools Tools, path string, scenes []Scene, out string) error {
	prog, err := tools.ffmpeg()
	if err != nil {
		return err
	}
	if len(scenes) == 0 || len(scenes) > 500 {
		return errors.Wrapf(ErrBadOptions, "video: a summary of %d scenes (1 to 500)", len(scenes))
	}
	m, ok := muxers[strings.ToLower(filepath.Ext(out))]
	if !ok || m[1] != "libx264" {
		return errors.Wrapf(ErrBadOptions, "video: %s: write .mp4, .mov or .mkv", out)
	}
	audio, err := hasAudio(ctx, tools, path)
	if err != nil {
		return err
	}
	var args []string
	var graph strings.Builder
	for i, s := range scenes {
		args = append(args, "-ss", seconds(s.StartTime), "-t", seconds(s.Duration()), "-i", "file:"+path)
		// Each piece's timestamps start at zero and its frames are made
		// uniform, so that concat lays them end to end.
		fmt.Fprintf(&graph, "[%d:v:0]setpts=PTS-STARTPTS,format=yuv420p[v%d];", i, i)
		if audio {
			fmt.Fprintf(&graph, "[%d:a:0]asetpts=PTS-STARTPTS,aresample=48000,aformat=channel_layouts=stereo[a%d];", i, i)
		}
	}
	for i := range scenes {
		fmt.Fprintf(&graph, "[v%d]", i)
		if audio {
			fmt.Fprintf(&graph, "[a%d]", i)
		}
	}
	a := 0
	if audio {
		a = 1
	}
	fmt.Fprintf(&graph, "concat=n=%d:v=1:a=%d[v]", len(scenes), a)
	if audio {
		graph.WriteString("[a]")
	}
	args = append(args, "-filter_complex", graph.String(), "-map", "[v]")
	if audio {
		args = append(args, "-map", "[a]", "-c:a", "aac")
	}
	args = append(args, "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-f", m[0])
	return encodeTo(ctx, prog, out, args)
}

// hasAudio reports whether the file at path has a sound stream.
func hasAudio(ctx context.Context, tools Tools, path string) (bool, error) {
	prog, err := tools.ffprobe()
	if err != nil {
		return false, err
	}
	cmd := command(ctx, prog, "-v", "error", "-select_streams", "a:0", "-show_entries", "stream=codec_type",
		"-of", "csv=p=0", "-i", "file:"+path)
	b, err := cmd.Output()
	if err != nil {
		return false, errors.Wrapf(ErrUnreadable, "video: %s", path)
	}
	return strings.TrimSpace(string(b)) == "audio", nil
}

// Summary is PickShots then Join: an edit of the n scenes of r that
// differ most, in order, written to out. It returns the scenes used.
func Summary(ctx context.Context, tools Tools, path string, r Result, n int, out string) ([]Scene, error) {
	idx, err := PickShots(r.Scenes, r.Features, n, 0.5)
	if err != nil {
		return nil, err
	}
	var scenes []Scene
	for _, i := range idx {
		scenes = append(scenes, r.Scenes[i])
	}
	return scenes, Join(ctx, tools, path, scenes, out)
}
