package serve_test

import (
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/runner"
	"github.com/dlrun/dlrun/serve"
	"github.com/dlrun/dlrun/train"
)

// A model trained on a CSV table takes a row's named columns, in any
// order, text or numbers, and answers as predict does: a regressor's value
// in the target's units. The preprocessed input tensor is taken too.
func TestServeTableColumns(t *testing.T) {
	var b strings.Builder
	b.WriteString("size,colour,price\n")
	for i := 0; i < 60; i++ {
		fmt.Fprintf(&b, "%d,%s,%d\n", i, []string{"red", "blue"}[i%2], 100+10*i+50*(i%2))
	}
	path := filepath.Join(t.TempDir(), "prices.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "prices")
	cfg := run.Config{Model: "mlp", Dataset: path, Table: &run.TableConfig{Target: "price"}, Config: train.Config{Epochs: 2, BatchSize: 8}}
	if _, err := runner.Train(cfg, runner.Options{Out: dir}); err != nil {
		t.Fatal(err)
	}
	m := load(t, dir)
	var want strings.Builder
	rows := filepath.Join(t.TempDir(), "rows.csv")
	os.WriteFile(rows, []byte("colour,size\nblue,3\nred,40\n"), 0o644)
	if err := m.PredictTable(rows, &want); err != nil {
		t.Fatal(err)
	}

	_, base := startServer(t, serve.Options{}, dir)
	resp := infer(t, base, "prices", `{"inputs":[{"name":"colour","shape":[2],"datatype":"BYTES","data":["blue","red"]},{"name":"size","shape":[2,1],"datatype":"INT64","data":[[3],[40]]}]}`)
	if len(resp.Outputs) != 1 || resp.Outputs[0].Name != "value" {
		t.Fatalf("outputs %+v", resp.Outputs)
	}
	got := resp.Outputs[0].Data.([]float32)
	lines := strings.Split(strings.TrimSpace(want.String()), "\n")
	for i, v := range got {
		var p float64
		fmt.Sscanf(lines[i+1][strings.LastIndex(lines[i+1], ",")+1:], "%g", &p)
		if math.Abs(float64(v)-p) > 1e-3*math.Abs(p) {
			t.Errorf("row %d: served %v, predict wrote %v", i, v, p)
		}
	}
	for _, c := range []struct{ body, want string }{
		{`{"inputs":[{"name":"colour","shape":[1],"datatype":"BYTES","data":["blue"]}]}`, `no column \"size\"`},
		{`{"inputs":[{"name":"colour","shape":[1],"datatype":"BYTES","data":["blue"]},{"name":"size","shape":[2],"datatype":"FP32","data":[1,2]}]}`, `input \"size\": 2 rows, but input \"colour\" has 1`},
		{`{"inputs":[{"name":"colour","shape":[1],"datatype":"BYTES","data":["blue"]},{"name":"size","shape":[1],"datatype":"FP32","data":["big"]}]}`, `row 0: column \"size\": \"big\" is not a number`},
		{`{"inputs":[{"name":"colour","shape":[1],"datatype":"BOOL","data":[true]},{"name":"size","shape":[1],"datatype":"FP32","data":[1]}]}`, `datatype \"BOOL\"`},
	} {
		code, body := call(t, "POST", base+"/v2/models/prices/infer", "application/json", strings.NewReader(c.body))
		if code != http.StatusBadRequest || !strings.Contains(string(body), c.want) {
			t.Errorf("%s: %d %s, want 400 containing %s", c.body, code, body, c.want)
		}
	}
	// The preprocessed input, as ONNX takes it, gives the same value.
	x := make([]float32, 3) // size standardised, colour one-hot (blue, red)
	p := m.Config.Table.Preprocessing
	x[0] = float32((3 - p.Columns[0].Mean) / p.Columns[0].Std)
	x[1] = 1
	resp = infer(t, base, "prices", inferRequest("FP32", []int{1, 3}, x, ""))
	if v := resp.Outputs[0].Data.([]float32)[0]; math.Abs(float64(v-got[0])) > 1e-3 {
		t.Errorf("preprocessed input: %v, named columns: %v", v, got[0])
	}
}

// A classifier trained on a table takes named columns too, and answers
// the target's class names.
func TestServeTableClassifierColumns(t *testing.T) {
	var b strings.Builder
	b.WriteString("size,shape\n")
	for i := 0; i < 60; i++ {
		shape := "small"
		if i%10 >= 5 {
			shape = "large"
		}
		fmt.Fprintf(&b, "%d,%s\n", i%10, shape)
	}
	path := filepath.Join(t.TempDir(), "shapes.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "shapes")
	cfg := run.Config{Model: "mlp", Dataset: path, Table: &run.TableConfig{Target: "shape"}, Config: train.Config{Epochs: 1, BatchSize: 8}}
	if _, err := runner.Train(cfg, runner.Options{Out: dir}); err != nil {
		t.Fatal(err)
	}
	_, base := startServer(t, serve.Options{}, dir)
	resp := infer(t, base, "shapes", `{"inputs":[{"name":"size","shape":[2],"datatype":"FP64","data":[1, 8]}],"outputs":[{"name":"top_classes"}]}`)
	if len(resp.Outputs) != 1 {
		t.Fatalf("outputs %+v", resp.Outputs)
	}
	for _, s := range resp.Outputs[0].Data.([]string) {
		if !strings.HasSuffix(s, ":large") && !strings.HasSuffix(s, ":small") {
			t.Errorf("top class %q does not name a class of the table", s)
		}
	}
}
