// Package boardtest holds what the board's tests, benchmark and its
// screenshot and load-time tool (bench/board) share: synthetic run
// folders, and a headless Chromium driven with chromedp.
package boardtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/chromedp/chromedp"
)

// ErrNoChromium is Chromium's error where it is not installed.
var ErrNoChromium = errors.New("chromium not found: apt-get install chromium")

// Chromium returns the path of Chromium (Debian's chromium), or of
// Chrome, or ErrNoChromium.
func Chromium() (string, error) {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNoChromium
}

// Browser starts a headless Chromium with a window of width×height and
// returns a chromedp context for a tab of it; cancel ends the browser. As
// root, Chromium runs without its sandbox, which it refuses otherwise.
func Browser(parent context.Context, width, height int) (context.Context, context.CancelFunc, error) {
	path, err := Chromium()
	if err != nil {
		return nil, nil, err
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.WindowSize(width, height),
		chromedp.DisableGPU,
		chromedp.Flag("hide-scrollbars", true),
	)
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(parent, opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		cancelTab()
		cancelAlloc()
		return nil, nil, fmt.Errorf("starting %s: %w", path, err)
	}
	return ctx, func() { cancelTab(); cancelAlloc() }, nil
}

// Models are the models of WriteRuns' runs, in turn.
var Models = []string{"mlp", "cnn", "cnn-bn", "rnn"}

// WriteRuns writes n finished run folders of epochs epochs each under
// dir, as an experiment over seeds writes them: dir/<model>/seed-<s>/
// with config.json, metrics.csv and summary.json, and curves that fall
// like a classifier's. It returns the runs' IDs.
func WriteRuns(dir string, n, epochs int) ([]string, error) {
	var ids []string
	for i := range n {
		model := Models[i%len(Models)]
		seed := i/len(Models) + 1
		id := fmt.Sprintf("%s/seed-%d", model, seed)
		if err := WriteRun(filepath.Join(dir, filepath.FromSlash(id)), model, seed, epochs, true); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// WriteRun writes a synthetic classifier's run folder of epochs epochs at
// dir: config.json, metrics.csv and, if finished, summary.json.
func WriteRun(dir, model string, seed, epochs int, finished bool) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	cfg := map[string]any{
		"model": model, "task": "classify", "dataset": "fashion-mnist", "epochs": epochs,
		"batch_size": 64, "optimizer": "adam", "learning_rate": 0.001, "loss": "cce",
		"seed": seed, "dtype": "float32", "train_examples": 6000, "test_examples": 1000,
	}
	if err := writeJSON(filepath.Join(dir, "config.json"), cfg); err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("epoch,train_loss,train_accuracy,test_loss,test_accuracy,learning_rate,seconds\n")
	k := 0.05 + 0.01*float64(seed%7) + 0.02*float64(len(model)%3)
	var trainLoss, testLoss, acc float64
	for e := 1; e <= epochs; e++ {
		x := float64(e)
		trainLoss = 0.2 + 0.7*math.Exp(-k*x)
		testLoss = 0.35 + 0.5*math.Exp(-k*x) + 0.0005*x
		acc = 0.88 - 0.2*math.Exp(-k*x)
		lr := 0.001 * math.Pow(0.5, float64((e-1)/30))
		fmt.Fprintf(&b, "%d,%s,%s,%s,%s,%s,%.3f\n", e, num(trainLoss), num(acc+0.03), num(testLoss), num(acc), num(lr), 1+0.01*float64(seed%5))
	}
	if err := os.WriteFile(filepath.Join(dir, "metrics.csv"), []byte(b.String()), 0o644); err != nil {
		return err
	}
	if !finished {
		return nil
	}
	return writeJSON(filepath.Join(dir, "summary.json"), map[string]any{
		"model": model, "task": "classify", "dataset": "fashion-mnist", "seed": seed, "epochs": epochs,
		"train_loss": trainLoss, "test_loss": testLoss, "test_accuracy": acc, "early_stopped": false,
		"samples_per_sec": 5000 + float64(seed), "wall_seconds": float64(epochs) * 1.02,
	})
}

func num(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
