package runner_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/music"
	"github.com/dlrun/dlrun/music/musictest"
	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/runner"
	"github.com/dlrun/dlrun/train"
)

// A music run writes its metrics by frame accuracy and NLL per step, and
// `dlrun eval` gives back the run's last test NLL to the last digit, with
// independent keys and with a joint output.
func TestMusicRunFilesAndEvaluation(t *testing.T) {
	data := musictest.Folder(t, 10)
	for _, model := range []string{"music-lstm", "music-lstm-joint"} {
		t.Run(model, func(t *testing.T) { musicRunFilesAndEvaluation(t, model, data) })
	}
}

func musicRunFilesAndEvaluation(t *testing.T, model, data string) {
	dir := t.TempDir()
	cfg := run.Config{Model: model, Dataset: data, SeqLen: 16, Config: train.Config{Epochs: 2, BatchSize: 2}}
	if _, err := runner.Train(cfg, runner.Options{Out: dir}); err != nil {
		t.Fatal(err)
	}
	b := mustRead(t, filepath.Join(dir, "metrics.csv"))
	if want := "epoch,train_loss,train_frame_accuracy,train_nll,test_loss,test_frame_accuracy,test_nll,"; !strings.HasPrefix(string(b), want) {
		t.Errorf("metrics.csv header:\n%s", b[:bytes.IndexByte(b, '\n')+1])
	}
	var sum map[string]any
	if err := json.Unmarshal(mustRead(t, filepath.Join(dir, "summary.json")), &sum); err != nil {
		t.Fatal(err)
	}
	nll, ok := sum["test_nll"].(float64)
	if !ok || nll <= 0 {
		t.Fatalf("summary.json: test_nll %v", sum["test_nll"])
	}
	if loss := sum["test_loss"].(float64); nll != loss*music.Keys {
		t.Errorf("test_nll %v is not 88 × test_loss %v", nll, loss)
	}
	r, err := run.Open(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rep, err := r.Evaluate(run.EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m := rep.(*run.MusicReport)
	if m.NLL != nll || m.FrameAccuracy != sum["test_frame_accuracy"].(float64) || m.Pieces != 1 {
		t.Errorf("eval: %+v; summary.json: test_nll %v, test_frame_accuracy %v", m, nll, sum["test_frame_accuracy"])
	}
}

// A music model resumes bit for bit, with independent keys and with a
// joint output.
func TestMusicResumeEqualsStraightThrough(t *testing.T) {
	data := musictest.Folder(t, 6)
	for _, model := range []string{"music-lstm", "music-lstm-joint"} {
		t.Run(model, func(t *testing.T) { musicResume(t, model, data) })
	}
}

func musicResume(t *testing.T, model, data string) {
	cfg := run.Config{Model: model, Dataset: data, SeqLen: 8, Config: train.Config{Epochs: 2, BatchSize: 2}}
	straight, split := filepath.Join(t.TempDir(), "straight"), filepath.Join(t.TempDir(), "split")
	if _, err := runner.Train(cfg, runner.Options{Out: straight}); err != nil {
		t.Fatal(err)
	}
	cfg.Epochs = 1
	if _, err := runner.Train(cfg, runner.Options{Out: split}); err != nil {
		t.Fatal(err)
	}
	if _, err := runner.Resume(split, runner.Options{Epochs: 2}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(mustRead(t, filepath.Join(straight, "model.safetensors")), mustRead(t, filepath.Join(split, "model.safetensors"))) {
		t.Fatal("model.safetensors differs between the straight and the resumed run")
	}
}

// Settings a music model does not take are refused, and its recipe is
// the benchmark's.
func TestMusicSettings(t *testing.T) {
	for _, c := range []struct {
		cfg  run.Config
		want string
	}{
		{run.Config{Model: "music-lstm", Config: train.Config{Loss: "cce"}}, "music prediction trains with bce"},
		{run.Config{Model: "music-lstm", Dim: 8}, "dim 8 does not apply to model music-lstm"},
		{run.Config{Model: "music-lstm", Task: "classify"}, "task classify does not apply to model music-lstm"},
	} {
		if err := c.cfg.Resolve(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.cfg, err, c.want)
		}
	}
	c := run.Config{Model: "music-lstm"}
	if err := c.Resolve(); err != nil || c.Dataset != "jsb-chorales" || c.Loss != "bce" || c.Task != "music" || c.SeqLen != 160 || c.Headline.Column != "test_nll" {
		t.Errorf("resolved music-lstm: %v %+v", err, c)
	}
	if _, err := os.Stat("no-such-folder"); err == nil {
		t.Skip("a folder called no-such-folder exists here")
	}
	cfg := run.Config{Model: "music-lstm", Dataset: "no-such-folder", Config: train.Config{Epochs: 1}}
	if _, err := runner.Train(cfg, runner.Options{Out: filepath.Join(t.TempDir(), "r")}); err == nil || !strings.Contains(err.Error(), "MIDI folder") {
		t.Errorf("training on a missing folder: %v", err)
	}
}

// Composing: the same seed composes the same piece, another seed another;
// a prime is read first and kept; options out of range and runs of other
// kinds are refused in one line.
func TestMusicCompose(t *testing.T) {
	data, dir := musictest.Folder(t, 6), t.TempDir()
	cfg := run.Config{Model: "music-lstm", Dataset: data, SeqLen: 16, Config: train.Config{Epochs: 1, BatchSize: 2}}
	r := trainAndOpen(t, cfg, dir)
	compose := func(o run.ComposeOptions) *music.Roll {
		t.Helper()
		p, err := r.Compose(o)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	a, b := compose(run.ComposeOptions{Steps: 20, Temperature: 1, Seed: 1}), compose(run.ComposeOptions{Steps: 20, Temperature: 1, Seed: 1})
	c := compose(run.ComposeOptions{Steps: 20, Temperature: 1, Seed: 2})
	if len(a.Steps) != 21 || fmt.Sprint(a.Notes()) != fmt.Sprint(b.Notes()) {
		t.Errorf("seed 1 composed %v, then %v", a.Notes(), b.Notes())
	}
	if fmt.Sprint(a.Notes()) == fmt.Sprint(c.Notes()) {
		t.Errorf("seeds 1 and 2 composed the same piece %v", a.Notes())
	}
	prime, err := music.FromNotes([][]int{{60, 64, 67}, {}, {62, 65, 69}}, music.Quarter)
	if err != nil {
		t.Fatal(err)
	}
	p := compose(run.ComposeOptions{Prime: prime, Steps: 5, Seed: 1})
	if len(p.Steps) != 8 || fmt.Sprint(p.Notes()[:3]) != fmt.Sprint(prime.Notes()) {
		t.Errorf("primed piece %v does not start with the prime %v", p.Notes(), prime.Notes())
	}
	for _, c := range []struct {
		o    run.ComposeOptions
		want string
	}{
		{run.ComposeOptions{Steps: 0}, "--steps 0: must be 1 to 2048"},
		{run.ComposeOptions{Steps: 4, Temperature: -1}, "--temperature -1"},
		{run.ComposeOptions{Steps: 4, Prime: &music.Roll{}}, "--prime holds no steps"},
		{run.ComposeOptions{Steps: 2046, Prime: prime}, "more than the 2048 steps"},
	} {
		if _, err := r.Compose(c.o); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.o, err, c.want)
		}
	}
	xor := t.TempDir()
	if _, err := runner.Train(run.Config{Model: "xor", Config: train.Config{Epochs: 1}}, runner.Options{Out: xor}); err != nil {
		t.Fatal(err)
	}
	rx, err := run.Open(xor, false)
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	if _, err := rx.Compose(run.ComposeOptions{Steps: 4}); !errors.Is(err, run.ErrDoesNotApply) {
		t.Errorf("composing with xor: %v", err)
	}
}

// A joint model composes key by key from the conditionals its training
// scored: at temperature 0 each key it sounds (and none it leaves silent)
// has a conditional logit of at least 0 given the keys below it in its
// step, as the model's outputs over the composed roll give them; the
// same seed composes the same piece.
func TestMusicJointCompose(t *testing.T) {
	data, dir := musictest.Folder(t, 6), t.TempDir()
	cfg := run.Config{Model: "music-lstm-joint", Dataset: data, SeqLen: 16, Config: train.Config{Epochs: 3, BatchSize: 2}}
	r := trainAndOpen(t, cfg, dir)
	p, err := r.Compose(run.ComposeOptions{Steps: 15, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, 16*music.Keys)
	for s, step := range p.Steps {
		step.Fill(x[s*music.Keys : (s+1)*music.Keys])
	}
	rows, err := r.Model.Outputs(x)
	if err != nil {
		t.Fatal(err)
	}
	sounding := 0
	for s := 1; s < 16; s++ {
		for k, l := range rows[s-1] {
			if on := x[s*music.Keys+k] == 1; on != (l >= 0) {
				t.Fatalf("step %d, key %d: sounds %v, its conditional logit is %v", s+1, k, on, l)
			}
		}
		sounding += len(p.Steps[s].Notes())
	}
	t.Logf("%d notes over 15 steps at temperature 0", sounding)
	a, err := r.Compose(run.ComposeOptions{Steps: 20, Temperature: 1, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.Compose(run.ComposeOptions{Steps: 20, Temperature: 1, Seed: 1})
	if err != nil || fmt.Sprint(a.Notes()) != fmt.Sprint(b.Notes()) {
		t.Errorf("seed 1 composed %v, then %v (%v)", a.Notes(), b.Notes(), err)
	}
	ts, err := r.Tensors()
	if err != nil || !strings.Contains(ts.Outputs[0].Doc, "given the keys below it") {
		t.Errorf("the served logits are described as %+v (%v)", ts, err)
	}
}

// A music model reads a MIDI folder on the grid it is given; a bad grid,
// a grid for the JSB Chorales and a grid for another kind are refused.
func TestMusicGrid(t *testing.T) {
	data, dir := musictest.Folder(t, 5), t.TempDir()
	cfg := run.Config{Model: "music-lstm", Dataset: data, Grid: "8th", SeqLen: 40, Config: train.Config{Epochs: 1, BatchSize: 2}}
	if _, err := runner.Train(cfg, runner.Options{Out: dir}); err != nil {
		t.Fatal(err)
	}
	var c struct {
		Grid          string `json:"grid"`
		TrainExamples int    `json:"train_examples"`
	}
	if err := json.Unmarshal(mustRead(t, filepath.Join(dir, "config.json")), &c); err != nil {
		t.Fatal(err)
	}
	// The 3 training pieces (12+i quarter notes) as 8ths: twice the steps.
	if c.Grid != "8th" || c.TrainExamples < 60 {
		t.Errorf("config.json: grid %q, %d train steps; want 8th and at least 60", c.Grid, c.TrainExamples)
	}
	r, err := run.Open(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if g, err := r.Grid(); err != nil || g != music.Eighth {
		t.Errorf("Grid: %v %v", g, err)
	}
	for _, c := range []struct {
		cfg  run.Config
		want string
	}{
		{run.Config{Model: "music-lstm", Grid: "32nd"}, `grid "32nd"`},
		{run.Config{Model: "mf", Grid: "8th"}, `grid "8th" does not apply to model mf`},
	} {
		if err := c.cfg.Resolve(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.cfg, err, c.want)
		}
	}
	cfg = run.Config{Model: "music-lstm", Grid: "16th", Config: train.Config{Epochs: 1}}
	if _, err := runner.Train(cfg, runner.Options{Out: filepath.Join(t.TempDir(), "r")}); err == nil || !strings.Contains(err.Error(), "published at quarter notes") {
		t.Errorf("JSB at 16ths: %v", err)
	}
}

// music-transformer trains on piano rolls, evaluates to its run's figure
// and composes within its positions.
func TestMusicTransformer(t *testing.T) {
	data, dir := musictest.Folder(t, 6), t.TempDir()
	cfg := run.Config{Model: "music-transformer", Dataset: data, SeqLen: 16, Config: train.Config{Epochs: 1, BatchSize: 2}}
	r := trainAndOpen(t, cfg, dir)
	rep, err := r.Evaluate(run.EvalOptions{})
	if err != nil || rep.(*run.MusicReport).NLL <= 0 {
		t.Fatalf("eval: %+v %v", rep, err)
	}
	if p, err := r.Compose(run.ComposeOptions{Steps: 10, Temperature: 1, Seed: 1}); err != nil || len(p.Steps) != 11 {
		t.Errorf("compose: %v", err)
	}
	if _, err := r.Compose(run.ComposeOptions{Steps: 40, Seed: 1}); err == nil || !strings.Contains(err.Error(), "more than the 16 positions") {
		t.Errorf("composing past the positions: %v", err)
	}
}

// trainAndOpen trains cfg into dir and opens the run, closed when the
// test ends.
func trainAndOpen(t *testing.T, cfg run.Config, dir string) *run.Run {
	t.Helper()
	if _, err := runner.Train(cfg, runner.Options{Out: dir}); err != nil {
		t.Fatal(err)
	}
	r, err := run.Open(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}
