package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// cliFixture is the path of a file of testdata/cli.
func cliFixture(name string) string { return filepath.Join("..", "..", "testdata", "cli", name) }

// predict reports per file: a file that cannot be read gets one line on
// stderr and the others are still classified, one line each; the command
// then fails, saying how many files failed. --json gives an array with an
// object per file, in order.
func TestPredictReportsPerFile(t *testing.T) {
	run := filepath.Join(t.TempDir(), "mlp")
	if _, err := dlrun(t, "train", "--model", "mlp", "--data", smallFashion(t, 10), "--epochs", "1", "--out", run); err != nil {
		t.Fatal(err)
	}
	good, bad, rgb, trunc := cliFixture("gray-28x28.png"), cliFixture("not-an-image.png"), cliFixture("rgb-40x30.png"), cliFixture("truncated.png")
	out, errOut, err := dlrunSplit(t, "predict", "--run", run, "--top", "2", good, bad, rgb, trunc)
	oneLineError(t, "predict", err, "2 of 4 files could not be classified: "+bad+", "+trunc)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], good+": ") || !strings.HasPrefix(lines[1], rgb+": ") || strings.Count(lines[0], ",") != 1 {
		t.Errorf("stdout, want a line for each good file with 2 classes:\n%s", out)
	}
	errLines := strings.Split(strings.TrimSuffix(errOut, "\n"), "\n")
	if len(errLines) != 2 || !strings.HasPrefix(errLines[0], "dlrun: "+bad+": ") || !strings.HasPrefix(errLines[1], "dlrun: "+trunc+": ") {
		t.Errorf("stderr, want one line per bad file:\n%s", errOut)
	}

	// All good: no error, nothing on stderr.
	out, errOut, err = dlrunSplit(t, "predict", "--run", run, good, rgb)
	if err != nil || errOut != "" || strings.Count(out, "\n") != 2 {
		t.Errorf("predict of good files: %v\nstdout:\n%s\nstderr:\n%s", err, out, errOut)
	}

	out, _, err = dlrunSplit(t, "predict", "--run", run, "--json", "--top", "3", good, bad)
	oneLineError(t, "predict --json", err, "1 of 2 files could not be classified: "+bad)
	var preds []struct {
		File          string    `json:"file"`
		Class         string    `json:"class"`
		Probability   float64   `json:"probability"`
		Probabilities []float64 `json:"probabilities"`
		Top           []struct {
			Class       string  `json:"class"`
			Index       int     `json:"index"`
			Probability float64 `json:"probability"`
		} `json:"top"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal([]byte(out), &preds); err != nil || len(preds) != 2 {
		t.Fatalf("predict --json: %v\n%s", err, out)
	}
	p := preds[0]
	if p.File != good || p.Error != "" || len(p.Top) != 3 || len(p.Probabilities) != 10 || p.Class != p.Top[0].Class ||
		p.Probability != p.Top[0].Probability || p.Probabilities[p.Top[0].Index] != p.Probability {
		t.Errorf("predict --json, good file: %+v", p)
	}
	if b := preds[1]; b.File != bad || !strings.Contains(b.Error, "not-an-image.png") || b.Top != nil || b.Probabilities != nil {
		t.Errorf("predict --json, bad file: %+v", b)
	}

	// One file: its own error is the command's.
	_, errOut, err = dlrunSplit(t, "predict", "--run", run, bad)
	oneLineError(t, "predict of one bad file", err, bad, "not a PNG, JPEG, GIF or WebP image")
	if errOut != "" {
		t.Errorf("predict of one bad file also wrote on stderr:\n%s", errOut)
	}

	// A model that is not an image classifier fails as a whole.
	xor := filepath.Join(t.TempDir(), "xor")
	if _, err := dlrun(t, "train", "--model", "xor", "--epochs", "1", "--out", xor); err != nil {
		t.Fatal(err)
	}
	_, err = dlrun(t, "predict", "--run", xor, good)
	oneLineError(t, "predict with xor", err, "--run", "image classifier")
}
