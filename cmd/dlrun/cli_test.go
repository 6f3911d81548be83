package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/datasets"
)

// tinyCNN is the experiment the experiments package's tests run: one
// epoch of the cnn on fashion-mnist, seed 3.
var tinyCNN = filepath.Join("..", "..", "experiments", "testdata", "tiny-cnn.yaml")

// smallFashion writes a folder of IDX files holding the first perClass
// training and perClass/3 test images of each class of the bundled
// Fashion-MNIST subset, and returns it. The folder's name makes its class
// names Fashion-MNIST's. Training on it takes a tenth of the bundled
// data's time for perClass 60.
func smallFashion(t *testing.T, perClass int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "fashion-small")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	read := func(n string) *datasets.IDX {
		b, err := datasets.BundledFile("fashion-mnist/" + n + ".gz")
		if err != nil {
			t.Fatal(err)
		}
		x, err := datasets.ReadIDX(bytes.NewReader(b), n)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	for _, split := range []struct {
		prefix string
		n      int
	}{{"train", perClass}, {"t10k", max(1, perClass/3)}} {
		img, lab, err := datasets.Subset(read(split.prefix+"-images-idx3-ubyte"), read(split.prefix+"-labels-idx1-ubyte"), split.n)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, split.prefix+"-images-idx3-ubyte"), img.Encode(), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, split.prefix+"-labels-idx1-ubyte"), lab.Encode(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// readJSON decodes the JSON file at path into a map.
func readJSON(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

// wantFields checks that m holds each of want's keys with want's value
// (numbers compared as JSON decodes them, float64).
func wantFields(t *testing.T, name string, m map[string]any, want map[string]any) {
	t.Helper()
	for k, v := range want {
		if fmt.Sprint(m[k]) != fmt.Sprint(v) {
			t.Errorf("%s: %s is %v, want %v", name, k, m[k], v)
		}
	}
}

// oneLineError checks that err is a one-line error containing each of want.
func oneLineError(t *testing.T, what string, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error", what)
		return
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") {
		t.Errorf("%s: error of several lines:\n%s", what, msg)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("%s: error %q lacks %q", what, msg, w)
		}
	}
}

// learningRates returns the learning_rate column of a run's metrics.csv,
// checking its header first.
func learningRates(t *testing.T, run string) []float64 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(run, "metrics.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 || rows[0][0] != "epoch" || rows[0][len(rows[0])-1] != "seconds" {
		t.Fatalf("metrics.csv has no header of epoch ... seconds:\n%s", b)
	}
	col := slices.Index(rows[0], "learning_rate")
	var lrs []float64
	for _, r := range rows[1:] {
		v, err := strconv.ParseFloat(r[col], 64)
		if err != nil {
			t.Fatalf("metrics.csv: learning_rate %q: %v", r[col], err)
		}
		lrs = append(lrs, v)
	}
	return lrs
}

// `dlrun run` and `dlrun train` declare their run flags once: a value one
// refuses the other refuses with the same message, and every flag of train
// overrides an experiment file.
func TestRunSharesTrainFlags(t *testing.T) {
	for _, flag := range [][]string{{"--epochs", "0"}, {"--lr", "0"}, {"--batch-size", "0"}, {"--seed", "0"}, {"--patience", "-1"}, {"--weight-decay", "-1"}} {
		t.Run(strings.Join(flag, " "), func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			_, trainErr := dlrun(t, append([]string{"train", "--out", out}, flag...)...)
			_, runErr := dlrun(t, append([]string{"run", tinyCNN, "--out", out}, flag...)...)
			oneLineError(t, "train", trainErr, strings.Join(flag, " "))
			oneLineError(t, "run", runErr, strings.Join(flag, " "))
			if trainErr != nil && runErr != nil && trainErr.Error() != runErr.Error() {
				t.Errorf("train refuses %v with %q, run with %q", flag, trainErr, runErr)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("a refused run created %s", out)
			}
		})
	}

	data := smallFashion(t, 30)
	out := filepath.Join(t.TempDir(), "exp")
	if _, err := dlrun(t, "run", tinyCNN, "--data", data, "--seed", "7", "--patience", "1", "--lr-schedule", "cosine",
		"--weight-decay", "0.0001", "--clip-value", "5", "--epochs", "1", "--out", out); err != nil {
		t.Fatal(err)
	}
	cfg := readJSON(t, filepath.Join(out, "seed-7", "config.json"))
	wantFields(t, "seed-7/config.json", cfg, map[string]any{
		"seed": 7, "patience": 1, "lr_schedule": "cosine", "weight_decay": 0.0001, "clip_value": 5, "epochs": 1,
		// The experiment file's own values stay.
		"model": "cnn", "batch_size": 64, "learning_rate": 0.001, "optimizer": "adam", "loss": "cce",
		"dataset": data, "train_examples": 300, "test_examples": 100,
	})
	if _, err := os.Stat(filepath.Join(out, "seed-3")); err == nil {
		t.Error("--seed 7 also ran the file's seed 3")
	}
	sum := readJSON(t, filepath.Join(out, "seed-7", "summary.json"))
	wantFields(t, "seed-7/summary.json", sum, map[string]any{"task": "classify", "epochs": 1, "best_epoch": 1, "seed": 7})
}

