package onnx

import (
	"encoding/binary"
	"math"
	"strconv"

	pb "github.com/dlrun/dlrun/internal/onnxpb"
	"google.golang.org/protobuf/proto"
)

// builder accumulates an ONNX graph: its nodes, initialisers (the weights,
// as little-endian raw data) and the names in use, so that every tensor
// gets a name of its own.
type builder struct {
	g     *pb.GraphProto
	used  map[string]bool
	bytes int64 // raw bytes of the initialisers so far
}

func newBuilder(name string) *builder {
	return &builder{g: &pb.GraphProto{Name: proto.String(name)}, used: map[string]bool{}}
}

// fresh returns name, or name_2, name_3, ... if it is taken, and marks it
// taken.
func (b *builder) fresh(name string) string {
	n := name
	for i := 2; b.used[n]; i++ {
		n = name + "_" + strconv.Itoa(i)
	}
	b.used[n] = true
	return n
}

// node adds a node of operator op over inputs (an empty name is an
// omitted optional input) and returns the names of its outputs, made
// fresh from the given ones.
func (b *builder) node(op string, inputs []string, outputs []string, attrs ...*pb.AttributeProto) []string {
	outs := make([]string, len(outputs))
	for i, o := range outputs {
		outs[i] = b.fresh(o)
	}
	b.g.Node = append(b.g.Node, &pb.NodeProto{
		Name:      proto.String(b.fresh("node/" + outs[0])),
		OpType:    proto.String(op),
		Input:     inputs,
		Output:    outs,
		Attribute: attrs,
	})
	return outs
}

// op adds a node of one output named out (made fresh) and returns that
// name.
func (b *builder) op(op, out string, inputs []string, attrs ...*pb.AttributeProto) string {
	return b.node(op, inputs, []string{out}, attrs...)[0]
}

// floats adds a float32 initialiser of the given shape and returns its
// name.
func (b *builder) floats(name string, shape []int, v []float32) string {
	raw := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(x))
	}
	return b.init(name, pb.TensorProto_FLOAT, shape, raw)
}

// int64s adds an int64 initialiser of the given shape and returns its
// name.
func (b *builder) int64s(name string, shape []int, v []int64) string {
	raw := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(raw[8*i:], uint64(x))
	}
	return b.init(name, pb.TensorProto_INT64, shape, raw)
}

func (b *builder) init(name string, dt pb.TensorProto_DataType, shape []int, raw []byte) string {
	name = b.fresh(name)
	b.g.Initializer = append(b.g.Initializer, &pb.TensorProto{
		Name:     proto.String(name),
		DataType: proto.Int32(int32(dt)),
		Dims:     dims(shape),
		RawData:  raw,
	})
	b.bytes += int64(len(raw))
	return name
}

// axes adds the int64 vector v as a constant, for the operators that take
// their axes or shapes as an input (Squeeze, Unsqueeze, ReduceSum).
func (b *builder) axes(v ...int64) string {
	return b.int64s("const/axes", []int{len(v)}, v)
}

// scalar adds a float32 scalar constant.
func (b *builder) scalar(name string, v float32) string {
	return b.floats(name, nil, []float32{v})
}

// valueInfo describes a graph input or output: its element type and shape,
// whose symbolic dimensions are named by strings ("batch", "steps").
func valueInfo(name string, dt pb.TensorProto_DataType, doc string, shape ...any) *pb.ValueInfoProto {
	s := &pb.TensorShapeProto{}
	for _, d := range shape {
		switch d := d.(type) {
		case int:
			s.Dim = append(s.Dim, &pb.TensorShapeProto_Dimension{Value: &pb.TensorShapeProto_Dimension_DimValue{DimValue: int64(d)}})
		case string:
			s.Dim = append(s.Dim, &pb.TensorShapeProto_Dimension{Value: &pb.TensorShapeProto_Dimension_DimParam{DimParam: d}})
		}
	}
	return &pb.ValueInfoProto{
		Name:      proto.String(name),
		DocString: proto.String(doc),
		Type: &pb.TypeProto{Value: &pb.TypeProto_TensorType{TensorType: &pb.TypeProto_Tensor{
			ElemType: proto.Int32(int32(dt)),
			Shape:    s,
		}}},
	}
}

func dims(shape []int) []int64 {
	d := make([]int64, len(shape))
	for i, n := range shape {
		d[i] = int64(n)
	}
	return d
}

func attrInt(name string, v int) *pb.AttributeProto {
	return &pb.AttributeProto{Name: proto.String(name), Type: pb.AttributeProto_INT.Enum(), I: proto.Int64(int64(v))}
}

func attrInts(name string, v ...int) *pb.AttributeProto {
	return &pb.AttributeProto{Name: proto.String(name), Type: pb.AttributeProto_INTS.Enum(), Ints: dims(v)}
}

func attrFloat(name string, v float64) *pb.AttributeProto {
	return &pb.AttributeProto{Name: proto.String(name), Type: pb.AttributeProto_FLOAT.Enum(), F: proto.Float32(float32(v))}
}
