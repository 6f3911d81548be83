package synth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/dlrun/dlrun/internal/safeio"
	"github.com/dlrun/dlrun/video"
	"github.com/pkg/errors"
)

// Limits on the material Load reads, so that a hostile folder is an error
// naming the file rather than a process out of memory.
const (
	// MaxLabelBytes is the largest labels file Load reads: 1 MiB.
	MaxLabelBytes = 1 << 20
	// MaxClips is the most clips a split may hold.
	MaxClips = 100000
	// MaxClipFrames is the most frames a clip's labels may give: an hour
	// at 25 frames a second.
	MaxClipFrames = 90000
	// MaxLoadBytes bounds the decoded frames of a split: 8 GiB.
	MaxLoadBytes = 8 << 30
)

// loadWorkers is the number of clips Load decodes at once.
const loadWorkers = 4

// ErrNoMaterial is wrapped by Load's error for a folder that holds no
// clips: the material has not been made (Command says how).
var ErrNoMaterial = errors.New("no shot-boundary material")

// DefaultDir is the folder the material goes to unless another is named:
// where `dlrun train --model shots` looks for it.
const DefaultDir = "/var/tmp/dlrun-shots"

// Command is the command that makes the material in DefaultDir (-out names
// another folder): the same seed gives the same clips and labels.
const Command = "go run ./video/synth/shotsynth -seed 1"

// Clip is a clip of the material, decoded: its labels and its frames.
type Clip struct {
	Labels Labels
	// Frames holds Labels.Frames frames of Set.Width × Set.Height pixels,
	// 3 bytes each (R, G, B), one after another.
	Frames []byte
}

// Set is a split of the material (train or test), decoded.
type Set struct {
	// Dir is the split's folder.
	Dir string
	// Width and Height are the decoded frames' size.
	Width, Height int
	// Clips are the split's clips, by name.
	Clips []Clip
	// SHA256 is the hash of the split's labels and videos, in name order.
	SHA256 string
}

// FrameBytes returns the bytes of one frame.
func (s *Set) FrameBytes() int { return s.Width * s.Height * 3 }

// Frame returns frame f of clip i (RGB bytes, row by row).
func (s *Set) Frame(i, f int) []byte {
	n := s.FrameBytes()
	return s.Clips[i].Frames[f*n : (f+1)*n]
}

// Frames returns the number of frames of all clips.
func (s *Set) Frames() int {
	n := 0
	for _, c := range s.Clips {
		n += c.Labels.Frames
	}
	return n
}

// Load reads the split in folder dir, as Generate writes it (clip-NNNN.json
// and the video its clip names beside it): every clip's labels, checked
// (ParseLabels), and its frames decoded as opt says (48×27 by default),
// as many as its labels give. An error names the file at fault; a folder
// without clips wraps ErrNoMaterial.
func Load(ctx context.Context, dir string, opt video.Options) (*Set, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, errors.Wrapf(ErrNoMaterial, "%s does not exist: make the material with %s", dir, Command)
		}
		return nil, errors.Wrapf(err, "reading the material of %s", dir)
	}
	var names []string
	for _, e := range entries {
		if n := e.Name(); strings.HasPrefix(n, "clip-") && strings.HasSuffix(n, ".json") {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return nil, errors.Wrapf(ErrNoMaterial, "%s holds no clip-*.json: make the material with %s", dir, Command)
	}
	if len(names) > MaxClips {
		return nil, errors.Errorf("%s: %d clips, more than the %d a split may hold", dir, len(names), MaxClips)
	}
	w, h := opt.Width, opt.Height
	if w == 0 && h == 0 {
		w, h = video.DefaultWidth, video.DefaultHeight
	}
	set := &Set{Dir: dir, Width: w, Height: h}
	labels := make([]Labels, len(names))
	var total int64
	for i, n := range names {
		path := filepath.Join(dir, n)
		b, err := safeio.ReadFile(path, MaxLabelBytes)
		if err != nil {
			return nil, err
		}
		if labels[i], err = ParseLabels(b); err != nil {
			return nil, errors.Wrap(err, path)
		}
		if want := strings.TrimSuffix(n, ".json") + filepath.Ext(labels[i].Clip); labels[i].Clip != want {
			return nil, errors.Errorf("%s: clip %q: a clip's labels name the video beside them, %s", path, labels[i].Clip, want)
		}
		if total += int64(labels[i].Frames) * int64(w*h*3); total > MaxLoadBytes {
			return nil, errors.Errorf("%s: the split's frames would take more than %d bytes decoded", dir, int64(MaxLoadBytes))
		}
	}
	hash := sha256.New()
	for i, lab := range labels {
		path := filepath.Join(dir, names[i])
		b, err := safeio.ReadFile(path, MaxLabelBytes)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(hash, "%s %d\n", names[i], len(b))
		hash.Write(b)
		if err := hashFile(hash, lab.Clip, filepath.Join(dir, lab.Clip)); err != nil {
			return nil, err
		}
	}
	// ffmpeg runs as a few child processes at once: each spends much of
	// its time starting and waiting.
	set.Clips = make([]Clip, len(labels))
	errs := make([]error, len(labels))
	next := make(chan int)
	var wg sync.WaitGroup
	for range loadWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				frames, err := decodeAll(ctx, filepath.Join(dir, labels[i].Clip), labels[i].Frames, opt)
				set.Clips[i], errs[i] = Clip{Labels: labels[i], Frames: frames}, err
			}
		}()
	}
	for i := range labels {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	set.SHA256 = hex.EncodeToString(hash.Sum(nil))
	return set, nil
}

