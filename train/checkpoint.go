package train

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"

	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/internal/atomicfile"
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
// and the shuffling RNGs, and the metrics of every epoch so far.
func (t *Trainer) SaveCheckpoint(path string) error {
	if err := t.usable(); err != nil {
		return err
	}
	return saveCheckpoint(path, t.resumable())
}

// Restore loads a checkpoint written by SaveCheckpoint into t, which must
// have been built with the same model and configuration: parameters,
// buffers, optimizer state, RNG states, epoch and history. Every parameter
// and optimizer tensor is checked by name, shape and dtype; on error t is
// left as it was.
func (t *Trainer) Restore(path string) error {
	if err := t.usable(); err != nil {
		return err
	}
	return restoreCheckpoint(path, t.resumable())
}

func (t *Trainer) resumable() resumable {
	return resumable{t.g, t.parts.opt, &t.epoch, &t.hist, t.pcg}
}

// resumable is the state a checkpoint saves and restores.
type resumable struct {
	g       *graph.Graph
	opt     Optimizer
	epoch   *int
	hist    *[]EpochStats
	shuffle *rand.PCG
}

func saveCheckpoint(path string, t resumable) error {
	views, err := weightViews(t.g)
	if err != nil {
		return errors.Wrapf(err, "saving %s", path)
	}
	for k, vals := range t.opt.State() {
		b := make([]byte, 8*len(vals))
		for i, v := range vals {
			binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(v))
		}
		v, err := safetensors.NewTensorView(safetensors.F64, []uint64{uint64(len(vals))}, b)
		if err != nil {
			return errors.Wrapf(err, "saving %s: optimizer state %s", path, k)
		}
		views["optimizer/"+k] = v
	}
	gr, err := t.g.RNGState()
	if err != nil {
		return err
	}
	sr, err := t.shuffle.MarshalBinary()
	if err != nil {
		return err
	}
	hist, err := json.Marshal(*t.hist)
	if err != nil {
		return err
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
	b, err := safetensors.Serialize(views, meta)
	if err != nil {
		return errors.Wrapf(err, "saving %s", path)
	}
	return atomicfile.WriteFile(path, b, 0o644)
}

func restoreCheckpoint(path string, t resumable) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return errors.Wrap(err, "restoring checkpoint")
	}
	_, md, err := safetensors.ReadMetadata(b)
	if err != nil {
		return errors.Errorf("restoring %s: not a valid safetensors file: %v", path, err)
	}
	st, err := safetensors.Deserialize(b)
	if err != nil {
		return errors.Errorf("restoring %s: not a valid safetensors file: %v", path, err)
	}
	mj, err := md.MarshalJSON()
	if err != nil {
		return errors.Wrapf(err, "restoring %s", path)
	}
	var header struct {
		Meta map[string]string `json:"__metadata__"`
	}
	if err := json.Unmarshal(mj, &header); err != nil || header.Meta["format"] != CheckpointFormat {
		return errors.Errorf("restoring %s: not a dlrun checkpoint (no %q format in its metadata)", path, CheckpointFormat)
	}
	m := header.Meta
	if m["optimizer"] != t.opt.Name() {
		return errors.Errorf("restoring %s: it holds %s state, the run uses %s", path, m["optimizer"], t.opt.Name())
	}
	epoch, err := strconv.Atoi(m["epoch"])
	if err != nil || epoch < 0 {
		return errors.Errorf("restoring %s: bad epoch %q", path, m["epoch"])
	}
	lr, err := strconv.ParseFloat(m["learning_rate"], 64)
	if err != nil {
		return errors.Errorf("restoring %s: bad learning rate %q", path, m["learning_rate"])
	}
	var hist []EpochStats
	if err := json.Unmarshal([]byte(m["history"]), &hist); err != nil || len(hist) != epoch {
		return errors.Errorf("restoring %s: its metrics history does not cover its %d epochs", path, epoch)
	}
	gr, err1 := base64.StdEncoding.DecodeString(m["graph_rng"])
	sr, err2 := base64.StdEncoding.DecodeString(m["shuffle_rng"])
	if err1 != nil || err2 != nil {
		return errors.Errorf("restoring %s: bad RNG state", path)
	}
	// Optimizer state: every tensor under optimizer/.
	state := map[string][]float64{}
	names := st.Names()
	sort.Strings(names)
	weights := map[string]safetensors.TensorView{}
	for _, n := range names {
		v, _ := st.Tensor(n)
		if len(n) > len("optimizer/") && n[:len("optimizer/")] == "optimizer/" {
			if v.DType() != safetensors.F64 || len(v.Shape()) != 1 {
				return errors.Errorf("restoring %s: optimizer tensor %q must be a float64 vector", path, n)
			}
			data := v.Data()
			vals := make([]float64, len(data)/8)
			for i := range vals {
				vals[i] = math.Float64frombits(binary.LittleEndian.Uint64(data[8*i:]))
			}
			state[n[len("optimizer/"):]] = vals
			continue
		}
		weights[n] = v
	}
	for _, p := range t.g.Params() {
		for _, slot := range []string{"m", "v", "momentum", "square_avg", "sum"} {
			if vals, ok := state[slot+"/"+p.Name]; ok && len(vals) != p.Size() {
				return errors.Errorf("restoring %s: optimizer tensor %q has %d values, parameter %s has %d", path, "optimizer/"+slot+"/"+p.Name, len(vals), p.Name, p.Size())
			}
		}
	}
	if len(sr) == 0 {
		return errors.Errorf("restoring %s: no shuffle RNG state", path)
	}
	if err := loadViews(path, weights, t.g); err != nil {
		return err
	}
	if err := t.opt.SetState(state); err != nil {
		return errors.Wrapf(err, "restoring %s", path)
	}
	if err := t.g.SetRNGState(gr); err != nil {
		return err
	}
	if err := t.shuffle.UnmarshalBinary(sr); err != nil {
		return errors.Wrapf(err, "restoring %s: shuffle RNG", path)
	}
	t.opt.SetLearningRate(lr)
	*t.epoch = epoch
	*t.hist = hist
	return nil
}
