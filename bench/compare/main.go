// Command compare trains one of dlrun's reference models and the same net
// in PyTorch 1.13 (Debian's python3-torch) back to back, on the same data
// with the same optimizer, batch size and epochs, and prints both
// training throughputs (samples/s, evaluation excluded), both peak RSS
// figures and their ratios.
//
//	go run ./bench/compare -model cnn -epochs 3
//	go run ./bench/compare -model charrnn -epochs 1
//
// For the charrnn the throughput is characters of training text per
// second, and the score is the held-out loss (nats) and bits per
// character: both train the same net on the same split of the bundled
// novel with the same truncated backpropagation through time (64
// contiguous streams, chunks of 100 steps, state carried across chunks).
//
// -class measures classes of CPU in turn on one machine: native (each
// framework's own choice), avx2 (dlrun with GODEBUG=cpu.avx512f=off,
// PyTorch with OPENBLAS_CORETYPE=Haswell ATEN_CPU_CAPABILITY=avx2), or
// both: -class native,avx2 prints a table for each.
//
// PyTorch gets its best settings on this machine: the OpenBLAS core type
// chosen from the CPU (internal/torchref: SkylakeX on a CPU with AVX-512,
// where Debian's OpenBLAS 0.3.21 otherwise misdetects the CPU and falls
// back to slow kernels; OpenBLAS's own choice elsewhere) and the best of
// the thread splits given by -splits (torch threads /
// OPENBLAS_NUM_THREADS). A PyTorch run that dies is reported with the
// signal and its cause. dlrun runs with all cores
// (GOMAXPROCS unset). dlrun's resident memory is sampled after every epoch
// to show that it does not grow.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/dlrun/dlrun/internal/torchref"
)

type result struct {
	Name          string
	SamplesPerSec float64
	PeakRSS       int64 // bytes
	TestAccuracy  float64
	TestLoss      float64 // the charrnn's held-out loss (nats per character)
	BitsPerChar   float64 // the charrnn's held-out bits per character
	Note          string
}

func main() {
	model := flag.String("model", "cnn", "reference model: mlp, cnn, cnn-bn, rnn, gru, charrnn, or the recommenders mf, ncf and biases")
	epochs := flag.Int("epochs", 3, "epochs for each framework")
	data := flag.String("data", "", "IDX folder for both, or the charrnn's text file (default: the model's bundled data)")
	python := flag.String("python", "/usr/bin/python3", "Python with Debian's python3-torch")
	splits := flag.String("splits", "2/1,1/2,1/1", "PyTorch thread splits to try: torch threads/OpenBLAS threads")
	tags := flag.String("tags", "", "build tags for dlrun")
	class := flag.String("class", "native", "CPU classes to measure, in turn: native (each framework's own choice), avx2 (AVX2 and FMA only)")
	flag.Parse()
	classes, err := parseClasses(*class)
	if err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(2)
	}
	if err := run(*model, *epochs, *data, *python, *splits, *tags, classes); err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}

