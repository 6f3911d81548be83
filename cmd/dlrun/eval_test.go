package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// eval on a charrnn run evaluates the language model: loss, bits per
// character, perplexity and accuracy on the held-out text, equal to the
// run's last test figures; rating runs still give RMSE and MAE.
func TestEvalLanguageModelAndRatings(t *testing.T) {
	text := strings.Repeat("the cat sat on the mat. the dog ate the hat. ", 40)
	file := filepath.Join(t.TempDir(), "tiny.txt")
	os.WriteFile(file, []byte(text), 0o644)
	lm := filepath.Join(t.TempDir(), "lm")
	if _, err := dlrun(t, "train", "--model", "charrnn", "--data", file, "--epochs", "1", "--batch-size", "4", "--seq-len", "16", "--out", lm); err != nil {
		t.Fatal(err)
	}
	sum := readJSON(t, filepath.Join(lm, "summary.json"))
	out, err := dlrun(t, "eval", "--run", lm, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var r map[string]any
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("eval --json: %v\n%s", err, out)
	}
	wantFields(t, "eval --json", r, map[string]any{"loss": sum["test_loss"], "bits_per_char": sum["test_bits_per_char"], "accuracy": sum["test_accuracy"]})
	if r["perplexity"] == nil || r["characters"] == nil {
		t.Errorf("eval --json lacks perplexity or characters: %s", out)
	}
	out, err = dlrun(t, "eval", "--run", lm)
	if err != nil || !strings.HasPrefix(out, file+": ") || !strings.Contains(out, "characters held out") || !strings.Contains(out, "bits per char") || strings.Count(out, "\n") != 1 {
		t.Errorf("eval: %v\n%s", err, out)
	}
	_, err = dlrun(t, "eval", "--run", lm, "--data", cliFixture("zebra.txt"))
	oneLineError(t, "eval --data zebra.txt", err, "--data", "zebra.txt", "not in the run's vocabulary")

	// A recommender is still evaluated by RMSE and MAE.
	mf := filepath.Join(t.TempDir(), "mf")
	if _, err := dlrun(t, "train", "--model", "mf", "--data", writeRatingsFolder(t), "--epochs", "1", "--batch-size", "8", "--dim", "4", "--out", mf); err != nil {
		t.Fatal(err)
	}
	out, err = dlrun(t, "eval", "--run", mf)
	if err != nil || !strings.Contains(out, "rmse") || !strings.Contains(out, "mae") {
		t.Errorf("eval of mf: %v\n%s", err, out)
	}
}
