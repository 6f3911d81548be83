package graph

import (
	"fmt"
	"math"

	"github.com/dlrun/dlrun/internal/kernels"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// AddPositions returns x [b, t, e] with a row of table [n, e] added at
// each step: step i of every sequence gets row i (a positional embedding,
// learned when table is a parameter, fixed when it is a constant such as
// SinusoidalTable's), so t may be at most n. With a cursor, step i gets
// row cur.Len()+i instead, and each pass advances the cursor by t:
// incremental decoding, one step per pass (a pass past row n is an
// error; Reset starts again from row 0). x and table are differentiable:
// table's rows receive the sum over the batch of their steps' gradients.
func AddPositions(x, table *Node, cur *Cursor) (*Node, error) {
	if err := checkNodes("add positions", x, table); err != nil {
		return nil, err
	}
	sx, st := x.Shape(), table.Shape()
	if x.IsScalar() || sx.Dims() != 3 {
		return nil, &ShapeError{"add positions", table.Name(), sx, st, "the input must be [batch, steps, width]"}
	}
	if st.Dims() != 2 || st[1] != sx[2] || st[0] < sx[1] {
		return nil, &ShapeError{"add positions", table.Name(), sx, st, fmt.Sprintf("the table must be [n, %d] with n at least the %d steps", sx[2], sx[1])}
	}
	k := &positionsKernel{b: sx[0], t: sx[1], e: sx[2], n: st[0], cur: cur, table: table.Name()}
	return apply(k, sx.Clone(), x, table)
}

// Cursor counts the steps of a sequence that incremental passes have run
// (AddPositions). The zero Cursor is at step 0.
type Cursor struct{ n int }

// Len returns the number of steps run since the last Reset (0 for nil).
func (c *Cursor) Len() int {
	if c == nil {
		return 0
	}
	return c.n
}

// Reset starts a new sequence at step 0.
func (c *Cursor) Reset() {
	if c != nil {
		c.n = 0
	}
}

// positionsKernel adds rows from..from+t-1 of the table to each sequence.
type positionsKernel struct {
	b, t, e, n int
	cur        *Cursor
	table      string // the table's name, for errors
	from       int    // the first row of the last pass
}

func (k *positionsKernel) name() string {
	return fmt.Sprintf("AddPositions(%d of %d)", k.t, k.n)
}

// keepsState implements stateful: the cursor and the first row used.
func (*positionsKernel) keepsState()          {}
func (k *positionsKernel) diffWRT(int) []bool { return []bool{true, true} }
func (k *positionsKernel) do(out *tensor.Dense, in []*tensor.Dense) error {
	k.from = k.cur.Len()
	if k.from+k.t > k.n {
		return errors.Errorf("add positions: steps %d to %d are past the %d rows of %s (reset to start a new sequence)", k.from, k.from+k.t-1, k.n, k.table)
	}
	err := floats(out, in, func(o []float32, in [][]float32) { addPositions(k, o, in[0], in[1]) },
		func(o []float64, in [][]float64) { addPositions(k, o, in[0], in[1]) })
	if err == nil && k.cur != nil {
		k.cur.n += k.t
	}
	return err
}

func addPositions[T kernels.Float](k *positionsKernel, o, x, table []T) {
	rows := table[k.from*k.e : (k.from+k.t)*k.e]
	for b := range k.b {
		at := b * k.t * k.e
		addInto(o[at:at+k.t*k.e], x[at:at+k.t*k.e], rows)
	}
}

func (k *positionsKernel) grad(in gorgonia.Nodes, y, g *gorgonia.Node) (gorgonia.Nodes, error) {
	// y orders the table's gradient after the forward pass, whose first
	// row it reads.
	dt, err := apply(&positionsGradKernel{f: k}, in[1].Shape().Clone(), g, y)
	return gorgonia.Nodes{g, dt}, err
}

// positionsGradKernel sums dy over the batch into the rows used.
type positionsGradKernel struct {
	noGrad
	f *positionsKernel
}

func (k *positionsGradKernel) name() string { return fmt.Sprintf("AddPositionsGrad(%p)", k.f) }
func (k *positionsGradKernel) do(out *tensor.Dense, in []*tensor.Dense) error {
	f := k.f
	return floats(out, in, func(o []float32, in [][]float32) { positionsGrad(f, o, in[0]) },
		func(o []float64, in [][]float64) { positionsGrad(f, o, in[0]) })
}

func positionsGrad[T kernels.Float](k *positionsKernel, dt, g []T) {
	clear(dt)
	rows := dt[k.from*k.e : (k.from+k.t)*k.e]
	for b := range k.b {
		at := b * k.t * k.e
		for i, v := range g[at : at+k.t*k.e] {
			rows[i] += v
		}
	}
}

// SinusoidalTable returns the fixed positional encodings of Vaswani et
// al. for n steps of width e, row-major [n, e]:
//
//	row p, column 2i:   sin(p / 10000^(2i/e))
//	row p, column 2i+1: cos(p / 10000^(2i/e))
func SinusoidalTable(n, e int) []float64 {
	t := make([]float64, n*e)
	for p := range n {
		for c := 0; c < e; c += 2 {
			a := float64(p) / math.Pow(10000, float64(c)/float64(e))
			t[p*e+c] = math.Sin(a)
			if c+1 < e {
				t[p*e+c+1] = math.Cos(a)
			}
		}
	}
	return t
}
