package train

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"io"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"

	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/internal/atomicfile"
	"github.com/dlrun/dlrun/internal/safeio"
	"github.com/nlpodyssey/safetensors"
	"github.com/pkg/errors"
)

// CheckpointFormat marks a dlrun checkpoint in its safetensors metadata.
const CheckpointFormat = "dlrun-checkpoint-1"

// SaveCheckpoint writes everything needed to continue training exactly as
// if it had not stopped, to path, atomically: the parameters and buffers
// (as SaveWeights names them), the optimizer's state as float64 tensors
// named "optimizer/<slot>/<parameter>" and "optimizer/step", and in the
// file's metadata the epoch, the learning rate, the states of the graph's
// and the shuffling RNGs, the metrics of every epoch so far and the
// trainer's Config (JSON, "config"), which a folder written by Save alone
// resumes with.
func (t *Trainer) SaveCheckpoint(path string) error {
	if err := t.usable(); err != nil {
		return err
	}
	return saveCheckpoint(path, t.resumable())
}

// Restore loads a checkpoint written by SaveCheckpoint into t, which must
// have been built with the same model and configuration: parameters,
// buffers, optimizer state, RNG states, epoch and history. Everything is
// checked before anything is changed: the file (a regular file, a header
// within MaxHeaderBytes, offsets within the file), every tensor by name,
// dtype and shape (a tensor that is not a parameter, a buffer,
// optimizer/step or optimizer/<slot>/<parameter> of one of this
// optimizer's slots is an error naming it), the optimizer's state (finite
// values, never negative where they are sums or means of squares, a
// whole step count from 0 to 2^53), the weights (finite), the learning
// rate (positive
// and finite), the epoch, the RNG states and the history (at most one
// entry per epoch, in order). On error t is left exactly as it was, and
// the error names the file and what is wrong, on one line.
func (t *Trainer) Restore(path string) error {
	if err := t.usable(); err != nil {
		return err
	}
	return restoreCheckpoint(path, t.resumable())
}

func (t *Trainer) resumable() resumable {
	return resumable{t.g, t.parts.opt, &t.epoch, &t.hist, t.pcg, &t.cfg}
}

// resumable is the state a checkpoint saves and restores.
type resumable struct {
	g       *graph.Graph
	opt     Optimizer
	epoch   *int
	hist    *[]EpochStats
	shuffle *rand.PCG
	cfg     *Config // recorded in the metadata, for the record; nil: none
}

func saveCheckpoint(path string, t resumable) error {
	b, err := checkpointBytes(t)
	if err != nil {
		return errors.Wrapf(err, "saving %s", path)
	}
	return atomicfile.WriteFile(path, b, 0o644)
}

// checkpointBytes returns the checkpoint of t as the bytes of its file.
func checkpointBytes(t resumable) ([]byte, error) {
	views, err := weightViews(t.g)
	if err != nil {
		return nil, err
	}
	for k, vals := range t.opt.State() {
		b := make([]byte, 8*len(vals))
		for i, v := range vals {
			binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(v))
		}
		v, err := safetensors.NewTensorView(safetensors.F64, []uint64{uint64(len(vals))}, b)
		if err != nil {
			return nil, errors.Wrapf(err, "optimizer state %s", k)
		}
		views["optimizer/"+k] = v
	}
	gr, err := t.g.RNGState()
	if err != nil {
		return nil, err
	}
	sr, err := t.shuffle.MarshalBinary()
	if err != nil {
		return nil, err
	}
	hist, err := json.Marshal(*t.hist)
	if err != nil {
		return nil, err
	}
	meta := map[string]string{
		"format":        CheckpointFormat,
		"epoch":         strconv.Itoa(*t.epoch),
		"optimizer":     t.opt.Name(),
		"learning_rate": strconv.FormatFloat(t.opt.LearningRate(), 'g', -1, 64),
		"graph_rng":     base64.StdEncoding.EncodeToString(gr),
		"shuffle_rng":   base64.StdEncoding.EncodeToString(sr),
		"history":       string(hist),
	}
	if t.cfg != nil {
		c, err := json.Marshal(t.cfg)
		if err != nil {
			return nil, err
		}
		meta["config"] = string(c)
	}
	return safetensors.Serialize(views, meta)
}

// restoreBytes restores t from b, the bytes of a checkpoint file that
// checkpointBytes wrote; what names them in errors.
func restoreBytes(b []byte, what string, t resumable) error {
	st, err := readHeader(bytes.NewReader(b), int64(len(b)), checkpointNames(t.g))
	if err != nil {
		return errors.Wrapf(err, "restoring %s", what)
	}
	ck, err := readCheckpoint(st, t)
	if err != nil {
		return errors.Wrapf(err, "restoring %s", what)
	}
	return errors.Wrapf(ck.apply(t), "restoring %s", what)
}