// hashFile adds the name, size and bytes of the regular file at path to h.
func hashFile(h io.Writer, name, path string) error {
	f, err := safeio.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return errors.Wrap(err, path)
	}
	fmt.Fprintf(h, "%s %d\n", name, fi.Size())
	_, err = io.Copy(h, f)
	return errors.Wrap(err, path)
}

// decodeAll decodes the video at path, which its labels say has frames
// frames.
func decodeAll(ctx context.Context, path string, frames int, opt video.Options) ([]byte, error) {
	d, err := video.Open(ctx, path, opt)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	w, h := d.Size()
	out := make([]byte, 0, frames*w*h*3)
	for n := 0; ; n++ {
		f, err := d.Next()
		if err == io.EOF {
			if n != frames {
				return nil, errors.Errorf("%s: %d frames, its labels say %d", path, n, frames)
			}
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if n == frames {
			return nil, errors.Errorf("%s: more frames than the %d its labels say", path, frames)
		}
		out = append(out, f.RGB...)
	}
}

// ParseLabels decodes and checks a clip's labels (the JSON that Generate
// writes beside each clip): one object, no unknown field; at least one
// frame and at most MaxClipFrames; transitions of a known kind (cut,
// dissolve, fade), each within the frames, in order and apart; a cut of
// one frame; hard negatives of a known kind within the frames. The error
// names the field at fault.
func ParseLabels(b []byte) (Labels, error) {
	var l Labels
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		return Labels{}, errors.Errorf("labels: %v", err)
	}
	if dec.More() {
		return Labels{}, errors.New("labels: more than one JSON value")
	}
	if l.Frames < 1 || l.Frames > MaxClipFrames {
		return Labels{}, errors.Errorf("labels: frames %d: must be 1 to %d", l.Frames, MaxClipFrames)
	}
	if l.Clip == "" || strings.ContainsAny(l.Clip, `/\`) || l.Clip == "." || l.Clip == ".." {
		return Labels{}, errors.Errorf("labels: clip %q: must name a file beside the labels", l.Clip)
	}
	prev := -1
	for i, t := range l.Transitions {
		switch {
		case t.Kind != "cut" && t.Kind != "dissolve" && t.Kind != "fade":
			return Labels{}, errors.Errorf("labels: transition %d: kind %q (want cut, dissolve or fade)", i, t.Kind)
		case t.Start < 0 || t.End < t.Start || t.End >= l.Frames:
			return Labels{}, errors.Errorf("labels: transition %d: frames %d to %d are not within the clip's %d", i, t.Start, t.End, l.Frames)
		case t.Kind == "cut" && t.End != t.Start:
			return Labels{}, errors.Errorf("labels: transition %d: a cut spans frames %d to %d; a cut is one frame, the new shot's first", i, t.Start, t.End)
		case t.Start <= prev:
			return Labels{}, errors.Errorf("labels: transition %d: starts at frame %d, not after the one before it", i, t.Start)
		}
		prev = t.End
	}
	for i, n := range l.Negatives {
		switch {
		case n.Kind != "flash" && n.Kind != "whip" && n.Kind != "light" && n.Kind != "sweep":
			return Labels{}, errors.Errorf("labels: negative %d: kind %q (want flash, whip, light or sweep)", i, n.Kind)
		case n.Start < 0 || n.End < n.Start || n.End >= l.Frames:
			return Labels{}, errors.Errorf("labels: negative %d: frames %d to %d are not within the clip's %d", i, n.Start, n.End, l.Frames)
		}
	}
	return l, nil
}
