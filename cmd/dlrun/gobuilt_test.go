package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/serve"
)

// readmeExample returns the README's Go example: its first Go block, the
// one that saves the trained model.
func readmeExample(t *testing.T) string {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, block := range strings.Split(string(b), "```go\n")[1:] {
		code, _, _ := strings.Cut(block, "```")
		if strings.Contains(code, "trainer.Save(") {
			return code
		}
	}
	t.Fatal("README.md has no Go example that saves its model (trainer.Save)")
	return ""
}

// A model trained and saved from Go is a run like any other: the README's
// example, run from a module of its own (this tree standing in for
// github.com/dlrun/dlrun), saves a folder that eval, predict, summary,
// export, serve and train --resume all use; the commands that need the
// data, which the trainer does not know by name, ask for --data.
func TestGoBuiltModelIsFirstClass(t *testing.T) {
	code := readmeExample(t)
	// Two epochs, not the README's ten: the commands are what is tested.
	code = strings.Replace(code, "Epochs:       10,", "Epochs:       2,", 1)
	mod := goRun(t, code)
	dir := filepath.Join(mod, "runs", "mlp-go")

	_, err := dlrun(t, "eval", "--run", dir)
	oneLineError(t, "eval without --data", err, "--data", "does not record its dataset")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"eval", "--run", dir, "--data", "fashion-mnist"}, "fashion-mnist: 1000 examples"},
		{[]string{"predict", "--run", dir, filepath.Join("..", "..", "testdata", "cli", "gray-28x28.png")}, "gray-28x28.png: "},
		{[]string{"summary", "--run", dir}, "mlp, input [1 28 28] per example"},
		{[]string{"export", "--run", dir, "-o", filepath.Join(mod, "mlp.onnx")}, "wrote " + filepath.Join(mod, "mlp.onnx")},
		{[]string{"train", "--resume", dir, "--data", "fashion-mnist", "--epochs", "3"}, "resuming after epoch 2: model.json on fashion-mnist"},
		{[]string{"eval", "--run", dir}, "fashion-mnist: 1000 examples"}, // the resumed run records its data
	} {
		out, err := dlrun(t, c.args...)
		if err != nil || !strings.Contains(out, c.want) {
			t.Errorf("dlrun %s: %v\n%s\nwant %q", strings.Join(c.args, " "), err, out, c.want)
		}
	}

	s, err := serve.New([]string{dir}, serve.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	hs := httptest.NewServer(s.Handler())
	defer hs.Close()
	body := `{"inputs": [{"name": "input", "shape": [1, 1, 28, 28], "datatype": "FP32", "data": [` + strings.Repeat("0,", 28*28-1) + `0]}]}`
	resp, err := http.Post(hs.URL+"/v2/models/mlp-go/infer", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(b.String(), `"probabilities"`) {
		t.Errorf("serve's infer: %d %s", resp.StatusCode, b.String())
	}
	t.Run("language model and recommender", goBuiltLanguageModelAndRecommender)
}

// goBuiltLM trains a character language model from Go (embedding, a
// stateful LSTM, dense over the vocabulary) on the text file text and
// saves it with Trainer.Save: config.json records neither its vocabulary
// nor its data.
const goBuiltLM = `package main

import (
	"os"

	"github.com/dlrun/dlrun/datasets"
	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/nn"
	"github.com/dlrun/dlrun/train"
)

func main() {
	text, err := datasets.LoadTextFile(os.Args[1], 0.1)
	if err != nil {
		panic(err)
	}
	v := len(text.Vocab)
	model := nn.NewSequential("lm", nn.NewEmbedding(v, 8),
		&nn.Recurrent{Cell: graph.LSTMCell, Hidden: 16, ReturnSequences: true, Stateful: true}, nn.NewDense(v))
	trainer, err := train.New(model, &train.NextToken{Vocab: v, SeqLen: 10}, train.Config{Epochs: 1, BatchSize: 4})
	if err != nil {
		panic(err)
	}
	defer trainer.Close()
	if _, err := trainer.Fit(train.Tokens(text.Train), train.Tokens(text.HeldOut), nil); err != nil {
		panic(err)
	}
	if err := trainer.Save(os.Args[2]); err != nil {
		panic(err)
	}
}
`

// goBuiltRecommender trains matrix factorisation from Go on the bundled
// MovieLens ratings, given in memory, and saves it with Trainer.Save.
const goBuiltRecommender = `package main

import (
	"os"

	"github.com/dlrun/dlrun/datasets"
	"github.com/dlrun/dlrun/nn"
	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/train"
)

func main() {
	ml, err := datasets.MovieLens()
	if err != nil {
		panic(err)
	}
	d := run.FromRatings(ml)
	model := nn.NewSequential("mf", nn.NewMF(d.Users, d.Movies, 8, d.Mean))
	trainer, err := train.New(model, &train.Rating{Users: d.Users, Movies: d.Movies}, train.Config{Epochs: 1, BatchSize: 256, Loss: "mse"})
	if err != nil {
		panic(err)
	}
	defer trainer.Close()
	if _, err := trainer.Fit(d.Train, d.Test, nil); err != nil {
		panic(err)
	}
	if err := trainer.Save(os.Args[1]); err != nil {
		panic(err)
	}
}
`

// goRun runs the Go program code from a module of its own (this tree
// standing in for github.com/dlrun/dlrun) with args, in a new folder,
// which it returns.
func goRun(t *testing.T, code string, args ...string) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	mod := t.TempDir()
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{
		"main.go": code,
		"go.mod":  "module example.com/gobuilt\n\ngo 1.26\n\nrequire github.com/dlrun/dlrun v0.0.0\n\nreplace github.com/dlrun/dlrun => " + root + "\n",
		"go.sum":  string(sum),
	} {
		if err := os.WriteFile(filepath.Join(mod, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("go", append([]string{"run", "."}, args...)...)
	cmd.Dir = mod
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go run: %v\n%s", err, out)
	}
	return mod
}

// goBuiltLanguageModelAndRecommender tests that a language model and a
// recommender trained from Go are runs like any other: export and serve's infer need neither vocabulary nor ratings;
// eval and generate read the vocabulary of the text given with --data
// (refusing one of another size), recommend the ratings given with --data,
// and serve answers infer for a recommender whose ratings it does not know.
func goBuiltLanguageModelAndRecommender(t *testing.T) {
	texts := t.TempDir()
	text := filepath.Join(texts, "t5.txt")
	if err := os.WriteFile(text, []byte(strings.Repeat("the cat sat on the mat. a dog ate a hat! ", 30)), 0o644); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(texts, "other.txt")
	if err := os.WriteFile(other, []byte(strings.Repeat("xyz ", 200)), 0o644); err != nil {
		t.Fatal(err)
	}
	lmMod := t.TempDir()
	lm := filepath.Join(lmMod, "lm-go")
	goRun(t, goBuiltLM, text, lm)
	rec := filepath.Join(t.TempDir(), "rec-go")
	goRun(t, goBuiltRecommender, rec)

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"eval", "--run", lm, "--data", text}, "characters held out"},
		{[]string{"generate", "--run", lm, "--data", text, "--length", "20", "--prime", "the "}, "the "},
		{[]string{"export", "--run", lm, "-o", filepath.Join(lmMod, "lm.onnx")}, "wrote " + filepath.Join(lmMod, "lm.onnx")},
		{[]string{"recommend", "--run", rec, "--data", "movielens", "--user", "1", "--top", "3"}, "predicted"},
	} {
		out, err := dlrun(t, c.args...)
		if err != nil || !strings.Contains(out, c.want) {
			t.Errorf("dlrun %s: %v\n%s\nwant %q", strings.Join(c.args, " "), err, out, c.want)
		}
	}
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"eval", "--run", lm}, []string{"--data", "does not record its dataset"}},
		{[]string{"generate", "--run", lm}, []string{"--data", "does not record its dataset"}},
		{[]string{"eval", "--run", lm, "--data", other}, []string{"--data " + other, "4 distinct characters", "records no vocabulary"}},
		{[]string{"recommend", "--run", rec, "--user", "1"}, []string{"--run", "recommendations need the ratings it was trained on (--data)"}},
	} {
		_, err := dlrun(t, c.args...)
		oneLineError(t, strings.Join(c.args, " "), err, c.want...)
	}

	s, err := serve.New([]string{lm, rec}, serve.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	hs := httptest.NewServer(s.Handler())
	defer hs.Close()
	for _, c := range []struct{ model, body, want string }{
		{"lm-go", `{"inputs": [{"name": "input", "shape": [1, 10], "datatype": "INT64", "data": [0,1,2,3,4,5,6,7,8,9]}]}`, `"logits"`},
		{"rec-go", `{"inputs": [{"name": "input", "shape": [1, 2], "datatype": "INT64", "data": [0, 1]}]}`, `"rating"`},
	} {
		resp, err := http.Post(hs.URL+"/v2/models/"+c.model+"/infer", "application/json", strings.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(b.String(), c.want) {
			t.Errorf("serve's infer of %s: %d %s", c.model, resp.StatusCode, b.String())
		}
	}
	resp, err := http.Get(hs.URL + "/v2/models/rec-go/recommend?user=1")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(b.String(), "cannot recommend") {
		t.Errorf("serve's recommend of a recommender without its ratings: %d %s", resp.StatusCode, b.String())
	}
}
