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
	"gorgonia.org/tensor"
)

// SaveWeights writes the parameters of g to path in the safetensors format
// (a JSON header, then raw little-endian tensors), one tensor per parameter
// under its name ("conv1.weight"), in the graph's dtype. The file is
// written atomically: a crash never leaves a partial file at path.
func SaveWeights(path string, g *graph.Graph) error {
	views := map[string]safetensors.TensorView{}
	for _, p := range g.Params() {
		v, err := tensorView(p.Value())
		if err != nil {
			return errors.Wrapf(err, "saving %s: tensor %s", path, p.Name)
		}
		views[p.Name] = v
	}
	b, err := safetensors.Serialize(views, map[string]string{"format": "dlrun"})
	if err != nil {
		return errors.Wrapf(err, "saving %s", path)
	}
	return atomicfile.WriteFile(path, b, 0o644)
}

func tensorView(t *tensor.Dense) (safetensors.TensorView, error) {
	shape := make([]uint64, len(t.Shape()))
	for i, d := range t.Shape() {
		shape[i] = uint64(d)
	}
	if t.Dtype() == tensor.Float32 {
		src := t.Float32s()
		b := make([]byte, 4*len(src))
		for i, v := range src {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
		}
		return safetensors.NewTensorView(safetensors.F32, shape, b)
	}
	src := t.Float64s()
	b := make([]byte, 8*len(src))
	for i, v := range src {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(v))
	}
	return safetensors.NewTensorView(safetensors.F64, shape, b)
}

// LoadWeights reads a safetensors file written by SaveWeights into the
// parameters of g. Every parameter must be in the file with its shape and
// dtype, and the file must hold nothing else: the error names the file and
// the first tensor that does not match. g is unchanged on error.
func LoadWeights(path string, g *graph.Graph) error {
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

// loadViews checks views against the parameters of g (every parameter
// present with its shape and dtype, nothing else) and then copies them in.
func loadViews(path string, views map[string]safetensors.TensorView, g *graph.Graph) error {
	params := g.Params()
	want := map[string]bool{}
	for _, p := range params {
		want[p.Name] = true
	}
	names := make([]string, 0, len(views))
	for n := range views {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if !want[n] {
			return errors.Errorf("loading %s: tensor %q is not a parameter of this model", path, n)
		}
	}
	dt := safetensors.F32
	if g.DType() == graph.Float64 {
		dt = safetensors.F64
	}
	for _, p := range params {
		v, ok := views[p.Name]
		if !ok {
			return errors.Errorf("loading %s: tensor %q is missing", path, p.Name)
		}
		if v.DType() != dt {
			return errors.Errorf("loading %s: tensor %q is %v, the model wants %v", path, p.Name, v.DType(), dt)
		}
		shape := v.Shape()
		ok = len(shape) == len(p.Shape())
		for i := 0; ok && i < len(shape); i++ {
			ok = int(shape[i]) == p.Shape()[i]
		}
		if !ok {
			return errors.Errorf("loading %s: tensor %q has shape %v, the model wants %v", path, p.Name, shape, p.Shape())
		}
	}
	for _, p := range params {
		data := views[p.Name].Data()
		if t := p.Value(); t.Dtype() == tensor.Float32 {
			dst := t.Float32s()
			for i := range dst {
				dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
			}
		} else {
			dst := t.Float64s()
			for i := range dst {
				dst[i] = math.Float64frombits(binary.LittleEndian.Uint64(data[8*i:]))
			}
		}
	}
	return nil
}
