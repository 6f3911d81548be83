// Package onnx exports trained dlrun models to ONNX, so that any ONNX
// runtime (ONNX Runtime, TensorRT, onnxruntime-web in a browser) runs
// them.
//
// Export writes one documented operator set, Opset (17, ONNX 1.12; IR
// version 8), in float32 whatever the model's dtype, with the weights as
// initialisers. Every layer dlrun builds converts to standard operators:
//
//	Dense        Gemm (one vector per example) or MatMul + Add (a sequence)
//	Conv2D       Conv (strides, padding as pads)
//	MaxPool2D    MaxPool
//	Flatten      Flatten
//	ReLU, Sigmoid, Tanh, Softmax   Relu, Sigmoid, Tanh, Softmax (last axis)
//	Dropout      Identity (evaluation)
//	Embedding    Gather (ids cast to int64 unless the input is ids)
//	LSTM, GRU    ONNX's LSTM and GRU operators, not unrolled: the gate
//	             blocks reordered from PyTorch's (i, f, g, o) and (r, z, n)
//	             to ONNX's (i, o, f, c) and (z, r, h), the GRU with
//	             linear_before_reset=1 (PyTorch's equations)
//	BatchNorm    BatchNormalization with the running statistics
//	LayerNorm    LayerNormalization (last axis)
//	MF, NCF, Biases   Gather of the embeddings' and biases' rows, Mul and
//	             ReduceSum (MF), Concat and Gemm/Relu (NCF), Add
//
// A layer of another type (one registered with nn.RegisterLayer) is
// refused with an error naming the layer (ErrNotExportable).
//
// The graph's inputs and outputs are named after the task, as dlrun
// serve's are (docs/serving.md), with the batch axis symbolic ("batch"):
//
//	classify    input "input" float32 [batch, input shape...]
//	            outputs "logits" [batch, outputs] and "probabilities"
//	            [batch, classes] (softmax of the logits for a cross-entropy
//	            model, [1-p, p] for one output, as train.Model.Predict)
//	rating      input "input" int64 [batch, 2] (user index, movie index)
//	            output "rating" float32 [batch, 1]
//	next-token  input "input" int64 [batch, steps] token ids (steps
//	            symbolic too), output "logits" [batch, steps, vocab]; each
//	            stateful recurrent layer adds an input "<layer>.h0" (and
//	            "<layer>.c0") [batch, hidden], zeros to start, and the
//	            outputs "<layer>.h" (and "<layer>.c") to feed back
//
// The model's metadata_props hold the dlrun version ("dlrun_version"), the
// task, the model's architecture (its nn.Spec as JSON, "dlrun_model"), the
// inputs and outputs with their shapes ("inputs", "outputs", JSON), the
// class names ("classes") or the vocabulary ("vocab") as JSON lists, and
// for a recommender the numbers of users and movies.
package onnx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/dlrun/dlrun/internal/atomicfile"
	pb "github.com/dlrun/dlrun/internal/onnxpb"
	"github.com/dlrun/dlrun/internal/version"
	"github.com/dlrun/dlrun/nn"
	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/train"
	"google.golang.org/protobuf/proto"
)

// Opset is the version of ONNX's default operator set that Export writes:
// 17, the first with LayerNormalization (ONNX 1.12, IR version 8).
const Opset = 17

// irVersion is the ONNX IR version of Opset.
const irVersion = 8

// MaxBytes is the largest model Export writes, 2 GiB less 1 MiB for the
// graph: a protobuf message cannot exceed 2 GiB, and Export does not
// write ONNX's external data files.
const MaxBytes = 2<<30 - 1<<20

// ErrNotExportable is the error (wrapped, naming the layer) of a model
// with a layer that has no ONNX conversion.
var ErrNotExportable = errors.New("no ONNX conversion for this layer")

// The names of the graph's inputs and outputs.
const (
	InputName         = "input"
	LogitsName        = "logits"
	ProbabilitiesName = "probabilities"
	RatingName        = "rating"
)

