// Command transformer trains, times and evaluates the reference models
// gpt (a character transformer on the bundled novel) and resnet (a
// residual CNN on the bundled Fashion-MNIST subset) from Go, with the
// library alone (nn, train), for exploring their recipes and for the
// comparisons with bench/torch_ref.py:
//
//	go run ./bench/transformer -model gpt -epochs 6 -out /tmp/gpt   # train, print each epoch, save
//	go run ./bench/transformer -model gpt -steps 30                 # training throughput only
//	go run ./bench/transformer -model gpt -generate /tmp/gpt        # per-token time of cached generation
//	go run ./bench/transformer -eval /tmp/gpt                       # held-out loss of a saved run
//	go run ./bench/transformer -model gpt -init /tmp/gpt0           # the seed's initial weights, untrained
//	go run ./bench/transformer -compare 5                           # training speed against PyTorch
//	go run ./bench/transformer -compare-generate /tmp/gpt           # cached generation against PyTorch
//
// -compare runs three rounds of: dlrun's throughput (-steps), then
// PyTorch's (bench/torch_ref.py -steps) at each thread split of -splits
// (torch threads/OpenBLAS threads; OpenBLAS's core type as
// internal/torchref chooses it for bench/compare: an OPENBLAS_CORETYPE
// already set, else SkylakeX on a CPU with AVX-512), and prints the
// medians over the rounds, PyTorch's at its best split, and their ratio.
// GODEBUG=cpu.avx512f=off OPENBLAS_CORETYPE=Haswell
// ATEN_CPU_CAPABILITY=avx2 in the environment measures both on AVX2 and
// FMA alone (bench/compare's -class avx2). -compare-generate does the same for cached generation at
// batch 1 (tokens per second, and the time per token at positions 10 and
// 120).
//
// A training run prints one line per epoch (held-out loss, bits per
// character or accuracy, throughput) and, with -out, saves model.json and
// model.safetensors there, which torch_ref.py -load reads back (the parity
// check). Throughput counts training characters (or images) per second
// of training steps, evaluation excluded; -steps times three windows of
// that many steps after a warm-up and prints their median.
//
// -init saves the seed's initial weights, before any step, which
// torch_ref.py --init trains from: both frameworks then start from the
// same draw and see the same batches, so their curves differ only by
// their arithmetic. The other way round, torch_ref.py --save-init saves
// PyTorch's draw for its seed, and -from trains dlrun from it. -log-steps prints the loss of the first steps, as
// torch_ref.py --log-steps does (docs/models.md gives the two sides'
// agreement).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dlrun/dlrun/datasets"
	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/internal/torchref"
	"github.com/dlrun/dlrun/nn"
	"github.com/dlrun/dlrun/train"
)

