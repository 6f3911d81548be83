package train

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/pkg/errors"
)

// A restored trainer holds exactly the state of the one that saved the
// checkpoint: every parameter, buffer, optimizer entry, the learning
// rate, epoch, history and both RNGs.
func TestRestoreRestoresEverything(t *testing.T) {
	src := trainedTiny(t, "")
	path := filepath.Join(t.TempDir(), "ck.safetensors")
	if err := src.SaveCheckpoint(path); err != nil {
		t.Fatal(err)
	}
	dst := tinyTrainer(t, "")
	if d := sameState(snapshot(t, src), snapshot(t, dst)); d == "" {
		t.Fatal("a trained and an untrained trainer look the same: the comparison sees nothing")
	}
	if err := dst.Restore(path); err != nil {
		t.Fatal(err)
	}
	if d := sameState(snapshot(t, src), snapshot(t, dst)); d != "" {
		t.Fatalf("restored trainer differs in %s", d)
	}
}

// Every way a checkpoint can be wrong is an error, on one line, naming the
// file; and the trainer is left exactly as it was: every parameter,
// buffer, optimizer entry, learning rate, epoch, history and RNG.
func TestRestoreFailsWithoutChangingAnything(t *testing.T) {
	dir := t.TempDir()
	saved := 0
	save := func(tr *Trainer) []byte {
		saved++
		p := filepath.Join(dir, fmt.Sprintf("src%d.safetensors", saved))
		if err := tr.SaveCheckpoint(p); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	c := save(trainedTiny(t, ""))
	sgd := save(trainedTiny(t, "sgd"))
	wp := filepath.Join(dir, "weights.safetensors")
	if err := SaveWeights(wp, trainedTiny(t, "").g); err != nil {
		t.Fatal(err)
	}
	w, _ := os.ReadFile(wp)
	f64 := save(trainedTiny(t, "", "float64"))
	// The trainer that fails to restore differs from the checkpoint in
	// every part of its state, so that a part restored before the failure
	// shows.
	other := otherTiny(t)
	before := snapshot(t, other)
	if err := other.Restore(filepath.Join(dir, "src1.safetensors")); err != nil {
		t.Fatal(err)
	}
	diff := strings.Join(diffState(before, snapshot(t, other)), ", ")
	for _, part := range []string{"parameter dense1.weight", "parameter dense2.bias", "buffer batchnorm1.running_mean", "buffer batchnorm1.num_batches_tracked",
		"optimizer state", "learning rate", "epoch", "history", "graph RNG", "shuffle RNG"} {
		if !strings.Contains(diff, part) {
			t.Fatalf("restoring changes only %s, not %s: the test cannot see that part change", diff, part)
		}
	}
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "not a valid safetensors file"},
		{"truncated", c[:len(c)-3], "not a valid safetensors file"},
		{"header length lying", append(binary.LittleEndian.AppendUint64(nil, uint64(len(c))), c[8:]...), "not a valid safetensors file: header of"},
		{"weights, not a checkpoint", w, "not a dlrun checkpoint"},
		{"other optimizer", sgd, "it holds sgd state, the run uses adam"},
		{"float64 into float32", f64, `tensor "dense1.weight" is F64, the model wants F32`},
		{"unknown tensor", addTensor(t, c, "optimizer/../../x", "F64", []int{1}, make([]byte, 8)), `"optimizer/../../x" is not a parameter, buffer or optimizer state`},
		{"unknown weight", addTensor(t, c, "dense9.weight", "F32", []int{1}, make([]byte, 4)), `"dense9.weight" is not a parameter`},
		{"unknown optimizer slot", addTensor(t, c, "optimizer/momentum/dense1.bias", "F64", []int{3}, make([]byte, 24)), `unknown entry "momentum/dense1.bias"`},
		{"missing weight", editHeader(t, c, func(h map[string]any) { delete(h, "batchnorm1.running_var") }), "not a valid safetensors file"},
		{"missing step", dropTensor(t, c, "optimizer/step"), `tensor "optimizer/step" is missing`},
		{"missing weight, data too", dropTensor(t, c, "batchnorm1.running_var"), `tensor "batchnorm1.running_var" is missing`},
		{"wrong shape", reshape(t, c, "dense2.bias", []int{1, 2}), `"dense2.bias" has shape [1 2], the model wants [2]`},
		{"optimizer state of the wrong length", reshape(t, c, "optimizer/m/dense2.weight", []int{3, 2}), `"optimizer/m/dense2.weight" has shape [3 2], the model wants [6]`},
		{"optimizer state in float32", redtype(t, c, "optimizer/v/dense2.bias", "F32", []int{4}), `"optimizer/v/dense2.bias" is F32, the model wants F64`},
		{"negative learning rate", editMeta(t, c, "learning_rate", "-0.001"), `bad learning rate "-0.001"`},
		{"zero learning rate", editMeta(t, c, "learning_rate", "0"), `bad learning rate "0"`},
		{"NaN learning rate", editMeta(t, c, "learning_rate", "NaN"), `bad learning rate "NaN"`},
		{"infinite learning rate", editMeta(t, c, "learning_rate", "+Inf"), `bad learning rate "+Inf"`},
		{"negative epoch", editMeta(t, c, "epoch", "-1"), `bad epoch "-1"`},
		{"history longer than the epochs", editMeta(t, c, "epoch", "0"), "history holds 1 epochs, more than the 0"},
		{"history not JSON", editMeta(t, c, "history", "[{"), "metrics history is not a JSON list"},
		{"history past the epochs", editMeta(t, c, "history", `[{"epoch": 2}]`), "entry 1 is for epoch 2"},
		{"history out of order", editMeta(t, editMeta(t, c, "epoch", "2"), "history", `[{"epoch": 1}, {"epoch": 1}]`), "entry 2 is for epoch 1"},
		{"bad graph RNG", editMeta(t, c, "graph_rng", "AAAA"), "bad graph_rng"},
		{"graph RNG not base64", editMeta(t, c, "graph_rng", "!!"), "bad graph_rng"},
		{"no shuffle RNG", editHeader(t, c, func(h map[string]any) { delete(h["__metadata__"].(map[string]any), "shuffle_rng") }), "bad shuffle_rng"},
		{"NaN moment", editValue(t, c, "optimizer/m/dense1.weight", math.NaN()), `"optimizer/m/dense1.weight": value 0 is NaN`},
		{"infinite moment", editValue(t, c, "optimizer/v/dense2.bias", math.Inf(1)), `"optimizer/v/dense2.bias": value 0 is +Inf`},
		{"negative second moment", editValue(t, c, "optimizer/v/dense1.weight", -1e-6), `"optimizer/v/dense1.weight": value 0 is -1e-06: a running mean of squared gradients is never negative`},
		{"NaN weight", editValue32(t, c, "dense2.bias", float32(math.NaN())), `tensor "dense2.bias": value 0 is NaN: weights must be finite`},
		{"infinite buffer", editValue32(t, c, "batchnorm1.running_var", float32(math.Inf(-1))), `tensor "batchnorm1.running_var": value 0 is -Inf`},
		{"fractional step", editValue(t, c, "optimizer/step", 1.5), "1.5 is not a step count"},
		{"negative step", editValue(t, c, "optimizer/step", -4), "-4 is not a step count"},
		{"huge step", editValue(t, c, "optimizer/step", 1e300), "1e+300 is not a step count"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "ck.safetensors")
			if err := os.WriteFile(p, tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			checkRestoreFails(t, otherTiny(t), p, tc.want)
		})
	}
	t.Run("missing file", func(t *testing.T) {
		checkRestoreFails(t, otherTiny(t), filepath.Join(dir, "nope"), "no such file")
	})
	if runtime.GOOS != "windows" {
		t.Run("FIFO", func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "fifo")
			if err := syscall.Mkfifo(p, 0o644); err != nil {
				t.Skip(err)
			}
			checkRestoreFails(t, otherTiny(t), p, "not a regular file")
		})
	}
}

