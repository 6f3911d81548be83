package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// dlrun explain prints an image's explanation, writes its heat map with
// -o, one page with -o page.html, JSON with --json, and with --board the
// test examples' explanations into the run folder, where the board reads
// them.
func TestExplainCommand(t *testing.T) {
	data := smallFashion(t, 6)
	run := filepath.Join(t.TempDir(), "mlp")
	if _, err := dlrun(t, "train", "--model", "mlp", "--data", data, "--epochs", "1", "--out", run); err != nil {
		t.Fatal(err)
	}
	img := filepath.Join("..", "..", "testdata", "cli", "gray-28x28.png")
	maps := filepath.Join(t.TempDir(), "maps")
	out, err := dlrun(t, "explain", "--run", run, img, "-o", maps)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, img+": ") || !strings.Contains(out, "integrated gradients, 50 steps (adaptive) from a black baseline") || !strings.Contains(out, "wrote 2 files to "+maps) {
		t.Errorf("explain -o:\n%s", out)
	}
	for _, f := range []string{"gray-28x28-integrated-gradients.png", "explanations.json"} {
		if _, err := os.Stat(filepath.Join(maps, f)); err != nil {
			t.Error(err)
		}
	}

	out, err = dlrun(t, "explain", "--run", run, "--method", "saliency", "--class", "Bag", "--json", img)
	if err != nil {
		t.Fatal(err)
	}
	var ex struct {
		Model        string `json:"model"`
		Explanations []struct {
			Method    string    `json:"method"`
			ClassName string    `json:"class_name"`
			Values    []float64 `json:"values"`
		} `json:"explanations"`
	}
	if err := json.Unmarshal([]byte(out), &ex); err != nil {
		t.Fatalf("--json: %v\n%.300s", err, out)
	}
	if ex.Model != "mlp" || len(ex.Explanations) != 1 || ex.Explanations[0].Method != "saliency" || ex.Explanations[0].ClassName != "Bag" || len(ex.Explanations[0].Values) != 784 {
		t.Errorf("--json: %.300s", out)
	}

	page := filepath.Join(t.TempDir(), "why.html")
	if _, err := dlrun(t, "explain", "--run", run, "--method", "occlusion", "--baseline", "blur", img, "-o", page); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(page); err != nil || !strings.Contains(string(b), "<img src=\"data:image/png;base64,") {
		t.Errorf("page: %v", err)
	}

	out, err = dlrun(t, "explain", "--run", run, "--board", "--examples", "2", "--steps", "10")
	if err != nil {
		t.Fatal(err)
	}
	board := filepath.Join(run, "explanations")
	if !strings.Contains(out, "test-1: ") || !strings.Contains(out, "the true class is") || !strings.Contains(out, "wrote 3 files to "+board) {
		t.Errorf("--board:\n%s", out)
	}
	index := readJSON(t, filepath.Join(board, "explanations.json"))
	if items, _ := index["explanations"].([]any); len(items) != 2 {
		t.Errorf("--board's index: %v", index)
	}
	// The run folder is still a run folder that every command opens.
	if _, err := dlrun(t, "eval", "--run", run); err != nil {
		t.Errorf("eval after --board: %v", err)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"explain", img}, "--run: name the run folder"},
		{[]string{"explain", "--run", run}, "name at least one INPUT to explain, or give --board or --importance"},
		{[]string{"explain", "--run", run, "--board", img}, "--board explains the run's test examples; it takes no INPUT"},
		{[]string{"explain", "--run", run, "--importance", img}, "--importance explains the run's test split as a whole"},
		{[]string{"explain", "--run", run, "--importance"}, "it ranks the features of a row"},
		{[]string{"explain", "--run", run, "--board", "-o", page}, "--board and --out"},
		{[]string{"explain", "--run", run, "--examples", "3", img}, "--examples: it sets how many test examples --board explains"},
		{[]string{"explain", "--run", run, "--board", "--examples", "65"}, "--examples 65: must be from 1 to 64"},
		{[]string{"explain", "--run", run, "--steps", "0", img}, "--steps 0: must be from 1 to 10000"},
		{[]string{"explain", "--run", run, "--method", "lime", img}, `--method: unknown attribution method "lime"`},
		{[]string{"explain", "--run", run, "--baseline", "grey", img}, `--baseline: unknown baseline "grey"`},
		{[]string{"explain", "--run", run, "--class", "Boot", img}, `class "Boot" is not one of the model's 10`},
		{[]string{"explain", "--run", run, "missing.png"}, "missing.png"},
		{[]string{"explain", "--run", filepath.Join(t.TempDir(), "none"), img}, "--run: run folder"},
		{[]string{"explain", "--run", run, img, "-o", filepath.Join(t.TempDir(), "no", "such", "why.html")}, "--out"},
	} {
		_, err := dlrun(t, c.args...)
		oneLineError(t, strings.Join(c.args, " "), err, c.want)
	}
}

// dlrun explain --importance ranks a classifier of rows' features: a
// table printed, a bar chart with -o.
func TestExplainImportanceCommand(t *testing.T) {
	run := filepath.Join(t.TempDir(), "xor")
	if _, err := dlrun(t, "train", "--model", "xor", "--epochs", "20", "--out", run); err != nil {
		t.Fatal(err)
	}
	chart := filepath.Join(t.TempDir(), "chart")
	out, err := dlrun(t, "explain", "--run", run, "--importance", "--method", "saliency", "-o", chart)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "feature importance: mean |saliency|") || !strings.Contains(out, "x2") || !strings.Contains(out, "wrote 2 files to "+chart) {
		t.Errorf("--importance:\n%s", out)
	}
	if b, err := os.ReadFile(filepath.Join(chart, "importance.png")); err != nil || !strings.HasPrefix(string(b), "\x89PNG") {
		t.Errorf("importance.png: %v", err)
	}
}

// A run trained on a CSV table explains the rows of CSV files, its
// features named as its preprocessing makes them, and ranks them with
// --importance; a file that is no table is one line.
func TestExplainTable(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("size,colour,label\n")
	for i := range 200 {
		label := "small"
		if i%10 >= 5 {
			label = "large"
		}
		fmt.Fprintf(&b, "%d,%s,%s\n", i%10, []string{"red", "blue"}[i%2], label)
	}
	data := filepath.Join(dir, "train.csv")
	if err := os.WriteFile(data, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	run := filepath.Join(dir, "run")
	if _, err := dlrun(t, "train", "--data", data, "--target", "label", "--epochs", "10", "--lr", "0.01", "--out", run); err != nil {
		t.Fatal(err)
	}
	rows := filepath.Join(dir, "rows.csv")
	if err := os.WriteFile(rows, []byte("colour,size\nblue,1\nred,8\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := dlrun(t, "explain", "--run", run, rows)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{rows + " row 1: small", rows + " row 2: large", "size", "colour=red", "colour=blue"} {
		if !strings.Contains(out, want) {
			t.Errorf("explain rows.csv: no %q in\n%s", want, out)
		}
	}
	out, err = dlrun(t, "explain", "--run", run, "--importance")
	if err != nil || !strings.Contains(out, "feature importance") || !strings.Contains(out, "colour=blue") {
		t.Errorf("--importance: %v\n%s", err, out)
	}
	_, err = dlrun(t, "explain", "--run", run, "1,2,3")
	oneLineError(t, "a row of numbers to a table's run", err, "name CSV files of rows to explain")
}
