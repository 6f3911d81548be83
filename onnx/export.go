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
//	Autoregressive   MatMul, Add and Relu of the second input "keys" with
//	             the masked weights (a music model's last layer only)
//
// A layer of another type (one registered with nn.RegisterLayer) is
// refused with an error naming the layer (ErrNotExportable).
//
// The graph's inputs and outputs are those the run's kind declares
// (run.Kind.Tensors), named as dlrun serve names them (run.InputName, ...;
// docs/serving.md), with the batch axis symbolic ("batch"):
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
//	music       input "input" float32 [batch, steps, 88], a piano roll,
//	            output "logits" [batch, steps, 88]; a model ending in an
//	            autoregressive output also takes "keys" float32 (the
//	            logits' shape), the keys its logits are conditioned on
//	dqn, ppo    input "input" float32 [batch, observation shape...], the
//	            policy's outputs "q_values" (dqn) or "logits" (ppo)
//	            [batch, actions] and the greedy "action" int64 [batch]
//	            (ArgMax; a client that masks illegal actions masks the
//	            outputs)
//
// The model's metadata_props hold the dlrun version ("dlrun_version"), the
// task, the model's architecture (its nn.Spec as JSON, "dlrun_model"), the
// inputs and outputs with their shapes ("inputs", "outputs", JSON), and
// what the kind says describes them: the class names ("classes") or the
// vocabulary ("vocab") as JSON lists, a recommender's numbers of users and
// movies, an agent's game and actions.
package onnx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
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

// ExportRun opens the run of folder dir (run.Open; with best set, its
// best epoch's weights) and writes it as ONNX to path, atomically: a
// failed export leaves no file and an old file whole.
func ExportRun(dir string, best bool, path string) error {
	r, err := run.Open(dir, best)
	if err != nil {
		return err
	}
	defer r.Close()
	var buf bytes.Buffer
	if err := Export(&buf, r); err != nil {
		return err
	}
	return atomicfile.WriteFile(path, buf.Bytes(), 0o644)
}

