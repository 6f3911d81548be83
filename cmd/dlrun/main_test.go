package main

import (
	"bytes"
	"encoding/json"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dlrun/dlrun/datasets"
)

// dlrun runs the command line in-process and returns its output and error.
func dlrun(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := execute(root)
	return out.String(), err
}

// dlrun train writes a run whose summary holds the test accuracy and whose
// log ends with the last epoch's line. That xor reaches full accuracy for
// seeds 1 to 5 is runner's BenchmarkQualityXORSeeds1To5, and
// .ci/check-hashes pins those seeds' weights (experiments/xor.yaml).
func TestTrainXOR(t *testing.T) {
	for _, seed := range []string{"2"} {
		dir := filepath.Join(t.TempDir(), "run")
		out, err := dlrun(t, "train", "--model", "xor", "--seed", seed, "--out", dir)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out, "\nepoch 300/300 ") {
			t.Errorf("the log lacks the line of epoch 300 of 300:\n%s", out)
		}
		var s struct {
			TestAccuracy float64 `json:"test_accuracy"`
		}
		b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
		if err != nil || json.Unmarshal(b, &s) != nil {
			t.Fatal(err)
		}
		if s.TestAccuracy != 1 {
			t.Errorf("seed %s: test accuracy %g", seed, s.TestAccuracy)
		}
	}
}

func TestBadInputGivesOneLineErrors(t *testing.T) {
	empty := t.TempDir()
	truncated := t.TempDir()
	for _, n := range []string{"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"} {
		b, err := datasets.BundledFile("fashion-mnist/" + n)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(n, "t10k-images") {
			b = b[:len(b)/2]
		}
		if err := os.WriteFile(filepath.Join(truncated, n), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"train", "--data", filepath.Join(empty, "nope")}, "nope"},
		{[]string{"train", "--data", empty}, "neither format found"},
		{[]string{"train", "--data", truncated}, "t10k-images-idx3-ubyte.gz: truncated"},
		{[]string{"train", "--model", "resnet50"}, `unknown model "resnet50"`},
		{[]string{"train", "--loss", "hinge"}, `unknown loss "hinge"`},
		{[]string{"train", "--optimizer", "lbfgs"}, `unknown optimizer "lbfgs"`},
		{[]string{"train", "--dtype", "float16"}, `unknown dtype "float16"`},
		{[]string{"train", "--epochs", "0"}, "--epochs 0"},
		{[]string{"train", "--batch", "-3"}, "--batch-size -3"},
		{[]string{"train", "--lr", "-1"}, "--lr -1"},
		{[]string{"train", "--epochs", "two"}, "invalid argument"},
		{[]string{"train", "--model", "xor", "--loss", "cce", "--data", "fashion-mnist", "--epochs", "1", "--out", filepath.Join(empty, "x")}, "dense1 (Dense): input shape [1 28 28]"},
		{[]string{"frobnicate"}, "unknown command"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			_, err := dlrun(t, c.args...)
			if err == nil {
				t.Fatal("no error")
			}
			if msg := err.Error(); !strings.Contains(msg, c.want) || strings.Contains(msg, "\n") {
				t.Fatalf("error %q, want one line containing %q", msg, c.want)
			}
		})
	}
}

func TestModelsListsParamCounts(t *testing.T) {
	out, err := dlrun(t, "models")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"mlp", "235146", "xor", "33"} {
		if !strings.Contains(out, want) {
			t.Errorf("models output lacks %q:\n%s", want, out)
		}
	}
}

