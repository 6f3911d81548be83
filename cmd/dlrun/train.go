package main

import (
	"io"
	"os"
	"strings"
	"sync/atomic"

	"github.com/dlrun/dlrun/datasets"
	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/runner"
	"github.com/pkg/errors"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"
)

func newTrainCmd() *cobra.Command {
	var cfg run.Config
	var out, resume string
	var prof profiling
	cmd := &cobra.Command{
		Use:   "train",
		Short: "Train a model and record the run",
		Long: `Train a reference model (see 'dlrun models') or the model a file describes
(--model small-cnn.yaml; docs/models.md) and write a run folder holding
config.json (the resolved configuration) and model.json (the model's
architecture); after every epoch metrics.csv, curves.png, model.safetensors
(last weights), best.safetensors and checkpoint.safetensors (for --resume);
and summary.json at the end. Every file is written atomically.

Flags left unset take the model's recipe: its dataset, epochs, batch size,
optimizer, learning rate and loss. A flag that does not apply to the model
(--cell for mlp, --seq-len for cnn, --lr-step without --lr-schedule step) is
refused.

--cpuprofile and --memprofile write pprof profiles of the training, to see
where a model's time and memory go ('go tool pprof FILE'); --resume accepts
them.`,
		Example: `  dlrun train                       # the cnn on the bundled data
  dlrun train --model mlp --epochs 3 --optimizer sgd --lr 0.1 --out runs/sgd
  dlrun train --model small-cnn.yaml
  dlrun train --model xor --seed 3
  dlrun train --model rnn --cell gru
  dlrun train --model charrnn --epochs 2 --out runs/austen
  dlrun train --model mlp --epochs 2 --out runs/m && dlrun train --resume runs/m --epochs 4
  dlrun train --model cnn --data /usr/share/datasets/fashion-mnist
  dlrun train --data photos/ --image-size 64x64 --augment crop,flip
  dlrun train --data iris.csv --target species
  dlrun train --data houses.csv --target price --task regress --fill mean
  dlrun train --model small-cnn.yaml --cpuprofile cpu.pprof && go tool pprof -top cpu.pprof`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutFolder("out", out); err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			opts := runner.Options{Out: out, Log: w, Progress: isTerminal(w)}
			finish, err := parallel(&opts)
			if err != nil {
				return err
			}
			// Ctrl-C or SIGTERM says what was saved and how to go on.
			var dir atomic.Pointer[string]
			opts.Started = func(d string) { dir.Store(&d) }
			opts.Stop = new(runner.Stopper)
			release := onStop(cmd.ErrOrStderr(), func() string {
				opts.Stop.Stop() // the saved epoch's line first
				if d := dir.Load(); d != nil {
					return runner.Stopped(*d)
				}
				return "stopped before the run folder was made"
			})
			defer release()
			return finish(trainOrResume(cmd, cfg, resume, opts, prof))
		},
	}
	f := cmd.Flags()
	runFlags(f, &cfg)
	f.Lookup("model").Usage += " (default cnn; mlp for a CSV table)"
	f.StringVar(&out, "out", "", "run folder (default runs/<model>-<timestamp>, or -2, -3... after it when runs start in one second)")
	f.StringVar(&resume, "resume", "", "continue the run in this folder from its checkpoint (only --epochs may change)")
	profileFlags(f, &prof)
	return cmd
}

// trainOrResume trains the run of cfg or, with resume set, resumes the run
// in that folder: only its budget (--epochs, an agent's --steps) may
// change, and --data may name the dataset of a run that records none it
// can load (a model trained from Go on data in memory).
func trainOrResume(cmd *cobra.Command, cfg run.Config, resume string, opts runner.Options, prof profiling) error {
	if resume != "" {
		var changed []string
		cmd.Flags().Visit(func(fl *pflag.Flag) {
			if !resumeFlags[fl.Name] && !processFlags[fl.Name] {
				changed = append(changed, "--"+fl.Name)
			}
		})
		if len(changed) > 0 {
			return errors.Errorf("--resume continues a run with its own configuration; only --epochs (an agent's --steps) and --data may change, not %s", strings.Join(changed, ", "))
		}
		opts.Epochs, opts.Dataset = cfg.Epochs, cfg.Dataset
		opts.Steps, _ = cmd.Flags().GetInt("steps")
		return prof.with(func() error {
			_, err := runner.Resume(resume, opts)
			return atFlag("resume", err)
		})
	}
	if cfg.Model == "" {
		cfg.Model = "cnn"
		if datasets.IsTable(cfg.Dataset) {
			cfg.Model = "mlp"
		}
	}
	return prof.with(func() error {
		_, err := runner.Train(cfg, opts)
		return withFlagNames(err)
	})
}

// resumeFlags are the flags --resume takes.
var resumeFlags = map[string]bool{"resume": true, "epochs": true, "steps": true, "data": true}

// isTerminal reports whether w is a terminal, where a progress bar belongs.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
