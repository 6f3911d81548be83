package onnx

import (
	"slices"
	"strconv"

	pb "github.com/dlrun/dlrun/internal/onnxpb"
	"github.com/dlrun/dlrun/nn"
)

// columnEmbedding converts an nn.ColumnEmbedding as it builds: the row's
// other values (Gather of their positions, the same values as dlrun's
// product with a 0/1 matrix), then each index column's vectors (its
// values cast to int64 ids gathering its table's rows), joined.
func (c *converter) columnEmbedding(name string, l *nn.ColumnEmbedding) error {
	w := c.in[0]
	var parts []string
	var rest []int64
	for i := 0; i < w; i++ {
		if !slices.Contains(l.Columns, i) {
			rest = append(rest, int64(i))
		}
	}
	if len(rest) > 0 {
		at := c.b.int64s(name+"/rest_columns", []int{len(rest)}, rest)
		parts = append(parts, c.b.op("Gather", name+"/rest", []string{c.x, at}, attrInt("axis", 1)))
	}
	for i, col := range l.Columns {
		k := strconv.Itoa(i)
		at := c.b.int64s(name+"/column"+k, nil, []int64{int64(col)})
		v := c.b.op("Gather", name+"/values"+k, []string{c.x, at}, attrInt("axis", 1))
		ids := c.b.op("Cast", name+"/ids"+k, []string{v}, attrInt("to", int(pb.TensorProto_INT64)))
		table, err := c.weight(name + ".weight" + k)
		if err != nil {
			return err
		}
		parts = append(parts, c.b.op("Gather", name+"/vectors"+k, []string{table, ids}))
	}
	c.x = c.b.op("Concat", name, parts, attrInt("axis", 1))
	return nil
}
