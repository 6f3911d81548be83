package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/dlrun/dlrun/nn"
	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/train"
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
			if run.IsAgentRun(dir) {
				if data != "" || best {
					return errors.New("--data and --best do not apply to an agent's run: it plays its game (--episodes, --seed, --opponent)")
				}
				return evalAgent(cmd, dir, episodes, seed, opponent, asJSON)
			}
			for _, fl := range []string{"episodes", "seed", "opponent"} {
				if cmd.Flags().Changed(fl) {
					return errors.Errorf("--%s applies to an agent's run (dqn, ppo), not to %s", fl, dir)
				}
			}
			m, err := run.Load(dir, best)
			if err != nil {
				return atFlag("run", err)
			}
			defer m.Close()
			switch m.Info.Task {
			case run.Rating:
				return evalRatings(cmd, m, dir, data, asJSON)
			case run.NextToken:
				return evalLanguage(cmd, m, dir, data, asJSON)
			}
			given := data != ""
			if !given {
				data = m.Config.Dataset
			}
			d, err := m.Data(data)
			if err != nil {
				return dataError(err, given, dir)
			}
			r, err := m.Report(d)
			if err != nil {
				return errors.Wrapf(err, "evaluating on %s", data)
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return writeJSON(out, r)
			}
			printReport(out, r, data)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "run", "", "run folder of a trained classifier, recommender or language model")
	f.StringVar(&data, "data", "", "dataset to evaluate on, its test split (default: the run's)")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON")
	f.BoolVar(&best, "best", false, "use the best epoch's weights instead of the last")
	f.IntVar(&episodes, "episodes", run.EvalEpisodes, "agents: greedy episodes (games) to play, each against each opponent")
	f.Uint64Var(&seed, "seed", run.EvalSeed, "agents: the first episode's seed (training's episodes start at the run's seed)")
	f.StringVar(&opponent, "opponent", "", "connect4 agents: random or alphabeta:D (default: each of random, alphabeta:1 to 4)")
	return cmd
}

// evalRatings prints the loss, RMSE and MAE of rating model m, of run
// folder dir, on the test split of data (default: the run's dataset).
func evalRatings(cmd *cobra.Command, m *run.Model, dir, data string, asJSON bool) error {
	d, err := m.RatingData(data)
	if err != nil {
		return dataError(err, data != "", dir)
	}
	if data == "" {
		data = m.Config.Dataset
	}
	r, err := m.RatingReport(d)
	if err != nil {
		return errors.Wrapf(err, "evaluating on %s", data)
	}
	out := cmd.OutOrStdout()
	if asJSON {
		return writeJSON(out, r)
	}
	fmt.Fprintf(out, "%s: %s, loss %.4f, rmse %.4f, mae %.4f\n", data, count(r.Ratings, "rating"), r.Loss, r.RMSE, r.MAE)
	return nil
}

// evalLanguage prints the loss, bits per character, perplexity and
// accuracy of language model m, of run folder dir, on the held-out part of
// data (default: the run's text).
func evalLanguage(cmd *cobra.Command, m *run.Model, dir, data string, asJSON bool) error {
	d, err := m.LanguageData(data)
	if err != nil {
		return dataError(err, data != "", dir)
	}
	if data == "" {
		data = m.Config.Dataset
	}
	r, err := m.LanguageReport(d)
	if err != nil {
		return errors.Wrapf(err, "evaluating on %s", data)
	}
	out := cmd.OutOrStdout()
	if asJSON {
		return writeJSON(out, r)
	}
	fmt.Fprintf(out, "%s: %s held out, loss %.4f, bits per char %.4f, perplexity %.3f, accuracy %.4f\n",
		data, count(r.Characters, "character"), r.Loss, r.BitsPerChar, r.Perplexity, r.Accuracy)
	return nil
}

func printReport(w io.Writer, r *run.Report, data string) {
	fmt.Fprintf(w, "%s: %s, loss %.4f, accuracy %.4f\n\n", data, count(r.Examples, "example"), r.Loss, r.Accuracy)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "class\tprecision\trecall\tf1\tsupport\t")
	for _, c := range r.Classes {
		fmt.Fprintf(tw, "%s\t%.4f\t%.4f\t%.4f\t%d\t\n", c.Name, c.Precision, c.Recall, c.F1, c.Support)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nconfusion matrix (rows: true class, columns: predicted)")
	tw = tabwriter.NewWriter(w, 0, 0, 1, ' ', tabwriter.AlignRight)
	head := []string{""}
	for i := range r.Classes {
		head = append(head, fmt.Sprint(i))
	}
	fmt.Fprintln(tw, strings.Join(head, "\t")+"\t")
	for i, row := range r.Confusion {
		cells := []string{fmt.Sprintf("%d %s", i, r.Classes[i].Name)}
		for _, v := range row {
			cells = append(cells, fmt.Sprint(v))
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
	}
	tw.Flush()
}

func newPredictCmd() *cobra.Command {
	var dir string
	var top int
	var invert, best, asJSON bool
	cmd := &cobra.Command{
		Use:   "predict --run DIR FILE...",
		Short: "Classify image files (PNG, JPEG) with a trained model",
		Long: `Classify image files with a trained image classifier. Each image is converted
to the model's input: resized to its height and width, to one channel
(luminance) or three (RGB), scaled to [0, 1]. Fashion-MNIST images are light on
black: use --invert for photographs on a light background.

Each file gets one line, "FILE: CLASS P, CLASS P, ..." with the --top most
probable classes. A file that cannot be read or decoded does not stop the
others: it gets one line on stderr (with --json too), and dlrun exits with
status 1 at the end, naming the files that failed. With --json, stdout is a JSON array of one object per file, in order:
{"file", "class", "probability", "top": [{"class", "index", "probability"}],
"probabilities"} or {"file", "error"}.`,
		Example: `  dlrun predict --run runs/cnn shirt.png boot.jpg
  dlrun predict --run runs/cnn --json --top 1 photos/*.jpg`,
		Args: needArgs("image FILE"),
		RunE: func(cmd *cobra.Command, files []string) error {
			if dir == "" {
				return errors.New("--run: name the run folder of a trained model")
			}
			if top < 1 {
				return errors.Errorf("--top %d: must be positive", top)
			}
			m, err := run.Load(dir, best)
			if err != nil {
				return atFlag("run", err)
			}
			defer m.Close()
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

func newSummaryCmd() *cobra.Command {
	var model, dir, data string
	cmd := &cobra.Command{
		Use:   "summary",
		Short: "Print a model's layers with output shapes and parameter counts",
		Example: `  dlrun summary --model cnn
  dlrun summary --model small-cnn.yaml
  dlrun summary --run runs/cnn`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var m *nn.Sequential
			var in []int
			switch {
			case dir != "":
				info, err := train.ReadInfo(dir)
				if err != nil {
					return atFlag("run", err)
				}
				if m, err = info.Model.Build(); err != nil {
					return atFlag("run", errors.Wrapf(err, "run folder %s: model.json", dir))
				}
				in = info.InputShape
			case model != "":
				var err error
				if m, in, err = run.BuildModel(run.Config{Model: model, Dataset: data}); err != nil {
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
	f.StringVar(&model, "model", "", "reference model or model file (YAML or JSON)")
	f.StringVar(&dir, "run", "", "run folder")
	f.StringVar(&data, "data", "", "with --model: dataset that sets the input shape (default: the model's)")
	return cmd
}