func restoreCheckpoint(path string, t resumable) error {
	f, st, err := openSafetensors(path, "restoring", "checkpoint", checkpointNames(t.g))
	if err != nil {
		return err
	}
	defer f.Close()
	ck, err := readCheckpoint(st, t)
	if err != nil {
		return errors.Wrapf(err, "restoring %s", path)
	}
	return errors.Wrapf(ck.apply(t), "restoring %s", path)
}

// checkpointNames returns a function that reports whether a tensor name
// may be in a checkpoint of g: a parameter or buffer, optimizer/step, or
// optimizer/<slot>/<parameter>.
func checkpointNames(g *graph.Graph) func(string) bool {
	weights := names(weightSlots(g))
	params := map[string]bool{}
	for _, p := range g.Params() {
		params[p.Name] = true
	}
	return func(n string) bool {
		key, ok := strings.CutPrefix(n, "optimizer/")
		if !ok {
			return weights(n)
		}
		_, param, _ := strings.Cut(key, "/")
		return key == "step" || params[param]
	}
}

// checkpoint is the content of a checkpoint file, read and checked
// against the trainer it is for: applying it cannot fail halfway.
type checkpoint struct {
	epoch      int
	lr         float64
	hist       []EpochStats
	graphRNG   []byte
	shuffleRNG []byte
	weights    []slot   // the parameters and buffers
	data       [][]byte // their values, as the file holds them
	state      map[string][]float64
}

// nonNegativeSlots are the optimizer slots that hold sums or running means
// of squared gradients (Adam's v, RMSProp's square_avg, AdaGrad's sum): a
// negative value there is a damaged checkpoint, and the square root the
// next step takes of it would be NaN.
var nonNegativeSlots = map[string]bool{"v": true, "square_avg": true, "sum": true}

// maxStep is the largest optimizer step count a checkpoint may hold: 2^53,
// beyond which a float64 no longer counts one by one.
const maxStep = 1 << 53

// readCheckpoint checks the header st against t (metadata, then every
// tensor's name, dtype and shape) before it reads any tensor, then reads
// and checks the values.
func readCheckpoint(st *stFile, t resumable) (*checkpoint, error) {
	m := st.meta
	if m["format"] != CheckpointFormat {
		return nil, errors.Errorf("not a dlrun checkpoint (no %q format in its metadata)", CheckpointFormat)
	}
	if m["optimizer"] != t.opt.Name() {
		return nil, errors.Errorf("it holds %s state, the run uses %s", truncate(m["optimizer"]), t.opt.Name())
	}
	ck := &checkpoint{}
	var err error
	if ck.epoch, err = strconv.Atoi(m["epoch"]); err != nil || ck.epoch < 0 || ck.epoch > math.MaxInt32 {
		return nil, errors.Errorf("bad epoch %q: want a whole number from 0 to %d", truncate(m["epoch"]), math.MaxInt32)
	}
	if ck.lr, err = strconv.ParseFloat(m["learning_rate"], 64); err != nil || !(ck.lr > 0) || math.IsInf(ck.lr, 0) {
		return nil, errors.Errorf("bad learning rate %q: want a positive finite number", truncate(m["learning_rate"]))
	}
	if err := json.Unmarshal([]byte(m["history"]), &ck.hist); err != nil {
		return nil, errors.Errorf("its metrics history is not a JSON list of epochs: %v", err)
	}
	if err := checkHistory(ck.hist, ck.epoch); err != nil {
		return nil, err
	}
	if ck.graphRNG, err = rngState(m, "graph_rng"); err != nil {
		return nil, err
	}
	if ck.shuffleRNG, err = rngState(m, "shuffle_rng"); err != nil {
		return nil, err
	}
	// Tensors: every parameter and buffer, optimizer/step, and any
	// optimizer/<slot>/<parameter> of one of the model's parameters;
	// nothing else.
	ck.weights = weightSlots(t.g)
	slots := append([]slot(nil), ck.weights...)
	slots = append(slots, slot{name: "optimizer/step", shape: []int{1}, dtype: "F64"})
	keys := map[string][]float64{"step": {0}}
	params := map[string]*graph.Param{}
	for _, p := range t.g.Params() {
		params[p.Name] = p
	}
	tensorNames := make([]string, 0, len(st.tensors))
	for n := range st.tensors {
		tensorNames = append(tensorNames, n)
	}
	sort.Strings(tensorNames) // for errors that do not change from run to run
	for _, n := range tensorNames {
		key, ok := strings.CutPrefix(n, "optimizer/")
		if !ok || key == "step" {
			continue
		}
		_, param, _ := strings.Cut(key, "/")
		if p := params[param]; p != nil {
			slots = append(slots, slot{name: n, shape: []int{p.Size()}, dtype: "F64", optional: true})
			keys[key] = nil
		}
	}
	if err := st.match(slots, "a parameter, buffer or optimizer state of this model"); err != nil {
		return nil, err
	}
	// The optimizer's slot kinds (m, v, momentum ...), checked on an
	// optimizer of the same kind before any value is read.
	// (An optimizer not of dlrun's has no scratch copy: its own SetState
	// checks, in apply, which undoes its earlier steps if it fails.)
	scratch, _ := OptimizerByName(t.opt.Name(), 0)
	if scratch != nil {
		if err := scratch.SetState(keys); err != nil {
			return nil, errors.Wrap(err, "optimizer tensors")
		}
	}
	data, err := st.read(slots)
	if err != nil {
		return nil, err
	}
	ck.data = data[:len(ck.weights)]
	if err := checkFiniteData(ck.weights, ck.data); err != nil {
		return nil, err
	}
	ck.state = map[string][]float64{}
	for i, s := range slots[len(ck.weights):] {
		vals := make([]float64, len(data[len(ck.weights)+i])/8)
		setFloats(vals, data[len(ck.weights)+i])
		key := strings.TrimPrefix(s.name, "optimizer/")
		kind, _, _ := strings.Cut(key, "/")
		for j, v := range vals {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, errors.Errorf("tensor %q: value %d is %v: optimizer state must be finite", s.name, j, v)
			}
			if v < 0 && nonNegativeSlots[kind] {
				return nil, errors.Errorf("tensor %q: value %d is %v: a running mean of squared gradients is never negative", s.name, j, v)
			}
		}
		ck.state[key] = vals
	}
	if step := ck.state["step"][0]; step < 0 || step != math.Trunc(step) || step > maxStep {
		return nil, errors.Errorf("tensor \"optimizer/step\": %v is not a step count (a whole number from 0 to 2^53)", step)
	}
	if scratch != nil {
		if err := scratch.SetState(ck.state); err != nil {
			return nil, errors.Wrap(err, "optimizer tensors")
		}
	}
	return ck, nil
}

