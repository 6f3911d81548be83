// Command reproduce runs every experiment in experiments/*.yaml, trains
// the same nets with PyTorch 1.13 (Debian's python3-torch, through
// bench/torch_ref.py) side by side, and writes docs/results.md: per
// experiment the test accuracy (or bits per character), loss, epochs, wall
// time, training samples/s, parameters, the exact command and the SHA-256
// of the trained weights, and the machine it ran on.
//
//	go run ./experiments/reproduce            # about ten minutes on 2 cores
//
// Experiments whose data is not installed (cnn-full needs Debian's
// dataset-fashion-mnist) are listed as skipped, and where python3-torch is
// missing the PyTorch column says so. PyTorch's figures need OpenBLAS
// (apt-get install python3-torch libopenblas0-pthread): with Debian's
// reference BLAS alone, which python3-torch can pull in, it runs several
// times slower.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dlrun/dlrun/experiments"
	"github.com/dlrun/dlrun/internal/atomicfile"
	"github.com/dlrun/dlrun/internal/torchref"
	"github.com/dlrun/dlrun/internal/version"
	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/runner"
)

func main() {
	out := flag.String("out", "docs/results.md", "where to write the results (also printed)")
	runs := flag.String("runs", filepath.Join("runs", "reproduce"), "folder for the run folders (emptied first)")
	python := flag.String("python", "/usr/bin/python3", "Python with Debian's python3-torch")
	only := flag.String("only", "", "comma-separated experiment names to run (default: all)")
	flag.Parse()
	if err := reproduce(*out, *runs, *python, *only); err != nil {
		fmt.Fprintln(os.Stderr, "reproduce:", err)
		os.Exit(1)
	}
}

type torchResult struct {
	Accuracy      float64 `json:"test_accuracy"`
	NLL           float64 `json:"test_nll"`           // a music model's (bench/music_ref.py)
	BitsPerChar   float64 `json:"test_bits_per_char"` // a language model's
	SamplesPerSec float64 `json:"samples_per_sec"`
	Framework     string  `json:"framework"`
	Note          string  `json:"-"`
	// An agent's (bench/rl_ref.py).
	StepsPerSec   float64 `json:"steps_per_sec"`
	MeanReturn    float64 `json:"mean_return"`
	ScoreVsRandom float64 `json:"score_vs_random"` // connect4's
	Steps         int     `json:"steps"`
}

func reproduce(outPath, runsDir, python, only string) error {
	if outPath != "" { // refused before hours of training, not after
		if _, err := atomicfile.Dest(outPath); err != nil {
			return fmt.Errorf("-out: %w", err)
		}
	}
	paths, err := filepath.Glob(filepath.Join("experiments", "*.yaml"))
	if err != nil || len(paths) == 0 {
		return fmt.Errorf("no experiments/*.yaml here: run from the repository root")
	}
	sort.Strings(paths)
	want := map[string]bool{}
	for _, n := range strings.Split(only, ",") {
		if n != "" {
			want[n] = true
		}
	}
	if err := os.RemoveAll(runsDir); err != nil {
		return err
	}
	torchOK, torchVersion := torchAvailable(python)
	started := time.Now()
	var results []*experiments.Result
	var cmds []string
	torch := map[string]torchResult{}
	for _, p := range paths {
		c, err := experiments.Load(p)
		if err != nil {
			return err
		}
		if len(want) > 0 && !want[c.Name] {
			continue
		}
		res, err := experiments.Run(c, filepath.Join(runsDir, c.Name), runner.Options{Log: os.Stderr})
		if err != nil {
			return err
		}
		results = append(results, res)
		cmds = append(cmds, "dlrun run "+filepath.ToSlash(p))
		switch {
		case c.PyTorch == nil:
			torch[c.Name] = torchResult{Note: "no reference script"}
		case res.Skipped != "":
			torch[c.Name] = torchResult{Note: "skipped"}
		case !torchOK:
			torch[c.Name] = torchResult{Note: "python3-torch not installed"}
		default:
			r, err := runTorch(python, c, res)
			if err != nil {
				r = torchResult{Note: "failed: " + err.Error()}
			}
			torch[c.Name] = r
		}
	}
	md := render(results, cmds, torch, torchVersion, started)
	fmt.Print(md)
	if outPath != "" {
		return atomicfile.WriteFile(outPath, []byte(md), 0o644)
	}
	return nil
}

