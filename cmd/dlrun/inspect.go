package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/dlrun/dlrun/datasets"
	"github.com/dlrun/dlrun/env"
	"github.com/dlrun/dlrun/nn"
	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/runner"
	"github.com/pkg/errors"
	"github.com/spf13/cobra"
)

func newEvalCmd() *cobra.Command {
	var dir, data, opponent string
	var asJSON, best bool
	var episodes int
	var seed uint64
	cmd := &cobra.Command{
		Use:   "eval",
		Short: "Evaluate a trained model on its test split: classifiers per class, recommenders by RMSE and MAE, language models by bits per character",
		Long: `Evaluate the model of a run folder on the test split of its dataset, or of
another given with --data:

  classifiers       loss, accuracy, precision, recall and F1 per class and the
                    confusion matrix;
  recommenders      loss (MSE), RMSE and MAE over the test ratings;
  language models   loss (nats per character), bits per character, perplexity
                    and next-character accuracy over the held-out text (the
                    last 10% of the text), read as in training;
  agents            the mean return of greedy episodes (--episodes, seeds
                    from --seed, far from training's), and in connect4 the
                    score against each opponent, half the games first.

On the run's own dataset the loss is the run's last test_loss.`,
		Example: `  dlrun eval --run runs/cnn
  dlrun eval --run runs/cnn --data /usr/share/datasets/fashion-mnist --json
  dlrun eval --run runs/mf
  dlrun eval --run runs/austen --data emma.txt
  dlrun eval --run runs/ppo-cartpole --episodes 100
  dlrun eval --run runs/ppo-connect4 --opponent alphabeta:2`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				return errors.New("--run: name the run folder of a trained model")
			}
			r, err := run.Open(dir, best)
			if err != nil {
				return atFlag("run", err)
			}
			defer r.Close()
			o := run.EvalOptions{Data: data, Opponent: opponent, Games: env.Arena{}}
			if cmd.Flags().Changed("episodes") {
				o.Episodes = episodes
			}
			if cmd.Flags().Changed("seed") {
				o.Seed = seed
			}
			rep, err := r.Evaluate(o)
			if err != nil {
				if data != "" && !strings.HasPrefix(err.Error(), "--") {
					return atFlag("data", err)
				}
				return err
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), rep)
			}
			rep.Print(cmd.OutOrStdout())
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "run", "", "run folder of a trained model or agent")
	runDataFlag(f, &data)
	f.BoolVar(&asJSON, "json", false, "print the report as JSON")
	f.BoolVar(&best, "best", false, "use the best epoch's weights instead of the last")
	f.IntVar(&episodes, "episodes", run.EvalEpisodes, "agents: greedy episodes (games) to play, each against each opponent")
	f.Uint64Var(&seed, "seed", run.EvalSeed, "agents: the first episode's seed (training's episodes start at the run's seed)")
	f.StringVar(&opponent, "opponent", "", "connect4 agents: random or alphabeta:D (default: each of random, alphabeta:1 to 4)")
	return cmd
}

