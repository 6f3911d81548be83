package graph

import (
	"fmt"

	"github.com/dlrun/dlrun/internal/kernels"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Cell selects a recurrent cell.
type Cell int

// The recurrent cells, with PyTorch's equations and weight layouts.
const (
	LSTMCell Cell = iota // gates i, f, g, o: weights [4H, in] and [4H, H]
	GRUCell              // gates r, z, n: weights [3H, in] and [3H, H]
)

// String returns "LSTM" or "GRU" ("Cell(n)" for an unknown cell).
func (c Cell) String() string {
	switch c {
	case LSTMCell:
		return "LSTM"
	case GRUCell:
		return "GRU"
	}
	return fmt.Sprintf("Cell(%d)", int(c))
}

// Gates returns the number of gate blocks of the cell (4 or 3).
func (c Cell) Gates() int {
	if c == GRUCell {
		return 3
	}
	return 4
}

// RNN runs a recurrent layer over x [batch, steps, in] and returns every
// hidden state, [batch, steps, hidden]. wih [G·hidden, in] and whh
// [G·hidden, hidden] are PyTorch's weight_ih_l0 and weight_hh_l0; bih and
// bhh [G·hidden] its biases (nil: none, both). h0 and c0 [batch, hidden] are
// the initial states (nil: zeros; c0 is for the LSTM only). The time loop,
// with one set of shared weights, runs inside the op: a Gorgonia node per
// step and gate would cost more than the arithmetic, and slicing gates out
// of a fused product with Gorgonia's Slice hits its hash bug. x, wih and
// whh must not be nil.
func RNN(cell Cell, x, wih, whh, bih, bhh, h0, c0 *Node) (*Node, error) {
	nodes := []*gorgonia.Node{x, wih, whh}
	for _, n := range []*gorgonia.Node{bih, bhh, h0, c0} {
		if n != nil {
			nodes = append(nodes, n)
		}
	}
	if err := checkNodes("rnn", nodes...); err != nil {
		return nil, err
	}
	if cell != LSTMCell && cell != GRUCell {
		return nil, errors.Errorf("graph: rnn %s: unknown cell %v", wih.Name(), cell)
	}
	sx, si, sh := x.Shape(), wih.Shape(), whh.Shape()
	if sx.Dims() != 3 {
		return nil, &ShapeError{"rnn", wih.Name(), sx, si, "the input must be [batch, steps, features]"}
	}
	G := cell.Gates()
	if sh.Dims() != 2 || sh[0]%G != 0 || sh[1]*G != sh[0] {
		return nil, &ShapeError{"rnn", whh.Name(), sh, nil, fmt.Sprintf("%s hidden weights must be [%d·hidden, hidden]", cell, G)}
	}
	H := sh[1]
	if si.Dims() != 2 || si[0] != G*H || si[1] != sx[2] {
		return nil, &ShapeError{"rnn", wih.Name(), sx, si, fmt.Sprintf("input weights must be [%d, %d]", G*H, sx[2])}
	}
	d := kernels.RNNDims{B: sx[0], T: sx[1], I: sx[2], H: H}
	k := &rnnKernel{cell: cell, d: d}
	inputs := gorgonia.Nodes{x, wih, whh}
	if (bih == nil) != (bhh == nil) {
		return nil, errors.Errorf("graph: rnn %s: give both biases or neither", wih.Name())
	}
	if bih != nil {
		for _, b := range []*gorgonia.Node{bih, bhh} {
			if s := b.Shape(); s.Dims() != 1 || s[0] != G*H {
				return nil, &ShapeError{"rnn", b.Name(), s, nil, fmt.Sprintf("biases must be [%d]", G*H)}
			}
		}
		k.bias = true
		inputs = append(inputs, bih, bhh)
	}
	for _, st := range []*gorgonia.Node{h0, c0} {
		if st == nil {
			continue
		}
		if s := st.Shape(); s.Dims() != 2 || s[0] != d.B || s[1] != H {
			return nil, &ShapeError{"rnn", st.Name(), s, nil, fmt.Sprintf("initial states must be [%d, %d]", d.B, H)}
		}
	}
	if h0 != nil {
		k.h0 = true
		inputs = append(inputs, h0)
	}
	if c0 != nil {
		if cell != LSTMCell {
			return nil, errors.Errorf("graph: rnn %s: only the LSTM has a cell state", wih.Name())
		}
		k.c0 = true
		inputs = append(inputs, c0)
	}
	return apply(k, tensor.Shape{d.B, d.T, H}, inputs...)
}

// rnnKernel runs a recurrent layer; it keeps the forward pass's cache for
// the gradient kernel and the final states for stateful use.
type rnnKernel struct {
	cell         Cell
	d            kernels.RNNDims
	bias, h0, c0 bool
	c32          kernels.RNNCache[float32]
	c64          kernels.RNNCache[float64]
}

func (k *rnnKernel) name() string {
	return fmt.Sprintf("%s(%d→%d, bias %v, h0 %v, c0 %v)", k.cell, k.d.I, k.d.H, k.bias, k.h0, k.c0)
}

func (k *rnnKernel) diffWRT(n int) []bool {
	d := make([]bool, n)
	for i := range d {
		d[i] = true // x, the weights, the biases and the initial states, as in PyTorch
	}
	return d
}

// parts names the inputs by role.
func rnnParts[T kernels.Float](k *rnnKernel, in [][]T) (x, wih, whh, bih, bhh, h0, c0 []T) {
	x, wih, whh = in[0], in[1], in[2]
	i := 3
	if k.bias {
		bih, bhh = in[3], in[4]
		i = 5
	}
	if k.h0 {
		h0 = in[i]
		i++
	}
	if k.c0 {
		c0 = in[i]
	}
	return
}

func rnnForward[T kernels.Float](k *rnnKernel, in [][]T, out []T, cache *kernels.RNNCache[T]) {
	x, wih, whh, bih, bhh, h0, c0 := rnnParts(k, in)
	if k.cell == GRUCell {
		kernels.GRUForward(k.d, x, wih, whh, bih, bhh, h0, out, cache)
	} else {
		kernels.LSTMForward(k.d, x, wih, whh, bih, bhh, h0, c0, out, cache)
	}
}

func (k *rnnKernel) do(out *tensor.Dense, in []*tensor.Dense) error {
	return floats(out, in, func(o []float32, in [][]float32) { rnnForward(k, in, o, &k.c32) },
		func(o []float64, in [][]float64) { rnnForward(k, in, o, &k.c64) })
}

// RNNFinalState copies the final hidden state (and, for an LSTM, the final
// cell state) of the most recent run of the recurrent node y, made by RNN,
// into h and c, each [batch, hidden] values of the layer's dtype (c may be
// the zero Data, and is left alone for a GRU). It is how a stateful layer
// carries its state from one batch to the next: h and c are then the
// InputData of its initial-state inputs.
func RNNFinalState(y *Node, h, c Data) error {
	if y == nil {
		return errors.New("graph: rnn final state: the recurrent node is nil")
	}
	if h.Len() == 0 {
		return errors.Errorf("graph: rnn final state of %s: h holds no values", y.Name())
	}
	o, ok := y.Op().(*op)
	if !ok {
		return errors.Errorf("graph: %s was not made by RNN", y.Name())
	}
	k, ok := o.k.(*rnnKernel)
	if !ok {
		return errors.Errorf("graph: %s was not made by RNN", y.Name())
	}
	n := k.d.B * k.d.H
	if h.Len() != n || (c.Len() != 0 && c.Len() != n) {
		return errors.Errorf("graph: final state of %s has %d values per tensor", y.Name(), n)
	}
	if o.dt == tensor.Float32 {
		if h.f32 == nil || (c.Len() != 0 && c.f32 == nil) {
			return errors.Errorf("graph: final state of %s: h and c must be %v, as the layer is", y.Name(), o.dt)
		}
		return finalState(y, k, &k.c32, h.f32, c.f32)
	}
	if h.f64 == nil || (c.Len() != 0 && c.f64 == nil) {
		return errors.Errorf("graph: final state of %s: h and c must be %v, as the layer is", y.Name(), o.dt)
	}
	return finalState(y, k, &k.c64, h.f64, c.f64)
}

func finalState[T kernels.Float](y *gorgonia.Node, k *rnnKernel, cache *kernels.RNNCache[T], h, c []T) error {
	n := k.d.B * k.d.H
	if len(cache.Hs) < (k.d.T+1)*n {
		return errors.Errorf("graph: final state of %s: the recurrent layer has not run yet", y.Name())
	}
	copy(h, cache.Hs[k.d.T*n:(k.d.T+1)*n])
	if c != nil && k.cell == LSTMCell {
		copy(c, cache.C[k.d.T*n:(k.d.T+1)*n])
	}
	return nil
}

func (k *rnnKernel) grad(in gorgonia.Nodes, _, g *gorgonia.Node) (gorgonia.Nodes, error) {
	gk := &rnnGradKernel{f: k}
	// The gradient kernel computes every gradient in one backward pass; its
	// output is dx, and pick nodes copy out the others.
	dx, err := apply(gk, in[0].Shape().Clone(), append(gorgonia.Nodes{g}, in[:3]...)...)
	if err != nil {
		return nil, err
	}
	out := make(gorgonia.Nodes, len(in))
	out[0] = dx
	for i := 1; i < len(in); i++ {
		if out[i], err = apply(&pickKernel{g: gk, input: k.role(i)}, in[i].Shape().Clone(), dx); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// role returns what input i of the layer is: 1 wih, 2 whh, 3 bih, 4 bhh,
// 5 h0, 6 c0.
func (k *rnnKernel) role(i int) int {
	if !k.bias && i >= 3 {
		i += 2
	}
	if !k.h0 && i >= 5 {
		i++
	}
	return i
}

// rnnGradKernel runs the backward pass; it returns dx and keeps the
// weight, bias and initial-state gradients for the pick kernels.
type rnnGradKernel struct {
	noGrad
	f                                *rnnKernel
	dwih, dwhh, dbih, dbhh, dh0, dc0 *tensor.Dense
}

func (k *rnnGradKernel) name() string { return fmt.Sprintf("%sGrad(%p)", k.f.cell, k.f) }

func (k *rnnGradKernel) do(out *tensor.Dense, in []*tensor.Dense) error {
	f, d := k.f, k.f.d
	G := f.cell.Gates() * d.H
	if k.dwih == nil {
		dt := out.Dtype()
		k.dwih = tensor.New(tensor.Of(dt), tensor.WithShape(G, d.I))
		k.dwhh = tensor.New(tensor.Of(dt), tensor.WithShape(G, d.H))
		k.dbih = tensor.New(tensor.Of(dt), tensor.WithShape(G))
		k.dbhh = tensor.New(tensor.Of(dt), tensor.WithShape(G))
		k.dh0 = tensor.New(tensor.Of(dt), tensor.WithShape(d.B, d.H))
		k.dc0 = tensor.New(tensor.Of(dt), tensor.WithShape(d.B, d.H))
	}
	return floats(out, in, func(o []float32, in [][]float32) {
		rnnBackward(f, in, o, &f.c32, k.dwih.Float32s(), k.dwhh.Float32s(), k.dbih.Float32s(), k.dbhh.Float32s(), k.dh0.Float32s(), k.dc0.Float32s())
	}, func(o []float64, in [][]float64) {
		rnnBackward(f, in, o, &f.c64, k.dwih.Float64s(), k.dwhh.Float64s(), k.dbih.Float64s(), k.dbhh.Float64s(), k.dh0.Float64s(), k.dc0.Float64s())
	})
}

func rnnBackward[T kernels.Float](f *rnnKernel, in [][]T, dx []T, cache *kernels.RNNCache[T], dwih, dwhh, dbih, dbhh, dh0, dc0 []T) {
	dhs, x, wih, whh := in[0], in[1], in[2], in[3]
	if f.cell == GRUCell {
		kernels.GRUBackward(f.d, dhs, x, wih, whh, cache, dx, dwih, dwhh, dbih, dbhh, dh0)
		return
	}
	kernels.LSTMBackward(f.d, dhs, x, wih, whh, cache, dx, dwih, dwhh, dbih, dh0, dc0)
	copy(dbhh, dbih)
}

// pickKernel copies one gradient out of an rnnGradKernel; its input (the
// gradient node's output) orders it after the backward pass.
type pickKernel struct {
	noGrad
	g     *rnnGradKernel
	input int // rnnKernel.role: 1 wih, 2 whh, 3 bih, 4 bhh, 5 h0, 6 c0
}

func (k *pickKernel) name() string { return fmt.Sprintf("RNNGradPick(%p, %d)", k.g, k.input) }
func (k *pickKernel) do(out *tensor.Dense, _ []*tensor.Dense) error {
	src := [...]*tensor.Dense{nil, k.g.dwih, k.g.dwhh, k.g.dbih, k.g.dbhh, k.g.dh0, k.g.dc0}[k.input]
	if out.Dtype() == tensor.Float32 {
		copy(out.Float32s(), src.Float32s())
	} else {
		copy(out.Float64s(), src.Float64s())
	}
	return nil
}

// LastStep returns x[:, steps-1, :] for x [batch, steps, features].
func LastStep(x *Node) (*Node, error) {
	if err := checkNodes("last step", x); err != nil {
		return nil, err
	}
	s := x.Shape()
	if s.Dims() != 3 {
		return nil, &ShapeError{"last step", x.Name(), s, nil, "the input must be [batch, steps, features]"}
	}
	return apply(lastStepKernel{s[0], s[1], s[2]}, tensor.Shape{s[0], s[2]}, x)
}

type lastStepKernel struct{ b, t, f int }

func (k lastStepKernel) name() string     { return fmt.Sprintf("LastStep(%d)", k.t) }
func (lastStepKernel) diffWRT(int) []bool { return []bool{true} }
func (k lastStepKernel) do(out *tensor.Dense, in []*tensor.Dense) error {
	return floats(out, in, func(o []float32, in [][]float32) { lastStep(k, in[0], o) },
		func(o []float64, in [][]float64) { lastStep(k, in[0], o) })
}
func lastStep[T kernels.Float](k lastStepKernel, x, o []T) {
	for b := 0; b < k.b; b++ {
		copy(o[b*k.f:(b+1)*k.f], x[(b*k.t+k.t-1)*k.f:(b*k.t+k.t)*k.f])
	}
}
func (k lastStepKernel) grad(in gorgonia.Nodes, _, g *gorgonia.Node) (gorgonia.Nodes, error) {
	dx, err := apply(lastStepGradKernel{k: k}, in[0].Shape().Clone(), g)
	return gorgonia.Nodes{dx}, err
}

type lastStepGradKernel struct {
	noGrad
	k lastStepKernel
}

func (k lastStepGradKernel) name() string { return fmt.Sprintf("LastStepGrad(%d)", k.k.t) }
func (k lastStepGradKernel) do(out *tensor.Dense, in []*tensor.Dense) error {
	return floats(out, in, func(o []float32, in [][]float32) { lastStepGrad(k.k, in[0], o) },
		func(o []float64, in [][]float64) { lastStepGrad(k.k, in[0], o) })
}
func lastStepGrad[T kernels.Float](k lastStepKernel, g, dx []T) {
	clear(dx)
	for b := 0; b < k.b; b++ {
		copy(dx[(b*k.t+k.t-1)*k.f:(b*k.t+k.t)*k.f], g[b*k.f:(b+1)*k.f])
	}
}

// Embedding returns the rows of table [vocab, dim] selected by the ids in
// ids, of any shape [...] (ids are stored as floats, as every input is):
// [..., dim], as PyTorch's nn.Embedding. Token ids [batch, steps] give
// [batch, steps, dim]; user ids [batch] give [batch, dim]. An id outside
// [0, vocab) is an error when the op runs. While Graph.TapEmbeddings
// builds, the rows are tapped: a Tap adds a shift to them.
func Embedding(ids, table *Node) (*Node, error) {
	if err := checkNodes("embedding", ids, table); err != nil {
		return nil, err
	}
	si, st := ids.Shape(), table.Shape()
	if si.Dims() < 1 || ids.IsScalar() || st.Dims() != 2 {
		return nil, &ShapeError{"embedding", table.Name(), si, st, "ids must be a tensor of ids ([batch] or [batch, steps]) and the table [vocab, dim]"}
	}
	out := append(si.Clone(), st[1])
	rows, err := apply(embeddingKernel{si.TotalSize(), st[0], st[1]}, out, ids, table)
	if err != nil {
		return nil, err
	}
	return tapped(ids, table, rows) // the rows themselves unless TapEmbeddings is building
}

type embeddingKernel struct{ n, vocab, dim int }

func (k embeddingKernel) name() string     { return fmt.Sprintf("Embedding(%d, %d)", k.vocab, k.dim) }
func (embeddingKernel) diffWRT(int) []bool { return []bool{false, true} }
func (k embeddingKernel) do(out *tensor.Dense, in []*tensor.Dense) error {
	var bad error
	err := floats(out, in, func(o []float32, in [][]float32) { bad = embed(k, in[0], in[1], o) },
		func(o []float64, in [][]float64) { bad = embed(k, in[0], in[1], o) })
	if err != nil {
		return err
	}
	return bad
}

func embed[T kernels.Float](k embeddingKernel, ids, table, o []T) error {
	for i, v := range ids {
		id := int(v)
		if id < 0 || id >= k.vocab || T(id) != v {
			return errors.Errorf("embedding: token id %v at position %d is not in [0, %d)", v, i, k.vocab)
		}
		copy(o[i*k.dim:(i+1)*k.dim], table[id*k.dim:(id+1)*k.dim])
	}
	return nil
}

func (k embeddingKernel) grad(in gorgonia.Nodes, _, g *gorgonia.Node) (gorgonia.Nodes, error) {
	dt, err := apply(embeddingGradKernel{k: k}, in[1].Shape().Clone(), in[0], g)
	return gorgonia.Nodes{nil, dt}, err
}

type embeddingGradKernel struct {
	noGrad
	k embeddingKernel
}

func (k embeddingGradKernel) name() string {
	return fmt.Sprintf("EmbeddingGrad(%d, %d)", k.k.vocab, k.k.dim)
}
func (k embeddingGradKernel) do(out *tensor.Dense, in []*tensor.Dense) error {
	return floats(out, in, func(o []float32, in [][]float32) { embedGrad(k.k, in[0], in[1], o) },
		func(o []float64, in [][]float64) { embedGrad(k.k, in[0], in[1], o) })
}

// embedGrad scatters the output gradient into the table's rows, in
// position order.
func embedGrad[T kernels.Float](k embeddingKernel, ids, g, dt []T) {
	clear(dt)
	for i, v := range ids {
		row := dt[int(v)*k.dim : (int(v)+1)*k.dim]
		for j, x := range g[i*k.dim : (i+1)*k.dim] {
			row[j] += x
		}
	}
}