// checkHistory checks that hist holds at most epoch epochs, numbered
// upwards from 1 to at most epoch (Fit numbers them 1, 2, ...; epochs
// run with TrainEpoch alone have no entry).
func checkHistory(hist []EpochStats, epoch int) error {
	if len(hist) > epoch {
		return errors.Errorf("its metrics history holds %d epochs, more than the %d it has trained", len(hist), epoch)
	}
	last := 0
	for i, h := range hist {
		if h.Epoch <= last || h.Epoch > epoch {
			return errors.Errorf("its metrics history's entry %d is for epoch %d, not one after epoch %d and at most %d", i+1, h.Epoch, last, epoch)
		}
		last = h.Epoch
	}
	return nil
}

// rngState returns the PCG state base64-encoded in the metadata entry
// key, checked by loading it into a PCG of its own.
func rngState(m map[string]string, key string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(m[key])
	if err == nil {
		err = new(rand.PCG).UnmarshalBinary(b)
	}
	if err != nil {
		return nil, errors.Errorf("bad %s (RNG state) %q: %v", key, truncate(m[key]), err)
	}
	return b, nil
}

// apply puts ck into t. The steps that can fail come first, and undo
// what they did if a later one fails: t is unchanged on error.
func (ck *checkpoint) apply(t resumable) error {
	oldGraph, err := t.g.RNGState()
	if err != nil {
		return err
	}
	oldShuffle, err := t.shuffle.MarshalBinary()
	if err != nil {
		return err
	}
	if err := t.g.SetRNGState(ck.graphRNG); err != nil {
		return err
	}
	if err := t.shuffle.UnmarshalBinary(ck.shuffleRNG); err != nil {
		t.g.SetRNGState(oldGraph)
		return errors.Wrap(err, "shuffle RNG")
	}
	if err := t.opt.SetState(ck.state); err != nil {
		t.g.SetRNGState(oldGraph)
		t.shuffle.UnmarshalBinary(oldShuffle)
		return err
	}
	for i, s := range ck.weights {
		setFloats(s.dst, ck.data[i])
	}
	t.opt.SetLearningRate(ck.lr)
	*t.epoch = ck.epoch
	*t.hist = ck.hist
	return nil
}