func torchAvailable(python string) (bool, string) {
	out, err := exec.Command(python, "-c", "import torch; print(torch.__version__)").Output()
	if err != nil {
		return false, ""
	}
	return true, strings.TrimSpace(string(out))
}

func runTorch(python string, c *experiments.Config, res *experiments.Result) (torchResult, error) {
	rc := c.RunConfig(c.Seeds[0])
	if err := rc.Resolve(); err != nil {
		return torchResult{}, err
	}
	if rc.Agent != nil {
		return runTorchAgent(python, c, rc)
	}
	epochs, batch, lr := rc.Epochs, rc.BatchSize, rc.LearningRate
	script := c.PyTorch.Script
	if script == "" {
		script = "torch_ref.py"
	}
	args := []string{filepath.Join("bench", script), "--model", c.PyTorch.Model,
		"--epochs", strconv.Itoa(epochs), "--batch", strconv.Itoa(batch), "--lr", strconv.FormatFloat(lr, 'g', -1, 64),
		"--seed", strconv.FormatUint(c.Seeds[0], 10), "--threads", strconv.Itoa(max(c.PyTorch.Threads, 1))}
	if rc.WeightDecay > 0 {
		args = append(args, "--weight-decay", strconv.FormatFloat(rc.WeightDecay, 'g', -1, 64))
	}
	if rc.Dim > 0 {
		args = append(args, "--dim", strconv.Itoa(rc.Dim))
	}
	if rc.Optimizer == "adamw" {
		args = append(args, "--optimizer", "adamw")
	}
	if rc.ClipNorm > 0 {
		args = append(args, "--clip-norm", strconv.FormatFloat(rc.ClipNorm, 'g', -1, 64))
	}
	switch rc.Schedule {
	case "", "constant":
	case "cosine":
		args = append(args, "--lr-schedule", "cosine")
	case "warmup_cosine":
		args = append(args, "--lr-schedule", "warmup_cosine", "--warmup", strconv.Itoa(rc.WarmupSteps))
	default:
		return torchResult{}, fmt.Errorf("bench/%s has no %s schedule", script, rc.Schedule)
	}
	if rc.SeqLen > 0 {
		args = append(args, "--seq-len", strconv.Itoa(rc.SeqLen))
	}
	if !bundledForTorch[c.Dataset] {
		args = append(args, "--data", c.Dataset)
	}
	return execTorch(python, args, c)
}

// execTorch runs a reference script with python and reads the JSON of its
// last line.
func execTorch(python string, args []string, c *experiments.Config) (torchResult, error) {
	out, err := torchref.Run(python, args, c.PyTorch.OpenBLASThreads, nil)
	if err != nil {
		return torchResult{}, err
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var r torchResult
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil {
		return torchResult{}, err
	}
	r.Note = fmt.Sprintf("%d/%d threads", max(c.PyTorch.Threads, 1), max(c.PyTorch.OpenBLASThreads, 1))
	return r, nil
}

// runTorchAgent runs an agent's reference, bench/rl_ref.py.
func runTorchAgent(python string, c *experiments.Config, rc run.Config) (torchResult, error) {
	game := rc.Agent.Env
	if game != "cartpole" && game != "connect4" {
		return torchResult{}, fmt.Errorf("bench/rl_ref.py plays cartpole and connect4, not %s", game)
	}
	steps := rc.Agent.Steps
	if c.PyTorch.Steps > 0 {
		steps = c.PyTorch.Steps
	}
	return execTorch(python, []string{filepath.Join("bench", "rl_ref.py"), "--agent", c.PyTorch.Model, "--env", game, "--steps", strconv.Itoa(steps),
		"--seed", strconv.FormatUint(c.Seeds[0], 10), "--threads", strconv.Itoa(max(c.PyTorch.Threads, 1))}, c)
}

// bundledForTorch are the datasets that the reference scripts read from the
// project's own copy when given no --data.
var bundledForTorch = map[string]bool{"": true, "fashion-mnist": true, "movielens": true, "pride-and-prejudice": true, "jsb-chorales": true}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "model name") {
			if _, v, ok := strings.Cut(l, ":"); ok {
				return strings.TrimSpace(v)
			}
		}
	}
	return runtime.GOARCH
}

