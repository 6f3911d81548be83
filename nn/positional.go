package nn

import (
	"github.com/dlrun/dlrun/graph"
)

// PositionalEmbedding adds a vector per position to each step of a
// sequence [steps, width] (the output has the input's shape), so that an
// attention, which is blind to order, can tell steps apart: learned, a
// weight [MaxLen, width] (GPT's wpe, initialised N(0, 0.02²) as GPT-2's),
// or with Sinusoidal the fixed sines and cosines of Vaswani et al.
// (graph.SinusoidalTable), with no parameters. A learned table needs
// MaxLen, the longest sequence it will see; a sinusoidal one makes rows
// for the sequences it is built for. PyTorch has no such module: it is
// x + wpe(arange(steps)).
type PositionalEmbedding struct {
	base
	MaxLen     int
	Sinusoidal bool
	Init       graph.Initializer // learned; default graph.Normal(0.02)

	maxLen int          // incremental: the steps of a sequence; 0: whole sequences
	cursor graph.Cursor // incremental: the steps so far
}

// NewPositionalEmbedding returns a learned positional embedding for
// sequences of up to maxLen steps.
func NewPositionalEmbedding(maxLen int) *PositionalEmbedding {
	return &PositionalEmbedding{MaxLen: maxLen}
}

// defaultPositionInit is a learned table's default initialiser.
var defaultPositionInit = graph.Normal(0.02)

// Kind implements Layer.
func (p *PositionalEmbedding) Kind() string { return "PositionalEmbedding" }

// OutputShape implements Layer.
func (p *PositionalEmbedding) OutputShape(in []int) ([]int, error) {
	if p == nil {
		return nil, nilLayer(p)
	}
	if len(in) != 2 {
		return nil, shapeErr(p, in, "want [steps width] per example")
	}
	if p.MaxLen < 0 || (!p.Sinusoidal && p.MaxLen == 0) {
		return nil, shapeErr(p, in, "a learned table needs max_len, the longest sequence (positive), not %d", p.MaxLen)
	}
	if !p.Sinusoidal && in[0] > p.MaxLen {
		return nil, shapeErr(p, in, "%d steps are more than the %d positions of the table (max_len)", in[0], p.MaxLen)
	}
	return []int{in[0], in[1]}, nil
}

// NumParams implements Layer: MaxLen·width for a learned table.
func (p *PositionalEmbedding) NumParams(in []int) int {
	if p == nil || p.Sinusoidal || len(in) != 2 {
		return 0
	}
	return p.MaxLen * in[1]
}

// Build implements Layer.
func (p *PositionalEmbedding) Build(g *graph.Graph, x *graph.Node) (*graph.Node, error) {
	in, err := checkInput(p, g, x)
	if err != nil {
		return nil, err
	}
	p.params = nil
	var table *graph.Node
	if p.Sinusoidal {
		rows := max(in[0], p.MaxLen, p.maxLen)
		if table, err = g.Constant(p.name+".table", graph.SinusoidalTable(rows, in[1]), rows, in[1]); err != nil {
			return nil, err
		}
	} else {
		init := p.Init
		if init == nil {
			init = defaultPositionInit
		}
		w, err := p.param(g, "weight", []int{p.MaxLen, in[1]}, init)
		if err != nil {
			return nil, err
		}
		table = w.Node
	}
	var cur *graph.Cursor
	if p.maxLen > 0 {
		p.cursor.Reset()
		cur = &p.cursor
	}
	return graph.AddPositions(x, table, cur)
}

// SetIncremental implements Incremental: an incremental embedding adds
// the next positions at each pass, for up to maxLen steps.
func (p *PositionalEmbedding) SetIncremental(maxLen int) error {
	if p == nil {
		return nil
	}
	if maxLen > 0 && !p.Sinusoidal && maxLen > p.MaxLen {
		return shapeErr(p, []int{maxLen}, "a sequence of %d steps is longer than the %d positions of the table (max_len)", maxLen, p.MaxLen)
	}
	p.maxLen = maxLen
	return nil
}

// ResetState starts a new sequence: an incremental embedding starts again
// from position 0. Otherwise it does nothing.
func (p *PositionalEmbedding) ResetState() {
	if p != nil {
		p.cursor.Reset()
	}
}

// Model files (spec.go) name this layer positional_embedding, with the
// settings max_len (required for a learned table), sinusoidal (default
// false) and init (learned; default N(0, 0.02²)).
func init() {
	RegisterLayer("positional_embedding",
		func(s *Settings) *PositionalEmbedding {
			p := &PositionalEmbedding{Sinusoidal: s.Bool("sinusoidal", false), Init: s.Init("init")}
			if p.Sinusoidal {
				p.MaxLen = s.Int("max_len", 0)
			} else {
				p.MaxLen = s.Int("max_len")
			}
			return p
		},
		func(p *PositionalEmbedding, s *Settings) bool {
			if p.MaxLen != 0 {
				s.Set("max_len", p.MaxLen)
			}
			if p.Sinusoidal {
				s.Set("sinusoidal", true)
			}
			s.SetInit("init", p.Init, defaultPositionInit)
			return true
		})
}

// BatchValues implements BatchMemory: the sum (whose gradient is the
// input's), and a sinusoidal table, which the graph holds as a constant,
// with its gradient.
func (p *PositionalEmbedding) BatchValues(in []int, batch int) int64 {
	n := int64(batch) * int64(size(in))
	if p.Sinusoidal && len(in) == 2 {
		n += 2 * int64(max(in[0], p.MaxLen, p.maxLen)) * int64(in[1])
	}
	return n
}