func newPredictCmd() *cobra.Command {
	var dir string
	var top int
	var invert, best, asJSON bool
	cmd := &cobra.Command{
		Use:   "predict --run DIR FILE...",
		Short: "Classify image files (PNG, JPEG, GIF, WebP), or a CSV table's rows, with a trained model",
		Long: `Classify image files with a trained image classifier, or predict the rows of
a CSV table with a model trained on a table.

A table's rows are written to stdout as CSV, each with its prediction
columns added: <target>_predicted (and a classifier's <target>_probability,
the predicted class's). The rows pass through the run's preprocessing
(config.json's table.preprocessing: standardisation, categories), as
training's did; their columns may come in any order, with or without the
target.

Each image is converted
to the model's input exactly as training reads an image folder's images:
resized to its height and width, to one channel (luminance) or three (RGB),
scaled to [0, 1]. Fashion-MNIST images are light on black: use --invert for
photographs on a light background.

Each file gets one line, "FILE: CLASS P, CLASS P, ..." with the --top most
probable classes. A file that cannot be read or decoded does not stop the
others: it gets one line on stderr (with --json too), and dlrun exits with
status 1 at the end, naming the files that failed. With --json, stdout is a JSON array of one object per file, in order:
{"file", "class", "probability", "top": [{"class", "index", "probability"}],
"probabilities"} or {"file", "error"}.`,
		Example: `  dlrun predict --run runs/cnn shirt.png boot.jpg
  dlrun predict --run runs/iris new-flowers.csv > predicted.csv
  dlrun predict --run runs/cnn --json --top 1 photos/*.jpg`,
		Args: needArgs("image or CSV FILE"),
		RunE: func(cmd *cobra.Command, files []string) error {
			if dir == "" {
				return errors.New("--run: name the run folder of a trained model")
			}
			if top < 1 {
				return errors.Errorf("--top %d: must be positive", top)
			}
			m, err := run.Open(dir, best)
			if err != nil {
				return atFlag("run", err)
			}
			defer m.Close()
			if m.Config.Table != nil && m.Config.Table.Preprocessing != nil {
				return predictTable(cmd, m, files)
			}
			preds, err := m.PredictImages(files, invert)
			if err != nil {
				return atFlag("run", err)
			}
			if len(preds) == 1 && preds[0].Err != nil && !asJSON {
				return preds[0].Err // one file: its error is the command's
			}
			var failed []string
			for _, p := range preds {
				if p.Err != nil {
					failed = append(failed, p.File)
					fmt.Fprintln(cmd.ErrOrStderr(), "dlrun:", oneLine(p.Err.Error()))
				}
			}
			if asJSON {
				if err := writeJSON(cmd.OutOrStdout(), predictionsJSON(preds, top, m.Classes())); err != nil {
					return err
				}
			} else {
				printPredictions(cmd.OutOrStdout(), preds, top, m.Classes())
			}
			if len(failed) > 0 {
				return errors.Errorf("%d of %s could not be classified: %s", len(failed), count(len(files), "file"), listSome(failed, 3))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "run", "", "run folder of a trained image classifier")
	f.IntVar(&top, "top", 3, "classes to show per image")
	f.BoolVar(&invert, "invert", false, "invert the images' brightness first")
	f.BoolVar(&best, "best", false, "use the best epoch's weights instead of the last")
	f.BoolVar(&asJSON, "json", false, "print a JSON array with one object per file")
	return cmd
}

// printPredictions writes on out one line per file classified: its top
// classes with their probabilities. (Files that failed have their line
// on stderr.)
func printPredictions(out io.Writer, preds []run.ImagePrediction, top int, classes []string) {
	for _, p := range preds {
		if p.Err != nil {
			continue
		}
		var parts []string
		for _, c := range p.Top(top, classes) {
			parts = append(parts, fmt.Sprintf("%s %.3f", c.Class, c.Probability))
		}
		fmt.Fprintf(out, "%s: %s\n", p.File, strings.Join(parts, ", "))
	}
}

// filePrediction is one element of predict --json's array.
type filePrediction struct {
	File          string                 `json:"file"`
	Class         string                 `json:"class,omitempty"`
	Probability   float64                `json:"probability,omitempty"`
	Top           []run.ClassProbability `json:"top,omitempty"`
	Probabilities []float64              `json:"probabilities,omitempty"`
	Error         string                 `json:"error,omitempty"`
}

func predictionsJSON(preds []run.ImagePrediction, top int, classes []string) []filePrediction {
	out := make([]filePrediction, len(preds))
	for i, p := range preds {
		out[i].File = p.File
		if p.Err != nil {
			out[i].Error = oneLine(p.Err.Error())
			continue
		}
		out[i].Top = p.Top(top, classes)
		if len(out[i].Top) > 0 {
			out[i].Class, out[i].Probability = out[i].Top[0].Class, out[i].Top[0].Probability
		}
		out[i].Probabilities = p.Probabilities
	}
	return out
}

// predictTable writes the rows of the one CSV file of files with run m's
// predictions to cmd's stdout.
func predictTable(cmd *cobra.Command, m *run.Run, files []string) error {
	for _, name := range []string{"top", "invert", "json"} {
		if cmd.Flags().Changed(name) {
			return errors.Errorf("--%s applies to images; run %s predicts a CSV table's rows", name, m.Dir)
		}
	}
	if len(files) != 1 || !datasets.IsTable(files[0]) {
		return errors.Errorf("run %s was trained on a table: give one CSV file of rows to predict (.csv or .csv.gz), not %s", m.Dir, listSome(files, 3))
	}
	return m.PredictTable(files[0], cmd.OutOrStdout())
}

func newSummaryCmd() *cobra.Command {
	var cfg run.Config
	var dir string
	cmd := &cobra.Command{
		Use:   "summary (--model NAME | --run DIR)",
		Short: "Print a model's layers with output shapes and parameter counts",
		Long: `Print the layers of a model with their output shapes and parameter counts: of a
reference model or model file built for its data (--data, whose shape, classes
or vocabulary size the model; a model file for text takes --task next-token and
the text with --data), of an agent for its game (--env), or of a trained run's
model (--run).`,
		Example: `  dlrun summary --model cnn
  dlrun summary --model small-cnn.yaml
  dlrun summary --model lm.yaml --task next-token --data emma.txt
  dlrun summary --model ppo --env connect4
  dlrun summary --run runs/cnn`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var m *nn.Sequential
			var in []int
			switch {
			case dir != "" && cfg.Model != "":
				return errors.New("--model and --run: give one, not both")
			case dir != "":
				r, err := run.Open(dir, false)
				if err != nil {
					return atFlag("run", err)
				}
				defer r.Close()
				if m, err = r.Model.Info.Model.Build(); err != nil {
					return atFlag("run", errors.Wrapf(err, "run folder %s: model.json", dir))
				}
				in = r.InputShape()
			case cfg.Model != "":
				var err error
				if m, in, err = runner.BuildModel(cfg); err != nil {
					return withFlagNames(err)
				}
			default:
				return errors.New("name a --model or a --run folder")
			}
			rows, err := m.Summary(in)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s, input %v per example\n%s", m.Name(), in, nn.FormatSummary(rows))
			return nil
		},
	}
	f := cmd.Flags()
	modelFlags(f, &cfg)
	f.StringVar(&dir, "run", "", "run folder")
	return cmd
}
