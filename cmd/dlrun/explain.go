package main

import (
	"fmt"
	"path/filepath"

	"github.com/dlrun/dlrun/explain"
	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/rundir"
	"github.com/pkg/errors"
	"github.com/spf13/cobra"
)

func newExplainCmd() *cobra.Command {
	var dir, out, method, baseline string
	var o run.ExplainOptions
	var asJSON, best, board, importance bool
	var examples int
	cmd := &cobra.Command{
		Use:   "explain --run DIR INPUT...",
		Short: "Say why a trained model answered as it did: saliency, integrated gradients, occlusion",
		Long: `Explain the answers of a trained run (docs/explain.md). What an INPUT is, and
how its answer is explained, is the run's kind's:

  image classifier  an image file (PNG or JPEG, read as dlrun predict reads it):
                    the attribution of every pixel to the class, as a heat map
  table classifier  a CSV file of rows (as dlrun predict reads it): each
                    feature's attribution, per row
  regression        a CSV file of rows: each feature's attribution to the
                    prediction, in the target's units, per row
  other classifier  a row of comma-separated numbers: each feature's attribution
  language model    a text (the context): each character's attribution to the
                    character the model predicts next, in colour
  recommender       USER:MOVIE or USER (the dataset's ids; USER alone explains
                    the user's top recommendation): the rated movies that
                    added most to the predicted rating, with their share

The class explained is the predicted one, or --class NAME (a class, or the
next character). --method picks saliency (|gradient|), ig (integrated
gradients from a --baseline, black or blur, in --steps steps: the
attributions sum to the output's change) or occlusion (the fall of the output
when a window of the input is hidden); text and recommendations take ig.

The explanations are printed (in colour on a terminal), as JSON with --json,
and written with -o: a folder (a picture per input, named after it, and
explanations.json) or, for a name ending in .html, one HTML page. --board
explains the first --examples test examples of the run's own data instead and
writes them into the run folder's explanations/, where dlrun board shows them.
--importance ranks the features of a classifier or regression of rows over
its test split: each feature's mean absolute attribution, as a bar chart.`,
		Example: `  dlrun explain --run runs/cnn shirt.png -o heatmaps
  dlrun explain --run runs/cnn --method occlusion --class Sneaker boot.png -o boot.html
  dlrun explain --run runs/austen "It is a truth universally acknowledge"
  dlrun explain --run runs/mf 1:318 1 --json
  dlrun explain --run runs/cnn --board
  dlrun explain --run runs/xor --importance -o importance`,
		RunE: func(cmd *cobra.Command, inputs []string) error {
			if dir == "" {
				return errors.New("--run: name the run folder of a trained model")
			}
			switch {
			case importance && (board || len(inputs) > 0):
				return errors.New("--importance explains the run's test split as a whole; it takes no INPUT and no --board")
			case board && len(inputs) > 0:
				return errors.Errorf("%q: --board explains the run's test examples; it takes no INPUT", inputs[0])
			case board && out != "":
				return errors.New("--board and --out: --board writes into the run folder's explanations/; give one")
			case !board && !importance && len(inputs) == 0:
				return errors.New("name at least one INPUT to explain, or give --board or --importance (see 'dlrun explain --help')")
			case cmd.Flags().Changed("examples") && !board:
				return errors.New("--examples: it sets how many test examples --board explains")
			case examples < 1 || examples > run.MaxBoardExamples:
				return errors.Errorf("--examples %d: must be from 1 to %d", examples, run.MaxBoardExamples)
			case o.Steps < 1 || o.Steps > explain.MaxSteps:
				return errors.Errorf("--steps %d: must be from 1 to %d", o.Steps, explain.MaxSteps)
			}
			var err error
			if o.Method, err = explain.ParseMethod(method); err != nil {
				return atFlag("method", err)
			}
			if o.Baseline, err = explain.ParseBaseline(baseline); err != nil {
				return atFlag("baseline", err)
			}
			switch {
			case out != "" && run.IsPage(out):
				err = checkOut("out", out)
			case out != "":
				err = checkOutFolder("out", out)
			}
			if err != nil {
				return err
			}
			r, err := run.Open(dir, best)
			if err != nil {
				return atFlag("run", err)
			}
			defer r.Close()
			var ex *run.Explanations
			switch {
			case board:
				ex, err = r.ExplainTests(examples, o)
				out = filepath.Join(dir, rundir.Explanations)
			case importance:
				ex, err = r.ExplainImportance(o)
			default:
				ex, err = r.Explain(inputs, o)
			}
			if err != nil {
				return atFlag("run", err)
			}
			stdout := cmd.OutOrStdout()
			var written []string
			if out != "" {
				if written, err = ex.Save(out); err != nil {
					return outError("out", out, err)
				}
			}
			if asJSON {
				return writeJSON(stdout, ex)
			}
			if err := ex.Print(stdout, isTerminal(stdout)); err != nil {
				return err
			}
			if len(written) > 0 {
				fmt.Fprintf(stdout, "wrote %s to %s\n", count(len(written), "file"), out)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "run", "", "run folder of a trained classifier, regression, language model or recommender")
	f.StringVarP(&out, "out", "o", "", "write the explanations to this folder, or to this HTML page (a name ending in .html)")
	f.BoolVar(&asJSON, "json", false, "print the explanations as JSON")
	f.StringVar(&method, "method", "ig", "saliency, ig (integrated gradients) or occlusion")
	f.StringVar(&o.Class, "class", "", "the class (or next character) to explain (default: the predicted one)")
	f.IntVar(&o.Steps, "steps", explain.DefaultSteps, "integrated gradients: steps along the path from the baseline")
	f.StringVar(&baseline, "baseline", "black", "integrated gradients' start and occlusion's filling: black or blur")
	f.BoolVar(&o.Invert, "invert", false, "invert the images' brightness first, as dlrun predict --invert")
	f.BoolVar(&best, "best", false, "use the best epoch's weights instead of the last")
	f.BoolVar(&board, "board", false, "explain the first --examples test examples into the run folder's explanations/, for dlrun board")
	f.IntVar(&examples, "examples", 4, "with --board: how many test examples to explain")
	f.BoolVar(&importance, "importance", false, "rank the features of a classifier or regression of rows over its test split (mean absolute attribution)")
	return cmd
}