// checkRestoreFails restores path into tr and checks that it fails with
// an error naming path and holding want, and that tr is unchanged.
func checkRestoreFails(t *testing.T, tr *Trainer, path, want string) {
	t.Helper()
	before := snapshot(t, tr)
	err := tr.Restore(path)
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), path) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("error %v, want one line naming %s and containing %q", err, path, want)
	}
	if d := sameState(before, snapshot(t, tr)); d != "" {
		t.Fatalf("a failed restore changed %s (%v)", d, err)
	}
}

// failingOptimizer is an Adam whose SetState always fails, to reach the
// last step of apply that can fail.
type failingOptimizer struct{ *Adam }

func (failingOptimizer) SetState(map[string][]float64) error { return errors.New("refused") }

// A failure in the last step of applying a checkpoint undoes the steps
// before it: the graph's and the shuffling RNGs are put back.
func TestRestoreUndoesAppliedStepsOnFailure(t *testing.T) {
	src := trainedTiny(t, "")
	path := filepath.Join(t.TempDir(), "ck.safetensors")
	if err := src.SaveCheckpoint(path); err != nil {
		t.Fatal(err)
	}
	tr := otherTiny(t)
	before := snapshot(t, tr)
	r := tr.resumable()
	r.opt = failingOptimizer{tr.parts.opt.(*Adam)}
	if err := restoreCheckpoint(path, r); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("restore with a failing optimizer: %v", err)
	}
	if d := sameState(before, snapshot(t, tr)); d != "" {
		t.Fatalf("a failed restore changed %s", d)
	}
}

