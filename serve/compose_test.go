package serve_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/music"
	"github.com/dlrun/dlrun/music/musictest"
	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/runner"
	"github.com/dlrun/dlrun/serve"
	"github.com/dlrun/dlrun/train"
)

// compose answers a music model with the MIDI file `dlrun compose` would
// write, the same for the same request; bad settings and other kinds of
// model are 400s.
func TestCompose(t *testing.T) {
	dir, data := t.TempDir(), musictest.Folder(t, 5)
	bach := filepath.Join(dir, "bach")
	cfg := run.Config{Model: "music-lstm", Dataset: data, SeqLen: 10, Config: train.Config{Epochs: 1, BatchSize: 2}}
	if _, err := runner.Train(cfg, runner.Options{Out: bach}); err != nil {
		t.Fatal(err)
	}
	_, base := startServer(t, serve.Options{}, bach, runs.mf)
	post := func(model, body string) (int, string, []byte) {
		t.Helper()
		resp, err := http.Post(base+"/v2/models/"+model+"/compose", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, resp.Header.Get("Content-Type"), b
	}
	code, typ, a := post("bach", `{"steps": 12, "seed": 5}`)
	if code != http.StatusOK || typ != "audio/midi" {
		t.Fatalf("compose: %d %s %s", code, typ, a)
	}
	song, err := music.Parse("answer", a)
	if err != nil {
		t.Fatal(err)
	}
	if roll, _, err := song.Roll(music.Quarter); err != nil || len(roll.Steps) > 13 || len(roll.Steps) < 1 {
		t.Errorf("the answer reads back as %d steps, %v; want at most 13", len(roll.Steps), err)
	}
	if _, _, b := post("bach", `{"steps": 12, "seed": 5}`); !bytes.Equal(a, b) {
		t.Error("the same request composed two different files")
	}
	if code, _, b := post("bach", ""); code != http.StatusOK || len(b) == 0 {
		t.Errorf("an empty body: %d %s", code, b)
	}
	// infer answers the logits after each step, as the model computes them.
	x := make([]float32, 10*music.Keys)
	for i := range x {
		if i%7 == 0 {
			x[i] = 1
		}
	}
	want, err := load(t, bach).Model.Outputs(x)
	if err != nil {
		t.Fatal(err)
	}
	got := infer(t, base, "bach", inferRequest("FP32", []int{1, 10, music.Keys}, x, ""))
	if len(got.Outputs) != 1 || fmt.Sprint(got.Outputs[0].Shape) != "[1 10 88]" {
		t.Fatalf("infer: %+v", got.Outputs)
	}
	logits, _ := got.Outputs[0].Data.([]float32)
	if len(logits) != 10*music.Keys {
		t.Fatalf("infer: %d logits, want %d", len(logits), 10*music.Keys)
	}
	for i, v := range logits {
		if w := float32(want[i/music.Keys][i%music.Keys]); v != w {
			t.Fatalf("infer: logit %d is %v, the model's %v", i, v, w)
		}
	}
	for _, c := range []struct {
		model, body, want string
	}{
		{"bach", `{"steps": 0}`, "steps 0: must be 1 to 256"},
		{"bach", `{"steps": 100000}`, "steps 100000"},
		{"bach", `{"temperature": -2}`, "temperature -2"},
		{"bach", `{"steps": "many"}`, "steps is a JSON string"},
		{"mf", `{}`, "compose takes a music model"},
	} {
		code, _, b := post(c.model, c.body)
		if code != http.StatusBadRequest || !strings.Contains(string(b), c.want) {
			t.Errorf("%s %s: %d %s, want 400 with %q", c.model, c.body, code, b, c.want)
		}
	}
}
