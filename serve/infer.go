package serve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/dlrun/dlrun/run"
)

// infer answers POST /v2/models/{name}/infer: the request (Content-Type
// application/json) is decoded, its input tensor is checked against the
// model's and run through the model's batcher, and the outputs asked for
// (all, if none is named) are answered.
func (s *Server) infer(w http.ResponseWriter, r *http.Request, m *model) error {
	if err := checkContentType(r, jsonTypes); err != nil {
		return err
	}
	arrived := m.b.expect()
	defer arrived()
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	var req InferRequest
	if err := decodeJSON(body, &req); err != nil {
		return err
	}
	x, rows, err := m.readInput(req.Inputs)
	if err != nil {
		return err
	}
	names, top, err := m.chooseOutputs(&req)
	if err != nil {
		return err
	}
	out, err := m.b.predict(r.Context(), x, rows, arrived)
	if err != nil {
		return err
	}
	resp := InferResponse{ModelName: m.name, ModelVersion: Version, ID: req.ID}
	for _, name := range names {
		resp.Outputs = append(resp.Outputs, m.output(name, out, rows, top))
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// decodeJSON decodes the JSON request body b into v; errors are 400s that
// say what is wrong where.
func decodeJSON(b []byte, v any) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return badRequest("empty request body: send a JSON inference request")
	}
	err := json.Unmarshal(b, v)
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &syntax):
		return badRequest("request body: not valid JSON at byte %d: %v", syntax.Offset, err)
	case errors.As(err, &typ) && typ.Field == "":
		return badRequest("request body: a JSON %s, want an object", typ.Value)
	case errors.As(err, &typ):
		return badRequest("request body: %s is a JSON %s, want %s", typ.Field, typ.Value, jsonKind(typ.Type))
	}
	return badRequest("request body: %v", err)
}

// jsonKind names in JSON's terms what a Go type decodes from.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number within " + t.Kind().String() + "'s range"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return "an object"
}

// readInput checks the request's inputs against the model's one input
// and returns its values and rows. A model trained on a CSV table also
// takes a row's named columns (readColumns).
func (m *model) readInput(inputs []RequestInput) ([]float32, int, error) {
	if m.t.Table != nil && (len(inputs) != 1 || inputs[0].Name != InputName) {
		return m.readColumns(inputs)
	}
	if len(inputs) != 1 {
		return nil, 0, badRequest("model %s takes one input, %q; the request has %d", m.name, InputName, len(inputs))
	}
	in := inputs[0]
	if in.Name != InputName {
		return nil, 0, badRequest("unknown input %q: model %s takes one input, %q", truncate(in.Name), m.name, InputName)
	}
	conv, err := m.converter(in.Datatype)
	if err != nil {
		return nil, 0, err
	}
	rows, values, err := checkShape(in.Shape, m.row)
	if err != nil {
		return nil, 0, badRequest("input %q: %v", InputName, err)
	}
	if len(in.Data) == 0 || string(in.Data) == "null" {
		return nil, 0, badRequest("input %q: no data", InputName)
	}
	shape := make([]int, len(in.Shape))
	for i, d := range in.Shape {
		shape[i] = int(d)
	}
	if values > len(in.Data) { // every value takes a byte at least
		return nil, 0, badRequest("input %q: data holds fewer values than the %d of shape %v", InputName, values, shape)
	}
	x := make([]float32, values)
	if err := readData(in.Data, shape, x, conv); err != nil {
		return nil, 0, badRequest("input %q: %v", InputName, err)
	}
	return x, rows, nil
}

