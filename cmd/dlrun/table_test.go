package main

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A CSV table from the command line: --data and --target train the mlp
// (the default model for a table), --test names the test rows, eval
// scores them, predict writes the rows back with the prediction columns,
// and the table options are refused where they do not apply.
func TestTableFromTheCommandLine(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, from, to int) string {
		var b strings.Builder
		b.WriteString("size,colour,label\n")
		for i := from; i < to; i++ {
			label := "small"
			if i%10 >= 5 {
				label = "large"
			}
			fmt.Fprintf(&b, "%d,%s,%s\n", i%10, []string{"red", "blue"}[i%2], label)
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	train, test := write("train.csv", 0, 200), write("test.csv", 200, 240)
	run := filepath.Join(dir, "run")
	if _, err := dlrun(t, "train", "--data", train, "--test", test, "--target", "label", "--epochs", "20", "--lr", "0.01", "--out", run); err != nil {
		t.Fatal(err)
	}
	cfg := readJSON(t, filepath.Join(run, "config.json"))
	wantFields(t, "config.json", cfg, map[string]any{"model": "mlp", "task": "classify", "test_examples": 40.0})
	out, err := dlrun(t, "eval", "--run", run)
	if err != nil || !strings.Contains(out, "train.csv: 40 examples") || !strings.Contains(out, "accuracy 1.0000") {
		t.Errorf("eval: %v\n%s", err, out)
	}
	rows := filepath.Join(dir, "rows.csv")
	os.WriteFile(rows, []byte("colour,size\nblue,1\nred,8\n"), 0o644)
	out, errOut, err := dlrunSplit(t, "predict", "--run", run, rows)
	if err != nil || errOut != "" {
		t.Fatalf("predict: %v\n%s", err, errOut)
	}
	got, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(got) != 3 || strings.Join(got[0], ",") != "colour,size,label_predicted,label_probability" || got[1][2] != "small" || got[2][2] != "large" {
		t.Errorf("predict wrote %q (%v)", out, err)
	}
	_, err = dlrun(t, "predict", "--run", run, "--top", "1", rows)
	oneLineError(t, "predict --top on a table", err, "--top applies to images")
	_, err = dlrun(t, "predict", "--run", run, filepath.Join(dir, "nope.png"))
	oneLineError(t, "predict an image with a table's run", err, "give one CSV file of rows to predict")
	_, err = dlrun(t, "train", "--model", "cnn", "--target", "label", "--epochs", "1", "--out", filepath.Join(dir, "x"))
	oneLineError(t, "--target on fashion-mnist", err, "the table options read a CSV table")
	_, err = dlrun(t, "train", "--data", train, "--epochs", "1", "--out", filepath.Join(dir, "y"))
	oneLineError(t, "a table without --target", err, "--target COLUMN")
	_, err = dlrun(t, "train", "--data", train, "--target", "label", "--fill", "median", "--out", filepath.Join(dir, "z"))
	oneLineError(t, "--fill median", err, "--fill", "want mean or zero")
}