func run(model string, epochs int, data, python, splits, tags string, classes []cpuClass) error {
	tmp, err := os.MkdirTemp("", "dlrun-compare-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
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
	for i, c := range classes {
		if i > 0 {
			fmt.Println()
		}
		restore := c.setEnv()
		err := compare(bin, model, epochs, data, python, splits, tags, c, filepath.Join(tmp, "run-"+c.name))
		restore()
		if err != nil {
			return fmt.Errorf("class %s: %v", c.name, err)
		}
	}
	return nil
}

// compare trains model with dlrun, then with PyTorch in each thread split,
// in class c's environment, and prints the results.
func compare(bin, model string, epochs int, data, python, splits, tags string, c cpuClass, out string) error {
	dl, err := runDlrun(bin, model, epochs, data, out)
	if err != nil {
		return err
	}
	if tags != "" {
		dl.Name += " -tags " + tags
	}
	results := []result{dl}
	best := result{}
	if _, err := os.Stat(python); err != nil {
		best = result{Name: "pytorch", Note: "not run: " + python + " not found (apt-get install python3-torch)"}
	} else {
		var lastErr error
		for _, s := range strings.Split(splits, ",") {
			tt, ob, ok := strings.Cut(strings.TrimSpace(s), "/")
			if !ok {
				return fmt.Errorf("-splits: %q is not torch/openblas", s)
			}
			r, err := runTorch(python, model, epochs, data, tt, ob)
			if err != nil {
				fmt.Fprintf(os.Stderr, "pytorch %s: %v\n", s, err)
				lastErr = err
				continue
			}
			results = append(results, r)
			if r.SamplesPerSec > best.SamplesPerSec {
				best = r
			}
		}
		if best.Name == "" {
			best = result{Name: "pytorch", Note: fmt.Sprintf("every PyTorch run failed, the last: %v", lastErr)}
		}
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	score, unit := "TEST ACC", "SAMPLES/S"
	switch model {
	case "mf", "ncf", "biases":
		score, unit = "TEST RMSE", "RATINGS/S"
	case "charrnn":
		score, unit = "TEST LOSS\tBITS/CHAR", "CHARS/S"
	}
	fmt.Fprintf(w, "model %s, %d epochs, the model's recipe, float32; CPU class %s: %s\n", model, epochs, c.name, c.what)
	fmt.Fprintf(w, "RUN\t%s\tPEAK RSS\t%s\tNOTE\n", unit, score)
	for _, r := range results {
		figure := fmt.Sprintf("%.4f", r.TestAccuracy)
		if model == "charrnn" {
			figure = fmt.Sprintf("%.4f\t%.4f", r.TestLoss, r.BitsPerChar)
		}
		fmt.Fprintf(w, "%s\t%.0f\t%.0f MiB\t%s\t%s\n", r.Name, r.SamplesPerSec, float64(r.PeakRSS)/(1<<20), figure, r.Note)
	}
	w.Flush()
	if best.SamplesPerSec > 0 {
		fmt.Printf("best pytorch: %s\n", best.Name)
		fmt.Printf("ratio dlrun/pytorch: speed %.2fx, peak RSS %.2fx\n", dl.SamplesPerSec/best.SamplesPerSec, float64(dl.PeakRSS)/float64(best.PeakRSS))
	} else {
		fmt.Println(best.Note)
	}
	return nil
}

// runDlrun trains with the dlrun binary, sampling its RSS after each epoch line.
func runDlrun(bin, model string, epochs int, data, out string) (result, error) {
	args := []string{"train", "--model", model, "--epochs", strconv.Itoa(epochs), "--out", out}
	if model == "gru" {
		args[2] = "rnn"
		args = append(args, "--cell", "gru")
	}
	if data != "" {
		args = append(args, "--data", data)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return result{}, err
	}
	if err := cmd.Start(); err != nil {
		return result{}, err
	}
	var rss []string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		fmt.Fprintln(os.Stderr, "dlrun:", line)
		if strings.HasPrefix(line, "epoch ") {
			r := "-" // the process had ended before its RSS could be read
			if b := vmRSS(cmd.Process.Pid); b > 0 {
				r = fmt.Sprintf("%.0f", float64(b)/(1<<20))
			}
			rss = append(rss, r)
		}
	}
	if err := cmd.Wait(); err != nil {
		return result{}, fmt.Errorf("dlrun train: %v", err)
	}
	var s struct {
		SamplesPerSec float64 `json:"samples_per_sec"`
		TestAccuracy  float64 `json:"test_accuracy"`
		TestRMSE      float64 `json:"test_rmse"` // a recommender's score
		TestLoss      float64 `json:"test_loss"`
		BitsPerChar   float64 `json:"test_bits_per_char"` // next-token prediction's derived figure
	}
	b, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil {
		return result{}, err
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return result{}, err
	}
	if s.TestRMSE > 0 {
		s.TestAccuracy = s.TestRMSE
	}
	return result{
		Name: "dlrun", SamplesPerSec: s.SamplesPerSec, TestAccuracy: s.TestAccuracy,
		TestLoss: s.TestLoss, BitsPerChar: s.BitsPerChar, PeakRSS: maxRSS(cmd.ProcessState), Note: "RSS after each epoch (MiB): " + strings.Join(rss, " "),
	}, nil
}

// torchRecipes are the recipes (run/config.go) that bench/torch_ref.py
// does not default to: the recommenders' and the charrnn's.
var torchRecipes = map[string][]string{
	"charrnn": {"--batch", "64", "--lr", "0.002", "--seq-len", "100"},
	"mf":      {"--batch", "256", "--lr", "0.001", "--weight-decay", "0.1", "--dim", "32"},
	"ncf":     {"--batch", "256", "--lr", "0.001", "--weight-decay", "0.1", "--dim", "32"},
	"biases":  {"--batch", "256", "--lr", "0.005", "--weight-decay", "0.05"},
}

func runTorch(python, model string, epochs int, data, torchThreads, blasThreads string) (result, error) {
	script := filepath.Join("bench", "torch_ref.py")
	args := []string{script, "--model", model, "--epochs", strconv.Itoa(epochs), "--threads", torchThreads}
	args = append(args, torchRecipes[model]...)
	if data != "" {
		args = append(args, "--data", data)
	}
	threads, err := strconv.Atoi(blasThreads)
	if err != nil {
		return result{}, fmt.Errorf("OpenBLAS threads %q: %v", blasThreads, err)
	}
	start := time.Now()
	out, err := torchref.Run(python, args, threads, os.Stderr)
	if err != nil {
		return result{}, err
	}
	var r struct {
		SamplesPerSec float64 `json:"samples_per_sec"`
		TestAccuracy  float64 `json:"test_accuracy"`
		TestLoss      float64 `json:"test_loss"`
		BitsPerChar   float64 `json:"test_bits_per_char"`
		PeakRSS       int64   `json:"peak_rss_bytes"`
		Framework     string  `json:"framework"`
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil {
		return result{}, fmt.Errorf("reading its output: %v", err)
	}
	return result{
		Name:          fmt.Sprintf("pytorch %s/%s", torchThreads, blasThreads),
		SamplesPerSec: r.SamplesPerSec, TestAccuracy: r.TestAccuracy, PeakRSS: r.PeakRSS,
		TestLoss: r.TestLoss, BitsPerChar: r.BitsPerChar,
		Note: fmt.Sprintf("%s, %.0fs", r.Framework, time.Since(start).Seconds()),
	}, nil
}

// vmRSS returns the current resident set size of a process, in bytes.
func vmRSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

func maxRSS(ps *os.ProcessState) int64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss << 10 // kilobytes on Linux
	}
	return 0
}
