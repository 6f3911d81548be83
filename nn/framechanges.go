package nn

import "github.com/dlrun/dlrun/graph"

// FrameChanges gives each frame of a sequence of RGB frames its computed
// change signals: [frames, 3, h, w] (values in [0, 1]) → [frames,
// graph.FrameChanges], the histogram, grid and pixel differences with its
// neighbours that graph.FrameChangeSignals computes. A shot-boundary
// detector learns from them beside its own frame features (TransNetV2 adds
// colour histograms the same way). With Structure, each frame also gets
// graph.FrameStructureChanges structure signals after them (one minus its
// correlation with its neighbours, graph.FrameStructureSignals), which
// tell a light switched on or off from a cut. It has no parameters, and
// its input must be the model's: no gradient flows back through it. In a
// model file, frame_changes ({structure: true} for the structure signals).
type FrameChanges struct {
	base
	Structure bool
}

// NewFrameChanges returns a FrameChanges layer.
func NewFrameChanges() *FrameChanges { return &FrameChanges{} }

// Kind implements Layer.
func (f *FrameChanges) Kind() string { return "FrameChanges" }

// OutputShape implements Layer.
func (f *FrameChanges) OutputShape(in []int) ([]int, error) {
	if f == nil {
		return nil, nilLayer(f)
	}
	if len(in) != 4 || in[1] != 3 {
		return nil, shapeErr(f, in, "want sequences of RGB frames [frames, 3, height, width]")
	}
	return []int{in[0], f.signals()}, nil
}

// signals returns the number of signals a frame gets.
func (f *FrameChanges) signals() int {
	if f.Structure {
		return graph.FrameChanges + graph.FrameStructureChanges
	}
	return graph.FrameChanges
}

// Build implements Layer.
func (f *FrameChanges) Build(g *graph.Graph, x *graph.Node) (*graph.Node, error) {
	if _, err := checkInput(f, g, x); err != nil {
		return nil, err
	}
	changes, err := graph.FrameChangeSignals(x)
	if err != nil || !f.Structure {
		return changes, err
	}
	structure, err := graph.FrameStructureSignals(x)
	if err != nil {
		return nil, err
	}
	return graph.Concat(changes, structure)
}

func init() {
	RegisterLayer("frame_changes",
		func(s *Settings) *FrameChanges { return &FrameChanges{Structure: s.Bool("structure", false)} },
		func(f *FrameChanges, s *Settings) bool {
			if f.Structure {
				s.Set("structure", true)
			}
			return true
		})
}

// BatchValues implements BatchMemory: the signals alone, since no
// gradient flows back through them to the input.
func (f *FrameChanges) BatchValues(in []int, batch int) int64 {
	out, err := f.OutputShape(in)
	if err != nil {
		return 0
	}
	return int64(batch) * int64(out[0]) * int64(out[1])
}