// --data accepts a CIFAR-10 binary folder; the cnn takes its input shape from it.
func TestTrainCNNOnCIFARFolder(t *testing.T) {
	dir := t.TempDir()
	rec := func(label byte) []byte {
		b := make([]byte, 3073)
		b[0] = label
		for i := 1; i < len(b); i++ {
			b[i] = byte(i * int(label+1))
		}
		return b
	}
	var train, test []byte
	for i := 0; i < 20; i++ {
		train = append(train, rec(byte(i%10))...)
	}
	test = append(rec(1), rec(2)...)
	os.WriteFile(filepath.Join(dir, "data_batch_1.bin"), train, 0o644)
	os.WriteFile(filepath.Join(dir, "test_batch.bin"), test, 0o644)
	out := filepath.Join(t.TempDir(), "run")
	if _, err := dlrun(t, "train", "--model", "cnn", "--data", dir, "--epochs", "1", "--batch", "8", "--out", out); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(out, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"params": 1204682`) || !strings.Contains(string(b), `"airplane"`) {
		t.Fatalf("config.json:\n%s", b)
	}
}

func TestCharRNNTrainAndGenerate(t *testing.T) {
	text := strings.Repeat("the cat sat on the mat. the dog ate the hat. ", 80)
	file := filepath.Join(t.TempDir(), "tiny.txt")
	os.WriteFile(file, []byte(text), 0o644)
	run := filepath.Join(t.TempDir(), "run")
	if _, err := dlrun(t, "train", "--model", "charrnn", "--data", file, "--epochs", "1", "--batch", "4", "--seq-len", "20", "--out", run); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"config.json", "model.json", "metrics.csv", "model.safetensors", "summary.json"} {
		if _, err := os.Stat(filepath.Join(run, f)); err != nil {
			t.Errorf("run folder lacks %s", f)
		}
	}
	b, _ := os.ReadFile(filepath.Join(run, "summary.json"))
	if !strings.Contains(string(b), "test_bits_per_char") {
		t.Errorf("summary.json:\n%s", b)
	}
	gen := func(seed string) string {
		out, err := dlrun(t, "generate", "--run", run, "--prime", "the ", "--length", "50", "--seed", seed)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	a, b2, c := gen("1"), gen("1"), gen("2")
	if a != b2 {
		t.Errorf("same seed, different text:\n%q\n%q", a, b2)
	}
	if a == c {
		t.Errorf("seeds 1 and 2 wrote the same text %q", a)
	}
	if !strings.HasPrefix(a, "the ") || len([]rune(a)) != 4+50+1 {
		t.Errorf("generated %q", a)
	}
	if _, err := dlrun(t, "generate", "--run", run, "--prime", "€"); err == nil || !strings.Contains(err.Error(), "vocabulary") {
		t.Errorf("unknown prime character: %v", err)
	}
	xorRun := filepath.Join(t.TempDir(), "xor")
	if _, err := dlrun(t, "train", "--model", "xor", "--epochs", "1", "--out", xorRun); err != nil {
		t.Fatal(err)
	}
	if _, err := dlrun(t, "generate", "--run", xorRun); err == nil || !strings.Contains(err.Error(), "generating text does not apply to a classify run") {
		t.Errorf("generate from an xor run: %v", err)
	}
}

// A run killed (SIGKILL) during its third epoch and then resumed ends with
// the weights and metrics of a run straight through.
func TestKilledRunResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds dlrun and trains three times")
	}
	bin := buildDlrun(t)
	killed := filepath.Join(t.TempDir(), "killed")
	// Kill the run during its third epoch: once metrics.csv shows two
	// epochs, freeze it, look again and kill it only if it still shows
	// two; otherwise (the third epoch ended in between) start over.
	epochs := func() int {
		b, _ := os.ReadFile(filepath.Join(killed, "metrics.csv"))
		return strings.Count(string(b), "\n") - 1 // less the header
	}
	for try := 1; ; try++ {
		os.RemoveAll(killed)
		cmd := exec.Command(bin, "train", "--model", "mlp", "--epochs", "4", "--out", killed)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(2 * time.Minute)
		for epochs() < 2 {
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatal("the run did not finish two epochs")
			}
			time.Sleep(2 * time.Millisecond)
		}
		cmd.Process.Signal(syscall.SIGSTOP)
		hit := epochs() == 2
		cmd.Process.Kill()
		cmd.Wait()
		if hit {
			break
		}
		if try == 3 {
			t.Fatalf("three tries to kill the run during its third epoch missed it (the last saw %d epochs)", epochs())
		}
	}
	if _, err := os.Stat(filepath.Join(killed, "summary.json")); err == nil {
		t.Fatal("the killed run finished")
	}
	if out, err := exec.Command(bin, "train", "--resume", killed, "--epochs", "4").CombinedOutput(); err != nil {
		t.Fatalf("resume: %v\n%s", err, out)
	}
	straight := filepath.Join(t.TempDir(), "straight")
	if _, err := dlrun(t, "train", "--model", "mlp", "--epochs", "4", "--out", straight); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"metrics.csv", "model.safetensors"} {
		a, _ := os.ReadFile(filepath.Join(straight, f))
		b, _ := os.ReadFile(filepath.Join(killed, f))
		if f == "metrics.csv" {
			a, b = []byte(dropLastColumn(string(a))), []byte(dropLastColumn(string(b)))
		}
		if len(a) == 0 || string(a) != string(b) {
			t.Errorf("%s differs between the killed-and-resumed run and the straight one", f)
		}
	}
	if _, err := dlrun(t, "train", "--resume", killed, "--lr", "0.1"); err == nil || !strings.Contains(err.Error(), "--lr") {
		t.Errorf("resume with another learning rate: %v", err)
	}
}

func dropLastColumn(csv string) string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(csv), "\n") {
		out = append(out, l[:strings.LastIndex(l, ",")])
	}
	return strings.Join(out, "\n")
}

// buildDlrun compiles the command once per test binary.
var builtDlrun string

func buildDlrun(t *testing.T) string {
	t.Helper()
	if builtDlrun != "" {
		return builtDlrun
	}
	dir, err := os.MkdirTemp("", "dlrun-bin-")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "dlrun")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("building dlrun: %v\n%s", err, out)
	}
	builtDlrun = bin
	return bin
}

// Train, then load in a new process: eval gives the run's last test loss
// and accuracy to the last digit; predict and summary work from the folder.
func TestEvalPredictSummaryRoundTrip(t *testing.T) {
	if testing.Short() {
		t.Skip("builds dlrun")
	}
	run := filepath.Join(t.TempDir(), "run")
	if _, err := dlrun(t, "train", "--model", "cnn", "--epochs", "1", "--out", run); err != nil {
		t.Fatal(err)
	}
	var sum struct {
		TestLoss     float64 `json:"test_loss"`
		TestAccuracy float64 `json:"test_accuracy"`
	}
	b, _ := os.ReadFile(filepath.Join(run, "summary.json"))
	json.Unmarshal(b, &sum)
	out, err := exec.Command(buildDlrun(t), "eval", "--run", run, "--json").Output()
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Loss      float64 `json:"loss"`
		Accuracy  float64 `json:"accuracy"`
		Confusion [][]int `json:"confusion"`
		Classes   []struct {
			Name    string `json:"name"`
			Support int    `json:"support"`
		} `json:"classes"`
	}
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("eval --json: %v\n%s", err, out)
	}
	if rep.Loss != sum.TestLoss || rep.Accuracy != sum.TestAccuracy {
		t.Errorf("eval in a new process: loss %v accuracy %v; training ended with %v %v", rep.Loss, rep.Accuracy, sum.TestLoss, sum.TestAccuracy)
	}
	if len(rep.Confusion) != 10 || rep.Classes[9].Name != "Ankle boot" || rep.Classes[9].Support != 100 {
		t.Errorf("report: %+v", rep.Classes)
	}
	text, err := dlrun(t, "eval", "--run", run)
	if err != nil || !strings.Contains(text, "confusion matrix") || !strings.Contains(text, "Ankle boot") {
		t.Errorf("eval table: %v\n%s", err, text)
	}
	// Predict the first test image, written as a PNG.
	d, _ := datasets.FashionMNIST()
	x := make([]float32, 784)
	label := d.Test.Example(0, x)
	img := image.NewGray(image.Rect(0, 0, 28, 28))
	for i, v := range x {
		img.Pix[i] = uint8(v*255 + 0.5)
	}
	png1 := filepath.Join(t.TempDir(), "first.png")
	f, _ := os.Create(png1)
	png.Encode(f, img)
	f.Close()
	pred, err := dlrun(t, "predict", "--run", run, "--top", "2", png1)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(pred, png1+": "+d.Classes[label]+" ") || strings.Count(pred, ",") != 1 {
		t.Errorf("predict: %q (true class %s)", pred, d.Classes[label])
	}
	if _, err := dlrun(t, "predict", "--run", run, filepath.Join(t.TempDir(), "missing.png")); err == nil || !strings.Contains(err.Error(), "missing.png") {
		t.Errorf("predict on a missing file: %v", err)
	}
	for _, args := range [][]string{{"summary", "--run", run}, {"summary", "--model", "cnn"}} {
		s, err := dlrun(t, args...)
		if err != nil || !strings.Contains(s, "Total params: 843658") || !strings.Contains(s, "conv2d1") {
			t.Errorf("%v: %v\n%s", args, err, s)
		}
	}
	// curves.png is a PNG of the run's curves.
	cf, err := os.Open(filepath.Join(run, "curves.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer cf.Close()
	if c, err := png.DecodeConfig(cf); err != nil || c.Width < 600 {
		t.Errorf("curves.png: %v %+v", err, c)
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	if builtDlrun != "" {
		os.RemoveAll(filepath.Dir(builtDlrun))
	}
	os.Exit(code)
}

func TestRunExperimentWithOverrides(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "small.yaml")
	os.WriteFile(cfg, []byte("name: small\nmodel: mlp\nepochs: 3\nlearning_rate: 0.001\nseeds: [1]\n"), 0o644)
	out := filepath.Join(t.TempDir(), "exp")
	if _, err := dlrun(t, "run", cfg, "--epochs", "1", "--lr", "0.002", "--seeds", "4,5", "--out", out); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(out, "seed-5", "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"learning_rate": 0.002`, `"epochs": 1`, `"seed": 5`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("config.json lacks %s:\n%s", want, b)
		}
	}
	var res struct {
		Runs         []json.RawMessage           `json:"runs"`
		TestAccuracy struct{ Mean, Std float64 } `json:"test_accuracy"`
	}
	b, _ = os.ReadFile(filepath.Join(out, "experiment.json"))
	if err := json.Unmarshal(b, &res); err != nil || len(res.Runs) != 2 || res.TestAccuracy.Mean == 0 {
		t.Fatalf("experiment.json: %v\n%s", err, b)
	}
	if _, err := dlrun(t, "run", cfg, "--seeds", "x"); err == nil || !strings.Contains(err.Error(), "--seeds") {
		t.Errorf("bad --seeds: %v", err)
	}
}

