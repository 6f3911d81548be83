package train

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/bits"
	"sort"
	"strings"

	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/internal/atomicfile"
	"github.com/dlrun/dlrun/internal/safeio"
	"github.com/nlpodyssey/safetensors"
	"github.com/pkg/errors"
)

// MaxHeaderBytes is the largest safetensors header (the JSON between the
// file's 8-byte length and its tensors) that LoadWeights and Restore
// read: 16 MiB. A larger declared length is an error before anything is
// allocated for it. The header of a weights file takes about 100 bytes a
// tensor; a checkpoint adds its optimizer's tensors and its metrics
// history (a few hundred bytes an epoch). The safetensors reference
// implementation allows 100 MB.
const MaxHeaderBytes = 16 << 20

// MaxTensorRank is the most dimensions a tensor of a weights file or a
// checkpoint may declare: 8.
const MaxTensorRank = 8

// MaxMetadataEntries is the most entries the __metadata__ of a weights
// file or a checkpoint may hold: 1024 (a checkpoint writes 7).
const MaxMetadataEntries = 1024

// ErrNotSafetensors is wrapped by the errors of LoadWeights and Restore
// for a file that is not a well-formed safetensors file: too short, a
// header length past the file or MaxHeaderBytes, a header that is not a
// JSON object of tensors, a tensor whose offsets do not match its shape
// and dtype, or tensors that do not tile the data exactly.
var ErrNotSafetensors = errors.New("not a valid safetensors file")

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
// parameters and buffers of g, as PyTorch's load_state_dict with
// strict=True does. Every parameter and buffer must be in the file with
// its shape and dtype, and the file must hold nothing else: the error
// names the file and the tensors at fault, as it does a NaN or infinite
// value (weights must be finite). The file is opened with
// safeio.Open (a FIFO or device is an error), its header is bounded by
// MaxHeaderBytes, and every tensor's shape and offsets are checked
// against the file's size and the model before any tensor is read, so a
// hostile file costs no more memory than a few times its header (at most
// MaxHeaderBytes) and the model's own size. A truncated or malformed file
// is an error wrapping ErrNotSafetensors. g is
// unchanged on error.
func LoadWeights(path string, g *graph.Graph) error {
	if g == nil {
		return errors.Errorf("loading %s: nil graph", path)
	}
	f, st, err := openSafetensors(path, "loading", "weights", names(weightSlots(g)))
	if err != nil {
		return err
	}
	defer f.Close()
	return errors.Wrapf(st.loadWeights(g), "loading %s", path)
}

// names returns a function that reports whether a name is one of slots'.
func names(slots []slot) func(string) bool {
	set := make(map[string]bool, len(slots))
	for _, s := range slots {
		set[s.name] = true
	}
	return func(n string) bool { return set[n] }
}

// loadWeights checks the tensors of st against the parameters and buffers
// of g, reads them and copies them in; g is unchanged on error.
func (st *stFile) loadWeights(g *graph.Graph) error {
	slots := weightSlots(g)
	if err := st.match(slots, "a parameter of this model (nor a buffer)"); err != nil {
		return err
	}
	data, err := st.read(slots)
	if err != nil {
		return err
	}
	if err := checkFiniteData(slots, data); err != nil {
		return err
	}
	for i, s := range slots {
		setFloats(s.dst, data[i])
	}
	return nil
}

// checkFiniteData reports the first float tensor of slots whose data holds
// a NaN or an infinite value: weights that would make every prediction NaN
// are refused when they are read, not found out by the answers.
func checkFiniteData(slots []slot, data [][]byte) error {
	for i, s := range slots {
		if j, v, ok := firstNonFinite(s.dtype, data[i]); ok {
			return errors.Errorf("tensor %q: value %d is %v: weights must be finite", s.name, j, v)
		}
	}
	return nil
}

// firstNonFinite returns the index and value of the first NaN or infinite
// element of little-endian data of safetensors dtype (F32 or F64; other
// dtypes hold none).
func firstNonFinite(dtype string, data []byte) (int, float64, bool) {
	switch dtype {
	case "F32":
		for i := 0; i+4 <= len(data); i += 4 {
			if v := math.Float32frombits(binary.LittleEndian.Uint32(data[i:])); v-v != 0 {
				return i / 4, float64(v), true
			}
		}
	case "F64":
		for i := 0; i+8 <= len(data); i += 8 {
			if v := math.Float64frombits(binary.LittleEndian.Uint64(data[i:])); v-v != 0 {
				return i / 8, v, true
			}
		}
	}
	return 0, 0, false
}

// slot is a tensor a file must (or, if optional, may) hold: its name,
// shape and safetensors dtype, and the slice its values go to ([]float32,
// []float64 or []int64 of the right length).
type slot struct {
	name     string
	shape    []int
	dtype    string
	dst      any
	optional bool
}