func render(results []*experiments.Result, cmds []string, torch map[string]torchResult, torchVersion string, started time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Results\n\n")
	fmt.Fprintf(&b, "Generated by `go run ./experiments/reproduce` on %s (%.0f s).\n\n", started.UTC().Format("2006-01-02 15:04 MST"), time.Since(started).Seconds())
	fmt.Fprintf(&b, "Machine: %s, %d cores visible to Go, %s %s/%s, dlrun %s", cpuModel(), runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH, version.Version)
	if torchVersion != "" {
		fmt.Fprintf(&b, ", PyTorch %s (Debian python3-torch, %s)", torchVersion, torchref.Setting())
	}
	b.WriteString(".\n\nEvery figure below comes back bit for bit from the same command on a machine of the same instruction set: each experiment's config fixes its seeds, and dlrun's kernels do not depend on the number of cores. Accuracy and loss are on the test split (for charrnn: the held-out last 10% of the text, in bits per character and nats; for the recommenders mf, ncf and biases the accuracy column reads the test RMSE in stars, on the last 10% of each user's MovieLens ratings; for music-lstm it reads the test NLL per step in nats, summed over the 88 keys, on the 77 test chorales of the JSB Chorales); samples/s counts training examples (characters for charrnn, ratings for the recommenders) per second of training, evaluation excluded; wall time covers every seed.\n\n")
	b.WriteString("| experiment | model | epochs | seeds | test accuracy | test loss | bits/char | wall s | samples/s | params | command |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|\n")
	var byEpochs, agents []int // indices into results: the runs trained by epochs, and the agents'
	for i, r := range results {
		if r.Config.Agent() {
			agents = append(agents, i)
		} else {
			byEpochs = append(byEpochs, i)
		}
	}
	for _, i := range byEpochs {
		r := results[i]
		c := r.Config
		if r.Skipped != "" {
			fmt.Fprintf(&b, "| %s | %s | | | skipped: %s | | | | | | `%s` |\n", c.Name, c.Model, r.Skipped, cmds[i])
			continue
		}
		s := r.Runs[0].Summary
		bpc := ""
		if _, ok := r.Metrics["bits_per_char"]; ok { // a language model
			bpc = pmOf(r.BitsPerChar, 3)
		}
		acc := pmOf(r.TestAccuracy, 4)
		if rmse, ok := r.Metrics["rmse"]; ok { // a recommender: its accuracy is its RMSE
			acc = "RMSE " + pm(rmse, 4)
		}
		if nll, ok := r.Metrics["nll"]; ok { // a music model: its NLL per step, in nats
			acc = "NLL " + pm(nll, 3)
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %s | %s | %s | %s | %.1f | %.0f | %d | `%s` |\n",
			c.Name, c.Model, s.Epochs, seedList(c.Seeds), acc, pm(r.TestLoss, 4), bpc,
			r.WallSeconds, r.SamplesPerSec.Mean, s.Params, cmds[i])
	}
	b.WriteString("\n## PyTorch side by side\n\nThe same nets, data, optimizer, batch size, epochs and first seed in PyTorch (`bench/torch_ref.py`), with the thread split (torch / OpenBLAS) that `go run ./bench/compare` found fastest here. The accuracy columns read as the table above does: held-out bits per character for the language models (lower is better), test RMSE for the recommenders, test NLL per step for the music models.\n\n")
	b.WriteString("| experiment | dlrun accuracy | PyTorch accuracy | dlrun samples/s | PyTorch samples/s | speed ratio | PyTorch run |\n|---|---|---|---|---|---|---|\n")
	for _, i := range byEpochs {
		r := results[i]
		t := torch[r.Config.Name]
		if r.Skipped != "" {
			continue
		}
		acc := r.Runs[0].Summary.TestAccuracy
		if rmse, ok := r.Runs[0].Summary.Derived["rmse"]; ok { // a recommender: RMSE
			acc = rmse
		}
		if nll, ok := r.Runs[0].Summary.Derived["nll"]; ok { // a music model: NLL per step
			acc, t.Accuracy = nll, t.NLL
		}
		if bpc, ok := r.Runs[0].Summary.Derived["bits_per_char"]; ok { // a language model: bits per character
			acc, t.Accuracy = bpc, t.BitsPerChar
		}
		sps := r.Runs[0].Summary.SamplesPerSec
		if t.SamplesPerSec == 0 {
			fmt.Fprintf(&b, "| %s | %.4f | %s | %.0f | %s | | |\n", r.Config.Name, acc, t.Note, sps, t.Note)
			continue
		}
		fmt.Fprintf(&b, "| %s | %.4f | %.4f | %.0f | %.0f | %.2fx | %s |\n", r.Config.Name, acc, t.Accuracy, sps, t.SamplesPerSec, sps/t.SamplesPerSec, t.Note)
	}
	renderAgents(&b, results, agents, cmds, torch)
	b.WriteString("\n## Trained weights\n\nSHA-256 of each run's `model.safetensors`:\n\n| experiment | seed | SHA-256 |\n|---|---|---|\n")
	for _, r := range results {
		for _, s := range r.Runs {
			fmt.Fprintf(&b, "| %s | %d | `%s` |\n", r.Config.Name, s.Seed, s.WeightsSHA256)
		}
	}
	return b.String()
}

