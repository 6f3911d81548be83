// Command infer times inference with one of dlrun's image classifiers —
// train.Model.Predict on batches of the bundled Fashion-MNIST test split —
// and the same net in PyTorch 1.13 (Debian's python3-torch) in eval mode
// under torch.no_grad(), and prints both throughputs (images/s) and
// latencies (per call) for each batch size with their ratio.
//
//	go run ./bench/infer -model cnn
//	go run ./bench/infer -model gru -batches 1,16,64 -seconds 5
//
// The models are mlp, cnn, cnn-bn, rnn and gru; rnn and gru read each
// 28x28 image as 28 steps of 28 values. dlrun's model is what a user
// predicts with: a run trained for one epoch by the dlrun command (or the
// run folder given by -run) loaded with train.Load. Its graph is built for
// the run's batch size (64 for these recipes) and a smaller call fills
// only some of its rows; the "graph=b" column reloads the model with its
// batch size set to the call's (model.json's batch_size rewritten in a
// copy of the run folder), which is what a server predicting one image at
// a time would do. PyTorch's weights are its own initialisation: the time
// of a forward pass does not depend on them.
//
// Each figure is the median latency of repeated calls over about -seconds
// (after a warm-up), on consecutive batches of the test split; images/s
// is the batch size over that median. PyTorch gets its best settings on
// this machine, as in bench/compare: the OpenBLAS core type chosen from
// the CPU (internal/torchref) and, per
// batch size, the best of the thread splits given by -splits (torch
// threads / OPENBLAS_NUM_THREADS). dlrun runs with all cores (GOMAXPROCS
// unset).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dlrun/dlrun/datasets"
	"github.com/dlrun/dlrun/internal/torchref"
	"github.com/dlrun/dlrun/train"
)

// timing is one framework's figures for one batch size.
type timing struct {
	ImagesPerSec float64
	LatencyMs    float64
	Calls        int
	Name         string // pytorch: the thread split
}

func main() {
	model := flag.String("model", "cnn", "image classifier: mlp, cnn, cnn-bn, rnn or gru")
	batches := flag.String("batches", "1,64", "batch sizes, comma-separated")
	seconds := flag.Float64("seconds", 3, "seconds of timed calls per batch size and framework")
	runDir := flag.String("run", "", "a trained run folder of the model to load (default: train one epoch into a temporary folder)")
	python := flag.String("python", "/usr/bin/python3", "Python with Debian's python3-torch")
	splits := flag.String("splits", "2/1,1/2,1/1", "PyTorch thread splits to try: torch threads/OpenBLAS threads")
	tags := flag.String("tags", "", "build tags for the dlrun command that trains the model")
	flag.Parse()
	if err := run(*model, *batches, *seconds, *runDir, *python, *splits, *tags); err != nil {
		fmt.Fprintln(os.Stderr, "infer:", err)
		os.Exit(1)
	}
}