// weightSlots returns a slot for every parameter and buffer of g, in the
// dtype and shape SaveWeights writes.
func weightSlots(g *graph.Graph) []slot {
	dt := "F32"
	if g.DType() == graph.Float64 {
		dt = "F64"
	}
	var slots []slot
	for _, p := range g.Params() {
		slots = append(slots, slot{name: p.Name, shape: p.Shape(), dtype: dt, dst: paramData(p)})
	}
	for _, b := range g.Buffers() {
		bdt, shape := dt, b.Shape()
		if b.Int() {
			bdt = "I64"
		}
		if len(shape) == 0 {
			shape = []int{1} // as bufferView stores a scalar
		}
		slots = append(slots, slot{name: b.Name, shape: shape, dtype: bdt, dst: b.Data()})
	}
	return slots
}

// stFile is an open safetensors file whose header has been read and
// checked: every tensor's dtype, shape and offsets agree with each other,
// and the tensors tile the data that follows the header exactly. Only the
// tensors the reader knows are kept, so that what the header costs beyond
// its own bytes is bounded by the model; the others are counted and the
// first few named.
type stFile struct {
	r       io.ReaderAt
	data    int64 // where the tensors begin in the file
	meta    map[string]string
	tensors map[string]stTensor // the known tensors
	unknown []string            // the first few unknown tensors
	others  int                 // how many unknown tensors there are
}

// showUnknown is how many unknown tensors an error names.
const showUnknown = 3

// stTensor is one tensor of a safetensors header.
type stTensor struct {
	dtype      string
	shape      []int
	begin, end int64 // byte offsets from stFile.data
}

// dtypeSizes are the bytes per element of the safetensors dtypes.
var dtypeSizes = map[string]int64{
	"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1,
	"I16": 2, "U16": 2, "F16": 2, "BF16": 2,
	"I32": 4, "U32": 4, "F32": 4,
	"I64": 8, "U64": 8, "F64": 8,
}

// openSafetensors opens path with safeio.Open and reads its header,
// keeping the tensors known reports true for. The error begins with verb
// and names path ("loading weights: open p: no such file or directory",
// "loading p: not a valid safetensors file: ..."); noun says what the
// file was to be.
func openSafetensors(path, verb, noun string, known func(string) bool) (io.ReadCloser, *stFile, error) {
	f, err := safeio.Open(path)
	if err != nil {
		return nil, nil, errors.Wrapf(err, "%s %s", verb, noun)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, errors.Wrapf(err, "%s %s", verb, noun)
	}
	st, err := readHeader(f, fi.Size(), known)
	if err != nil {
		f.Close()
		return nil, nil, errors.Wrapf(err, "%s %s", verb, path)
	}
	return f, st, nil
}

// readHeader reads and checks the header of the safetensors file r of
// size bytes, keeping the tensors known reports true for (all if known is
// nil). The header's length is checked against MaxHeaderBytes and size
// before it is read; its tensors' offsets against size before any of them
// is.
func readHeader(r io.ReaderAt, size int64, known func(string) bool) (*stFile, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrNotSafetensors, fmt.Sprintf(format, args...))
	}
	if size < 8 {
		return nil, bad("%d bytes, shorter than the 8-byte header length", size)
	}
	var lb [8]byte
	if _, err := r.ReadAt(lb[:], 0); err != nil {
		return nil, bad("reading the header length: %v", err)
	}
	n := binary.LittleEndian.Uint64(lb[:])
	if n > MaxHeaderBytes {
		return nil, bad("header of %d bytes, more than the %d allowed", n, MaxHeaderBytes)
	}
	if n > uint64(size-8) {
		return nil, bad("header of %d bytes, but the file holds %d after the header length", n, size-8)
	}
	hdr := make([]byte, n)
	if _, err := r.ReadAt(hdr, 8); err != nil {
		return nil, bad("reading the header: %v", err)
	}
	st := &stFile{r: r, data: 8 + int64(n), tensors: map[string]stTensor{}}
	if err := st.parse(hdr, size-st.data, known); err != nil {
		return nil, bad("%v", err)
	}
	return st, nil
}

