package synth

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"

	"github.com/dlrun/dlrun/internal/atomicfile"
	"github.com/dlrun/dlrun/video"
	"github.com/pkg/errors"
)

// Config says what Generate makes. A zero field means its default.
type Config struct {
	Out           string // folder to write into (required)
	Seed          uint64 // everything follows from it
	Train, Test   int    // clips of each split; zero means 120 and 40
	Width, Height int    // frame size; zero means 160x90
	TestPercent   int    // share of sources kept for test; zero means 25
	// GeneratorsPerKind: instances of each lavfi generator; zero means 8.
	GeneratorsPerKind int
	// Shots per clip: zero means 6 to 10, drawn per clip.
	Shots int
	Tools video.Tools
}

// Rate is the clips' frame rate.
const Rate = 25

// Labels is a clip's ground truth, written beside it as JSON.
type Labels struct {
	Clip   string `json:"clip"`
	Split  string `json:"split"`
	Frames int    `json:"frames"`
	Rate   int    `json:"rate"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
	// Transitions: kind "cut" (Start = End = the new shot's first frame),
	// "dissolve" or "fade" (Start..End: every frame that mixes the shots
	// or fades through black).
	Transitions []Span `json:"transitions"`
	// Negatives: changes inside a shot that are not transitions: "flash",
	// "whip", "light", "sweep".
	Negatives []Span    `json:"negatives"`
	Shots     []ShotRef `json:"shots"`
}

// ShotRef places a shot in its clip: frames [Start, End).
type ShotRef struct {
	Source     string `json:"source"`
	Start, End int
	Motion     string `json:"motion"`
	Light      string `json:"light,omitempty"`
	SameSource bool   `json:"same_source,omitempty"` // cut from a shot of the same source
}

func (c *Config) defaults() error {
	if c.Out == "" {
		return errors.New("synth: no output folder")
	}
	if c.Train == 0 {
		c.Train = 120
	}
	if c.Test == 0 {
		c.Test = 40
	}
	if c.Width == 0 && c.Height == 0 {
		c.Width, c.Height = 160, 90
	}
	if c.TestPercent == 0 {
		c.TestPercent = 25
	}
	if c.GeneratorsPerKind == 0 {
		c.GeneratorsPerKind = 8
	}
	if c.Train < 0 || c.Test < 0 || c.Train+c.Test > 100000 || c.Width < 32 || c.Height < 18 ||
		c.Width > 1920 || c.Height > 1080 || c.Width%2 != 0 || c.Height%2 != 0 ||
		c.TestPercent < 0 || c.TestPercent > 90 || c.Shots < 0 || c.Shots > 1000 || c.GeneratorsPerKind < 0 || c.GeneratorsPerKind > 1000 {
		return errors.Errorf("synth: bad configuration %+v", *c)
	}
	return nil
}

// SourceRecord is one line of sources.json: a source, its split, its
// package and licence.
type SourceRecord struct {
	Name    string `json:"name"`
	Split   string `json:"split"`
	Path    string `json:"path,omitempty"`
	Graph   string `json:"graph,omitempty"`
	Package string `json:"package"`
	Licence string `json:"licence"`
}

// Generate writes cfg.Train training clips and cfg.Test test clips into
// cfg.Out/train and cfg.Out/test (clip-NNNN.mp4 and clip-NNNN.json), and
// cfg.Out/sources.json, the sources with their split and licences. It
// logs a line per clip to log.
func Generate(ctx context.Context, cfg Config, log io.Writer) error {
	if err := cfg.defaults(); err != nil {
		return err
	}
	photos, missing := Photos()
	if len(missing) > 0 {
		fmt.Fprintf(log, "synth: %d photographs missing (install %v): %v\n", len(missing), Packages(), missing)
	}
	if len(photos) < 4 {
		return errors.Errorf("synth: %d photographs found; install Debian's %v", len(photos), Packages())
	}
	train, test := Split(append(photos, Generators(cfg.GeneratorsPerKind)...), cfg.TestPercent)
	var recs []SourceRecord
	for _, side := range []struct {
		name string
		srcs []Source
	}{{"train", train}, {"test", test}} {
		for _, s := range side.srcs {
			recs = append(recs, SourceRecord{s.Name, side.name, s.Path, s.Graph, s.Package, s.Licence})
		}
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].Name < recs[j].Name })
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return errors.Wrap(err, "synth")
	}
	b, _ := json.MarshalIndent(recs, "", "  ")
	if err := atomicfile.WriteFile(filepath.Join(cfg.Out, "sources.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	cache := &pictures{}
	for _, side := range []struct {
		name string
		n    int
		srcs []Source
		salt uint64
	}{{"train", cfg.Train, train, 0}, {"test", cfg.Test, test, 1 << 32}} {
		dir := filepath.Join(cfg.Out, side.name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return errors.Wrap(err, "synth")
		}
		for i := 0; i < side.n; i++ {
			if err := ctx.Err(); err != nil {
				return err
			}
			r := rand.New(rand.NewPCG(cfg.Seed, side.salt+uint64(i)))
			name := fmt.Sprintf("clip-%04d", i)
			lab, err := makeClip(ctx, r, cfg, side.srcs, cache, filepath.Join(dir, name+".mp4"))
			if err != nil {
				return err
			}
			lab.Clip, lab.Split = name+".mp4", side.name
			b, _ := json.MarshalIndent(lab, "", " ")
			if err := atomicfile.WriteFile(filepath.Join(dir, name+".json"), append(b, '\n'), 0o644); err != nil {
				return err
			}
			fmt.Fprintf(log, "%s/%s: %d frames, %d shots, %d transitions, %d hard negatives\n",
				side.name, name, lab.Frames, len(lab.Shots), len(lab.Transitions), len(lab.Negatives))
		}
	}
	return nil
}

// makeClip plans, renders and encodes one clip and returns its labels.
func makeClip(ctx context.Context, r *rand.Rand, cfg Config, srcs []Source, cache *pictures, path string) (Labels, error) {
	w, h := cfg.Width, cfg.Height
	lab := Labels{Rate: Rate, Width: w, Height: h, Transitions: []Span{}, Negatives: []Span{}}
	enc, err := video.Create(ctx, path, w, h, video.EncodeOptions{Rate: Rate, Tools: cfg.Tools})
	if err != nil {
		return lab, err
	}
	written := 0
	write := func(frames ...[]byte) error {
		for _, f := range frames {
			if err := enc.Write(f); err != nil {
				return err
			}
			written++
		}
		return nil
	}
	var photos, gens []Source
	for _, s := range srcs {
		if s.Kind == "photo" {
			photos = append(photos, s)
		} else {
			gens = append(gens, s)
		}
	}
	var pending [][]byte // the previous shot's frames not yet written
	var prev Source
	nshots := 6 + r.IntN(5)
	if cfg.Shots > 0 {
		nshots = cfg.Shots
	}
	for k := 0; k < nshots; k++ {
		// Three shots in five show a photograph: the most real material.
		pool := photos
		if len(gens) > 0 && (len(photos) == 0 || r.Float64() >= 0.6) {
			pool = gens
		}
		src := pool[r.IntN(len(pool))]
		same := k > 0 && r.Float64() < 0.12
		if same {
			src = prev
		}
		prev = src
		frames := 25 + r.IntN(76)
		shot := planShot(r, src, frames, 0.35)
		base, anim, err := cache.get(ctx, src, w, h)
		if err != nil {
			enc.Abort()
			return lab, err
		}
		fr := shot.render(r, base, anim, w, h)
		start := written + len(pending) // where the shot starts if joined by a cut
		if k > 0 {
			kind := "cut"
			switch x := r.Float64(); {
			case x < 0.25:
				kind = "dissolve"
			case x < 0.5:
				kind = "fade"
			}
			n := 0
			if kind != "cut" {
				n = 5 + r.IntN(26)
				n = min(n, len(pending)/2, len(fr)/2)
				if n < 5 {
					kind, n = "cut", 0
				}
			}
			switch kind {
			case "cut":
				if err := write(pending...); err != nil {
					enc.Abort()
					return lab, err
				}
				lab.Transitions = append(lab.Transitions, Span{Kind: "cut", Start: written, End: written})
				pending = fr
			case "dissolve":
				if err := write(pending[:len(pending)-n]...); err != nil {
					enc.Abort()
					return lab, err
				}
				first := written
				start = written
				for i := 0; i < n; i++ {
					a := float32(i+1) / float32(n+1)
					if err := write(mix(pending[len(pending)-n+i], fr[i], 1-a, a)); err != nil {
						enc.Abort()
						return lab, err
					}
				}
				lab.Transitions = append(lab.Transitions, Span{Kind: "dissolve", Start: first, End: written - 1})
				pending = fr[n:]
			case "fade":
				out := (n + 1) / 2
				in := n - out
				if err := write(pending[:len(pending)-out]...); err != nil {
					enc.Abort()
					return lab, err
				}
				first := written
				for i := 0; i < out; i++ {
					g := float32(out-1-i) / float32(out)
					if err := write(mix(pending[len(pending)-out+i], nil, g, 0)); err != nil {
						enc.Abort()
						return lab, err
					}
				}
				start = written
				for j := 0; j < in; j++ {
					g := float32(j+1) / float32(in+1)
					if err := write(mix(fr[j], nil, g, 0)); err != nil {
						enc.Abort()
						return lab, err
					}
				}
				lab.Transitions = append(lab.Transitions, Span{Kind: "fade", Start: first, End: written - 1})
				pending = fr[in:]
			}
		} else {
			pending = fr
		}
		// The shot's frames in the clip run from start to the end of what
		// is pending now; its hard negatives shift with it.
		offset := written + len(pending) - shot.Frames
		lab.Shots = append(lab.Shots, ShotRef{Source: src.Name, Start: start, End: written + len(pending),
			Motion: shot.Motion, Light: shot.Light, SameSource: same})
		for _, n := range shot.Negatives() {
			n.Start += offset
			n.End += offset
			lab.Negatives = append(lab.Negatives, n)
		}
	}
	if err := write(pending...); err != nil {
		enc.Abort()
		return lab, err
	}
	lab.Frames = written
	if err := enc.Close(); err != nil {
		return lab, err
	}
	return lab, nil
}

// pictures keeps each source's pictures once read: a photograph reduced
// to photoWidth, or lavfiLength frames of a lavfi source at frame size.
type pictures struct {
	photos map[string]*picture
	anims  map[string][]*picture
}

func (c *pictures) get(ctx context.Context, src Source, w, h int) (*picture, []*picture, error) {
	if c.photos == nil {
		c.photos, c.anims = map[string]*picture{}, map[string][]*picture{}
	}
	if src.Kind == "photo" {
		if p := c.photos[src.Path]; p != nil {
			return p, nil, nil
		}
		p, err := loadPhoto(src.Path)
		if err != nil {
			return nil, nil, err
		}
		c.photos[src.Path] = p
		return p, nil, nil
	}
	if a := c.anims[src.Name]; a != nil {
		return nil, a, nil
	}
	a, err := lavfiFrames(ctx, src.Graph, w, h, lavfiLength)
	if err != nil {
		return nil, nil, err
	}
	c.anims[src.Name] = a
	return nil, a, nil
}

// mix returns a*x + b*y per byte (y may be nil).
func mix(x, y []byte, a, b float32) []byte {
	out := make([]byte, len(x))
	for i := range x {
		v := a * float32(x[i])
		if y != nil {
			v += b * float32(y[i])
		}
		out[i] = clamp8(v)
	}
	return out
}
