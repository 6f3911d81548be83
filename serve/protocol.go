package serve

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/dlrun/dlrun/run"
)

// The datatypes of the Open Inference Protocol that dlrun's tensors have.
const (
	FP32  = "FP32"
	FP64  = "FP64"
	INT32 = "INT32"
	INT64 = "INT64"
	BYTES = "BYTES" // strings, in JSON
)

// The names of the tensors, declared once in package run (run.InputName,
// ...), which dlrun's ONNX export names them by too.
const (
	InputName         = run.InputName         // every model's one input
	ProbabilitiesName = run.ProbabilitiesName // classifier: FP32 [N, classes]
	TopClassesName    = run.TopClassesName    // classifier: BYTES [N, k], "<probability>:<index>:<class>"
	RatingName        = run.RatingName        // rating model: FP32 [N, 1]
	LogitsName        = run.LogitsName        // next-token model: FP32 [N, T, vocabulary]; ppo: FP32 [N, actions]
	QValuesName       = run.QValuesName       // dqn: FP32 [N, actions]
	ActionName        = run.ActionName        // an agent's greedy action: INT64 [N]
)

// DefaultTop is the number of classes top_classes lists when the request
// does not say.
const DefaultTop = 3

// ServerMetadata is the answer to GET /v2.
type ServerMetadata struct {
	Name       string   `json:"name"`
	Version    string   `json:"version"`
	Extensions []string `json:"extensions"`
}

// TensorMetadata describes a model's input or output tensor: its name,
// datatype and shape, -1 for a dimension of any size (the first, the
// rows of a batch, always is).
type TensorMetadata struct {
	Name     string `json:"name"`
	Datatype string `json:"datatype"`
	Shape    []int  `json:"shape"`
}

// ModelMetadata is the answer to GET /v2/models/{name}: the protocol's
// fields, then dlrun's: the run's task, and what its kind says a client
// needs to make inputs and read outputs, at the top level of the answer
// (the class names of a classifier, the vocabulary of a next-token model
// in id order, the numbers of users and movies of a rating model, whose
// indices the input holds, an agent's game and actions).
type ModelMetadata struct {
	Name       string           `json:"name"`
	Versions   []string         `json:"versions"`
	Platform   string           `json:"platform"`
	Inputs     []TensorMetadata `json:"inputs"`
	Outputs    []TensorMetadata `json:"outputs"`
	Parameters map[string]any   `json:"parameters,omitempty"`

	Task string `json:"task"`
	// Describes holds what the run's kind says describes its tensors
	// (run.Tensors.Meta), by name: classes, vocab, users, movies, env,
	// actions.
	Describes map[string]any `json:"-"`
}

// MarshalJSON writes the metadata with Describes's entries at the top
// level, after the protocol's fields, by name.
func (md ModelMetadata) MarshalJSON() ([]byte, error) {
	type plain ModelMetadata
	b, err := json.Marshal(plain(md))
	if err != nil || len(md.Describes) == 0 {
		return b, err
	}
	keys := make([]string, 0, len(md.Describes))
	for k := range md.Describes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b = b[:len(b)-1] // the closing brace
	for _, k := range keys {
		kb, _ := json.Marshal(k)
		vb, err := json.Marshal(md.Describes[k])
		if err != nil {
			return nil, err
		}
		b = append(append(append(append(b, ','), kb...), ':'), vb...)
	}
	return append(b, '}'), nil
}