// A checkpoint saved after TrainEpoch alone (no history entry for its
// epoch) restores, and so does one saved before any training.
func TestRestoreShortHistory(t *testing.T) {
	for _, epochs := range []int{0, 1} {
		src := tinyTrainer(t, "")
		for i := 0; i < epochs; i++ {
			if _, _, err := src.TrainEpoch(tinyData{}); err != nil {
				t.Fatal(err)
			}
		}
		path := filepath.Join(t.TempDir(), "ck.safetensors")
		if err := src.SaveCheckpoint(path); err != nil {
			t.Fatal(err)
		}
		dst := tinyTrainer(t, "")
		if err := dst.Restore(path); err != nil {
			t.Fatalf("after %d epochs: %v", epochs, err)
		}
		if d := sameState(snapshot(t, src), snapshot(t, dst)); d != "" {
			t.Fatalf("after %d epochs: restored trainer differs in %s", epochs, d)
		}
	}
}

// dropTensor returns b without tensor name, data included: the others
// move up.
func dropTensor(t testing.TB, b []byte, name string) []byte {
	h, data := stHeader(t, b)
	off := h[name].(map[string]any)["data_offsets"].([]any)
	lo, hi := int(off[0].(float64)), int(off[1].(float64))
	delete(h, name)
	for k, v := range h {
		if k == "__metadata__" {
			continue
		}
		o := v.(map[string]any)["data_offsets"].([]any)
		for i := range o {
			if x := int(o[i].(float64)); x >= hi {
				o[i] = float64(x - (hi - lo))
			}
		}
	}
	return stFileBytes(t, h, append(append([]byte(nil), data[:lo]...), data[hi:]...))
}

// reshape returns b with tensor name declared of shape (of the same size).
func reshape(t testing.TB, b []byte, name string, shape []int) []byte {
	return editHeader(t, b, func(h map[string]any) { h[name].(map[string]any)["shape"] = shape })
}

// redtype returns b with tensor name declared of dtype and shape (of the
// same bytes).
func redtype(t testing.TB, b []byte, name, dtype string, shape []int) []byte {
	return editHeader(t, b, func(h map[string]any) {
		h[name].(map[string]any)["dtype"] = dtype
		h[name].(map[string]any)["shape"] = shape
	})
}

// ReadCheckpointInfo reads a checkpoint's epoch, optimizer, rate and
// history from its header alone, and refuses what Restore refuses of them.
func TestReadCheckpointInfo(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "ck.safetensors")
	if err := trainedTiny(t, "").SaveCheckpoint(p); err != nil {
		t.Fatal(err)
	}
	info, err := ReadCheckpointInfo(p)
	if err != nil {
		t.Fatal(err)
	}
	if info.Epoch != 1 || len(info.History) != 1 || info.Optimizer != "adam" || !(info.LearningRate > 0) {
		t.Fatalf("read %+v", info)
	}
	c, _ := os.ReadFile(p)
	for _, bad := range []struct {
		data []byte
		want string
	}{
		{editMeta(t, c, "epoch", "x"), `bad epoch "x"`},
		{editMeta(t, c, "history", `[{"epoch": 3}]`), "entry 1 is for epoch 3"},
		{c[:20], "not a valid safetensors file"},
	} {
		q := filepath.Join(dir, "bad.safetensors")
		os.WriteFile(q, bad.data, 0o644)
		if _, err := ReadCheckpointInfo(q); err == nil || !strings.Contains(err.Error(), bad.want) || !strings.Contains(err.Error(), q) {
			t.Errorf("error %v, want one naming %s and saying %s", err, q, bad.want)
		}
	}
}
