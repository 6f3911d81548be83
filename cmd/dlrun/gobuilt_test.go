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
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	mod := t.TempDir()
	code := readmeExample(t)
	// Two epochs, not the README's ten: the commands are what is tested.
	code = strings.Replace(code, "Epochs:       10,", "Epochs:       2,", 1)
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{
		"main.go": code,
		"go.mod":  "module example.com/readme\n\ngo 1.26\n\nrequire github.com/dlrun/dlrun v0.0.0\n\nreplace github.com/dlrun/dlrun => " + root + "\n",
		"go.sum":  string(sum),
	} {
		if err := os.WriteFile(filepath.Join(mod, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	goRun := exec.Command("go", "run", ".")
	goRun.Dir = mod
	goRun.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off")
	if out, err := goRun.CombinedOutput(); err != nil {
		t.Fatalf("go run of the README's example: %v\n%s", err, out)
	}
	dir := filepath.Join(mod, "runs", "mlp-go")

	_, err = dlrun(t, "eval", "--run", dir)
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
}