// ExportRun loads the model of run folder dir (with best set, its best
// epoch's weights) and writes it as ONNX to path, atomically: a failed
// export leaves no file and an old file whole.
func ExportRun(dir string, best bool, path string) error {
	m, err := run.Load(dir, best)
	if err != nil {
		return err
	}
	defer m.Close()
	var buf bytes.Buffer
	if err := Export(&buf, m); err != nil {
		return err
	}
	return atomicfile.WriteFile(path, buf.Bytes(), 0o644)
}

// Export writes model m, loaded from its run folder, to w as an ONNX model.
func Export(w io.Writer, m *run.Model) error {
	b, err := Encode(m)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// Encode returns model m as the bytes of an ONNX model (an onnx.ModelProto).
func Encode(m *run.Model) ([]byte, error) {
	if m == nil || m.Trainer() == nil {
		return nil, errors.New("onnx: nil model (use run.Load)")
	}
	mp, err := convert(m)
	if err != nil {
		return nil, err
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(mp)
	if err != nil {
		return nil, fmt.Errorf("onnx: encoding the model: %v", err)
	}
	return b, nil
}

// convert builds the ONNX model of m.
func convert(m *run.Model) (*pb.ModelProto, error) {
	info := m.Info
	seq, ok := m.Trainer().Model().(*nn.Sequential)
	if !ok {
		return nil, fmt.Errorf("onnx: model %s is not an nn.Sequential", m.Trainer().Model().Name())
	}
	b := newBuilder(seq.Name())
	c := &converter{b: b, g: m.Trainer().Graph(), in: info.InputShape}
	b.used[InputName] = true
	c.x = InputName

	shape := []any{"batch"}
	for _, d := range info.InputShape {
		shape = append(shape, d)
	}
	var input *pb.ValueInfoProto
	switch info.Task {
	case run.Classify:
		input = valueInfo(InputName, pb.TensorProto_FLOAT, "examples of the model's input shape", shape...)
	case run.Rating:
		c.ids = true
		input = valueInfo(InputName, pb.TensorProto_INT64, "(user index, movie index) pairs, dense indices as dlrun numbers them", shape...)
	case run.NextToken:
		c.ids = true
		input = valueInfo(InputName, pb.TensorProto_INT64, "token ids, in the vocabulary's order", "batch", "steps")
	default:
		return nil, fmt.Errorf("onnx: unknown task %q", info.Task)
	}
	if err := c.layers(seq); err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	outputs, err := c.head(m)
	if err != nil {
		return nil, err
	}
	if b.bytes > MaxBytes {
		return nil, fmt.Errorf("onnx: model %s holds %d bytes of weights, more than the %d an ONNX file without external data may hold (onnx.MaxBytes)", seq.Name(), b.bytes, int64(MaxBytes))
	}
	b.g.Input = append([]*pb.ValueInfoProto{input}, c.stateIn...)
	b.g.Output = append(outputs, c.stateOut...)
	b.g.DocString = proto.String(fmt.Sprintf("dlrun %s model %s (%s)", version.Version, seq.Name(), info.Task))

	meta, err := metadata(m, b.g.Input, b.g.Output)
	if err != nil {
		return nil, err
	}
	return &pb.ModelProto{
		IrVersion:       proto.Int64(irVersion),
		OpsetImport:     []*pb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(Opset)}},
		ProducerName:    proto.String("dlrun"),
		ProducerVersion: proto.String(version.Version),
		ModelVersion:    proto.Int64(1),
		DocString:       b.g.DocString,
		Graph:           b.g,
		MetadataProps:   meta,
	}, nil
}

