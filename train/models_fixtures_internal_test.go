package train

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/nn"
)

// The fixtures of testdata/models are tiny files for the tiny model below,
// valid and hostile, that the tests and the fuzz targets' seed corpora
// read. go test ./train -run TestModelFixtures -update writes them anew.
var update = flag.Bool("update", false, "rewrite the fixtures of testdata/models")

const fixtures = "../testdata/models"

// tinySpec is the model of the fixtures: 2 dense layers and a batch norm,
// whose buffers include an int64 counter.
const tinySpec = `name: tiny
layers:
  - dense: {units: 3}
  - batch_norm: {}
  - relu: {}
  - dense: {units: 2}
`

// tinyData is 16 labelled examples of 4 values.
type tinyData struct{}

func (tinyData) Len() int        { return 16 }
func (tinyData) Shape() []int    { return []int{4} }
func (tinyData) NumClasses() int { return 2 }
func (tinyData) Example(i int, dst []float32) int {
	for j := range dst {
		dst[j] = float32((i*7+j*3)%11)/5 - 1
	}
	return i % 2
}

// tinyTrainer returns a trainer of the tiny model (Adam unless optimizer
// is given; float32 unless dtype is), untrained.
func tinyTrainer(t testing.TB, optimizer string, dtype ...string) *Trainer {
	t.Helper()
	spec, err := nn.ParseSpec([]byte(tinySpec), "tiny.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m, err := spec.Build()
	if err != nil {
		t.Fatal(err)
	}
	tr, err := New(m, &Classify{Shape: []int{4}, Outputs: 2}, Config{Epochs: 2, BatchSize: 4, Optimizer: optimizer, DType: strings.Join(dtype, "")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	return tr
}

// trainedTiny returns a tiny trainer after one epoch of Fit.
func trainedTiny(t testing.TB, optimizer string, dtype ...string) *Trainer {
	t.Helper()
	tr := tinyTrainer(t, optimizer, dtype...)
	tr.cfg.Epochs = 1
	if _, err := tr.Fit(tinyData{}, tinyData{}, nil); err != nil {
		t.Fatal(err)
	}
	return tr
}

// otherTiny returns a tiny trainer whose every part of the state differs
// from trainedTiny's: it trained an epoch more and has another learning
// rate.
func otherTiny(t testing.TB) *Trainer {
	t.Helper()
	tr := trainedTiny(t, "")
	if _, _, err := tr.TrainEpoch(tinyData{}); err != nil {
		t.Fatal(err)
	}
	tr.parts.opt.SetLearningRate(0.005)
	tr.g.RNG().Uint64() // the tiny model has no dropout to draw from it
	return tr
}

// trainerState is everything a checkpoint restores, copied.
type trainerState struct {
	params, buffers map[string]any
	opt             map[string][]float64
	lr              float64
	epoch           int
	hist            []EpochStats
	graphRNG        []byte
	shuffleRNG      []byte
}

func snapshot(t testing.TB, tr *Trainer) trainerState {
	t.Helper()
	s := graphState(tr.g)
	s.opt = tr.parts.opt.State()
	s.lr = tr.parts.opt.LearningRate()
	s.epoch = tr.epoch
	s.hist = append([]EpochStats(nil), tr.hist...)
	var err error
	if s.graphRNG, err = tr.g.RNGState(); err != nil {
		t.Fatal(err)
	}
	if s.shuffleRNG, err = tr.pcg.MarshalBinary(); err != nil {
		t.Fatal(err)
	}
	return s
}

// graphState copies the values of every parameter and buffer of g.
func graphState(g *graph.Graph) trainerState {
	s := trainerState{params: map[string]any{}, buffers: map[string]any{}}
	for _, p := range g.Params() {
		s.params[p.Name] = clone(paramData(p))
	}
	for _, b := range g.Buffers() {
		s.buffers[b.Name] = clone(b.Data())
	}
	return s
}

func clone(d any) any {
	switch d := d.(type) {
	case []float32:
		return append([]float32(nil), d...)
	case []float64:
		return append([]float64(nil), d...)
	case []int64:
		return append([]int64(nil), d...)
	}
	panic("unknown data")
}

// sameState returns "" if a and b are equal bit for bit, else what differs.
func sameState(a, b trainerState) string { return strings.Join(diffState(a, b), ", ") }

// diffState lists the parts of the state that differ between a and b:
// each parameter and buffer by name, the optimizer's entries, learning
// rate, epoch, history, graph RNG and shuffle RNG.
func diffState(a, b trainerState) []string {
	var diff []string
	for _, kind := range []struct {
		what string
		a, b map[string]any
	}{{"parameter", a.params, b.params}, {"buffer", a.buffers, b.buffers}} {
		names := map[string]bool{}
		for n := range kind.a {
			names[n] = true
		}
		for n := range kind.b {
			names[n] = true
		}
		sorted := make([]string, 0, len(names))
		for n := range names {
			sorted = append(sorted, n)
		}
		sort.Strings(sorted)
		for _, n := range sorted {
			if !sameBits(kind.a[n], kind.b[n]) {
				diff = append(diff, kind.what+" "+n)
			}
		}
	}
	keys := map[string]bool{}
	for k := range a.opt {
		keys[k] = true
	}
	for k := range b.opt {
		keys[k] = true
	}
	for k := range keys {
		av, aok := a.opt[k]
		bv, bok := b.opt[k]
		if aok != bok || !sameBits(av, bv) {
			diff = append(diff, "optimizer state")
			break
		}
	}
	for _, d := range []struct {
		what string
		same bool
	}{
		{"learning rate", math.Float64bits(a.lr) == math.Float64bits(b.lr)},
		{"epoch", a.epoch == b.epoch},
		{"history", reflect.DeepEqual(a.hist, b.hist)},
		{"graph RNG", bytes.Equal(a.graphRNG, b.graphRNG)},
		{"shuffle RNG", bytes.Equal(a.shuffleRNG, b.shuffleRNG)},
	} {
		if !d.same {
			diff = append(diff, d.what)
		}
	}
	return diff
}

// sameBits compares slices bit for bit (NaNs included).
func sameBits(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	var x, y bytes.Buffer
	binary.Write(&x, binary.LittleEndian, a)
	binary.Write(&y, binary.LittleEndian, b)
	return reflect.TypeOf(a) == reflect.TypeOf(b) && bytes.Equal(x.Bytes(), y.Bytes())
}

// stHeader splits a safetensors file into its header (decoded) and data.
func stHeader(t testing.TB, b []byte) (map[string]any, []byte) {
	t.Helper()
	n := binary.LittleEndian.Uint64(b)
	var h map[string]any
	if err := json.Unmarshal(b[8:8+n], &h); err != nil {
		t.Fatal(err)
	}
	return h, b[8+n:]
}

// stFileBytes joins a header, encoded as JSON, and data.
func stFileBytes(t testing.TB, h map[string]any, data []byte) []byte {
	t.Helper()
	j, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(j)))
	return append(append(out, j...), data...)
}

// editHeader returns b with its header changed by edit.
func editHeader(t testing.TB, b []byte, edit func(h map[string]any)) []byte {
	h, data := stHeader(t, b)
	edit(h)
	return stFileBytes(t, h, data)
}

// editMeta returns checkpoint b with metadata key set to v.
func editMeta(t testing.TB, b []byte, key, v string) []byte {
	return editHeader(t, b, func(h map[string]any) { h["__metadata__"].(map[string]any)[key] = v })
}

// editValue returns b with the first 8 bytes of tensor name's data set
// to the float64 v.
func editValue(t testing.TB, b []byte, name string, v float64) []byte {
	h, data := stHeader(t, b)
	data = append([]byte(nil), data...)
	off := h[name].(map[string]any)["data_offsets"].([]any)[0].(float64)
	binary.LittleEndian.PutUint64(data[int(off):], math.Float64bits(v))
	return stFileBytes(t, h, data)
}

// editValue32 returns safetensors file b with the first value of its F32
// tensor name set to v.
func editValue32(t testing.TB, b []byte, name string, v float32) []byte {
	h, data := stHeader(t, b)
	data = append([]byte(nil), data...)
	off := h[name].(map[string]any)["data_offsets"].([]any)[0].(float64)
	binary.LittleEndian.PutUint32(data[int(off):], math.Float32bits(v))
	return stFileBytes(t, h, data)
}

// addTensor returns b with an extra tensor name of shape and dtype, its
// data appended.
func addTensor(t testing.TB, b []byte, name, dtype string, shape []int, data []byte) []byte {
	h, old := stHeader(t, b)
	h[name] = map[string]any{"dtype": dtype, "shape": shape, "data_offsets": []int{len(old), len(old) + len(data)}}
	return stFileBytes(t, h, append(append([]byte(nil), old...), data...))
}

// lengthPrefix returns a file whose 8-byte header length is n, followed
// by rest.
func lengthPrefix(n uint64, rest string) []byte {
	return append(binary.LittleEndian.AppendUint64(nil, n), rest...)
}

// makeFixtures returns every fixture of testdata/models by name.
func makeFixtures(t testing.TB) map[string][]byte {
	dir := t.TempDir()
	tr := trainedTiny(t, "")
	wp, cp := filepath.Join(dir, "w"), filepath.Join(dir, "c")
	if err := SaveWeights(wp, tr.g); err != nil {
		t.Fatal(err)
	}
	if err := tr.SaveCheckpoint(cp); err != nil {
		t.Fatal(err)
	}
	info, err := tr.Info()
	if err != nil {
		t.Fatal(err)
	}
	if err := SaveWeights(wp+"64", tinyTrainer(t, "", "float64").g); err != nil {
		t.Fatal(err)
	}
	w, _ := os.ReadFile(wp)
	w64, _ := os.ReadFile(wp + "64")
	c, _ := os.ReadFile(cp)
	mj, _ := json.MarshalIndent(info, "", "  ")
	editInfo := func(edit func(m map[string]any)) []byte {
		var m map[string]any
		json.Unmarshal(mj, &m)
		edit(m)
		b, _ := json.MarshalIndent(m, "", "  ")
		return b
	}
	f32 := make([]byte, 4*3)
	return map[string][]byte{
		"weights-valid.safetensors":                    w,
		"weights-truncated.safetensors":                w[:len(w)-10],
		"weights-header-length-past-end.safetensors":   lengthPrefix(1<<20, `{"dense1.bias":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}}`),
		"weights-header-length-over-limit.safetensors": lengthPrefix(1<<62, `{}`),
		"weights-offsets-past-end.safetensors": editHeader(t, w, func(h map[string]any) {
			h["dense1.bias"].(map[string]any)["data_offsets"] = []int{0, 1 << 40}
		}),
		"weights-huge-shape.safetensors": editHeader(t, w, func(h map[string]any) {
			h["dense1.weight"].(map[string]any)["shape"] = []uint64{1 << 40, 1 << 40, 1 << 40}
		}),
		"weights-shape-many-dims.safetensors": editHeader(t, w, func(h map[string]any) {
			h["dense1.bias"].(map[string]any)["shape"] = make([]int, 1000)
		}),
		"weights-overlapping-tensors.safetensors": editHeader(t, w, func(h map[string]any) {
			h["batchnorm1.weight"].(map[string]any)["data_offsets"] = h["dense1.bias"].(map[string]any)["data_offsets"]
		}),
		"weights-unknown-tensor.safetensors":    addTensor(t, w, "../../etc/passwd", "F32", []int{3}, f32),
		"weights-f64-dtype.safetensors":         w64,
		"weights-header-not-object.safetensors": lengthPrefix(7, `[1,2,3]`),

		"checkpoint-valid.safetensors":            c,
		"checkpoint-truncated.safetensors":        c[:len(c)/2],
		"checkpoint-unknown-tensor.safetensors":   addTensor(t, c, "optimizer/../../x", "F64", []int{1}, make([]byte, 8)),
		"checkpoint-unknown-slot.safetensors":     addTensor(t, c, "optimizer/w/dense2.bias", "F64", []int{2}, make([]byte, 16)),
		"checkpoint-negative-lr.safetensors":      editMeta(t, c, "learning_rate", "-0.001"),
		"checkpoint-nan-lr.safetensors":           editMeta(t, c, "learning_rate", "NaN"),
		"checkpoint-bad-rng.safetensors":          editMeta(t, c, "graph_rng", "AAAA"),
		"checkpoint-history-too-long.safetensors": editMeta(t, c, "epoch", "0"),
		"checkpoint-nan-moment.safetensors":       editValue(t, c, "optimizer/m/dense1.weight", math.NaN()),
		"checkpoint-step-fraction.safetensors":    editValue(t, c, "optimizer/step", 1.5),

		"model-valid.json":        mj,
		"model-huge-input.json":   editInfo(func(m map[string]any) { m["input_shape"] = []int{1, 100000, 100000} }),
		"model-many-classes.json": editInfo(func(m map[string]any) { m["outputs"] = 5000000 }),
		"model-huge-params.json": editInfo(func(m map[string]any) {
			m["input_shape"] = []int{1 << 20}
			m["model"] = map[string]any{"name": "big", "layers": []any{map[string]any{"dense": map[string]any{"units": 1 << 26}}}}
		}),
		"model-long-layer-name.json": editInfo(func(m map[string]any) {
			m["model"] = map[string]any{"name": "m", "layers": []any{map[string]any{"dense": map[string]any{"units": 2, "name": strings.Repeat("n", 1000)}}}}
		}),
		"model-negative-batch.json": editInfo(func(m map[string]any) { m["batch_size"] = -1 }),
		"model-bad-format.json":     editInfo(func(m map[string]any) { m["format"] = "keras" }),

		"spec-valid.yaml":             []byte(tinySpec),
		"spec-billion-laughs.yaml":    []byte(billionLaughs()),
		"spec-aliased-layers.yaml":    []byte(aliasedLayers()),
		"spec-huge-units.yaml":        []byte("name: m\nlayers:\n  - dense: {units: 1000000000000}\n"),
		"spec-deep-nesting.yaml":      []byte("name: m\nlayers:\n  - dense: {units: " + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + "}\n"),
		"spec-long-kind.yaml":         []byte("name: m\nlayers:\n  - " + strings.Repeat("k", 10000) + "\n"),
		"spec-too-many-layers.yaml":   []byte("name: m\nlayers:\n" + strings.Repeat("  - relu\n", nn.MaxSpecLayers+1)),
		"spec-control-char-name.yaml": []byte("name: \"m\\nx\"\nlayers:\n  - relu\n"),
		"spec-blocks-valid.yaml": []byte("name: gpt\nlayers:\n  - embedding: {vocab: 20, dim: 8}\n  - positional_embedding: {max_len: 16}\n" +
			"  - residual: [{layer_norm: {}}, {attention: {heads: 2, causal: true}}]\n" +
			"  - residual: {layers: [layer_norm, {dense: {units: 8, name: up}}, gelu, {add: {inputs: [gelu1, up]}}]}\n" +
			"  - dense: {units: 20}\n"),
		"spec-blocks-too-many-layers.yaml": []byte("name: m\nlayers:\n" + strings.Repeat("  - residual: ["+strings.Repeat("relu, ", 255)+"relu]\n", 17)),
		"spec-blocks-deep.yaml":            []byte("name: m\nlayers:\n  - " + strings.Repeat("residual: [", 60) + "relu" + strings.Repeat("]", 60) + "\n"),
		"spec-blocks-bad-input.yaml":       []byte("name: m\nlayers:\n  - residual: [{dense: {units: 2, inputs: [nowhere]}}]\n"),
	}
}

// billionLaughs is a spec whose aliases of aliases, in a layer's
// settings, would expand to 10^9 values.
func billionLaughs() string {
	var b strings.Builder
	b.WriteString("name: m\nlayers:\n  - dense:\n      units: 2\n      a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n")
	for i := 1; i < 9; i++ {
		fmt.Fprintf(&b, "      a%d: &a%d [%s*a%d]\n", i, i, strings.Repeat(fmt.Sprintf("*a%d, ", i-1), 9), i-1)
	}
	return b.String()
}

// aliasedLayers is a spec of many layers that alias one large settings
// map, which a parser that decodes each layer's settings anew would
// decode thousands of times.
func aliasedLayers() string {
	var b strings.Builder
	b.WriteString("name: m\nlayers:\n  - &l {ncf: {users: 2, movies: 2, hidden: [")
	for i := 0; i < 2000; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString("1")
	}
	b.WriteString("]}}\n")
	for i := 0; i < 3000; i++ {
		b.WriteString("  - *l\n")
	}
	return b.String()
}

