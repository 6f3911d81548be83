package nn

import (
	"strings"

	"github.com/dlrun/dlrun/graph"
)

// Recurrent is an LSTM or GRU layer over sequences: per example the input
// is [steps, features] and the output [steps, Hidden] (ReturnSequences) or
// [Hidden] (the last step). Its parameters are PyTorch's: weight_ih
// [G·Hidden, features], weight_hh [G·Hidden, Hidden], bias_ih and bias_hh
// [G·Hidden], with G = 4 gates (i, f, g, o) for the LSTM and 3 (r, z, n)
// for the GRU, so weights compare one to one with nn.LSTM and nn.GRU.
type Recurrent struct {
	base
	Cell            graph.Cell
	Hidden          int
	ReturnSequences bool
	NoBias          bool
	// Init initialises weights and biases; default PyTorch's
	// U(-1/sqrt(Hidden), 1/sqrt(Hidden)).
	Init graph.Initializer
	// InitialState, if set, supplies the initial hidden state and, for an
	// LSTM, cell state ([batch, Hidden] nodes; c0 nil for a GRU). Without
	// it (and without Stateful) sequences start from zeros.
	InitialState func(g *graph.Graph, batch int) (h0, c0 *graph.Node, err error)
	// Stateful carries the final state of each batch into the next as its
	// initial state (Keras's stateful RNN), for truncated backpropagation
	// through time over long sequences split into consecutive chunks, one
	// sequence per batch row. ResetState starts again from zeros.
	Stateful bool

	node        *graph.Node
	h0, c0      graph.Data // the values of the initial-state inputs (stateful)
	carry       bool       // the next run starts from the previous run's final state
	incremental bool       // carry the state as a stateful layer does (SetIncremental)
}

// SetIncremental implements Incremental: an incremental recurrent layer
// carries its state from pass to pass, as a Stateful one does.
func (r *Recurrent) SetIncremental(maxLen int) error {
	if r != nil {
		r.incremental = maxLen > 0
	}
	return nil
}

// ResetState makes the next run of a stateful layer start from zeros.
func (r *Recurrent) ResetState() {
	if r != nil {
		r.carry = false
	}
}

// NewLSTM returns an LSTM layer with the given hidden size, returning the
// last step.
func NewLSTM(hidden int) *Recurrent { return &Recurrent{Cell: graph.LSTMCell, Hidden: hidden} }

// NewGRU returns a GRU layer with the given hidden size, returning the last step.
func NewGRU(hidden int) *Recurrent { return &Recurrent{Cell: graph.GRUCell, Hidden: hidden} }

// Kind implements Layer: "LSTM" or "GRU" ("Recurrent" for a nil layer).
func (r *Recurrent) Kind() string {
	if r == nil {
		return "Recurrent"
	}
	return r.Cell.String()
}

// OutputShape implements Layer.
func (r *Recurrent) OutputShape(in []int) ([]int, error) {
	if r == nil {
		return nil, nilLayer(r)
	}
	if r.Cell != graph.LSTMCell && r.Cell != graph.GRUCell {
		return nil, shapeErr(r, in, "unknown cell %v", r.Cell)
	}
	if len(in) != 2 {
		return nil, shapeErr(r, in, "want [steps features] per example")
	}
	if r.Hidden <= 0 {
		return nil, shapeErr(r, in, "hidden size %d must be positive", r.Hidden)
	}
	if r.ReturnSequences {
		return []int{in[0], r.Hidden}, nil
	}
	return []int{r.Hidden}, nil
}

// NumParams implements Layer.
func (r *Recurrent) NumParams(in []int) int {
	if r == nil || len(in) != 2 {
		return 0
	}
	gh := r.Cell.Gates() * r.Hidden
	n := gh*in[1] + gh*r.Hidden
	if !r.NoBias {
		n += 2 * gh
	}
	return n
}

// Build implements Layer.
func (r *Recurrent) Build(g *graph.Graph, x *graph.Node) (*graph.Node, error) {
	in, err := checkInput(r, g, x)
	if err != nil {
		return nil, err
	}
	init := r.Init
	if init == nil {
		init = graph.Bounded(r.Hidden)
	}
	gh := r.Cell.Gates() * r.Hidden
	r.params = nil
	wih, err := r.param(g, "weight_ih", []int{gh, in[1]}, init)
	if err != nil {
		return nil, err
	}
	whh, err := r.param(g, "weight_hh", []int{gh, r.Hidden}, init)
	if err != nil {
		return nil, err
	}
	var bih, bhh *graph.Node
	if !r.NoBias {
		bi, err := r.param(g, "bias_ih", []int{gh}, init)
		if err != nil {
			return nil, err
		}
		bh, err := r.param(g, "bias_hh", []int{gh}, init)
		if err != nil {
			return nil, err
		}
		bih, bhh = bi.Node, bh.Node
	}
	var h0, c0 *graph.Node
	switch {
	case (r.Stateful || r.incremental) && r.InitialState != nil:
		return nil, shapeErr(r, in, "a layer is either stateful (or incremental) or given an initial state, not both")
	case r.Stateful || r.incremental:
		if h0, c0, err = r.stateInputs(g, x.Shape()[0]); err != nil {
			return nil, err
		}
	case r.InitialState != nil:
		if h0, c0, err = r.InitialState(g, x.Shape()[0]); err != nil {
			return nil, err
		}
	}
	y, err := graph.RNN(r.Cell, x, wih.Node, whh.Node, bih, bhh, h0, c0)
	if err != nil {
		return nil, err
	}
	r.node = y
	if r.ReturnSequences {
		return y, nil
	}
	return graph.LastStep(y)
}

