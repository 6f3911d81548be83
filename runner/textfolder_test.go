package runner_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/runner"
)

// A language model file that names the vocabulary instead of its size
// trains on a folder of texts: the run builds the vocabulary from the
// texts, records it, and the model has one output per token.
func TestTextFolderWithVocabNamedModel(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "poems")
	for name, text := range map[string]string{"a.txt": strings.Repeat("the cat sat on the mat. ", 40), "sub/b.txt": strings.Repeat("a dog ran far! ", 40)} {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	model := filepath.Join(t.TempDir(), "lm.yaml")
	if err := os.WriteFile(model, []byte("name: lm\nlayers:\n  - embedding: {vocab: vocab, dim: 8}\n  - lstm: {hidden: 16, return_sequences: true}\n  - dense\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := run.Config{Model: model, Task: "next-token", Dataset: dir, SeqLen: 20}
	cfg.Epochs, cfg.BatchSize = 1, 4
	out := filepath.Join(t.TempDir(), "lm")
	if _, err := runner.Train(cfg, runner.Options{Out: out}); err != nil {
		t.Fatal(err)
	}
	r, err := run.Open(out, false)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	want := len("!.acdefghmnorst ") // the distinct characters of both texts, and the line break
	if v := len(r.Config.Vocab); v != want+1 || r.Model.Info.Outputs != v {
		t.Errorf("vocab of %d tokens, %d outputs; want %d of each", v, r.Model.Info.Outputs, want+1)
	}

	cfg.Task = "classify"
	cfg.Dataset = "xor"
	cfg.SeqLen = 0
	if _, err := runner.Train(cfg, runner.Options{Out: filepath.Join(t.TempDir(), "c")}); err == nil || !strings.Contains(err.Error(), `lm.yaml: layer 1 (embedding): setting "vocab" is vocab, a size this data does not have (it gives classes, outputs)`) {
		t.Errorf("a vocab-named model on a classifier's data: %v", err)
	}
}