func run(model, batchList string, seconds float64, runDir, python, splits, tags string) error {
	switch model {
	case "mlp", "cnn", "cnn-bn", "rnn", "gru":
	default:
		return fmt.Errorf("-model %s: not an image classifier (mlp, cnn, cnn-bn, rnn, gru)", model)
	}
	set, err := datasets.FashionMNIST()
	if err != nil {
		return err
	}
	x, size := set.Test.X, 1
	for _, d := range set.Shape {
		size *= d
	}
	n := len(x) / size
	var bs []int
	for _, s := range strings.Split(batchList, ",") {
		b, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || b < 1 || b > n {
			return fmt.Errorf("-batches: %q is not a batch size in [1, %d]", s, n)
		}
		bs = append(bs, b)
	}
	tmp, err := os.MkdirTemp("", "dlrun-infer-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if runDir == "" {
		runDir = filepath.Join(tmp, "run")
		if err := trainRun(model, runDir, tmp, tags); err != nil {
			return err
		}
	}
	saved, err := train.ReadInfo(runDir)
	if err != nil {
		return err
	}
	m, err := train.Load(runDir, false)
	if err != nil {
		return err
	}
	defer m.Close()
	dl := map[int]timing{}
	own := map[int]timing{} // the model reloaded with its graph's batch size set to b
	for _, b := range bs {
		t, err := timePredict(m, x, size, b, seconds)
		if err != nil {
			return err
		}
		dl[b] = t
		fmt.Fprintf(os.Stderr, "dlrun batch %d (graph %d): %.0f images/s, median %.3f ms over %d calls\n", b, saved.BatchSize, t.ImagesPerSec, t.LatencyMs, t.Calls)
		if b == saved.BatchSize {
			own[b] = t
			continue
		}
		mb, err := loadWithBatch(runDir, filepath.Join(tmp, fmt.Sprintf("batch%d", b)), b)
		if err != nil {
			return err
		}
		t, err = timePredict(mb, x, size, b, seconds)
		mb.Close()
		if err != nil {
			return err
		}
		own[b] = t
		fmt.Fprintf(os.Stderr, "dlrun batch %d (graph %d): %.0f images/s, median %.3f ms over %d calls\n", b, b, t.ImagesPerSec, t.LatencyMs, t.Calls)
	}

	best := map[int]timing{}
	note := ""
	if _, err := os.Stat(python); err != nil {
		note = "pytorch not run: " + python + " not found (apt-get install python3-torch)"
	} else {
		var lastErr error
		for _, s := range strings.Split(splits, ",") {
			tt, ob, ok := strings.Cut(strings.TrimSpace(s), "/")
			if !ok {
				return fmt.Errorf("-splits: %q is not torch/openblas", s)
			}
			r, err := runTorch(python, model, batchList, seconds, tt, ob)
			if err != nil {
				fmt.Fprintf(os.Stderr, "pytorch %s: %v\n", s, err)
				lastErr = err
				continue
			}
			for b, t := range r {
				if t.ImagesPerSec > best[b].ImagesPerSec {
					best[b] = t
				}
			}
		}
		if len(best) == 0 {
			note = fmt.Sprintf("every PyTorch run failed, the last: %v", lastErr)
		}
	}

	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "model %s, inference on the Fashion-MNIST test split, float32, median of ~%gs of calls per figure\n", model, seconds)
	fmt.Fprintf(w, "dlrun: train.Model.Predict (graph batch %d as saved; graph=b: reloaded with batch_size b); pytorch: eval(), no_grad(), forward\n", saved.BatchSize)
	fmt.Fprintf(w, "MODEL\tBATCH\tDLRUN IMG/S\tDLRUN MS\tDLRUN graph=b IMG/S\tDLRUN graph=b MS\tPYTORCH IMG/S\tPYTORCH MS\tSPLIT\tRATIO\tRATIO graph=b\n")
	for _, b := range bs {
		d, o, p := dl[b], own[b], best[b]
		ratio, ratioOwn := "-", "-"
		pt := [3]string{"-", "-", "-"}
		if p.ImagesPerSec > 0 {
			ratio = fmt.Sprintf("%.2fx", d.ImagesPerSec/p.ImagesPerSec)
			ratioOwn = fmt.Sprintf("%.2fx", o.ImagesPerSec/p.ImagesPerSec)
			pt = [3]string{fmt.Sprintf("%.0f", p.ImagesPerSec), fmt.Sprintf("%.3f", p.LatencyMs), p.Name}
		}
		fmt.Fprintf(w, "%s\t%d\t%.0f\t%.3f\t%.0f\t%.3f\t%s\t%s\t%s\t%s\t%s\n", model, b, d.ImagesPerSec, d.LatencyMs, o.ImagesPerSec, o.LatencyMs, pt[0], pt[1], pt[2], ratio, ratioOwn)
	}
	w.Flush()
	if note != "" {
		fmt.Println(note)
	} else {
		fmt.Println("ratio: dlrun images/s over the best PyTorch split's (above 1: dlrun is faster)")
	}
	return nil
}

