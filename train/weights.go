package train

import (
	"encoding/binary"
	"math"
	"os"
	"sort"

	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/internal/atomicfile"
	"github.com/nlpodyssey/safetensors"
	"github.com/pkg/errors"
)

// SaveWeights writes the parameters and buffers of g to path in the
// safetensors format (a JSON header, then raw little-endian tensors), one
// tensor per parameter or buffer under its name ("conv1.weight",
// "batchnorm1.running_mean"), in the graph's dtype (counters such as
// num_batches_tracked as int64 scalars, as PyTorch keeps them). The file
// is written atomically: a crash never leaves a partial file at path.
func SaveWeights(path string, g *graph.Graph) error {
	if g == nil {
		return errors.Errorf("saving %s: nil graph", path)
	}
	views, err := weightViews(g)
	if err != nil {
		return errors.Wrapf(err, "saving %s", path)
	}
	b, err := safetensors.Serialize(views, map[string]string{"format": "dlrun"})
	if err != nil {
		return errors.Wrapf(err, "saving %s", path)
	}
	return atomicfile.WriteFile(path, b, 0o644)
}

// weightViews returns a view of every parameter and buffer of g by name.
func weightViews(g *graph.Graph) (map[string]safetensors.TensorView, error) {
	views := map[string]safetensors.TensorView{}
	for _, p := range g.Params() {
		v, err := dataView(p.Shape(), paramData(p))
		if err != nil {
			return nil, errors.Wrapf(err, "tensor %s", p.Name)
		}
		views[p.Name] = v
	}
	for _, b := range g.Buffers() {
		v, err := bufferView(b)
		if err != nil {
			return nil, errors.Wrapf(err, "buffer %s", b.Name)
		}
		views[b.Name] = v
	}
	return views, nil
}

// bufferView returns the view of a buffer. A scalar (num_batches_tracked)
// is stored as one element: the safetensors library reads shape [] as
// holding no data, and PyTorch's load_state_dict takes a one-element
// tensor for a scalar buffer.
func bufferView(b *graph.Buffer) (safetensors.TensorView, error) {
	shape := b.Shape()
	if len(shape) == 0 {
		shape = []int{1}
	}
	return dataView(shape, b.Data())
}

// paramData returns the backing slice of a parameter: []float32 or
// []float64.
func paramData(p *graph.Param) any {
	if d := p.Data(); d.Float32s() != nil {
		return d.Float32s()
	}
	return p.Data().Float64s()
}

// dataView encodes values ([]float32, []float64 or []int64) of the given
// shape as a little-endian safetensors view.
func dataView(shape []int, values any) (safetensors.TensorView, error) {
	dims := make([]uint64, len(shape))
	for i, d := range shape {
		dims[i] = uint64(d)
	}
	switch d := values.(type) {
	case []float32:
		out := make([]byte, 4*len(d))
		for i, v := range d {
			binary.LittleEndian.PutUint32(out[4*i:], math.Float32bits(v))
		}
		return safetensors.NewTensorView(safetensors.F32, dims, out)
	case []float64:
		out := make([]byte, 8*len(d))
		for i, v := range d {
			binary.LittleEndian.PutUint64(out[8*i:], math.Float64bits(v))
		}
		return safetensors.NewTensorView(safetensors.F64, dims, out)
	case []int64:
		out := make([]byte, 8*len(d))
		for i, v := range d {
			binary.LittleEndian.PutUint64(out[8*i:], uint64(v))
		}
		return safetensors.NewTensorView(safetensors.I64, dims, out)
	}
	return safetensors.TensorView{}, errors.Errorf("unsupported data %T", values)
}

// LoadWeights reads a safetensors file written by SaveWeights into the
// parameters and buffers of g. Every parameter and buffer must be in the
// file with its shape and dtype, and the file must hold nothing else: the
// error names the file and the first tensor that does not match. g is
// unchanged on error.
func LoadWeights(path string, g *graph.Graph) error {
	if g == nil {
		return errors.Errorf("loading %s: nil graph", path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return errors.Wrap(err, "loading weights")
	}
	st, err := safetensors.Deserialize(b)
	if err != nil {
		return errors.Errorf("loading %s: not a valid safetensors file: %v", path, err)
	}
	views := map[string]safetensors.TensorView{}
	for _, n := range st.Names() {
		views[n], _ = st.Tensor(n)
	}
	return loadViews(path, views, g)
}

// loadViews checks views against the parameters and buffers of g (every
// one present with its shape and dtype, nothing else) and then copies them
// in.
func loadViews(path string, views map[string]safetensors.TensorView, g *graph.Graph) error {
	type slot struct {
		name  string
		shape []int
		dtype safetensors.DType
		set   func(data []byte)
	}
	dt := safetensors.F32
	if g.DType() == graph.Float64 {
		dt = safetensors.F64
	}
	var slots []slot
	for _, p := range g.Params() {
		d := paramData(p)
		slots = append(slots, slot{p.Name, p.Shape(), dt, func(data []byte) { setFloats(d, data) }})
	}
	for _, b := range g.Buffers() {
		d := b.Data()
		bdt, shape := dt, b.Shape()
		if b.Int() {
			bdt = safetensors.I64
		}
		if len(shape) == 0 {
			shape = []int{1} // as bufferView stores a scalar
		}
		slots = append(slots, slot{b.Name, shape, bdt, func(data []byte) { setFloats(d, data) }})
	}
	want := map[string]bool{}
	for _, s := range slots {
		want[s.name] = true
	}
	names := make([]string, 0, len(views))
	for n := range views {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if !want[n] {
			return errors.Errorf("loading %s: tensor %q is not a parameter of this model (nor a buffer)", path, n)
		}
	}
	for _, s := range slots {
		v, ok := views[s.name]
		if !ok {
			return errors.Errorf("loading %s: tensor %q is missing", path, s.name)
		}
		if v.DType() != s.dtype {
			return errors.Errorf("loading %s: tensor %q is %v, the model wants %v", path, s.name, v.DType(), s.dtype)
		}
		shape := v.Shape()
		ok = len(shape) == len(s.shape)
		for i := 0; ok && i < len(shape); i++ {
			ok = int(shape[i]) == s.shape[i]
		}
		if !ok {
			return errors.Errorf("loading %s: tensor %q has shape %v, the model wants %v", path, s.name, shape, s.shape)
		}
	}
	for _, s := range slots {
		s.set(views[s.name].Data())
	}
	return nil
}

// setFloats decodes little-endian data into dst ([]float32, []float64 or
// []int64), whose length the caller has checked.
func setFloats(dst any, data []byte) {
	switch d := dst.(type) {
	case []float32:
		for i := range d {
			d[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
		}
	case []float64:
		for i := range d {
			d[i] = math.Float64frombits(binary.LittleEndian.Uint64(data[8*i:]))
		}
	case []int64:
		for i := range d {
			d[i] = int64(binary.LittleEndian.Uint64(data[8*i:]))
		}
	}
}