// TestModelFixtures checks each fixture of testdata/models against what
// reading it must do: the valid ones load, every other is a one-line
// error that says what is wrong.
func TestModelFixtures(t *testing.T) {
	if *update {
		if err := os.MkdirAll(fixtures, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, b := range makeFixtures(t) {
			if err := os.WriteFile(filepath.Join(fixtures, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := map[string]string{
		"weights-valid.safetensors":                    "",
		"weights-truncated.safetensors":                "not a valid safetensors file: tensor \"dense2.weight\": data_offsets [124, 148] are not within the 138 bytes",
		"weights-header-length-past-end.safetensors":   "header of 1048576 bytes, but the file holds",
		"weights-header-length-over-limit.safetensors": "more than the 16777216 allowed",
		"weights-offsets-past-end.safetensors":         `tensor "dense1.bias": data_offsets [0, 1099511627776] are not within`,
		"weights-huge-shape.safetensors":               `tensor "dense1.weight": shape [1099511627776 1099511627776 1099511627776] holds more elements than any file`,
		"weights-shape-many-dims.safetensors":          "shape must be a list of at most 8 non-negative integers",
		"weights-overlapping-tensors.safetensors":      "begins at data offset",
		"weights-unknown-tensor.safetensors":           `tensor "../../etc/passwd" is not a parameter of this model`,
		"weights-f64-dtype.safetensors":                `tensor "dense1.weight" is F64, the model wants F32`,
		"weights-header-not-object.safetensors":        "the header is not a JSON object",
		"checkpoint-valid.safetensors":                 "",
		"checkpoint-truncated.safetensors":             "not a valid safetensors file",
		"checkpoint-unknown-tensor.safetensors":        `tensor "optimizer/../../x" is not a parameter, buffer or optimizer state of this model`,
		"checkpoint-unknown-slot.safetensors":          `unknown entry "w/dense2.bias"`,
		"checkpoint-negative-lr.safetensors":           `bad learning rate "-0.001"`,
		"checkpoint-nan-lr.safetensors":                `bad learning rate "NaN"`,
		"checkpoint-bad-rng.safetensors":               "bad graph_rng",
		"checkpoint-history-too-long.safetensors":      "history holds 1 epochs, more than the 0",
		"checkpoint-nan-moment.safetensors":            `tensor "optimizer/m/dense1.weight": value 0 is NaN`,
		"checkpoint-step-fraction.safetensors":         `"optimizer/step": 1.5 is not a step count`,
		"model-valid.json":                             "",
		"model-huge-input.json":                        "[1 100000 100000]: more than the 16777216 values an example may hold",
		"model-many-classes.json":                      "outputs 5000000: a classifier has from 1 to 4096",
		"model-huge-params.json":                       "past the 1073741824 a model may have",
		"model-long-layer-name.json":                   `setting "name": 1000 bytes, longer than the 256`,
		"model-negative-batch.json":                    "batch_size -1",
		"model-bad-format.json":                        `format "keras"`,
		"spec-valid.yaml":                              "",
		"spec-billion-laughs.yaml":                     "more than the 262144 values a model spec may hold",
		"spec-aliased-layers.yaml":                     "more than the 262144 values a model spec may hold",
		"spec-huge-units.yaml":                         `setting "units" must be a positive integer of at most 67108864`,
		"spec-deep-nesting.yaml":                       "values nested more than 100 deep",
		"spec-long-kind.yaml":                          "a layer kind of 10000 bytes",
		"spec-too-many-layers.yaml":                    "4097 layers, more than the 4096",
		"spec-control-char-name.yaml":                  "control character",
		"spec-blocks-valid.yaml":                       "",
		"spec-blocks-too-many-layers.yaml":             "more than the 4096 layers a spec may hold, counting those inside blocks",
		"spec-blocks-deep.yaml":                        "values nested more than 100 deep",
		"spec-blocks-bad-input.yaml":                   `input "nowhere" names no earlier layer`,
	}
	entries, err := os.ReadDir(fixtures)
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, e := range entries {
		name := e.Name()
		w, ok := want[name]
		if !ok {
			continue
		}
		seen++
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(fixtures, name)
			var err error
			switch {
			case strings.HasPrefix(name, "weights-"):
				g := tinyTrainer(t, "").g
				before := graphState(g)
				err = LoadWeights(path, g)
				if err != nil {
					if d := sameState(before, graphState(g)); d != "" {
						t.Errorf("a failed load changed %s", d)
					}
				}
			case strings.HasPrefix(name, "checkpoint-"):
				tr := tinyTrainer(t, "")
				before := snapshot(t, tr)
				err = tr.Restore(path)
				if err != nil {
					if d := sameState(before, snapshot(t, tr)); d != "" {
						t.Errorf("a failed restore changed %s", d)
					}
				}
			case strings.HasPrefix(name, "model-"):
				dir := t.TempDir()
				b, _ := os.ReadFile(path)
				os.WriteFile(filepath.Join(dir, "model.json"), b, 0o644)
				_, err = ReadInfo(dir)
			case strings.HasPrefix(name, "spec-"):
				_, err = nn.ReadSpec(path)
			}
			switch {
			case w == "" && err != nil:
				t.Fatalf("want it to load: %v", err)
			case w != "" && (err == nil || !strings.Contains(err.Error(), w)):
				t.Fatalf("error %v, want one containing %q", err, w)
			case err != nil && strings.Contains(err.Error(), "\n"):
				t.Fatalf("error on more than one line: %q", err)
			}
		})
	}
	if seen != len(want) {
		t.Fatalf("%d of the %d fixtures are in %s: run go test ./train -run TestModelFixtures -update", seen, len(want), fixtures)
	}
}
