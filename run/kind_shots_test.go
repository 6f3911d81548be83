package run_test

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/runner"
	"github.com/dlrun/dlrun/train"
	"github.com/dlrun/dlrun/video/synth"
)

// needTools skips a test where ffmpeg is missing, unless the environment
// requires it (DLRUN_REQUIRE_FFMPEG, as .ci/run sets).
func needTools(t *testing.T) {
	t.Helper()
	for _, p := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(p); err != nil {
			if os.Getenv("DLRUN_REQUIRE_FFMPEG") != "" {
				t.Fatalf("%s is required (DLRUN_REQUIRE_FFMPEG is set): %v", p, err)
			}
			t.Skipf("run: %s not installed (Debian's ffmpeg package)", p)
		}
	}
}

var (
	shotMaterialOnce sync.Once
	shotMaterialDir  string
	shotMaterialErr  error
)

// shotMaterial makes a little shot-boundary material once per test binary
// (3 training clips, 2 test clips of 4 shots) and returns its folder. It
// skips, naming the packages, where ffmpeg or the wallpapers are missing.
func shotMaterial(t *testing.T) string {
	t.Helper()
	needTools(t)
	if photos, _ := synth.Photos(); len(photos) < 4 {
		t.Skipf("run: the shot material's photographs are not installed (Debian's %v)", synth.Packages())
	}
	shotMaterialOnce.Do(func() {
		dir, err := os.MkdirTemp("", "dlrun-shots-test")
		if err != nil {
			shotMaterialErr = err
			return
		}
		shotMaterialDir = dir
		shotMaterialErr = synth.Generate(context.Background(), synth.Config{Out: dir, Seed: 5, Train: 3, Test: 2, Width: 64, Height: 36, Shots: 4}, io.Discard)
	})
	if shotMaterialErr != nil {
		t.Fatal(shotMaterialErr)
	}
	return shotMaterialDir
}

// A shot detector trains on the material, opens, evaluates with its F1
// figures and where its false positives fall, and says how it is served;
// material that is not there names the command that makes it.
func TestShotsKind(t *testing.T) {
	if testing.Short() {
		t.Skip("makes video material")
	}
	data := shotMaterial(t)
	defer os.RemoveAll(data)
	dir := filepath.Join(t.TempDir(), "shots")
	cfg := run.Config{Model: "shots", Dataset: data, SeqLen: 40, Config: train.Config{Epochs: 2, BatchSize: 4}}
	if _, err := runner.Train(cfg, runner.Options{Out: dir}); err != nil {
		t.Fatal(err)
	}
	r, err := run.Open(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Kind != run.Shots || !slices.Equal(r.InputShape(), []int{40, 3, 27, 48}) {
		t.Fatalf("opened as %s with input %v", r.Kind.Name(), r.InputShape())
	}
	rep, err := r.Evaluate(run.EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sr, ok := rep.(*run.ShotsReport)
	if !ok || sr.Clips != 2 || sr.Frames < 2*4*25 {
		t.Fatalf("report %#v", rep)
	}
	c := sr.Counts
	if c.Cuts+c.MissedCuts+c.Gradual+c.MissedGradual != 2*3 {
		t.Errorf("counts %+v: the 2 test clips of 4 shots have 6 transitions", c)
	}
	if sr.F1Cuts != c.F1Cuts() || sr.Recall != c.Recall() {
		t.Errorf("report %+v disagrees with its counts", sr)
	}
	var b strings.Builder
	sr.Print(&b)
	if !strings.Contains(b.String(), "hard cuts:  F1") || !strings.Contains(b.String(), "gradual:    F1") {
		t.Errorf("report reads\n%s", b.String())
	}
	ts, err := r.Tensors()
	if err != nil {
		t.Fatal(err)
	}
	if len(ts.Outputs) != 1 || !slices.Equal(ts.Outputs[0].Shape, []int{40, train.ShotOutputs}) {
		t.Errorf("tensors %+v", ts)
	}
	if _, err := r.Recommender(""); !errors.Is(err, run.ErrDoesNotApply) {
		t.Errorf("recommending with a shot detector: %v", err)
	}

	_, err = runner.Train(run.Config{Model: "shots", Dataset: filepath.Join(t.TempDir(), "none")}, runner.Options{Out: filepath.Join(t.TempDir(), "x")})
	if err == nil || !strings.Contains(err.Error(), synth.Command) || strings.Contains(err.Error(), "\n") {
		t.Errorf("training on no material: %v", err)
	}
}