// A flag that does not apply to the model is refused, by train and by run
// alike, with one line that names the setting and says why.
func TestInapplicableFlagsRefused(t *testing.T) {
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"--model", "mlp", "--cell", "gru"}, []string{`cell "gru" does not apply to model mlp`, "rnn and charrnn"}},
		{[]string{"--model", "cnn", "--seq-len", "10"}, []string{"seq_len (--seq-len) 10 does not apply to model cnn", "classify"}},
		{[]string{"--model", "mlp", "--lr-step", "2"}, []string{"lr_step_every (--lr-step)", "step schedule only"}},
		{[]string{"--model", "mlp", "--lr-gamma", "0.5", "--lr-schedule", "cosine"}, []string{"lr_gamma", "step schedule only", `"cosine"`}},
		{[]string{"--model", "charrnn", "--loss", "mse"}, []string{"loss mse does not apply to model charrnn", "cce"}},
		{[]string{"--model", "charrnn", "--task", "classify"}, []string{"task classify does not apply to model charrnn"}},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			_, trainErr := dlrun(t, append([]string{"train", "--out", out}, c.args...)...)
			oneLineError(t, "train", trainErr, c.want...)
			_, runErr := dlrun(t, append([]string{"run", tinyCNN, "--out", out}, c.args...)...)
			oneLineError(t, "run", runErr, append([]string{tinyCNN}, c.want...)...)
			if trainErr != nil && runErr != nil && !strings.HasSuffix(runErr.Error(), trainErr.Error()) {
				t.Errorf("run's error %q does not end with train's %q", runErr, trainErr)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("a refused run created %s", out)
			}
		})
	}
	// With the setting it needs, --lr-step is taken.
	if _, err := dlrun(t, "train", "--model", "xor", "--epochs", "1", "--lr-schedule", "step", "--lr-step", "2", "--out", filepath.Join(t.TempDir(), "x")); err != nil {
		t.Errorf("--lr-schedule step --lr-step 2: %v", err)
	}
}

const smallCNN = `name: small-cnn
layers:
  - conv2d: {filters: 16, kernel: 5}
  - relu: {}
  - max_pool2d: {size: 2}
  - flatten: {}
  - dense: {units: 64}
  - relu: {}
  - dropout: {rate: 0.2}
  - dense: {units: 10}
`