// CheckpointInfo is what a checkpoint's metadata says of the training it
// holds, read without its tensors.
type CheckpointInfo struct {
	Epoch        int          // epochs trained
	Optimizer    string       // the optimizer whose state it holds
	LearningRate float64      // the rate of the last epoch
	History      []EpochStats // the metrics of the epochs Fit trained
	// Config is the configuration of the trainer that wrote it (nil in a
	// checkpoint of an earlier dlrun, which did not record it).
	Config *Config
}

// ReadCheckpointInfo reads the metadata of the checkpoint at path (the
// file's header only, bounded as LoadWeights bounds it): its epoch,
// optimizer, learning rate and history, checked as Restore checks them.
// Errors name the file.
func ReadCheckpointInfo(path string) (*CheckpointInfo, error) {
	f, err := safeio.Open(path)
	if err != nil {
		return nil, errors.Wrap(err, "reading checkpoint")
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, errors.Wrap(err, "reading checkpoint")
	}
	info, err := ParseCheckpointInfo(f, fi.Size())
	if err != nil {
		return nil, errors.Wrap(err, path)
	}
	return info, nil
}

// ParseCheckpointInfo is ReadCheckpointInfo of the checkpoint data r of
// size bytes; its errors do not name the file.
func ParseCheckpointInfo(r io.ReaderAt, size int64) (*CheckpointInfo, error) {
	st, err := readHeader(r, size, func(string) bool { return false })
	if err != nil {
		return nil, err
	}
	m := st.meta
	if m["format"] != CheckpointFormat {
		return nil, errors.Errorf("not a dlrun checkpoint (no %q format in its metadata)", CheckpointFormat)
	}
	info := &CheckpointInfo{Optimizer: m["optimizer"]}
	if info.Epoch, err = strconv.Atoi(m["epoch"]); err != nil || info.Epoch < 0 || info.Epoch > math.MaxInt32 {
		return nil, errors.Errorf("bad epoch %q: want a whole number from 0 to %d", truncate(m["epoch"]), math.MaxInt32)
	}
	if info.LearningRate, err = strconv.ParseFloat(m["learning_rate"], 64); err != nil || !(info.LearningRate > 0) || math.IsInf(info.LearningRate, 0) {
		return nil, errors.Errorf("bad learning rate %q: want a positive finite number", truncate(m["learning_rate"]))
	}
	if err := json.Unmarshal([]byte(m["history"]), &info.History); err != nil {
		return nil, errors.Errorf("its metrics history is not a JSON list of epochs: %v", err)
	}
	if err := checkHistory(info.History, info.Epoch); err != nil {
		return nil, err
	}
	if c, ok := m["config"]; ok {
		info.Config = new(Config)
		if err := json.Unmarshal([]byte(c), info.Config); err != nil {
			return nil, errors.Errorf("its config is not a trainer's configuration: %v", err)
		}
		if err := info.Config.Check(); err != nil {
			return nil, errors.Wrap(err, "its config")
		}
	}
	return info, nil
}

// CheckTensors reads every tensor of the safetensors data r (size bytes: a
// weights file or a checkpoint, its header checked as LoadWeights checks
// it) and reports the first float value that is NaN or infinite, or, in a
// checkpoint's optimizer state, a sum or running mean of squared
// gradients that is negative: what Restore and LoadWeights refuse,
// found without a model to load into. It reads at most 1 MiB at a time.
func CheckTensors(r io.ReaderAt, size int64) error {
	st, err := readHeader(r, size, nil)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(st.tensors))
	for n := range st.tensors {
		names = append(names, n)
	}
	sort.Strings(names)
	const chunk = 1 << 20
	buf := make([]byte, min(chunk, size))
	for _, n := range names {
		t := st.tensors[n]
		width := int64(dtypeSizes[t.dtype])
		kind, _, _ := strings.Cut(strings.TrimPrefix(n, "optimizer/"), "/")
		squares := strings.HasPrefix(n, "optimizer/") && nonNegativeSlots[kind]
		for off := t.begin; off < t.end; off += int64(len(buf)) {
			b := buf[:min(int64(len(buf)), t.end-off)]
			if _, err := r.ReadAt(b, st.data+off); err != nil {
				return errors.Errorf("reading tensor %q: %v", n, err)
			}
			first := int((off - t.begin) / width)
			if j, v, ok := firstNonFinite(t.dtype, b); ok {
				return errors.Errorf("tensor %q: value %d is %v: weights and optimizer state must be finite", n, first+j, v)
			}
			if squares && t.dtype == "F64" {
				for j := 0; j+8 <= len(b); j += 8 {
					if v := math.Float64frombits(binary.LittleEndian.Uint64(b[j:])); v < 0 {
						return errors.Errorf("tensor %q: value %d is %v: a running mean of squared gradients is never negative", n, first+j/8, v)
					}
				}
			}
		}
	}
	return nil
}
