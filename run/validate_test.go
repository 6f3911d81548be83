package run_test

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/datasets"
	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/runner"
	"github.com/dlrun/dlrun/train"
	"github.com/pkg/errors"
)

// trainedXOR trains xor for two epochs into a new folder and returns it.
func trainedXOR(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "xor")
	cfg := run.Config{Model: "xor", Config: train.Config{Epochs: 2}}
	if _, err := runner.Train(cfg, runner.Options{Out: dir}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// editJSON rewrites the JSON file name of dir through edit.
func editJSON(t *testing.T, dir, name string, edit func(m map[string]any)) {
	t.Helper()
	p := filepath.Join(dir, name)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	if b, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// editTensors rewrites the safetensors file name of dir: edit changes its
// header (the tensors' entries and __metadata__) and data in place.
func editTensors(t *testing.T, dir, name string, edit func(h map[string]any, data []byte)) {
	t.Helper()
	p := filepath.Join(dir, name)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(b)
	var h map[string]any
	if err := json.Unmarshal(b[8:8+n], &h); err != nil {
		t.Fatal(err)
	}
	data := append([]byte(nil), b[8+n:]...)
	edit(h, data)
	hb, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	out := append(binary.LittleEndian.AppendUint64(nil, uint64(len(hb))), hb...)
	if err := os.WriteFile(p, append(out, data...), 0o644); err != nil {
		t.Fatal(err)
	}
}

// offset is the first byte of tensor name's data in header h.
func offset(h map[string]any, name string) int {
	return int(h[name].(map[string]any)["data_offsets"].([]any)[0].(float64))
}

// Every way a run folder can say what it does not hold is found by the one
// validation, in one line naming the file and the field, before any
// command uses the run: Check, Open (eval, predict, serve, export) and
// Resume alike.
func TestCheckFindsWhatDoesNotAddUp(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(t *testing.T, dir string)
		want string
	}{
		{"history shorter than the epoch", func(t *testing.T, dir string) {
			editTensors(t, dir, "checkpoint.safetensors", func(h map[string]any, _ []byte) {
				h["__metadata__"].(map[string]any)["epoch"] = "3"
			})
		}, "checkpoint.safetensors: epoch: 3, but its history holds 2 epochs"},
		{"summary's epochs", func(t *testing.T, dir string) {
			editJSON(t, dir, "summary.json", func(m map[string]any) { m["epochs"] = 5 })
		}, "summary.json: epochs: 5, but checkpoint.safetensors holds 2 epochs"},
		{"config's epochs", func(t *testing.T, dir string) {
			editJSON(t, dir, "config.json", func(m map[string]any) { m["epochs"] = 1 })
		}, "config.json: epochs: 1, but checkpoint.safetensors holds 2 epochs"},
		{"metrics rows", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "metrics.csv"), []byte("epoch,train_loss\n"), 0o644)
		}, "metrics.csv: 0 rows, but checkpoint.safetensors holds 2 epochs"},
		{"negative second moment", func(t *testing.T, dir string) {
			editTensors(t, dir, "checkpoint.safetensors", func(h map[string]any, data []byte) {
				binary.LittleEndian.PutUint64(data[offset(h, "optimizer/v/dense1.weight"):], math.Float64bits(-0.5))
			})
		}, `checkpoint.safetensors: tensor "optimizer/v/dense1.weight": value 0 is -0.5: a running mean of squared gradients is never negative`},
		{"NaN weight", func(t *testing.T, dir string) {
			editTensors(t, dir, "model.safetensors", func(h map[string]any, data []byte) {
				binary.LittleEndian.PutUint32(data[offset(h, "dense2.bias"):], math.Float32bits(float32(math.NaN())))
			})
		}, `model.safetensors: tensor "dense2.bias": value 0 is NaN`},
		{"class names against outputs", func(t *testing.T, dir string) {
			editJSON(t, dir, "config.json", func(m map[string]any) { m["classes"] = []string{"a", "b", "c"} })
		}, "config.json: classes: 3 class names, but model.json has 1 output"},
		{"input shape", func(t *testing.T, dir string) {
			editJSON(t, dir, "config.json", func(m map[string]any) { m["input_shape"] = []int{3} })
		}, "config.json: input_shape: [3], but model.json's is [2]"},
		{"model", func(t *testing.T, dir string) {
			editJSON(t, dir, "config.json", func(m map[string]any) { m["model"] = "mlp" })
		}, "config.json: model: mlp, but model.json describes xor"},
		{"task", func(t *testing.T, dir string) {
			editJSON(t, dir, "config.json", func(m map[string]any) { m["task"] = "next-token" })
		}, "config.json: task: next-token, but model.json's is classify"},
		{"duplicate key in config.json", func(t *testing.T, dir string) {
			b, _ := os.ReadFile(filepath.Join(dir, "config.json"))
			os.WriteFile(filepath.Join(dir, "config.json"), []byte(strings.Replace(string(b), "{", `{"seed": 2,`, 1)), 0o644)
		}, "config.json: seed: key set twice"},
		{"duplicate key in model.json", func(t *testing.T, dir string) {
			b, _ := os.ReadFile(filepath.Join(dir, "model.json"))
			os.WriteFile(filepath.Join(dir, "model.json"), []byte(strings.Replace(string(b), "{", `{"outputs": 1,`, 1)), 0o644)
		}, "model.json: outputs: key set twice"},
		{"loss against model.json", func(t *testing.T, dir string) {
			editJSON(t, dir, "config.json", func(m map[string]any) { m["loss"] = "mse" })
		}, "config.json: loss: mse, but model.json's is bce"},
		{"batch size against model.json", func(t *testing.T, dir string) {
			editJSON(t, dir, "config.json", func(m map[string]any) { m["batch_size"] = 7 })
		}, "config.json: batch_size: 7, but model.json's is 4"},
		{"dtype against model.json", func(t *testing.T, dir string) {
			editJSON(t, dir, "config.json", func(m map[string]any) { m["dtype"] = "float64" })
		}, "config.json: dtype: float64, but model.json's is float32"},
		{"learning rate against the checkpoint", func(t *testing.T, dir string) {
			editJSON(t, dir, "config.json", func(m map[string]any) { m["learning_rate"] = 5 })
		}, "config.json: learning_rate: 5, but checkpoint.safetensors records 0.05"},
		{"optimizer against the checkpoint", func(t *testing.T, dir string) {
			editJSON(t, dir, "config.json", func(m map[string]any) { m["optimizer"] = "sgd" })
		}, "config.json: optimizer: sgd, but checkpoint.safetensors records adam"},
		{"duplicate key in the checkpoint's metadata", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "checkpoint.safetensors")
			b, _ := os.ReadFile(p)
			n := binary.LittleEndian.Uint64(b)
			hdr := strings.Replace(string(b[8:8+n]), `"epoch":"2"`, `"epoch":"2","epoch":"1"`, 1)
			out := append(binary.LittleEndian.AppendUint64(nil, uint64(len(hdr))), hdr...)
			os.WriteFile(p, append(out, b[8+n:]...), 0o644)
		}, `checkpoint.safetensors: not a valid safetensors file: header: __metadata__ "epoch" given twice`},
		{"duplicate key in summary.json", func(t *testing.T, dir string) {
			b, _ := os.ReadFile(filepath.Join(dir, "summary.json"))
			os.WriteFile(filepath.Join(dir, "summary.json"), []byte(strings.Replace(string(b), "{", `{"epochs": 2,`, 1)), 0o644)
		}, "summary.json: epochs: key set twice"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := trainedXOR(t)
			c.edit(t, dir)
			for what, err := range map[string]error{
				"Check":  run.Check(dir),
				"Resume": resumeErr(dir),
			} {
				if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
					t.Errorf("%s: %v, want one line holding %q", what, err, c.want)
				}
			}
			r, err := run.Open(dir, false)
			if err == nil {
				r.Close()
				t.Errorf("Open: no error")
			}
		})
	}
}