// UnmarshalJSON reads what MarshalJSON writes.
func (md *ModelMetadata) UnmarshalJSON(b []byte) error {
	type plain ModelMetadata
	if err := json.Unmarshal(b, (*plain)(md)); err != nil {
		return err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	for _, k := range []string{"name", "versions", "platform", "inputs", "outputs", "parameters", "task"} {
		delete(m, k)
	}
	if len(m) > 0 {
		md.Describes = m
	}
	return nil
}

// ModelReady is the answer to GET /v2/models/{name}/ready.
type ModelReady struct {
	Name  string `json:"name"`
	Ready bool   `json:"ready"`
}

// InferRequest is the body of POST /v2/models/{name}/infer. Parameters
// may hold "top", the classes top_classes lists.
type InferRequest struct {
	ID         string                     `json:"id,omitempty"`
	Parameters map[string]json.RawMessage `json:"parameters,omitempty"`
	Inputs     []RequestInput             `json:"inputs"`
	Outputs    []RequestOutput            `json:"outputs,omitempty"`
}

// RequestInput is a tensor of a request: Data holds its values in row-major
// order as a JSON array of numbers, flat or nested as Shape.
type RequestInput struct {
	Name       string                     `json:"name"`
	Shape      []int64                    `json:"shape"`
	Datatype   string                     `json:"datatype"`
	Parameters map[string]json.RawMessage `json:"parameters,omitempty"`
	Data       json.RawMessage            `json:"data"`
}

// RequestOutput names an output a request wants. Parameters may hold
// "classification", the classes top_classes lists.
type RequestOutput struct {
	Name       string                     `json:"name"`
	Parameters map[string]json.RawMessage `json:"parameters,omitempty"`
}

// InferResponse is the answer to an infer request.
type InferResponse struct {
	ModelName    string         `json:"model_name"`
	ModelVersion string         `json:"model_version"`
	ID           string         `json:"id,omitempty"`
	Outputs      []OutputTensor `json:"outputs"`
}

// OutputTensor is a tensor of a response: Data holds its values flat in
// row-major order, []float32 for FP32 and []string for BYTES.
type OutputTensor struct {
	Name     string `json:"name"`
	Datatype string `json:"datatype"`
	Shape    []int  `json:"shape"`
	Data     any    `json:"data"`
}

// ErrorResponse is the body of every error answer, KServe's: one line
// naming what is at fault.
type ErrorResponse struct {
	Error string `json:"error"`
}

// readData reads data, a JSON array of numbers flat or nested as shape,
// into dst, which holds as many values as shape does, converting each
// number (its JSON text) with conv, which is given its index in dst. data
// must be valid JSON (json.Unmarshal checked it). Errors name the element
// at fault.
func readData(data []byte, shape []int, dst []float32, conv func(i int, num string) (float32, error)) error {
	r := dataReader{b: data, shape: shape, dst: dst, conv: conv}
	r.space()
	if r.pos >= len(r.b) {
		return fmt.Errorf("no data")
	}
	if r.b[r.pos] != '[' {
		return fmt.Errorf("data is %s, not an array of numbers", r.kind())
	}
	// Nested if the first element is an array.
	open := r.pos
	r.pos++
	r.space()
	nested := r.pos < len(r.b) && r.b[r.pos] == '['
	r.pos = open
	var err error
	if nested {
		err = r.array(0)
	} else {
		err = r.flat()
	}
	if err != nil {
		return err
	}
	if r.n != len(dst) {
		return fmt.Errorf("data holds %d values, shape %v holds %d", r.n, shape, len(dst))
	}
	return nil
}

// dataReader walks the JSON text of a tensor's data.
type dataReader struct {
	b     []byte
	pos   int
	shape []int
	dst   []float32
	conv  func(int, string) (float32, error)
	n     int // values read
}

func (r *dataReader) space() {
	for r.pos < len(r.b) {
		switch r.b[r.pos] {
		case ' ', '\t', '\n', '\r':
			r.pos++
		default:
			return
		}
	}
}

// kind names the JSON value at pos, for errors.
func (r *dataReader) kind() string {
	if r.pos >= len(r.b) {
		return "missing"
	}
	switch c := r.b[r.pos]; {
	case c == '"':
		s := r.b[r.pos:]
		if end := strings.IndexByte(string(s[1:min(len(s), 40)]), '"'); end >= 0 {
			return "a string, " + string(s[:end+2])
		}
		return "a string"
	case c == '{':
		return "an object"
	case c == '[':
		return "an array"
	case c == 't' || c == 'f':
		return "a boolean"
	case c == 'n':
		return "null"
	}
	return "a number"
}

// flat reads a flat array of numbers.
func (r *dataReader) flat() error {
	r.pos++ // [
	for first := true; ; first = false {
		r.space()
		if r.b[r.pos] == ']' {
			r.pos++
			return nil
		}
		if !first {
			r.pos++ // ,
			r.space()
		}
		if err := r.number(); err != nil {
			return err
		}
	}
}

// array reads an array at depth d of nested data: arrays down to the last
// dimension, numbers there, each as long as its dimension.
func (r *dataReader) array(d int) error {
	if d >= len(r.shape) {
		return fmt.Errorf("data nests arrays %d deep; shape %v has %d dimensions", d+1, r.shape, len(r.shape))
	}
	r.pos++ // [
	count := 0
	for {
		r.space()
		if r.b[r.pos] == ']' {
			r.pos++
			break
		}
		if count > 0 {
			r.pos++ // ,
			r.space()
		}
		count++
		if count > r.shape[d] {
			return fmt.Errorf("data: an array at depth %d holds more than the %d values of dimension %d of shape %v", d+1, r.shape[d], d, r.shape)
		}
		last := d == len(r.shape)-1
		if isArray := r.b[r.pos] == '['; isArray == last {
			if last {
				return fmt.Errorf("data: element %d is an array where shape %v has numbers", r.n, r.shape)
			}
			return fmt.Errorf("data: element %d is %s where shape %v has an array", r.n, r.kind(), r.shape)
		}
		var err error
		if last {
			err = r.number()
		} else {
			err = r.array(d + 1)
		}
		if err != nil {
			return err
		}
	}
	if count != r.shape[d] {
		return fmt.Errorf("data: an array at depth %d holds %d values, dimension %d of shape %v is %d", d+1, count, d, r.shape, r.shape[d])
	}
	return nil
}

// number reads one number into dst.
func (r *dataReader) number() error {
	start := r.pos
	if c := r.b[r.pos]; c == '"' {
		return fmt.Errorf("data: element %d is %s, not a number (JSON numbers are finite: no NaN or infinity)", r.n, r.kind())
	} else if c != '-' && (c < '0' || c > '9') {
		return fmt.Errorf("data: element %d is %s, not a number", r.n, r.kind())
	}
	for r.pos < len(r.b) {
		c := r.b[r.pos]
		if c == ',' || c == ']' || c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			break
		}
		r.pos++
	}
	if r.n >= len(r.dst) {
		return fmt.Errorf("data holds more than the %d values of shape %v", len(r.dst), r.shape)
	}
	v, err := r.conv(r.n, string(r.b[start:r.pos]))
	if err != nil {
		return fmt.Errorf("data: element %d: %v", r.n, err)
	}
	r.dst[r.n] = v
	r.n++
	return nil
}

