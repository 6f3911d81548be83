package runner_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/runner"
)

// pets writes a small image folder: n 8×6 RGB PNGs in each of three class
// folders, each class a colour of its own, and an unreadable file in one
// of them; it returns the folder.
func pets(t *testing.T, n int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "pets")
	for c, class := range []string{"cat", "dog", "fox"} {
		if err := os.MkdirAll(filepath.Join(dir, class), 0o755); err != nil {
			t.Fatal(err)
		}
		for i := range n {
			img := image.NewRGBA(image.Rect(0, 0, 8, 6))
			for p := range 8 * 6 {
				img.Set(p%8, p/8, color.RGBA{uint8(80*c + 3*i + p), uint8(200 - 60*c), uint8(7 * (p + i)), 255})
			}
			var b bytes.Buffer
			if err := png.Encode(&b, img); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, class, fmt.Sprintf("%02d.png", i)), b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "dog", "broken.png"), []byte("not an image"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// A run on an image folder (resized, augmented, its unreadable image
// skipped) records the class names and its image options, counts the
// skipped image in summary.json, resumes bit for bit, evaluates and
// predicts with the class names, and trains the same weights with one
// worker as with four.
func TestImageFolderRun(t *testing.T) {
	dir := pets(t, 10)
	cfg := run.Config{Model: "cnn", Dataset: dir, Images: &run.ImageConfig{Size: "10x12", Augment: "crop=2,flip", SkipBad: true}}
	cfg.Epochs, cfg.BatchSize = 2, 8

	strict := cfg
	strict.Images = &run.ImageConfig{Size: "10x12"}
	_, err := runner.Train(strict, runner.Options{Out: filepath.Join(t.TempDir(), "strict")})
	if err == nil || !strings.Contains(err.Error(), "broken.png: not a PNG, JPEG, GIF or WebP image") || strings.Contains(err.Error(), "\n") {
		t.Errorf("an unreadable image without skip_bad: %v", err)
	}

	straight, split, four := filepath.Join(t.TempDir(), "straight"), filepath.Join(t.TempDir(), "split"), filepath.Join(t.TempDir(), "four")
	one := cfg
	one.Workers = 1
	var log strings.Builder
	s, err := runner.Train(one, runner.Options{Out: straight, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	if s.SkippedImages != 1 || !strings.Contains(log.String(), "skipped 1 unreadable image (skip_bad):\n  "+filepath.Join(dir, "dog", "broken.png")+": not a PNG") {
		t.Errorf("skipped %d images; log:\n%s", s.SkippedImages, log.String())
	}
	var sum map[string]any
	if err := json.Unmarshal(mustRead(t, filepath.Join(straight, "summary.json")), &sum); err != nil || sum["skipped_images"] != 1.0 {
		t.Errorf("summary.json: skipped_images %v (%v)", sum["skipped_images"], err)
	}
	r, err := run.Open(straight, false)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if !slices.Equal(r.Classes(), []string{"cat", "dog", "fox"}) || !slices.Equal(r.InputShape(), []int{3, 10, 12}) || *r.Config.Images != *cfg.Images {
		t.Errorf("config.json: classes %v, input %v, images %+v", r.Classes(), r.InputShape(), r.Config.Images)
	}
	rep, err := r.Evaluate(run.EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cr := rep.(*run.ClassifierReport); cr.Examples != 6 || cr.Classes[2].Name != "fox" {
		t.Errorf("evaluation: %d examples, classes %+v", cr.Examples, cr.Classes)
	}
	preds, err := r.PredictImages([]string{filepath.Join(dir, "fox", "03.png")}, false)
	if err != nil || preds[0].Err != nil {
		t.Fatalf("predict: %v %v", err, preds[0].Err)
	}
	if top := preds[0].Top(1, r.Classes()); top[0].Class != "cat" && top[0].Class != "dog" && top[0].Class != "fox" {
		t.Errorf("predict names class %q", top[0].Class)
	}

	cfg.Workers = 4
	if _, err := runner.Train(cfg, runner.Options{Out: four}); err != nil {
		t.Fatal(err)
	}
	sameRun(t, straight, four)

	one.Epochs = 1
	if _, err := runner.Train(one, runner.Options{Out: split}); err != nil {
		t.Fatal(err)
	}
	if _, err := runner.Resume(split, runner.Options{Epochs: 2}); err != nil {
		t.Fatal(err)
	}
	sameRun(t, straight, split)
}

// Image options for data that is not an image folder, and bad values, are
// one-line errors naming the setting.
func TestImageOptionsRefused(t *testing.T) {
	for _, c := range []struct {
		cfg  run.Config
		want string
	}{
		{run.Config{Model: "cnn", Dataset: "fashion-mnist", Images: &run.ImageConfig{Size: "14x14"}}, `image_size "14x14": the image options read an image folder`},
		{run.Config{Model: "charrnn", Images: &run.ImageConfig{SkipBad: true}}, "skip_bad does not apply to model charrnn"},
		{run.Config{Model: "cnn", Images: &run.ImageConfig{Size: "0x3"}}, `image_size "0x3": want HxW`},
		{run.Config{Model: "cnn", Images: &run.ImageConfig{Channels: 2}}, "channels 2: want 1 (grayscale) or 3 (RGB)"},
		{run.Config{Model: "cnn", Images: &run.ImageConfig{Augment: "rotate"}}, `unknown "rotate"`},
	} {
		c.cfg.Epochs = 1
		_, err := runner.Train(c.cfg, runner.Options{Out: filepath.Join(t.TempDir(), "r")})
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%+v: %v, want %q", c.cfg.Images, err, c.want)
		}
	}
}