// resumeErr is the error of resuming the run of dir to 3 epochs.
func resumeErr(dir string) error {
	_, err := runner.Resume(dir, runner.Options{Epochs: 3})
	return err
}

// A folder stopped before it wrote config.json and model.json holds
// nothing to resume, and says so; one stopped after config.json, before
// model.json, resumes from its first epoch.
func TestCheckOfARunStoppedAtItsStart(t *testing.T) {
	bare := t.TempDir()
	os.WriteFile(filepath.Join(bare, ".dlrun.lock"), nil, 0o644)
	want := "holds no config.json nor model.json: its run was stopped before it wrote them, and there is nothing to resume; train it again with dlrun train --out " + bare
	for what, err := range map[string]error{"Check": run.Check(bare), "Resume": resumeErr(bare)} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", what, err, want)
		}
	}
	if err := run.Check(t.TempDir()); err == nil || !strings.HasSuffix(err.Error(), "not a run folder") {
		t.Errorf("an empty folder: %v", err)
	}

	dir := trainedXOR(t)
	for _, name := range []string{"model.json", "checkpoint.safetensors", "model.safetensors", "best.safetensors", "metrics.csv", "curves.png", "summary.json"} {
		os.Remove(filepath.Join(dir, name))
	}
	if err := run.Check(dir); err == nil || !strings.Contains(err.Error(), "continue it with dlrun train --resume") {
		t.Errorf("a folder with config.json alone: %v", err)
	}
	s, err := runner.Resume(dir, runner.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Epochs != 2 || run.Check(dir) != nil {
		t.Errorf("resumed from the first epoch: %d epochs, check %v", s.Epochs, run.Check(dir))
	}
}

// A run trained on data given in memory records the data's name and
// SHA-256; where no reader knows the name, the commands that need the data
// ask for it with --data, and take data of the recorded SHA-256.
func TestRunOnDataInMemoryAsksForItByName(t *testing.T) {
	d := *datasets.XOR()
	d.Name = "table"
	dir := filepath.Join(t.TempDir(), "table")
	cfg := run.Config{Model: "xor", Config: train.Config{Epochs: 2}}
	if _, err := runner.Train(cfg, runner.Options{Out: dir, Data: run.FromDataset(&d)}); err != nil {
		t.Fatal(err)
	}
	r, err := run.Open(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	_, err = r.Evaluate(run.EvalOptions{})
	want := `--run ` + dir + `: its config.json names dataset "table", which cannot be loaded here`
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("evaluating on the recorded name: %v, want %q", err, want)
	}
	if _, err := r.Evaluate(run.EvalOptions{Data: "xor"}); err != nil {
		t.Errorf("evaluating on --data xor: %v", err)
	}
	if d, err := r.Data("xor"); err != nil || d.Test.Len() != 4 {
		t.Errorf("the data of --data xor: %v", err)
	}
	if _, err := runner.Resume(dir, runner.Options{Epochs: 3}); !errors.Is(err, runner.ErrNoDataset) {
		t.Errorf("resuming without --data: %v", err)
	}
	if s, err := runner.Resume(dir, runner.Options{Epochs: 3, Dataset: "xor"}); err != nil || s.Epochs != 3 {
		t.Errorf("resuming with --data xor: %v", err)
	}
}