// parse reads the JSON header hdr, whose tensors must tile dataLen bytes.
func (st *stFile) parse(hdr []byte, dataLen int64, known func(string) bool) error {
	dec := json.NewDecoder(bytes.NewReader(hdr))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return errors.New("the header is not a JSON object")
	}
	seenMeta := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return errors.Errorf("header: %v", err)
		}
		name, ok := tok.(string)
		if !ok {
			return errors.New("header: a key is not a string")
		}
		if name == "__metadata__" {
			if seenMeta {
				return errors.New("header: __metadata__ given twice")
			}
			seenMeta = true
			if st.meta, err = decodeMeta(dec); err != nil {
				return errors.Errorf("header: __metadata__ %v", err)
			}
			continue
		}
		t, err := decodeTensor(dec, dataLen)
		if err != nil {
			return errors.Errorf("tensor %q: %v", truncate(name), err)
		}
		if known != nil && !known(name) {
			if st.others++; len(st.unknown) < showUnknown {
				st.unknown = append(st.unknown, name)
			}
			continue
		}
		if _, dup := st.tensors[name]; dup {
			return errors.Errorf("tensor %q given twice", name)
		}
		st.tensors[name] = t
	}
	if _, err := dec.Token(); err != nil {
		return errors.Errorf("header: %v", err)
	}
	// The reference implementation pads the header with spaces.
	if rest := hdr[dec.InputOffset():]; len(bytes.TrimLeft(rest, " \t\r\n")) != 0 {
		return errors.New("the header has bytes after its JSON object")
	}
	if st.others > 0 {
		return nil // the tiling is unknown; match reports the unknown tensors
	}
	return st.checkTiling(dataLen)
}

// decodeMeta reads the __metadata__ object: at most MaxMetadataEntries
// names, each mapped to a string and given once.
func decodeMeta(dec *json.Decoder) (map[string]string, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if tok == nil {
		return nil, nil
	}
	if tok != json.Delim('{') {
		return nil, errors.New("must map names to strings")
	}
	meta := map[string]string{}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return nil, err
		}
		v, err := dec.Token()
		if err != nil {
			return nil, err
		}
		vs, ok := v.(string)
		if !ok {
			return nil, errors.Errorf("%q must be a string", truncate(k.(string)))
		}
		if _, dup := meta[k.(string)]; dup {
			return nil, errors.Errorf("%q given twice", truncate(k.(string)))
		}
		if len(meta) == MaxMetadataEntries {
			return nil, errors.Errorf("holds more than %d entries", MaxMetadataEntries)
		}
		meta[k.(string)] = vs
	}
	_, err = dec.Token()
	return meta, err
}

// decodeTensor reads one tensor entry of a header: its dtype, a shape of
// at most MaxTensorRank dimensions and data offsets within dataLen bytes
// that hold exactly its elements.
func decodeTensor(dec *json.Decoder, dataLen int64) (stTensor, error) {
	var e struct {
		DType   string          `json:"dtype"`
		Shape   json.RawMessage `json:"shape"`
		Offsets json.RawMessage `json:"data_offsets"`
	}
	if err := dec.Decode(&e); err != nil {
		return stTensor{}, err
	}
	size, ok := dtypeSizes[e.DType]
	if !ok {
		return stTensor{}, errors.Errorf("unknown dtype %q", truncate(e.DType))
	}
	if e.Shape == nil || e.Offsets == nil {
		return stTensor{}, errors.New("want dtype, shape and data_offsets")
	}
	shape, ok := parseUints(e.Shape, MaxTensorRank)
	if !ok {
		return stTensor{}, errors.Errorf("shape must be a list of at most %d non-negative integers, not %s", MaxTensorRank, truncate(string(e.Shape)))
	}
	off, ok := parseUints(e.Offsets, 2)
	if !ok || len(off) != 2 {
		return stTensor{}, errors.Errorf("data_offsets must be two non-negative integers, not %s", truncate(string(e.Offsets)))
	}
	if off[0] > off[1] || off[1] > uint64(dataLen) {
		return stTensor{}, errors.Errorf("data_offsets [%d, %d] are not within the %d bytes of data the file holds", off[0], off[1], dataLen)
	}
	t := stTensor{dtype: e.DType, shape: make([]int, len(shape)), begin: int64(off[0]), end: int64(off[1])}
	elems := uint64(1)
	for i, d := range shape {
		if d > math.MaxInt {
			return stTensor{}, errors.Errorf("shape %v: dimension %d is too large", shape, d)
		}
		t.shape[i] = int(d)
		hi, lo := bits.Mul64(elems, d)
		if hi != 0 {
			return stTensor{}, errors.Errorf("shape %v holds more elements than any file", shape)
		}
		elems = lo
	}
	hi, nbytes := bits.Mul64(elems, uint64(size))
	if hi != 0 || nbytes != off[1]-off[0] {
		return stTensor{}, errors.Errorf("shape %v of %s takes %d×%d bytes, its data_offsets [%d, %d] hold %d", shape, e.DType, elems, size, off[0], off[1], off[1]-off[0])
	}
	return t, nil
}

