package synth

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/video"
)

// writeClip makes a clip of 3 shots at dir/clip-0000.mp4 with its labels.
func writeClip(t *testing.T, dir string) Labels {
	t.Helper()
	srcs := []Source{testPhoto(t, t.TempDir(), 1), Generators(1)[3]}
	cfg := Config{Out: dir, Width: 32, Height: 18, Shots: 3}
	if err := cfg.defaults(); err != nil {
		t.Fatal(err)
	}
	lab, err := makeClip(context.Background(), rand.New(rand.NewPCG(7, 0)), cfg, srcs, &pictures{}, filepath.Join(dir, "clip-0000.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	lab.Clip, lab.Split = "clip-0000.mp4", "test"
	writeLabels(t, dir, lab)
	return lab
}

func writeLabels(t *testing.T, dir string, lab Labels) {
	t.Helper()
	b, err := json.Marshal(lab)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "clip-0000.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Load decodes every clip to its labelled number of frames and hashes the
// split; a clip that disagrees with its labels, a folder without clips and
// one that does not exist are one line each, the last two naming the
// command that makes the material.
func TestLoad(t *testing.T) {
	needFFmpeg(t)
	dir := t.TempDir()
	lab := writeClip(t, dir)
	set, err := Load(context.Background(), dir, video.Options{Width: 16, Height: 9})
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Clips) != 1 || len(set.Clips[0].Frames) != lab.Frames*set.FrameBytes() || set.Frames() != lab.Frames || len(set.SHA256) != 64 {
		t.Fatalf("%d clips, %d bytes of frames for %d frames, hash %q", len(set.Clips), len(set.Clips[0].Frames), lab.Frames, set.SHA256)
	}
	lab.Frames++
	writeLabels(t, dir, lab)
	if _, err := Load(context.Background(), dir, video.Options{Width: 16, Height: 9}); err == nil || !strings.Contains(err.Error(), "its labels say") {
		t.Errorf("a clip shorter than its labels: %v", err)
	}
	for _, d := range []string{t.TempDir(), filepath.Join(dir, "none")} {
		_, err := Load(context.Background(), d, video.Options{})
		if !errors.Is(err, ErrNoMaterial) || !strings.Contains(err.Error(), Command) {
			t.Errorf("%s: %v, want ErrNoMaterial naming %s", d, err, Command)
		}
	}
}

func TestParseLabels(t *testing.T) {
	for _, c := range []struct{ json, want string }{
		{`{"clip": "c.mp4", "frames": 10, "transitions": [{"kind": "cut", "start": 3, "end": 3}]}`, ""},
		{`{"clip": "c.mp4", "frames": 0}`, "frames 0"},
		{`{"clip": "../c.mp4", "frames": 10}`, "clip"},
		{`{"clip": "c.mp4", "frames": 10, "extra": 1}`, "unknown field"},
		{`{"clip": "c.mp4", "frames": 10} {}`, "more than one"},
		{`{"clip": "c.mp4", "frames": 10, "transitions": [{"kind": "wipe", "start": 3, "end": 3}]}`, `kind "wipe"`},
		{`{"clip": "c.mp4", "frames": 10, "transitions": [{"kind": "cut", "start": 3, "end": 4}]}`, "a cut spans"},
		{`{"clip": "c.mp4", "frames": 10, "transitions": [{"kind": "fade", "start": 3, "end": 10}]}`, "not within"},
		{`{"clip": "c.mp4", "frames": 10, "transitions": [{"kind": "cut", "start": 5, "end": 5}, {"kind": "cut", "start": 5, "end": 5}]}`, "not after"},
		{`{"clip": "c.mp4", "frames": 10, "negatives": [{"kind": "flash", "start": -1, "end": 2}]}`, "negative 0"},
	} {
		_, err := ParseLabels([]byte(c.json))
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: error %v, want %q", c.json, err, c.want)
		}
	}
}

// Labels from anywhere are parsed or refused in one line, never a panic;
// what is accepted keeps its transitions in order within the frames.
func FuzzParseLabels(f *testing.F) {
	f.Add([]byte(`{"clip": "c.mp4", "frames": 10, "transitions": [{"kind": "cut", "start": 3, "end": 3}, {"kind": "dissolve", "start": 5, "end": 8}], "negatives": [{"kind": "whip", "start": 0, "end": 2}]}`))
	f.Add([]byte(`{"clip": "c.mp4", "frames": 99999999999}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := ParseLabels(b)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error on more than one line: %q", err)
			}
			return
		}
		prev := -1
		for _, tr := range l.Transitions {
			if tr.Start <= prev || tr.End < tr.Start || tr.End >= l.Frames {
				t.Fatalf("accepted %+v in %d frames", tr, l.Frames)
			}
			prev = tr.End
		}
	})
}