// A model file trains without Go code, and its run folder evaluates,
// predicts, summarises and resumes after the file is gone: model.json
// holds the architecture.
func TestModelFileTrainEvalPredictSummary(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "small-cnn.yaml")
	if err := os.WriteFile(file, []byte(smallCNN), 0o644); err != nil {
		t.Fatal(err)
	}
	table, err := dlrun(t, "summary", "--model", file)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"small-cnn, input [1 28 28] per example", "Total params: 148586",
		"conv2d1", "relu1", "maxpool2d1", "flatten1", "dense1", "relu2", "dropout1", "dense2"} {
		if !strings.Contains(table, want) {
			t.Errorf("summary --model %s lacks %q:\n%s", file, want, table)
		}
	}
	// The same model as JSON.
	jsonFile := filepath.Join(dir, "small-cnn.json")
	os.WriteFile(jsonFile, []byte(`{"name": "small-cnn", "layers": [{"conv2d": {"filters": 16, "kernel": 5}}, {"relu": {}},
		{"max_pool2d": {"size": 2}}, {"flatten": {}}, {"dense": {"units": 64}}, {"relu": {}}, {"dropout": {"rate": 0.2}}, {"dense": {"units": 10}}]}`), 0o644)
	if s, err := dlrun(t, "summary", "--model", jsonFile); err != nil || s != table {
		t.Errorf("summary of the JSON model file: %v\n%s\nwant\n%s", err, s, table)
	}

	data := smallFashion(t, 60)
	run := filepath.Join(dir, "run")
	if _, err := dlrun(t, "train", "--model", file, "--data", data, "--epochs", "1", "--out", run); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"config.json", "model.json", "metrics.csv", "curves.png", "model.safetensors", "best.safetensors", "checkpoint.safetensors", "summary.json"} {
		if _, err := os.Stat(filepath.Join(run, f)); err != nil {
			t.Errorf("run folder lacks %s", f)
		}
	}
	sum := readJSON(t, filepath.Join(run, "summary.json"))
	wantFields(t, "summary.json", sum, map[string]any{"task": "classify", "epochs": 1, "best_epoch": 1, "params": 148586, "dataset": data})
	if os.Remove(file) != nil {
		t.Fatal("removing the model file")
	}

	if s, err := dlrun(t, "summary", "--run", run); err != nil || s != table {
		t.Errorf("summary --run: %v\n%s\nwant\n%s", err, s, table)
	}
	out, err := dlrun(t, "eval", "--run", run, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Loss     float64 `json:"loss"`
		Accuracy float64 `json:"accuracy"`
		Classes  []struct {
			Name    string `json:"name"`
			Support int    `json:"support"`
		} `json:"classes"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("eval --json: %v\n%s", err, out)
	}
	if rep.Loss != sum["test_loss"] || rep.Accuracy != sum["test_accuracy"] {
		t.Errorf("eval: loss %v accuracy %v; training ended with %v %v", rep.Loss, rep.Accuracy, sum["test_loss"], sum["test_accuracy"])
	}
	if len(rep.Classes) != 10 || rep.Classes[9].Name != "Ankle boot" || rep.Classes[9].Support != 20 {
		t.Errorf("eval classes: %+v", rep.Classes)
	}

	// Predict a test image written as a PNG.
	d, err := datasets.FashionMNIST()
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, 784)
	d.Test.Example(0, x)
	img := image.NewGray(image.Rect(0, 0, 28, 28))
	for i, v := range x {
		img.Pix[i] = uint8(v*255 + 0.5)
	}
	pngFile := filepath.Join(dir, "first.png")
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(pngFile, buf.Bytes(), 0o644)
	pred, err := dlrun(t, "predict", "--run", run, "--top", "3", pngFile)
	if err != nil {
		t.Fatal(err)
	}
	known := false
	for _, c := range datasets.FashionMNISTClasses {
		known = known || strings.HasPrefix(pred, pngFile+": "+c+" ")
	}
	if !known || strings.Count(pred, ",") != 2 || strings.Count(pred, "\n") != 1 {
		t.Errorf("predict: %q", pred)
	}

	// Resuming needs the model file no more than evaluating does.
	if _, err := dlrun(t, "train", "--resume", run, "--epochs", "2"); err != nil {
		t.Fatalf("resume without the model file: %v", err)
	}
	if n := len(learningRates(t, run)); n != 2 {
		t.Errorf("metrics.csv has %d epochs after resuming to 2", n)
	}
}

// A model file that cannot be built gives one line naming the file or
// the model, the layer's position and kind, and what is wrong, from
// summary and from train.
func TestBadModelFiles(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name, body string
		want       []string
	}{
		{"unknown-kind", "name: x\nlayers:\n  - conv2d: {filters: 4, kernel: 3}\n  - blur: {}\n  - flatten: {}\n  - dense: {units: 10}\n",
			[]string{"unknown-kind.yaml", "layer 2", `unknown layer kind "blur"`}},
		{"unknown-setting", "name: x\nlayers:\n  - conv2d: {filters: 4, kernel: 3, strides: 2}\n  - flatten: {}\n  - dense: {units: 10}\n",
			[]string{"unknown-setting.yaml", "layer 1 (conv2d)", `unknown setting "strides"`}},
		{"dense-on-images", "name: x\nlayers:\n  - dense: {units: 64}\n  - relu: {}\n  - flatten: {}\n  - dense: {units: 10}\n",
			[]string{"layer 1", "(Dense)", "input shape [1 28 28]", "Flatten"}},
		{"pool-too-big", "name: x\nlayers:\n  - conv2d: {filters: 4, kernel: 3}\n  - max_pool2d: {size: 40}\n  - flatten: {}\n  - dense: {units: 10}\n",
			[]string{"layer 2", "(MaxPool2D)", "40x40", "does not fit"}},
		{"not-a-model", "- dense: {units: 10}\n", []string{"not-a-model.yaml", "want a map with name and layers"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			file := filepath.Join(dir, c.name+".yaml")
			os.WriteFile(file, []byte(c.body), 0o644)
			_, err := dlrun(t, "summary", "--model", file)
			oneLineError(t, "summary", err, c.want...)
			_, err = dlrun(t, "train", "--model", file, "--epochs", "1", "--out", filepath.Join(dir, c.name))
			oneLineError(t, "train", err, c.want...)
			if _, err := os.Stat(filepath.Join(dir, c.name, "config.json")); err == nil {
				t.Error("the refused model left a config.json")
			}
		})
	}
	// A model whose outputs do not match the dataset's classes.
	file := filepath.Join(dir, "seven.yaml")
	os.WriteFile(file, []byte("name: seven\nlayers:\n  - flatten: {}\n  - dense: {units: 7}\n"), 0o644)
	_, err := dlrun(t, "train", "--model", file, "--epochs", "1", "--out", filepath.Join(dir, "seven"))
	oneLineError(t, "train", err, "outputs [7]", "want [10]")
	_, err = dlrun(t, "train", "--model", filepath.Join(dir, "absent.yaml"), "--epochs", "1", "--out", filepath.Join(dir, "absent"))
	oneLineError(t, "train", err, "absent.yaml")
}

// metrics.csv records the learning rate of each epoch, as scheduled.
func TestMetricsLearningRateColumn(t *testing.T) {
	run := filepath.Join(t.TempDir(), "xor")
	if _, err := dlrun(t, "train", "--model", "xor", "--epochs", "3", "--lr-schedule", "step", "--lr-step", "1", "--lr-gamma", "0.5", "--out", run); err != nil {
		t.Fatal(err)
	}
	if lrs := learningRates(t, run); fmt.Sprint(lrs) != "[0.05 0.025 0.0125]" {
		t.Errorf("step schedule halving each epoch from 0.05: learning rates %v", lrs)
	}
	cfg := readJSON(t, filepath.Join(run, "config.json"))
	wantFields(t, "config.json", cfg, map[string]any{"lr_schedule": "step", "lr_step_every": 1, "lr_gamma": 0.5, "learning_rate": 0.05})

	// A constant rate is recorded too.
	run = filepath.Join(t.TempDir(), "const")
	if _, err := dlrun(t, "train", "--model", "xor", "--epochs", "2", "--out", run); err != nil {
		t.Fatal(err)
	}
	if lrs := learningRates(t, run); fmt.Sprint(lrs) != "[0.05 0.05]" {
		t.Errorf("constant schedule: learning rates %v", lrs)
	}
}

// Early stopping and learning-rate schedules apply to next-token
// prediction as to classification; a loss other than cce does not.
func TestCharRNNPatienceAndSchedule(t *testing.T) {
	text := strings.Repeat("the cat sat on the mat. the dog ate the hat. ", 80)
	file := filepath.Join(t.TempDir(), "tiny.txt")
	os.WriteFile(file, []byte(text), 0o644)
	run := filepath.Join(t.TempDir(), "run")
	_, err := dlrun(t, "train", "--model", "charrnn", "--data", file, "--loss", "mse", "--epochs", "1", "--out", run)
	oneLineError(t, "--loss mse", err, "loss mse does not apply to model charrnn")
	if _, err := os.Stat(run); err == nil {
		t.Errorf("the refused run created %s", run)
	}

	if _, err := dlrun(t, "train", "--model", "charrnn", "--data", file, "--epochs", "2", "--batch", "4", "--seq-len", "20",
		"--patience", "1", "--lr-schedule", "cosine", "--out", run); err != nil {
		t.Fatal(err)
	}
	cfg := readJSON(t, filepath.Join(run, "config.json"))
	wantFields(t, "config.json", cfg, map[string]any{"task": "next-token", "patience": 1, "lr_schedule": "cosine", "epochs": 2,
		"batch_size": 4, "seq_len": 20, "learning_rate": 0.002, "loss": "cce"})
	lrs := learningRates(t, run)
	// Cosine over two epochs: the base rate, then half of it (unless
	// early stopping ended the run after one epoch, which patience 1
	// cannot do before epoch 2).
	if fmt.Sprint(lrs) != "[0.002 0.001]" {
		t.Errorf("cosine schedule over 2 epochs from 0.002: learning rates %v", lrs)
	}
	sum := readJSON(t, filepath.Join(run, "summary.json"))
	wantFields(t, "summary.json", sum, map[string]any{"task": "next-token", "epochs": 2})
	if be, ok := sum["best_epoch"].(float64); !ok || be < 1 || be > 2 {
		t.Errorf("summary.json: best_epoch %v", sum["best_epoch"])
	}
	if _, ok := sum["test_bits_per_char"]; !ok {
		t.Errorf("summary.json lacks test_bits_per_char: %v", sum)
	}
	if _, err := os.Stat(filepath.Join(run, "model.json")); err != nil {
		t.Error("run folder lacks model.json")
	}
}