// trainRun trains model for one epoch with the dlrun command into out.
func trainRun(model, out, tmp, tags string) error {
	bin := filepath.Join(tmp, "dlrun")
	args := []string{"build", "-o", bin}
	if tags != "" {
		args = append(args, "-tags", tags)
	}
	build := exec.Command("go", append(args, "./cmd/dlrun")...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("building dlrun: %v", err)
	}
	targs := []string{"train", "--model", model, "--epochs", "1", "--out", out}
	if model == "gru" {
		targs[2] = "rnn"
		targs = append(targs, "--cell", "gru")
	}
	fmt.Fprintf(os.Stderr, "training the model for one epoch: dlrun %s\n", strings.Join(targs, " "))
	cmd := exec.Command(bin, targs...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("dlrun train: %v", err)
	}
	return nil
}

// loadWithBatch copies run folder dir's model.json (its batch_size set to
// b) and weights into to and loads the model from there.
func loadWithBatch(dir, to string, b int) (*train.Model, error) {
	info, err := train.ReadInfo(dir)
	if err != nil {
		return nil, err
	}
	info.BatchSize = b
	if err := os.MkdirAll(to, 0o755); err != nil {
		return nil, err
	}
	j, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(to, "model.json"), j, 0o644); err != nil {
		return nil, err
	}
	w, err := os.ReadFile(filepath.Join(dir, "model.safetensors"))
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(to, "model.safetensors"), w, 0o644); err != nil {
		return nil, err
	}
	return train.Load(to, false)
}

// timePredict calls m.Predict on consecutive batches of b examples of x
// (size values each) for about seconds, after a warm-up, and returns the
// median latency and the throughput it gives.
func timePredict(m *train.Model, x []float32, size, b int, seconds float64) (timing, error) {
	n := len(x) / size
	batches := n / b
	at := func(i int) []float32 {
		j := i % batches
		return x[j*b*size : (j+1)*b*size]
	}
	for i := 0; i < 10; i++ { // warm-up
		out, err := m.Predict(at(i))
		if err != nil {
			return timing{}, err
		}
		if len(out) != b {
			return timing{}, fmt.Errorf("predict: %d rows for %d examples", len(out), b)
		}
	}
	var times []time.Duration
	end := time.Now().Add(time.Duration(seconds * float64(time.Second)))
	for i := 0; time.Now().Before(end) || len(times) < 5; i++ {
		in := at(i)
		t0 := time.Now()
		if _, err := m.Predict(in); err != nil {
			return timing{}, err
		}
		times = append(times, time.Since(t0))
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	med := times[len(times)/2]
	if len(times)%2 == 0 {
		med = (times[len(times)/2-1] + med) / 2
	}
	return timing{ImagesPerSec: float64(b) / med.Seconds(), LatencyMs: float64(med) / 1e6, Calls: len(times)}, nil
}

// runTorch runs bench/torch_ref.py --infer under one thread split.
func runTorch(python, model, batches string, seconds float64, torchThreads, blasThreads string) (map[int]timing, error) {
	script := filepath.Join("bench", "torch_ref.py")
	args := []string{script, "--infer", "--model", model, "--batches", batches,
		"--seconds", strconv.FormatFloat(seconds, 'g', -1, 64), "--threads", torchThreads}
	threads, err := strconv.Atoi(blasThreads)
	if err != nil {
		return nil, fmt.Errorf("OpenBLAS threads %q: %v", blasThreads, err)
	}
	out, err := torchref.Run(python, args, threads, os.Stderr)
	if err != nil {
		return nil, err
	}
	var r struct {
		ImagesPerSec map[string]float64 `json:"images_per_sec"`
		LatencyMs    map[string]float64 `json:"latency_ms"`
		Calls        map[string]int     `json:"calls"`
		Framework    string             `json:"framework"`
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil {
		return nil, fmt.Errorf("reading its output: %v", err)
	}
	res := map[int]timing{}
	name := fmt.Sprintf("%s/%s", torchThreads, blasThreads)
	for k, v := range r.ImagesPerSec {
		b, err := strconv.Atoi(k)
		if err != nil {
			return nil, fmt.Errorf("reading its output: batch %q", k)
		}
		res[b] = timing{ImagesPerSec: v, LatencyMs: r.LatencyMs[k], Calls: r.Calls[k], Name: name}
		fmt.Fprintf(os.Stderr, "pytorch %s batch %d: %.0f images/s, median %.3f ms over %d calls\n", name, b, v, r.LatencyMs[k], r.Calls[k])
	}
	return res, nil
}