// parseFeature converts the JSON number num of a tensor of datatype dt
// (FP32 or FP64) to a finite float32, the datatype the model computes in.
func parseFeature(dt, num string) (float32, error) {
	v, err := strconv.ParseFloat(num, 32)
	if err != nil {
		if dt == FP32 {
			return 0, fmt.Errorf("%s is not a finite FP32 value", num)
		}
		return 0, fmt.Errorf("%s is beyond the range of FP32, which the model computes in", num)
	}
	return float32(v), nil
}

// parseIndex converts the JSON number num of a tensor of datatype dt to a
// whole number from 0 to n-1 (n at most 1<<24, where float32 holds every
// whole number); what names the number in errors ("user index").
func parseIndex(dt, num, what string, n int) (float32, error) {
	v, err := strconv.ParseFloat(num, 64)
	switch {
	case err != nil:
		return 0, fmt.Errorf("%s %s is not a finite number", what, num)
	case v != math.Trunc(v):
		return 0, fmt.Errorf("%s %s is not a whole number", what, num)
	case dt == INT32 && (v < math.MinInt32 || v > math.MaxInt32):
		return 0, fmt.Errorf("%s %s is outside INT32's range", what, num)
	case v < 0 || v >= float64(n):
		return 0, fmt.Errorf("%s %s is outside 0 to %d", what, num, n-1)
	}
	return float32(v), nil
}

// parseID reads the text num of a value of datatype dt that is a
// dataset's id (what names it in errors): a whole number from 0 to 2^53,
// within INT32's range for INT32.
func parseID(dt, num, what string) (float64, error) {
	v, err := strconv.ParseFloat(num, 64)
	switch {
	case err != nil:
		return 0, fmt.Errorf("%s %s is not a finite number", what, num)
	case v != math.Trunc(v):
		return 0, fmt.Errorf("%s %s is not a whole number", what, num)
	case dt == INT32 && (v < math.MinInt32 || v > math.MaxInt32):
		return 0, fmt.Errorf("%s %s is outside INT32's range", what, num)
	case v < 0 || v > 1<<53:
		return 0, fmt.Errorf("%s %s is outside 0 to 2^53", what, num)
	}
	return v, nil
}

// checkShape checks that shape is rows of per-row shape row, at least one
// row, and returns the rows and the number of values.
func checkShape(shape []int64, row []int) (rows, values int, err error) {
	want := append([]int{-1}, row...)
	if len(shape) != len(want) {
		return 0, 0, fmt.Errorf("shape %v, want %v (rows first)", shape, want)
	}
	if shape[0] < 1 {
		return 0, 0, fmt.Errorf("shape %v: no rows", shape)
	}
	for i, d := range row {
		if shape[i+1] != int64(d) {
			return 0, 0, fmt.Errorf("shape %v, want %v (rows first)", shape, want)
		}
	}
	values = 1
	for _, d := range row {
		values *= d
	}
	if shape[0] > int64(maxInt/max(values, 1)) {
		return 0, 0, fmt.Errorf("shape %v: more values than a tensor may hold", shape)
	}
	return int(shape[0]), int(shape[0]) * values, nil
}

const maxInt = int(^uint(0) >> 1)

// intParam reads parameter name of params as a positive whole number; ok
// is false if params lacks it.
func intParam(params map[string]json.RawMessage, name string) (v int, ok bool, err error) {
	raw, ok := params[name]
	if !ok {
		return 0, false, nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return 0, true, fmt.Errorf("parameter %s: %s is not a number", name, truncate(string(raw)))
	}
	i, err := strconv.Atoi(n.String())
	if err != nil || i < 1 {
		return 0, true, fmt.Errorf("parameter %s: %s is not a positive whole number", name, n)
	}
	return i, true, nil
}

// truncate shortens s for an error message.
func truncate(s string) string {
	const max = 40
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}