// renderAgents writes the table of the agents of results (the indices
// all) and their PyTorch comparison (docs/games.md).
func renderAgents(b *strings.Builder, results []*experiments.Result, all []int, cmds []string, torch map[string]torchResult) {
	var agents []int
	for _, i := range all {
		if results[i].Skipped == "" {
			agents = append(agents, i)
		}
	}
	if len(agents) == 0 {
		return
	}
	b.WriteString("\n## Agents\n\nReinforcement learning (docs/games.md): the mean return of 100 greedy evaluation episodes (seeds from 2^40, none of training's), and for connect4 the score against each reference opponent (a win 1, a draw ½, half the games first); steps/s counts environment steps per second of training, updates included.\n\n")
	b.WriteString("| experiment | agent | game | steps | seeds | mean return | scores | wall s | steps/s | command |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, i := range agents {
		r := results[i]
		c, s := r.Config, r.Runs[0].Summary.Agent
		var scores []string
		for _, k := range []string{"random", "alphabeta:1", "alphabeta:2", "alphabeta:3", "alphabeta:4"} {
			if st, ok := r.Scores[k]; ok {
				scores = append(scores, k+" "+pm(st, 3))
			}
		}
		fmt.Fprintf(b, "| %s | %s | %s | %d | %s | %s | %s | %.1f | %.0f | `%s` |\n", c.Name, c.Model, s.Env, s.Steps, seedList(c.Seeds),
			pmOf(r.MeanReturn, 1), strings.Join(scores, ", "), r.WallSeconds, r.SamplesPerSec.Mean, cmds[i])
	}
	b.WriteString("\nThe same agents in PyTorch (`bench/rl_ref.py`: the same algorithms, networks and hyperparameters, the games' rules in Python), first seed; the result is the mean return (cartpole) or the score against random (connect4), and the PyTorch run's steps are its own where the experiment sets a shorter reference budget:\n\n")
	b.WriteString("| experiment | dlrun result | PyTorch result | dlrun steps/s | PyTorch steps/s (steps) | speed ratio | PyTorch run |\n|---|---|---|---|---|---|---|\n")
	for _, i := range agents {
		r := results[i]
		t := torch[r.Config.Name]
		s := r.Runs[0].Summary
		mine, theirs := s.Agent.MeanReturn, t.MeanReturn
		if s.Agent.Env == "connect4" {
			mine, theirs = s.Agent.Scores["random"], t.ScoreVsRandom
		}
		if t.StepsPerSec == 0 {
			fmt.Fprintf(b, "| %s | %.2f | %s | %.0f | | | |\n", r.Config.Name, mine, t.Note, s.SamplesPerSec)
			continue
		}
		fmt.Fprintf(b, "| %s | %.2f | %.2f | %.0f | %.0f (%d) | %.2fx | %s |\n", r.Config.Name, mine, theirs, s.SamplesPerSec, t.StepsPerSec, t.Steps, s.SamplesPerSec/t.StepsPerSec, t.Note)
	}
}

// pmOf is pm of a figure the experiment may lack: empty for nil.
func pmOf(s *experiments.Stat, digits int) string {
	if s == nil {
		return ""
	}
	return pm(*s, digits)
}

func pm(s experiments.Stat, digits int) string {
	if s.Std == 0 {
		return strconv.FormatFloat(s.Mean, 'f', digits, 64)
	}
	return strconv.FormatFloat(s.Mean, 'f', digits, 64) + " ± " + strconv.FormatFloat(s.Std, 'f', digits, 64)
}

func seedList(seeds []uint64) string {
	var s []string
	for _, v := range seeds {
		s = append(s, strconv.FormatUint(v, 10))
	}
	return strings.Join(s, ",")
}