func main() {
	model := flag.String("model", "gpt", "gpt or resnet")
	epochs := flag.Int("epochs", 1, "epochs")
	batch := flag.Int("batch", 32, "batch size (streams for gpt)")
	seqLen := flag.Int("seq-len", 128, "gpt: context (steps per chunk)")
	width := flag.Int("width", 128, "gpt: width")
	blocks := flag.Int("blocks", 4, "gpt: transformer blocks")
	heads := flag.Int("heads", 4, "gpt: attention heads")
	embedInit := flag.String("embed-init", "", "gpt: the token embedding's initialiser (default the reference's)")
	opt := flag.String("optimizer", "adamw", "optimizer")
	lr := flag.Float64("lr", 3e-3, "base learning rate")
	wd := flag.Float64("weight-decay", 0.01, "weight decay")
	clip := flag.Float64("clip-norm", 1, "clipping by global norm (0: off)")
	schedule := flag.String("schedule", "warmup_cosine", "learning-rate schedule")
	warmup := flag.Int("warmup", 100, "warmup_cosine's warm-up steps")
	seed := flag.Uint64("seed", 1, "seed")
	dtype := flag.String("dtype", "float32", "float32 or float64")
	steps := flag.Int("steps", 0, "time this many training steps, three times, and stop")
	out := flag.String("out", "", "save the trained model into this folder")
	initOut := flag.String("init", "", "save the model's initial weights (the seed's draw, before any step) into this folder and stop")
	from := flag.String("from", "", "train from the weights of this folder's model.safetensors (torch_ref.py --save-init's PyTorch draw) instead of the seed's draw")
	logSteps := flag.Int("log-steps", 0, "print the loss of each of the first this many training steps")
	eval := flag.String("eval", "", "print the held-out loss of the model saved in this folder and stop")
	gen := flag.String("generate", "", "time cached generation with the model saved in this folder and stop")
	profile := flag.String("cpuprofile", "", "write a CPU profile here")
	compare := flag.Int("compare", 0, "compare training throughput with PyTorch over this many steps a window")
	compareGen := flag.String("compare-generate", "", "compare cached generation with PyTorch, with the model saved in this folder")
	python := flag.String("python", "/usr/bin/python3", "Python with Debian's python3-torch")
	splits := flag.String("splits", "2/1,1/2,1/1", "PyTorch thread splits: torch threads/OpenBLAS threads")
	flag.Parse()
	if *profile != "" {
		f, err := os.Create(*profile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "transformer:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	var err error
	switch {
	case *compare > 0 || *compareGen != "":
		err = compareTorch(os.Args[0], *python, *splits, *compare, *compareGen, *batch, *seqLen)
	case *eval != "":
		err = evaluate(*eval)
	case *gen != "":
		err = generate(*gen)
	default:
		cfg := train.Config{Epochs: *epochs, BatchSize: *batch, Optimizer: *opt, LearningRate: *lr, WeightDecay: *wd,
			ClipNorm: *clip, Schedule: *schedule, Seed: *seed, DType: *dtype}
		if *schedule == "warmup_cosine" {
			cfg.WarmupSteps = *warmup
		}
		if *logSteps > 0 {
			cfg.OnBatch = logStep(*logSteps)
		}
		err = fit(*model, cfg, *seqLen, *width, *blocks, *heads, *embedInit, *steps, *out, *initOut, *from)
	}
	if err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "transformer:", err)
		os.Exit(1)
	}
}

// setup returns the model, task and data of a run.
func setup(model string, seqLen, width, blocks, heads int) (nn.Layer, train.Task, train.Data, train.Data, error) {
	switch model {
	case "gpt":
		text, err := datasets.PrideAndPrejudice()
		if err != nil {
			return nil, nil, nil, nil, err
		}
		m := nn.GPT(len(text.Vocab), seqLen, blocks, heads, width)
		return m, &train.NextToken{Vocab: len(text.Vocab), SeqLen: seqLen}, train.Tokens(text.Train), train.Tokens(text.HeldOut), nil
	case "resnet":
		d, err := datasets.FashionMNIST()
		if err != nil {
			return nil, nil, nil, nil, err
		}
		ref, err := nn.ReferenceByName("resnet")
		if err != nil {
			return nil, nil, nil, nil, err
		}
		m, err := ref.New(d.Shape, len(d.Classes))
		return m, &train.Classify{Shape: d.Shape, Outputs: len(d.Classes)}, d.Train, d.Test, err
	}
	return nil, nil, nil, nil, fmt.Errorf("unknown model %q (want gpt or resnet)", model)
}

// logStep returns an OnBatch that prints the loss of each of the first n
// training steps (counted over the whole training, from 1), as
// torch_ref.py --log-steps prints PyTorch's.
func logStep(n int) func(int, int, float64) {
	step := 0
	return func(_, _ int, loss float64) {
		if step++; step <= n {
			fmt.Printf("step %d loss %.9g\n", step, loss)
		}
	}
}

func fit(model string, cfg train.Config, seqLen, width, blocks, heads int, embedInit string, steps int, out, initOut, from string) error {
	m, task, trainData, test, err := setup(model, seqLen, width, blocks, heads)
	if err != nil {
		return err
	}
	if embedInit != "" {
		in, err := graph.InitializerByName(embedInit)
		if err != nil {
			return err
		}
		m.(*nn.Sequential).Layers[0].(*nn.Embedding).Init = in
	}
	if steps > 0 {
		return timeSteps(m, task, trainData, cfg, steps)
	}
	t, err := train.New(m, task, cfg)
	if err != nil {
		return err
	}
	defer t.Close()
	if from != "" {
		if err := train.LoadWeights(filepath.Join(from, "model.safetensors"), t.Graph()); err != nil {
			return err
		}
	}
	if initOut != "" {
		return t.Save(initOut)
	}
	fmt.Printf("%s: %d parameters, %+v\n", model, t.NumParams(), cfg)
	start := time.Now()
	_, err = t.Fit(trainData, test, func(s train.EpochStats) error {
		line := fmt.Sprintf("epoch %d: train_loss %.4f test_loss %.4f", s.Epoch, s.TrainLoss, s.TestLoss)
		if model == "gpt" {
			line += fmt.Sprintf(" bits/char %.4f", s.TestLoss/math.Ln2)
		} else {
			line += fmt.Sprintf(" test_accuracy %.4f", s.TestAccuracy)
		}
		fmt.Printf("%s lr %.2g, %.0f samples/s, %.0f s so far\n", line, s.LearningRate, float64(s.Samples)/s.TrainSeconds, time.Since(start).Seconds())
		return nil
	})
	if err != nil {
		return err
	}
	if out != "" {
		return t.Save(out)
	}
	return nil
}

