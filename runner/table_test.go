package runner_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/runner"
)

// writeCSV writes rows of a table (its header first) to a file in a new
// temporary folder and returns its path.
func writeCSV(t *testing.T, name string, rows [][]string) string {
	t.Helper()
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.WriteAll(rows)
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// shapes is a table of 300 rows: two numbers and a colour, the class
// (a word) decided by them.
func shapes() [][]string {
	rng := rand.New(rand.NewPCG(3, 4))
	rows := [][]string{{"width", "height", "colour", "kind"}}
	colours := []string{"red", "green", "blue"}
	for i := 0; i < 300; i++ {
		w, h := rng.Float64()*10, rng.Float64()*10
		c := colours[rng.IntN(3)]
		kind := "tall"
		switch {
		case c == "blue":
			kind = "blue"
		case w > h:
			kind = "wide"
		}
		rows = append(rows, []string{fmt.Sprintf("%.3f", w), fmt.Sprintf("%.3f", h), c, kind})
	}
	return rows
}

// A CSV table trains a classifier (a word target) and a regressor (a
// real-valued target, decided from the data) with the mlp; the run records
// the preprocessing, and evaluation and predict apply it.
func TestTableClassifierAndRegressor(t *testing.T) {
	path := writeCSV(t, "shapes.csv", shapes())
	cfg := run.Config{Model: "mlp", Dataset: path, Table: &run.TableConfig{Target: "kind"}}
	cfg.Epochs, cfg.BatchSize, cfg.LearningRate = 30, 16, 0.01
	out := filepath.Join(t.TempDir(), "shapes")
	if _, err := runner.Train(cfg, runner.Options{Out: out}); err != nil {
		t.Fatal(err)
	}
	r, err := run.Open(out, false)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	p := r.Config.Table.Preprocessing
	if r.Config.Task != "classify" || p == nil || strings.Join(r.Classes(), ",") != "blue,tall,wide" || p.Width() != 5 {
		t.Fatalf("task %q, classes %v, preprocessing %+v", r.Config.Task, r.Classes(), p)
	}
	rep, err := r.Evaluate(run.EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if acc := rep.(*run.ClassifierReport).Accuracy; acc < 0.85 {
		t.Errorf("test accuracy %v", acc)
	}
	rows := writeCSV(t, "new.csv", [][]string{{"colour", "height", "width"}, {"blue", "1", "2"}, {"red", "1", "9"}, {"green", "9", "1"}})
	var b bytes.Buffer
	if err := r.PredictTable(rows, &b); err != nil {
		t.Fatal(err)
	}
	got, err := csv.NewReader(&b).ReadAll()
	if err != nil || len(got) != 4 || strings.Join(got[0], ",") != "colour,height,width,kind_predicted,kind_probability" {
		t.Fatalf("predicted rows %q, %v", got, err)
	}
	for i, want := range []string{"blue", "wide", "tall"} {
		if got[i+1][3] != want {
			t.Errorf("row %d %v: predicted %q, want %q", i+1, got[i+1][:3], got[i+1][3], want)
		}
	}
	bad := writeCSV(t, "bad.csv", [][]string{{"colour", "height", "width"}, {"blue", "1", "2"}, {"red", "", "9"}})
	if err := r.PredictTable(bad, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), `row 2, column "height": missing value`) {
		t.Errorf("a missing value: %v", err)
	}

	// A real-valued target makes a regression, scored in its own units.
	rng := rand.New(rand.NewPCG(5, 6))
	reg := [][]string{{"x", "z", "y"}}
	for i := 0; i < 400; i++ {
		x, z := rng.NormFloat64(), rng.NormFloat64()
		reg = append(reg, []string{fmt.Sprintf("%.4f", x), fmt.Sprintf("%.4f", z), fmt.Sprintf("%.4f", 100+30*x-10*z+rng.NormFloat64())})
	}
	cfg = run.Config{Model: "mlp", Dataset: writeCSV(t, "reg.csv", reg), Table: &run.TableConfig{Target: "y"}}
	cfg.Epochs, cfg.BatchSize, cfg.LearningRate = 30, 16, 0.01
	out = filepath.Join(t.TempDir(), "reg")
	if _, err := runner.Train(cfg, runner.Options{Out: out}); err != nil {
		t.Fatal(err)
	}
	rr, err := run.Open(out, false)
	if err != nil {
		t.Fatal(err)
	}
	defer rr.Close()
	if rr.Config.Task != "regress" || rr.Kind != run.Regress {
		t.Fatalf("task %q, kind %s", rr.Config.Task, rr.Kind.Name())
	}
	rep, err = rr.Evaluate(run.EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The target's standard deviation is about 32: a fit is far below it.
	if rmse := rep.(*run.RegressionReport).RMSE; !(rmse < 5) {
		t.Errorf("test RMSE %v", rmse)
	}
	b.Reset()
	if err := rr.PredictTable(writeCSV(t, "x.csv", [][]string{{"x", "z"}, {"1", "0"}}), &b); err != nil {
		t.Fatal(err)
	}
	var v float64
	if _, err := fmt.Sscanf(strings.Split(strings.TrimSpace(b.String()), "\n")[1], "1,0,%g", &v); err != nil || math.Abs(v-130) > 6 {
		t.Errorf("predicted %q (%v), want about 130", b.String(), err)
	}
}

// A table's hostile inputs and misplaced options are one-line errors
// naming what is at fault.
func TestTableErrors(t *testing.T) {
	rows := shapes()
	rows[7][1] = ""
	path := writeCSV(t, "holes.csv", rows)
	for _, c := range []struct {
		cfg  run.Config
		want string
	}{
		{run.Config{Model: "mlp", Dataset: path, Table: &run.TableConfig{Target: "kind"}}, `row 7, column "height": missing value`},
		{run.Config{Model: "mlp", Dataset: path}, "target: a CSV table needs the column to predict"},
		{run.Config{Model: "mlp", Dataset: "xor", Table: &run.TableConfig{Target: "kind"}}, `target "kind": the table options read a CSV table`},
		{run.Config{Model: "mlp", Dataset: path, Table: &run.TableConfig{Target: "kind", Fill: "median"}}, `fill "median": want mean or zero`},
		{run.Config{Model: "mlp", Task: "regress", Dataset: path, Table: &run.TableConfig{Target: "kind", Fill: "mean"}}, `"kind"`},
		{run.Config{Model: "mlp", Dataset: path, Table: &run.TableConfig{Target: "kind", Fill: "mean"}, Images: &run.ImageConfig{Size: "8x8"}}, `image_size "8x8"`},
		{run.Config{Model: "charrnn", Dataset: path, Table: &run.TableConfig{Target: "kind"}}, `target "kind" does not apply to model charrnn`},
	} {
		c.cfg.Epochs = 1
		_, err := runner.Train(c.cfg, runner.Options{Out: filepath.Join(t.TempDir(), "r")})
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%+v: error %v, want one line containing %s", c.cfg, err, c.want)
		}
	}
	cfg := run.Config{Model: "mlp", Dataset: path, Table: &run.TableConfig{Target: "kind", Fill: "mean"}}
	cfg.Epochs = 1
	if _, err := runner.Train(cfg, runner.Options{Out: filepath.Join(t.TempDir(), "r")}); err != nil {
		t.Errorf("fill mean: %v", err)
	}
}

// A column of more categories than are one-hot encoded is looked up by an
// embedding layer that the mlp begins with (nn.ColumnEmbedding), learned
// with the rest; the run reopens, evaluates and predicts with it.
func TestTableEmbeddingColumn(t *testing.T) {
	rows := [][]string{{"store", "size", "sales"}}
	for i := 0; i < 600; i++ {
		store := i % 50
		sales := "low"
		if store%2 == 0 {
			sales = "high"
		}
		rows = append(rows, []string{fmt.Sprintf("s%02d", store), fmt.Sprint(i % 7), sales})
	}
	cfg := run.Config{Model: "mlp", Dataset: writeCSV(t, "stores.csv", rows), Table: &run.TableConfig{Target: "sales"}}
	cfg.Epochs, cfg.BatchSize, cfg.LearningRate = 15, 16, 0.01
	out := filepath.Join(t.TempDir(), "stores")
	if _, err := runner.Train(cfg, runner.Options{Out: out}); err != nil {
		t.Fatal(err)
	}
	r, err := run.Open(out, false)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if l := r.Model.Info.Model.Layers[0]; l.Kind != "column_embedding" || fmt.Sprint(l.Settings["columns"]) != "[0]" || fmt.Sprint(l.Settings["sizes"]) != "[51]" {
		t.Fatalf("first layer %+v, want column_embedding of column 0 with 51 indices", l)
	}
	rep, err := r.Evaluate(run.EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if acc := rep.(*run.ClassifierReport).Accuracy; acc < 0.95 {
		t.Errorf("test accuracy %v: the stores' embeddings did not learn their parity", acc)
	}
	var b bytes.Buffer
	if err := r.PredictTable(writeCSV(t, "new.csv", [][]string{{"store", "size"}, {"s04", "1"}, {"s07", "1"}, {"s99", "1"}}), &b); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); !strings.Contains(got, "s04,1,high,") || !strings.Contains(got, "s07,1,low,") || strings.Count(got, "\n") != 4 {
		t.Errorf("predicted:\n%s", got)
	}
}

// A table regression stopped after 2 epochs and resumed to 4 ends with the
// bits of 4 epochs straight: the table, its split and its preprocessing
// are read again alike.
func TestTableRegressionResumesBitExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	rows := [][]string{{"x", "colour", "y"}}
	for i := 0; i < 120; i++ {
		x := rng.NormFloat64()
		rows = append(rows, []string{fmt.Sprintf("%.3f", x), []string{"red", "blue", "green"}[i%3], fmt.Sprintf("%.3f", 5*x+float64(i%3))})
	}
	path := writeCSV(t, "r.csv", rows)
	cfg := run.Config{Model: "mlp", Dataset: path, Table: &run.TableConfig{Target: "y"}}
	cfg.BatchSize = 16
	dir := t.TempDir()
	straight, split := filepath.Join(dir, "straight"), filepath.Join(dir, "split")
	cfg.Epochs = 4
	if _, err := runner.Train(cfg, runner.Options{Out: straight}); err != nil {
		t.Fatal(err)
	}
	cfg.Epochs = 2
	if _, err := runner.Train(cfg, runner.Options{Out: split}); err != nil {
		t.Fatal(err)
	}
	if _, err := runner.Resume(split, runner.Options{Epochs: 4}); err != nil {
		t.Fatal(err)
	}
	a, err := os.ReadFile(filepath.Join(straight, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(split, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Error("4 epochs straight and 2 + 2 resumed give different weights")
	}
	r, err := run.ReadConfig(split)
	if err != nil || r.Task != "regress" || r.Table == nil || r.Table.Preprocessing == nil {
		t.Fatalf("resumed run's config: %+v, %v", r, err)
	}
}