// A charrnn run resumed after its first epoch ends as a straight run.
func TestCharRNNResume(t *testing.T) {
	text := strings.Repeat("she said that he would come to the ball. ", 60)
	file := filepath.Join(t.TempDir(), "tiny.txt")
	os.WriteFile(file, []byte(text), 0o644)
	args := func(out, epochs string) []string {
		return []string{"train", "--model", "charrnn", "--data", file, "--epochs", epochs, "--batch", "4", "--seq-len", "16", "--out", out}
	}
	straight, split := filepath.Join(t.TempDir(), "s"), filepath.Join(t.TempDir(), "r")
	if _, err := dlrun(t, args(straight, "2")...); err != nil {
		t.Fatal(err)
	}
	if _, err := dlrun(t, args(split, "1")...); err != nil {
		t.Fatal(err)
	}
	if _, err := dlrun(t, "train", "--resume", split, "--epochs", "2"); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"metrics.csv", "model.safetensors", "best.safetensors"} {
		a, _ := os.ReadFile(filepath.Join(straight, f))
		b, _ := os.ReadFile(filepath.Join(split, f))
		if f == "metrics.csv" {
			a, b = []byte(dropLastColumn(string(a))), []byte(dropLastColumn(string(b)))
		}
		if len(a) == 0 || string(a) != string(b) {
			t.Errorf("%s differs between the resumed and the straight run", f)
		}
	}
}