// timeSteps runs steps training steps three times after three warm-up
// steps, in one epoch over just enough data, and prints the median
// throughput.
func timeSteps(m nn.Layer, task train.Task, d train.Data, cfg train.Config, steps int) error {
	total := 3 + 3*steps
	per := cfg.BatchSize
	switch data := d.(type) {
	case train.Tokens:
		per *= task.(*train.NextToken).SeqLen
		d = data[:per*total+cfg.BatchSize]
	case *datasets.Split:
		d = data.Subset(per * total)
	}
	var marks []time.Time
	done := 0
	cfg.Epochs = 1
	cfg.OnBatch = func(int, int, float64) {
		done++
		if done == 3 || (done > 3 && (done-3)%steps == 0) {
			marks = append(marks, time.Now())
		}
	}
	t, err := train.New(m, task, cfg)
	if err != nil {
		return err
	}
	defer t.Close()
	if _, _, err := t.TrainEpoch(d); err != nil {
		return err
	}
	if len(marks) < 4 {
		return fmt.Errorf("only %d steps ran", done)
	}
	var rates []float64
	for i := 1; i < 4; i++ {
		rates = append(rates, float64(steps*per)/marks[i].Sub(marks[i-1]).Seconds())
	}
	slices.Sort(rates)
	fmt.Printf("%d parameters; samples/s over %d steps: %.0f %.0f %.0f, median %.0f\n", t.NumParams(), steps, rates[0], rates[1], rates[2], rates[1])
	return nil
}

// evaluate prints the held-out loss of the next-token model saved in dir.
func evaluate(dir string) error {
	m, err := train.Load(dir, false)
	if err != nil {
		return err
	}
	defer m.Close()
	text, err := datasets.PrideAndPrejudice()
	if err != nil {
		return err
	}
	ev, err := m.Evaluate(train.Tokens(text.HeldOut))
	if err != nil {
		return err
	}
	b, _ := json.Marshal(map[string]float64{"test_loss": ev.Loss, "bits_per_char": ev.Loss / math.Ln2, "test_accuracy": ev.Accuracy})
	fmt.Println(string(b))
	return nil
}

// generate times greedy generation with a key/value cache: the model of
// dir built incrementally on one token per pass, fed the novel's first
// characters, the time of each pass at positions 10 and 120 (median of
// 200 runs each), and tokens per second over whole sequences.
func generate(dir string) error {
	info, err := train.ReadInfo(dir)
	if err != nil {
		return err
	}
	m, err := info.Model.Build()
	if err != nil {
		return err
	}
	steps := info.InputShape[0]
	if err := nn.SetIncremental(m, steps); err != nil {
		return err
	}
	g := graph.New()
	x, err := g.Input("x", 1, 1)
	if err != nil {
		return err
	}
	y, err := m.Build(g, x)
	if err != nil {
		return err
	}
	if err := train.LoadWeights(dir+"/model.safetensors", g); err != nil {
		return err
	}
	p, err := g.CompileForward(y)
	if err != nil {
		return err
	}
	reset := func() {
		for _, l := range nn.AllLayers(m) {
			if s, ok := l.(train.Stateful); ok {
				s.ResetState()
			}
		}
	}
	text, err := datasets.PrideAndPrejudice()
	if err != nil {
		return err
	}
	in, logits := []float64{0}, make([]float64, info.Outputs)
	at := map[int][]float64{}
	start := time.Now()
	tokens := 0
	for run := 0; run < 200; run++ {
		reset()
		for pos := 0; pos < steps; pos++ {
			in[0] = float64(text.Train[pos])
			if err := g.SetInput(x, in); err != nil {
				return err
			}
			t0 := time.Now()
			if _, err := p.Run(false); err != nil {
				return err
			}
			if err := p.OutputRow(0, 0, logits); err != nil {
				return err
			}
			if pos == 10 || pos == 120 {
				at[pos] = append(at[pos], float64(time.Since(t0).Microseconds()))
			}
			tokens++
		}
	}
	rate := float64(tokens) / time.Since(start).Seconds()
	for _, pos := range []int{10, 120} {
		slices.Sort(at[pos])
	}
	fmt.Printf("per token: %.0f µs at position 10, %.0f µs at position 120 (medians of %d); %.0f tokens/s over sequences of %d\n",
		at[10][len(at[10])/2], at[120][len(at[120])/2], len(at[10]), rate, steps)
	return nil
}

