package nn

import (
	"fmt"
	"reflect"
	"slices"

	"github.com/dlrun/dlrun/graph"
)

// ColumnEmbedding embeds the category columns of a table's rows: per
// example the input is a row [W] of values in which the values at Columns
// are category indices (a CSV table's embedding columns:
// datasets.KindEmbedding, the category's index + 1, 0 for an unknown one),
// and the output is the row's other values, in order, followed by a
// learned vector of Dim values for each index column: [W − k + k·Dim] for
// k columns. Column i's table is [Sizes[i], Dim], initialised N(0, 1), as
// PyTorch's nn.Embedding, the layer fastai's tabular models begin with.
// An index outside [0, Sizes[i]) is an error when the graph runs.
type ColumnEmbedding struct {
	base
	// Columns are the positions of the index columns in the row,
	// increasing.
	Columns []int
	// Sizes are the number of indices of each column (its categories + 1).
	Sizes []int
	// Dim is the size of each vector (0: DefaultColumnDim).
	Dim int
}

// DefaultColumnDim is ColumnEmbedding's vector size when Dim is 0.
const DefaultColumnDim = 8

var _ BatchMemory = (*ColumnEmbedding)(nil)

// Kind implements Layer.
func (e *ColumnEmbedding) Kind() string { return "ColumnEmbedding" }

func (e *ColumnEmbedding) dim() int {
	if e.Dim == 0 {
		return DefaultColumnDim
	}
	return e.Dim
}

// OutputShape implements Layer.
func (e *ColumnEmbedding) OutputShape(in []int) ([]int, error) {
	if e == nil {
		return nil, nilLayer(e)
	}
	if len(in) != 1 {
		return nil, shapeErr(e, in, "want a row [values] per example")
	}
	if len(e.Columns) == 0 || len(e.Sizes) != len(e.Columns) {
		return nil, shapeErr(e, in, "%d columns and %d sizes: want one size per column, at least one", len(e.Columns), len(e.Sizes))
	}
	if e.Dim < 0 || e.Dim > MaxSettingInt {
		return nil, shapeErr(e, in, "dim %d must be positive", e.Dim)
	}
	for i, c := range e.Columns {
		if c < 0 || c >= in[0] || i > 0 && c <= e.Columns[i-1] {
			return nil, shapeErr(e, in, "columns %v: want increasing positions in the row of %d", e.Columns, in[0])
		}
		if e.Sizes[i] < 1 || e.Sizes[i] > MaxSettingInt {
			return nil, shapeErr(e, in, "size %d of column %d must be positive", e.Sizes[i], c)
		}
	}
	return []int{in[0] - len(e.Columns) + len(e.Columns)*e.dim()}, nil
}

// NumParams implements Layer.
func (e *ColumnEmbedding) NumParams([]int) int {
	if e == nil {
		return 0
	}
	n := 0
	for _, s := range e.Sizes {
		n += s * e.dim()
	}
	return n
}

// BatchValues implements BatchMemory: the row's other values selected
// (by a product with a constant 0/1 matrix), each index column and its
// vectors, and the joined output.
func (e *ColumnEmbedding) BatchValues(in []int, batch int) int64 {
	w, k := int64(in[0]), int64(len(e.Columns))
	b, d := int64(batch), int64(e.dim())
	return w*(w-k) + b*(w-k) + k*b*(1+d) + b*(w-k+k*d)
}

// Build implements Layer.
func (e *ColumnEmbedding) Build(g *graph.Graph, x *graph.Node) (*graph.Node, error) {
	in, err := checkInput(e, g, x)
	if err != nil {
		return nil, err
	}
	if _, err := e.OutputShape(in); err != nil {
		return nil, err
	}
	e.params = nil
	w, k := in[0], len(e.Columns)
	var parts []*graph.Node
	if w > k {
		// The other values: x times the [w, w−k] matrix that picks them.
		sel := make([]float64, w*(w-k))
		j := 0
		for i := 0; i < w; i++ {
			if !slices.Contains(e.Columns, i) {
				sel[i*(w-k)+j] = 1
				j++
			}
		}
		s, err := g.Constant(e.name+".select", sel, w, w-k)
		if err != nil {
			return nil, err
		}
		rest, err := graph.MatMul(x, s)
		if err != nil {
			return nil, err
		}
		parts = append(parts, rest)
	}
	for i, c := range e.Columns {
		table, err := e.param(g, fmt.Sprintf("weight%d", i), []int{e.Sizes[i], e.dim()}, graph.Normal(1))
		if err != nil {
			return nil, err
		}
		ids, err := graph.Column(x, c)
		if err != nil {
			return nil, err
		}
		v, err := graph.Embedding(ids, table.Node)
		if err != nil {
			return nil, err
		}
		parts = append(parts, v)
	}
	return graph.Concat(parts...)
}

// Ints returns the setting key, a list of integers of at least 0 (at most
// MaxSettingInt each); it is required.
func (s *Settings) Ints(key string) []int {
	v, ok := s.lookup(key)
	if !ok {
		s.missing(key)
		return nil
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array || rv.Len() == 0 || rv.Len() > maxListSetting {
		s.Invalid(key, fmt.Sprintf("a list of 1 to %d whole numbers", maxListSetting))
		return nil
	}
	out := make([]int, rv.Len())
	for i := range out {
		n, isInt := toInt(rv.Index(i).Interface())
		if !isInt || n < 0 {
			s.Invalid(key, fmt.Sprintf("a list of whole numbers from 0 to %d", MaxSettingInt))
			return nil
		}
		out[i] = n
	}
	return out
}

// maxListSetting bounds the length of a list setting (ColumnEmbedding's
// columns): a table's columns (datasets.MaxTableColumns).
const maxListSetting = 1 << 12

func init() {
	RegisterLayer("column_embedding",
		func(s *Settings) *ColumnEmbedding {
			return &ColumnEmbedding{Columns: s.Ints("columns"), Sizes: s.Ints("sizes"), Dim: s.Int("dim", 0)}
		},
		func(e *ColumnEmbedding, s *Settings) bool {
			s.Set("columns", e.Columns)
			s.Set("sizes", e.Sizes)
			if e.Dim != 0 {
				s.Set("dim", e.Dim)
			}
			return true
		})
}