// Embedding maps token ids to learned vectors: per example the input is
// [steps] ids (as float values) and the output [steps, Dim]. Its weight is
// [Vocab, Dim], like PyTorch's nn.Embedding, initialised N(0, 1).
type Embedding struct {
	base
	Vocab, Dim int
	Init       graph.Initializer // default graph.Normal(1)
}

// NewEmbedding returns an embedding of vocab tokens into dim dimensions.
func NewEmbedding(vocab, dim int) *Embedding { return &Embedding{Vocab: vocab, Dim: dim} }

// Kind implements Layer.
func (e *Embedding) Kind() string { return "Embedding" }

// OutputShape implements Layer.
func (e *Embedding) OutputShape(in []int) ([]int, error) {
	if e == nil {
		return nil, nilLayer(e)
	}
	if len(in) != 1 {
		return nil, shapeErr(e, in, "want [steps] token ids per example")
	}
	if e.Vocab <= 0 || e.Dim <= 0 {
		return nil, shapeErr(e, in, "vocabulary %d and dimension %d must be positive", e.Vocab, e.Dim)
	}
	return []int{in[0], e.Dim}, nil
}

// NumParams implements Layer.
func (e *Embedding) NumParams([]int) int {
	if e == nil {
		return 0
	}
	return e.Vocab * e.Dim
}

// Build implements Layer.
func (e *Embedding) Build(g *graph.Graph, x *graph.Node) (*graph.Node, error) {
	if _, err := checkInput(e, g, x); err != nil {
		return nil, err
	}
	init := e.Init
	if init == nil {
		init = graph.Normal(1)
	}
	e.params = nil
	w, err := e.param(g, "weight", []int{e.Vocab, e.Dim}, init)
	if err != nil {
		return nil, err
	}
	return graph.Embedding(x, w.Node)
}

// stateInputs declares the initial-state inputs of a stateful layer and
// registers the feed that fills them before every run: zeros after a
// reset, else the final state of the previous run.
func (r *Recurrent) stateInputs(g *graph.Graph, batch int) (h0, c0 *graph.Node, err error) {
	r.h0, r.c0 = graph.Data{}, graph.Data{}
	if h0, err = g.Input(r.name+".h0", batch, r.Hidden); err != nil {
		return nil, nil, err
	}
	if r.h0, err = g.InputData(h0); err != nil {
		return nil, nil, err
	}
	if r.Cell == graph.LSTMCell {
		if c0, err = g.Input(r.name+".c0", batch, r.Hidden); err != nil {
			return nil, nil, err
		}
		if r.c0, err = g.InputData(c0); err != nil {
			return nil, nil, err
		}
	}
	r.carry = false
	err = g.AddFeed(r.name, func(bool) error {
		if !r.carry {
			r.carry = true
			r.h0.Zero()
			r.c0.Zero()
			return nil
		}
		return graph.RNNFinalState(r.node, r.h0, r.c0)
	})
	if err != nil {
		return nil, nil, err
	}
	return h0, c0, nil
}

// Model files (spec.go) name these layers lstm, gru and embedding.
func init() {
	for _, cell := range []graph.Cell{graph.LSTMCell, graph.GRUCell} {
		RegisterLayer(strings.ToLower(cell.String()),
			func(s *Settings) *Recurrent {
				return &Recurrent{
					Cell:            cell,
					Hidden:          s.Int("hidden"),
					ReturnSequences: s.Bool("return_sequences", false),
					Stateful:        s.Bool("stateful", false),
					NoBias:          !s.Bool("bias", true),
					Init:            s.Init("init"),
				}
			},
			func(r *Recurrent, s *Settings) bool {
				if r.Cell != cell {
					return false
				}
				s.Set("hidden", r.Hidden)
				if r.ReturnSequences {
					s.Set("return_sequences", true)
				}
				if r.Stateful {
					s.Set("stateful", true)
				}
				if r.NoBias {
					s.Set("bias", false)
				}
				s.SetInit("init", r.Init, graph.Bounded(r.Hidden))
				if r.InitialState != nil {
					s.Fail("its InitialState function cannot be written in a spec")
				}
				return true
			})
	}
	RegisterLayer("embedding",
		func(s *Settings) *Embedding {
			return &Embedding{Vocab: s.Int("vocab"), Dim: s.Int("dim"), Init: s.Init("init")}
		},
		func(e *Embedding, s *Settings) bool {
			s.Set("vocab", e.Vocab)
			s.Set("dim", e.Dim)
			s.SetInit("init", e.Init, graph.Normal(1))
			return true
		})
}
