package rundir_test

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/rundir"
)

func TestDecodeJSONRefusesDuplicateKeys(t *testing.T) {
	for _, c := range []struct{ doc, path string }{
		{`{"epochs": 1, "epochs": 2}`, "epochs"},
		{`{"agent": {"env": "a", "steps": 1, "env": "b"}}`, "agent.env"},
		{`{"layers": [{"kind": "dense"}, {"kind": "relu", "kind": "tanh"}]}`, "layers[1].kind"},
		{`[{}, {"a": [1, {"b": 1, "b": 2}]}]`, "[1].a[1].b"},
	} {
		var v any
		err := rundir.DecodeJSON([]byte(c.doc), &v)
		if !errors.Is(err, rundir.ErrDuplicateKey) || !strings.HasPrefix(err.Error(), c.path+": ") {
			t.Errorf("%s: got %v, want %s: key set twice", c.doc, err, c.path)
		}
	}
}

func TestDecodeJSONAcceptsWhatEncodingJSONDoes(t *testing.T) {
	for _, doc := range []string{`{}`, `[]`, `1`, `"x"`, `{"a": {"a": {"a": 1}}, "b": [{"a": 1}, {"a": 2}]}`, " {\"a\":\n[1,2,3]} \n"} {
		var v any
		if err := rundir.DecodeJSON([]byte(doc), &v); err != nil {
			t.Errorf("%q: %v", doc, err)
		}
	}
	for _, doc := range []string{``, `{`, `{"a": 1} {"b": 2}`, `{"a": 1,}`, `[1, 2`, `{"a" 1}`} {
		var v any
		err := rundir.DecodeJSON([]byte(doc), &v)
		if err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: got %v, want a one-line error", doc, err)
		}
	}
}

func TestDecodeJSONNamesTheField(t *testing.T) {
	var v struct {
		Epochs int `json:"epochs"`
	}
	err := rundir.DecodeJSON([]byte(`{"epochs": "three"}`), &v)
	if err == nil || !strings.HasPrefix(err.Error(), "epochs: ") {
		t.Fatalf("got %v, want an error naming epochs first", err)
	}
}

func TestReadJSONNamesTheFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, rundir.Config), []byte(`{"seed": 1, "seed": 2}`), 0o644); err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	err := rundir.ReadJSON(dir, rundir.Config, 1<<10, &v)
	want := filepath.Join(dir, rundir.Config) + ": seed: key set twice"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
}

func TestMetricsRoundTrip(t *testing.T) {
	tab := rundir.NewTable("steps", "episodes", "mean_return", "loss", "seconds")
	tab.Append(6_500_000, 12, math.NaN(), 0.25, 1.23456)
	tab.Append(7_000_000, 3, 41.5, 1e-9, 2)
	b := tab.Encode()
	want := "steps,episodes,mean_return,loss,seconds\n6500000,12,,0.25,1.235\n7000000,3,41.5,1e-09,2.000\n"
	if string(b) != want {
		t.Fatalf("encoded\n%s\nwant\n%s", b, want)
	}
	got, err := rundir.ParseMetrics(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Rows() != 2 || got.Column("steps")[0] != 6_500_000 || !math.IsNaN(got.Column("mean_return")[0]) || got.Column("loss")[1] != 1e-9 {
		t.Fatalf("parsed %+v", got)
	}
	if got.Column("nope") != nil {
		t.Error("an unknown column is not nil")
	}
}

func TestParseMetricsKeepsTheGoodRows(t *testing.T) {
	got, err := rundir.ParseMetrics([]byte("epoch,train_loss\n1,0.5\n2,x\n3,0.25\n4"))
	if err == nil || err.Error() != `metrics.csv line 3: train_loss "x" is not a number` {
		t.Fatalf("got %v", err)
	}
	if got.Rows() != 2 || got.Column("epoch")[1] != 3 {
		t.Fatalf("kept %v", got.Data)
	}
	for _, bad := range []string{"", "loss\n1\n", "epoch,Loss\n", "epoch,a,a\n"} {
		if _, err := rundir.ParseMetrics([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{"a": 1, "a": 2}`, `[{"b": [1, {"c": 2}]}]`, `{"x": {"y": "z"}}`, `"s"`, `{`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var v any
		err := rundir.DecodeJSON(b, &v)
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Fatalf("a multi-line error: %q", err)
		}
	})
}

func FuzzParseMetrics(f *testing.F) {
	for _, s := range []string{"epoch,train_loss\n1,0.5\n", "steps,mean_return\n1000,\n", "epoch\n1\n2,3\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tab, err := rundir.ParseMetrics(b)
		if err == nil && tab == nil {
			t.Fatal("no table and no error")
		}
		if tab != nil {
			for _, c := range tab.Data {
				if len(c) != tab.Rows() {
					t.Fatal("ragged columns")
				}
			}
		}
	})
}