// compareTorch runs three rounds of dlrun's measurement (this program,
// self, in a process of its own) and PyTorch's at each split, and prints
// the medians: training throughput over windows of steps steps, or with
// dir cached generation of the model saved there.
func compareTorch(self, python, splits string, steps int, dir string, batch, seqLen int) error {
	splitList := strings.Split(splits, ",")
	var ours []float64
	theirs := map[string][]float64{}
	gen := dir != ""
	for round := 0; round < 3; round++ {
		var args []string
		if gen {
			args = []string{"-generate", dir}
		} else {
			args = []string{"-model", "gpt", "-steps", strconv.Itoa(steps), "-batch", strconv.Itoa(batch), "-seq-len", strconv.Itoa(seqLen)}
		}
		out, err := exec.Command(self, args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("dlrun: %v: %s", err, out)
		}
		v, err := lastNumber(string(out), gen)
		if err != nil {
			return err
		}
		ours = append(ours, v)
		for _, sp := range splitList {
			torch, blas, ok := strings.Cut(sp, "/")
			if !ok {
				return fmt.Errorf("split %q: want torch threads/OpenBLAS threads", sp)
			}
			targs := []string{"bench/torch_ref.py", "--model", "gpt", "--threads", torch, "--seq-len", strconv.Itoa(seqLen)}
			if gen {
				targs = append(targs, "--generate")
			} else {
				targs = append(targs, "--steps", strconv.Itoa(steps), "--batch", strconv.Itoa(batch), "--optimizer", "adamw",
					"--clip-norm", "1", "--lr-schedule", "warmup_cosine", "--warmup", "100", "--lr", "3e-3")
			}
			nblas, err := strconv.Atoi(blas)
			if err != nil || nblas < 1 {
				return fmt.Errorf("split %q: OpenBLAS threads must be a positive whole number", sp)
			}
			out, err := torchref.Run(python, targs, nblas, nil)
			if err != nil {
				return fmt.Errorf("pytorch %s: %v", sp, err)
			}
			var r struct {
				Median       float64 `json:"median"`
				TokensPerSec float64 `json:"tokens_per_sec"`
			}
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil {
				return fmt.Errorf("pytorch %s: %v in %q", sp, err, out)
			}
			theirs[sp] = append(theirs[sp], r.Median+r.TokensPerSec)
		}
		fmt.Printf("round %d: dlrun %.0f; pytorch %v\n", round+1, ours[round], theirs)
	}
	best, bestSplit := 0.0, ""
	for sp, v := range theirs {
		if m := median(v); m > best {
			best, bestSplit = m, sp
		}
	}
	what := "training characters/s"
	if gen {
		what = "generated tokens/s at batch 1"
	}
	fmt.Printf("%s, medians of 3: dlrun %.0f, PyTorch %.0f (%s threads): %.2fx\n", what, median(ours), best, bestSplit, median(ours)/best)
	return nil
}

// lastNumber reads the median of a -steps line or the tokens/s of a
// -generate line.
func lastNumber(out string, gen bool) (float64, error) {
	var v float64
	for _, line := range strings.Split(out, "\n") {
		var err error
		switch {
		case gen && strings.HasPrefix(line, "per token:"):
			f := strings.Fields(line[strings.Index(line, ");")+2:])
			v, err = strconv.ParseFloat(f[0], 64)
		case !gen && strings.Contains(line, "median"):
			f := strings.Fields(line)
			v, err = strconv.ParseFloat(f[len(f)-1], 64)
		default:
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("reading %q: %v", line, err)
		}
		return v, nil
	}
	return 0, fmt.Errorf("no figure in %q", out)
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}
