package main

import (
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/spf13/pflag"

	"github.com/dlrun/dlrun/datasets"
	"github.com/dlrun/dlrun/nn"
	"github.com/dlrun/dlrun/train"
	"github.com/pkg/errors"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

func newTrainCmd() *cobra.Command {
	var cfg train.RunConfig
	var data, out, resume string
	cmd := &cobra.Command{
		Use:   "train",
		Short: "Train a reference model and record the run",
		Long: `Train a reference model (see 'dlrun models') and write a run folder holding
config.json (the resolved configuration); after every epoch metrics.csv,
curves.png, model.safetensors (last weights), best.safetensors and
checkpoint.safetensors (for --resume); and summary.json at the end. Every file
is written atomically.

Flags left unset take the model's recipe: its dataset, epochs, batch size,
optimizer, learning rate and loss.`,
		Example: `  dlrun train                       # the cnn on the bundled data
  dlrun train --model mlp --epochs 3 --optimizer sgd --lr 0.1 --out runs/sgd
  dlrun train --model xor --seed 3
  dlrun train --model rnn --cell gru
  dlrun train --model charrnn --epochs 2 --out runs/austen
  dlrun train --model mlp --epochs 2 --out runs/m && dlrun train --resume runs/m --epochs 4
  dlrun train --model cnn --data /usr/share/datasets/fashion-mnist`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := cmd.Flags()
			if resume != "" {
				return resumeRun(cmd, resume, cfg.Epochs)
			}
			for _, name := range []string{"epochs", "batch", "lr", "seq-len"} {
				if f.Changed(name) {
					if v, _ := f.GetFloat64(name); name == "lr" && !(v > 0) {
						return errors.Errorf("--lr %v: must be positive", v)
					}
					if v, _ := f.GetInt(name); name != "lr" && v <= 0 {
						return errors.Errorf("--%s %d: must be positive", name, v)
					}
				}
			}
			if cfg.WeightDecay < 0 || cfg.ClipNorm < 0 || cfg.ClipValue < 0 {
				return errors.New("--weight-decay, --clip-norm and --clip-value must not be negative")
			}
			ref, err := nn.ReferenceByName(cfg.Model)
			if err != nil {
				return err
			}
			if data == "" {
				data = ref.Recipe.Dataset
			}
			w := cmd.OutOrStdout()
			opts := train.RunOptions{Out: out, Log: w, Progress: isTerminal(w)}
			if ref.Recipe.LanguageModel {
				txt, err := loadText(data)
				if err != nil {
					return errors.Wrap(err, "--data")
				}
				cfg.Dataset, cfg.DatasetSHA256, cfg.Vocab = txt.Name, txt.SHA256, txt.Vocab
				_, err = train.RunLM(cfg, txt.Train, txt.HeldOut, opts)
				return err
			}
			d, err := datasets.Load(data)
			if err != nil {
				return errors.Wrap(err, "--data")
			}
			if ref.Recipe.Sequence && len(d.Shape) == 3 {
				if d, err = datasets.AsSequence(d); err != nil {
					return err
				}
			}
			cfg.Dataset = d.Name
			cfg.DatasetSHA256 = d.SHA256
			cfg.InputShape = d.Shape
			cfg.Classes = d.Classes
			cfg.TrainExamples = d.Train.Len()
			cfg.TestExamples = d.Test.Len()
			_, err = train.Run(cfg, d.Train, d.Test, opts)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Model, "model", "cnn", "reference model to train (see 'dlrun models')")
	f.StringVar(&data, "data", "", "bundled dataset ("+joinNames(datasets.Names())+"), a folder of IDX files or CIFAR-10 batches, or for charrnn a UTF-8 text file (default: the model's)")
	f.IntVar(&cfg.Epochs, "epochs", 0, "passes over the training data (default: the model's)")
	f.IntVar(&cfg.BatchSize, "batch", 0, "examples per training step (default: the model's)")
	f.Float64Var(&cfg.LearningRate, "lr", 0, "learning rate (default: the model's)")
	f.StringVar(&cfg.Optimizer, "optimizer", "", "sgd, momentum, adam, rmsprop or adagrad (default: the model's)")
	f.StringVar(&cfg.Loss, "loss", "", "cce (categorical cross-entropy), bce (binary) or mse (default: the model's)")
	f.Float64Var(&cfg.WeightDecay, "weight-decay", 0, "L2 weight decay added to the gradients")
	f.Float64Var(&cfg.ClipNorm, "clip-norm", 0, "clip gradients to this global L2 norm (0: off)")
	f.Float64Var(&cfg.ClipValue, "clip-value", 0, "clip each gradient element to ±this value (0: off)")
	f.StringVar(&cfg.Cell, "cell", "", "recurrent cell of the rnn and charrnn models: lstm or gru")
	f.IntVar(&cfg.SeqLen, "seq-len", 0, "language models: steps of backpropagation through time per batch (default: the model's)")
	f.Uint64Var(&cfg.Seed, "seed", 1, "seed for initialisation, shuffling and dropout")
	f.StringVar(&cfg.DType, "dtype", "float32", "element type: float32 or float64")
	f.StringVar(&out, "out", "", "run folder (default runs/<model>-<timestamp>)")
	f.StringVar(&resume, "resume", "", "continue the run in this folder from its checkpoint (only --epochs may change)")
	f.StringVar(&cfg.Schedule, "lr-schedule", "", "learning-rate schedule per epoch: constant, step or cosine")
	f.IntVar(&cfg.StepEvery, "lr-step", 0, "step schedule: epochs between decays")
	f.Float64Var(&cfg.Gamma, "lr-gamma", 0, "step schedule: factor of each decay (default 0.1)")
	f.IntVar(&cfg.Patience, "patience", 0, "early stopping: epochs without improvement of --monitor before stopping (0: off)")
	f.StringVar(&cfg.Monitor, "monitor", "test_loss", "metric for early stopping and best.safetensors: test_loss or test_accuracy")
	return cmd
}

// resumeRun continues the run in dir from its checkpoint, to epochs in all
// (0: the configured number).
func resumeRun(cmd *cobra.Command, dir string, epochs int) error {
	f := cmd.Flags()
	var changed []string
	f.Visit(func(fl *pflag.Flag) {
		if fl.Name != "resume" && fl.Name != "epochs" {
			changed = append(changed, "--"+fl.Name)
		}
	})
	if len(changed) > 0 {
		return errors.Errorf("--resume continues a run with its own configuration; only --epochs may change, not %s", strings.Join(changed, ", "))
	}
	cfg, err := train.ReadRunConfig(dir)
	if err != nil {
		return err
	}
	if epochs > 0 {
		cfg.Epochs = epochs
	}
	ref, err := nn.ReferenceByName(cfg.Model)
	if err != nil {
		return errors.Wrapf(err, "run folder %s", dir)
	}
	w := cmd.OutOrStdout()
	opts := train.RunOptions{Out: dir, Log: w, Progress: isTerminal(w), Resume: true}
	if ref.Recipe.LanguageModel {
		txt, err := loadText(cfg.Dataset)
		if err != nil {
			return errors.Wrapf(err, "run folder %s: its text", dir)
		}
		if txt.SHA256 != cfg.DatasetSHA256 {
			return errors.Errorf("run folder %s: text %s has changed since the run began", dir, cfg.Dataset)
		}
		_, err = train.RunLM(*cfg, txt.Train, txt.HeldOut, opts)
		return err
	}
	d, err := datasets.Load(cfg.Dataset)
	if err != nil {
		return errors.Wrapf(err, "run folder %s: its dataset", dir)
	}
	if d.SHA256 != cfg.DatasetSHA256 {
		return errors.Errorf("run folder %s: dataset %s has changed since the run began (SHA-256 %s, was %s)", dir, cfg.Dataset, d.SHA256, cfg.DatasetSHA256)
	}
	if ref.Recipe.Sequence && len(d.Shape) == 3 {
		if d, err = datasets.AsSequence(d); err != nil {
			return err
		}
	}
	_, err = train.Run(*cfg, d.Train, d.Test, opts)
	return err
}

// isTerminal reports whether w is a terminal, where a progress bar belongs.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// loadText returns the bundled novel, or the UTF-8 text file at path with
// its last 10% held out.
func loadText(path string) (*datasets.Text, error) {
	if path == "pride-and-prejudice" {
		return datasets.PrideAndPrejudice()
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, errors.Wrap(err, "reading the text")
	}
	if !utf8.Valid(b) {
		return nil, errors.Errorf("%s is not UTF-8 text", path)
	}
	return datasets.NewText(path, string(b), 0.1)
}

func joinNames(names []string) string {
	s := ""
	for i, n := range names {
		if i > 0 {
			s += ", "
		}
		s += n
	}
	return s
}