// Export writes opened run r to w as an ONNX model.
func Export(w io.Writer, r *run.Run) error {
	b, err := Encode(r)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// Encode returns opened run r as the bytes of an ONNX model (an
// onnx.ModelProto).
func Encode(r *run.Run) ([]byte, error) {
	if r == nil || r.Model == nil {
		return nil, errors.New("onnx: nil run (use run.Open)")
	}
	mp, err := convert(r)
	if err != nil {
		return nil, err
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(mp)
	if err != nil {
		return nil, fmt.Errorf("onnx: encoding the model: %v", err)
	}
	return b, nil
}

// convert builds the ONNX model of r.
func convert(r *run.Run) (*pb.ModelProto, error) {
	info := r.Model.Info
	seq, ok := r.Model.Trainer().Model().(*nn.Sequential)
	if !ok {
		return nil, fmt.Errorf("onnx: model %s is not an nn.Sequential", r.Model.Trainer().Model().Name())
	}
	t, err := r.Tensors()
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	b := newBuilder(seq.Name())
	c := &converter{b: b, g: r.Model.Trainer().Graph(), in: info.InputShape, ids: t.IDs, symbolic: t.Steps}
	if c.joint, err = nn.AutoregressiveOutput(seq); err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	b.used[run.InputName] = true
	c.x = run.InputName

	shape := c.dims(t.Shape)
	dt := pb.TensorProto_FLOAT
	if t.IDs {
		dt = pb.TensorProto_INT64
	}
	input := valueInfo(run.InputName, dt, t.InputDoc, shape...)
	if err := c.layers(seq); err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	outputs, err := c.heads(t, info)
	if err != nil {
		return nil, err
	}
	if b.bytes > MaxBytes {
		return nil, fmt.Errorf("onnx: model %s holds %d bytes of weights, more than the %d an ONNX file without external data may hold (onnx.MaxBytes)", seq.Name(), b.bytes, int64(MaxBytes))
	}
	b.g.Input = []*pb.ValueInfoProto{input}
	if c.keysIn != nil {
		b.g.Input = append(b.g.Input, c.keysIn)
	}
	b.g.Input = append(b.g.Input, c.stateIn...)
	b.g.Output = append(outputs, c.stateOut...)
	b.g.DocString = proto.String(fmt.Sprintf("dlrun %s model %s (%s)", version.Version, seq.Name(), info.Task))

	meta, err := metadata(r, t, b.g.Input, b.g.Output)
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

// heads adds the outputs the kind exports, each computed from the model's
// output by its head: the output renamed (run.Raw), the probabilities as
// train.Model.Predict computes them, the index of the largest output, the
// output scaled and shifted (run.Scaled).
func (c *converter) heads(t *run.Tensors, info train.ModelInfo) ([]*pb.ValueInfoProto, error) {
	raw := c.x
	var out []*pb.ValueInfoProto
	for _, o := range t.Outputs {
		if !o.Export {
			continue
		}
		dims := c.dims(o.Shape)
		dt := pb.TensorProto_FLOAT
		doc := o.Doc
		var name string
		switch o.Head {
		case run.Raw:
			name = c.b.op("Identity", o.Name, []string{raw})
			if c.keysIn != nil {
				doc = jointDoc
			}
		case run.Probabilities:
			name = c.probabilities(raw, o.Name, info)
		case run.Scaled:
			scaled := c.b.op("Mul", o.Name+"_scaled", []string{raw, c.b.scalar(o.Name+"_scale", float32(o.Scale))})
			name = c.b.op("Add", o.Name, []string{scaled, c.b.scalar(o.Name+"_shift", float32(o.Shift))})
		case run.Action:
			name = c.b.op("ArgMax", o.Name, []string{raw}, attrInt("axis", -1), attrInt("keepdims", 0))
			dt = pb.TensorProto_INT64
		default:
			return nil, fmt.Errorf("onnx: output %s: no ONNX head for it", o.Name)
		}
		out = append(out, valueInfo(name, dt, doc, dims...))
	}
	return out, nil
}

// dims returns the dimensions of a graph input or output of shape per
// example: the symbolic batch, then shape, whose first axis is the
// symbolic steps where the input's is (converter.symbolic).
func (c *converter) dims(shape []int) []any {
	dims := []any{"batch"}
	for i, d := range shape {
		if c.symbolic && i == 0 {
			dims = append(dims, "steps")
			continue
		}
		dims = append(dims, d)
	}
	return dims
}

// probabilities adds the probabilities of outputs x as train.Model.Predict
// computes them: the softmax of a cross-entropy model's, [1−p, p] for one
// output (p the sigmoid of a binary cross-entropy model's), the outputs as
// they are otherwise.
func (c *converter) probabilities(x, name string, info train.ModelInfo) string {
	switch {
	case info.Outputs == 1:
		p := x
		if info.Loss == train.BinaryCrossEntropy.Name {
			p = c.b.op("Sigmoid", "sigmoid", []string{x})
		}
		q := c.b.op("Sub", "one_minus_p", []string{c.b.scalar("one", 1), p})
		return c.b.op("Concat", name, []string{q, p}, attrInt("axis", 1))
	case info.Loss == train.CrossEntropy.Name:
		return c.b.op("Softmax", name, []string{x}, attrInt("axis", -1))
	}
	return c.b.op("Identity", name, []string{x})
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

// metadata returns the model's metadata_props: dlrun's, then what the
// kind says describes the tensors (t.Meta), by name.
func metadata(r *run.Run, t *run.Tensors, inputs, outputs []*pb.ValueInfoProto) ([]*pb.StringStringEntryProto, error) {
	info := r.Model.Info
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
		{"model", r.Config.Model},
		{"dlrun_model", info.Model},
		{"inputs", describe(inputs)},
		{"outputs", describe(outputs)},
		{"opset", strconv.Itoa(Opset)},
	}
	keys := make([]string, 0, len(t.Meta))
	for k := range t.Meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		items = append(items, prop{k, t.Meta[k]})
	}
	for _, it := range items {
		if err := add(it.k, it.v); err != nil {
			return nil, err
		}
	}
	return props, nil
}