// parseUints parses raw, a JSON list of at most max integers from 0 to
// 2^64-1 (null for none), without decoding more than max of them.
func parseUints(raw []byte, max int) ([]uint64, bool) {
	raw = bytes.TrimSpace(raw)
	if string(raw) == "null" {
		return nil, true
	}
	if len(raw) < 2 || raw[0] != '[' || raw[len(raw)-1] != ']' {
		return nil, false
	}
	body := bytes.TrimSpace(raw[1 : len(raw)-1])
	if len(body) == 0 {
		return []uint64{}, true
	}
	if bytes.Count(body, []byte(",")) >= max {
		return nil, false
	}
	out := make([]uint64, 0, max)
	for len(body) > 0 {
		item := body
		if i := bytes.IndexByte(body, ','); i >= 0 {
			item, body = body[:i], body[i+1:]
			if len(bytes.TrimSpace(body)) == 0 {
				return nil, false // a trailing comma
			}
		} else {
			body = nil
		}
		item = bytes.TrimSpace(item)
		// JSON integers: no sign, no leading zeros, no fraction or exponent.
		if len(item) == 0 || (item[0] == '0' && len(item) > 1) {
			return nil, false
		}
		var v uint64
		for _, c := range item {
			if c < '0' || c > '9' {
				return nil, false
			}
			hi, lo := bits.Mul64(v, 10)
			if hi != 0 || lo+uint64(c-'0') < lo {
				return nil, false
			}
			v = lo + uint64(c-'0')
		}
		out = append(out, v)
	}
	return out, true
}

// checkTiling checks that the tensors, in order of offset, cover the
// dataLen bytes of data without gap or overlap, as safetensors requires.
func (st *stFile) checkTiling(dataLen int64) error {
	type span struct {
		name       string
		begin, end int64
	}
	spans := make([]span, 0, len(st.tensors))
	for n, t := range st.tensors {
		spans = append(spans, span{n, t.begin, t.end})
	}
	sort.Slice(spans, func(i, j int) bool {
		a, b := spans[i], spans[j]
		if a.begin != b.begin {
			return a.begin < b.begin
		}
		if a.end != b.end {
			return a.end < b.end
		}
		return a.name < b.name
	})
	at := int64(0)
	for _, s := range spans {
		if s.begin != at {
			return errors.Errorf("tensor %q begins at data offset %d, not %d where the one before it ends", s.name, s.begin, at)
		}
		at = s.end
	}
	if at != dataLen {
		return errors.Errorf("the tensors hold %d bytes of data, the file %d", at, dataLen)
	}
	return nil
}

// match checks the file's tensors against slots: every tensor must be a
// slot (else the error lists those that are not, saying they are not
// what, as in "a parameter of this model"), and every slot that is not
// optional must be in the file, with its dtype and shape.
func (st *stFile) match(slots []slot, what string) error {
	want := make(map[string]bool, len(slots))
	for _, s := range slots {
		want[s.name] = true
	}
	extra, others := append([]string(nil), st.unknown...), st.others
	for n := range st.tensors {
		if !want[n] {
			extra = append(extra, n)
			others++
		}
	}
	if others > 0 {
		sort.Strings(extra)
		return errors.Errorf("%s %s %s", plural(others, "tensor"), quoteList(extra, others), plural(others, "is not "+what))
	}
	for _, s := range slots {
		t, ok := st.tensors[s.name]
		if !ok {
			if s.optional {
				continue
			}
			return errors.Errorf("tensor %q is missing", s.name)
		}
		if t.dtype != s.dtype {
			return errors.Errorf("tensor %q is %s, the model wants %s", s.name, t.dtype, s.dtype)
		}
		if !equalShapes(t.shape, s.shape) {
			return errors.Errorf("tensor %q has shape %v, the model wants %v", s.name, t.shape, s.shape)
		}
	}
	return nil
}

// read reads the data of each slot the file holds (nil for an optional
// slot it does not), after match has checked them: the bytes read are
// the slots' own size.
func (st *stFile) read(slots []slot) ([][]byte, error) {
	out := make([][]byte, len(slots))
	for i, s := range slots {
		t, ok := st.tensors[s.name]
		if !ok {
			continue
		}
		b := make([]byte, t.end-t.begin)
		if _, err := st.r.ReadAt(b, st.data+t.begin); err != nil {
			return nil, errors.Errorf("reading tensor %q: %v", s.name, err)
		}
		out[i] = b
	}
	return out, nil
}

func equalShapes(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// plural returns "N things" style words: word as given for n == 1, else
// with "s" added to a noun or "is" made "are".
func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	if rest, ok := strings.CutPrefix(word, "is "); ok {
		return "are " + rest
	}
	return word + "s"
}

// quoteList quotes the first few of names, of n in all, and counts the
// rest.
func quoteList(names []string, n int) string {
	q := make([]string, 0, showUnknown+1)
	for i, name := range names {
		if i == showUnknown {
			break
		}
		q = append(q, fmt.Sprintf("%q", truncate(name)))
	}
	if n > len(q) {
		q = append(q, fmt.Sprintf("and %d more", n-len(q)))
	}
	return strings.Join(q, ", ")
}

// truncate shortens s for an error message.
func truncate(s string) string {
	const max = 80
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
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