// head names the model's output after its task and, for a classifier, adds
// the probabilities as train.Model.Predict computes them.
func (c *converter) head(m *run.Model) ([]*pb.ValueInfoProto, error) {
	info := m.Info
	rename := func(name string) string { return c.b.op("Identity", name, []string{c.x}) }
	switch info.Task {
	case run.Rating:
		return []*pb.ValueInfoProto{valueInfo(rename(RatingName), pb.TensorProto_FLOAT, "the predicted rating", "batch", 1)}, nil
	case run.NextToken:
		return []*pb.ValueInfoProto{valueInfo(rename(LogitsName), pb.TensorProto_FLOAT, "the next token's logits at each step", "batch", "steps", info.Outputs)}, nil
	}
	logits := rename(LogitsName)
	var probs string
	classes := info.Outputs
	switch {
	case info.Outputs == 1:
		p := logits
		if info.Loss == train.BinaryCrossEntropy.Name {
			p = c.b.op("Sigmoid", "sigmoid", []string{logits})
		}
		q := c.b.op("Sub", "one_minus_p", []string{c.b.scalar("one", 1), p})
		probs = c.b.op("Concat", ProbabilitiesName, []string{q, p}, attrInt("axis", 1))
		classes = 2
	case info.Loss == train.CrossEntropy.Name:
		probs = c.b.op("Softmax", ProbabilitiesName, []string{logits}, attrInt("axis", -1))
	default:
		probs = c.b.op("Identity", ProbabilitiesName, []string{logits})
	}
	return []*pb.ValueInfoProto{
		valueInfo(logits, pb.TensorProto_FLOAT, "the model's outputs", "batch", info.Outputs),
		valueInfo(probs, pb.TensorProto_FLOAT, "the class probabilities, as dlrun predict gives them", "batch", classes),
	}, nil
}

// tensorInfo is an input or output as the metadata lists it.
type tensorInfo struct {
	Name  string `json:"name"`
	DType string `json:"dtype"`
	Shape []any  `json:"shape"`
}

func describe(vs []*pb.ValueInfoProto) []tensorInfo {
	out := make([]tensorInfo, len(vs))
	for i, v := range vs {
		t := v.GetType().GetTensorType()
		out[i] = tensorInfo{Name: v.GetName(), DType: "float32", Shape: []any{}}
		if t.GetElemType() == int32(pb.TensorProto_INT64) {
			out[i].DType = "int64"
		}
		for _, d := range t.GetShape().GetDim() {
			if p := d.GetDimParam(); p != "" {
				out[i].Shape = append(out[i].Shape, p)
			} else {
				out[i].Shape = append(out[i].Shape, d.GetDimValue())
			}
		}
	}
	return out
}

// prop is one metadata entry: a string, or a value written as JSON.
type prop struct {
	k string
	v any
}

// metadata returns the model's metadata_props.
func metadata(m *run.Model, inputs, outputs []*pb.ValueInfoProto) ([]*pb.StringStringEntryProto, error) {
	info := m.Info
	var props []*pb.StringStringEntryProto
	add := func(k string, v any) error {
		s, ok := v.(string)
		if !ok {
			j, err := json.Marshal(v)
			if err != nil {
				return fmt.Errorf("onnx: metadata %s: %v", k, err)
			}
			s = string(j)
		}
		props = append(props, &pb.StringStringEntryProto{Key: proto.String(k), Value: proto.String(s)})
		return nil
	}
	items := []prop{
		{"dlrun_version", version.Version},
		{"task", info.Task},
		{"model", m.Config.Model},
		{"dlrun_model", info.Model},
		{"inputs", describe(inputs)},
		{"outputs", describe(outputs)},
		{"opset", strconv.Itoa(Opset)},
	}
	switch info.Task {
	case run.Classify:
		classes := m.Classes()
		if len(classes) == 0 {
			n := info.Outputs
			if n == 1 {
				n = 2
			}
			for i := 0; i < n; i++ {
				classes = append(classes, strconv.Itoa(i))
			}
		}
		items = append(items, prop{"classes", classes})
	case run.NextToken:
		items = append(items, prop{"vocab", m.Config.Vocab})
	case run.Rating:
		items = append(items, prop{"users", strconv.Itoa(info.Users)}, prop{"movies", strconv.Itoa(info.Movies)})
	}
	for _, it := range items {
		if err := add(it.k, it.v); err != nil {
			return nil, err
		}
	}
	return props, nil
}
