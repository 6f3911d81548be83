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