// converter returns the conversion of the values of an input of datatype
// dt to the model's input: features (FP32, FP64), or ids (INT64, INT32, or
// FP32 and FP64 holding whole numbers), each below its bound.
func (m *model) converter(dt string) (func(i int, num string) (float32, error), error) {
	if !m.t.IDs {
		if dt == FP32 || dt == FP64 {
			return func(_ int, num string) (float32, error) { return parseFeature(dt, num) }, nil
		}
		return nil, badRequest("input %q: datatype %q, want %s (or %s)", InputName, truncate(dt), FP32, FP64)
	}
	if !isIndexType(dt) {
		return nil, badRequest("input %q: datatype %q, want %s (or %s, %s or %s holding whole numbers)", InputName, truncate(dt), INT64, INT32, FP32, FP64)
	}
	if m.rec != nil { // a rating model takes the dataset's user and movie ids
		return func(i int, num string) (float32, error) {
			what := fmt.Sprintf("row %d's", i/m.rowLen)
			id, err := parseID(dt, num, what+" id")
			if err != nil {
				return 0, err
			}
			return m.rec.Index(i%m.rowLen, id, what)
		}, nil
	}
	return func(i int, num string) (float32, error) {
		what, limit := m.t.Bound(i % m.rowLen)
		return parseIndex(dt, num, fmt.Sprintf("row %d's %s", i/m.rowLen, what), limit)
	}, nil
}

func isIndexType(dt string) bool { return dt == INT64 || dt == INT32 || dt == FP32 || dt == FP64 }

// chooseOutputs returns the outputs the request asks for (all, if it
// names none) and the classes top_classes lists: the request's parameter
// top, or top_classes's parameter classification, or DefaultTop; at most
// the model's classes.
func (m *model) chooseOutputs(req *InferRequest) ([]string, int, error) {
	top := DefaultTop
	if v, ok, err := intParam(req.Parameters, "top"); err != nil {
		return nil, 0, badRequest("request %v", err)
	} else if ok {
		top = v
	}
	all := m.outputNames()
	if len(req.Outputs) == 0 {
		return all, min(top, len(m.classes)), nil
	}
	var names []string
	for _, o := range req.Outputs {
		if !slices.Contains(all, o.Name) {
			return nil, 0, badRequest("unknown output %q: model %s has %s", truncate(o.Name), m.name, strings.Join(all, ", "))
		}
		if slices.Contains(names, o.Name) {
			return nil, 0, badRequest("output %q asked for twice", o.Name)
		}
		v, ok, err := intParam(o.Parameters, "classification")
		switch {
		case err != nil:
			return nil, 0, badRequest("output %q: %v", o.Name, err)
		case ok && o.Name != TopClassesName:
			return nil, 0, badRequest("output %q: parameter classification is for output %q", o.Name, TopClassesName)
		case ok:
			top = v
		}
		names = append(names, o.Name)
	}
	return names, min(top, len(m.classes)), nil
}

// output returns output name of the model's rows out for rows rows of
// input, computed by its head.
func (m *model) output(name string, out [][]float64, rows, top int) OutputTensor {
	var o run.Output
	for _, x := range m.served() {
		if x.Name == name {
			o = x
		}
	}
	switch o.Head {
	case run.TopClasses:
		data := make([]string, 0, rows*top)
		for _, p := range out {
			for _, c := range (run.ImagePrediction{Probabilities: p}).Top(top, m.classes) {
				data = append(data, strconv.FormatFloat(float64(float32(c.Probability)), 'g', -1, 32)+":"+strconv.Itoa(c.Index)+":"+c.Class)
			}
		}
		return OutputTensor{Name: name, Datatype: BYTES, Shape: []int{rows, top}, Data: data}
	case run.Action:
		data := make([]int64, len(out))
		for i, row := range out {
			data[i] = int64(run.Greedy(row, nil))
		}
		return OutputTensor{Name: name, Datatype: INT64, Shape: []int{rows}, Data: data}
	case run.Scaled:
		data := flatten(out)
		for i, v := range data {
			data[i] = float32(float64(v)*o.Scale + o.Shift)
		}
		return OutputTensor{Name: name, Datatype: FP32, Shape: append([]int{rows}, o.Shape...), Data: data}
	}
	return OutputTensor{Name: name, Datatype: FP32, Shape: append([]int{rows}, o.Shape...), Data: flatten(out)}
}

// flatten returns the rows one after another, as float32.
func flatten(rows [][]float64) []float32 {
	n := 0
	for _, r := range rows {
		n += len(r)
	}
	out := make([]float32, 0, n)
	for _, r := range rows {
		for _, v := range r {
			out = append(out, float32(v))
		}
	}
	return out
}
