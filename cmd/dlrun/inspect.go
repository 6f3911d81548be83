package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/dlrun/dlrun/datasets"
	"github.com/dlrun/dlrun/nn"
	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/train"
	"github.com/pkg/errors"
	"github.com/spf13/cobra"
)

func newEvalCmd() *cobra.Command {
	var dir, data string
	var asJSON, best bool
	cmd := &cobra.Command{
		Use:   "eval",
		Short: "Evaluate a trained model on its test split: classifiers per class, recommenders by RMSE and MAE",
		Example: `  dlrun eval --run runs/cnn
  dlrun eval --run runs/cnn --data /usr/share/datasets/fashion-mnist --json
  dlrun eval --run runs/mf`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				return errors.New("--run: name the run folder of a trained model")
			}
			m, err := run.Load(dir, best)
			if err != nil {
				return err
			}
			defer m.Close()
			if m.Info.Task == run.Rating {
				return evalRatings(cmd, m, data, asJSON)
			}
			if data == "" {
				data = m.Config.Dataset
			}
			d, err := m.Data(data)
			if err != nil {
				return errors.Wrap(err, "--data")
			}
			r, err := m.Report(d)
			if err != nil {
				return errors.Wrapf(err, "evaluating on %s", data)
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(r)
			}
			printReport(out, r, data)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "run", "", "run folder of a trained classifier or recommender")
	f.StringVar(&data, "data", "", "dataset to evaluate on, its test split (default: the run's)")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON")
	f.BoolVar(&best, "best", false, "use the best epoch's weights instead of the last")
	return cmd
}

// evalRatings prints the loss, RMSE and MAE of rating model m on the test
// split of data (default: the run's dataset).
func evalRatings(cmd *cobra.Command, m *run.Model, data string, asJSON bool) error {
	d, err := m.RatingData(data)
	if err != nil {
		if data != "" {
			return errors.Wrap(err, "--data")
		}
		return err
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
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	fmt.Fprintf(out, "%s: %d ratings, loss %.4f, rmse %.4f, mae %.4f\n", data, r.Ratings, r.Loss, r.RMSE, r.MAE)
	return nil
}

func printReport(w io.Writer, r *run.Report, data string) {
	fmt.Fprintf(w, "%s: %d examples, loss %.4f, accuracy %.4f\n\n", data, r.Examples, r.Loss, r.Accuracy)
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
	var invert, best bool
	cmd := &cobra.Command{
		Use:   "predict --run DIR FILE...",
		Short: "Classify image files (PNG, JPEG) with a trained model",
		Long: `Classify image files with a trained image classifier. Each image is converted
to the model's input: resized to its height and width, to one channel
(luminance) or three (RGB), scaled to [0, 1]. Fashion-MNIST images are light on
black: use --invert for photographs on a light background.`,
		Example: `  dlrun predict --run runs/cnn shirt.png boot.jpg`,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			if dir == "" {
				return errors.New("--run: name the run folder of a trained model")
			}
			if top < 1 {
				return errors.Errorf("--top %d: must be positive", top)
			}
			m, err := run.Load(dir, best)
			if err != nil {
				return err
			}
			defer m.Close()
			if m.Info.Task != run.Classify || len(m.InputShape()) != 3 {
				return errors.Errorf("run folder %s holds a %s model over inputs of shape %v; predict takes image classifiers", dir, m.Info.Task, m.InputShape())
			}
			var x []float32
			for _, f := range files {
				img, err := datasets.ReadImage(f, m.InputShape(), invert)
				if err != nil {
					return err
				}
				x = append(x, img...)
			}
			probs, err := m.Predict(x)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			for i, p := range probs {
				order := make([]int, len(p))
				for j := range order {
					order[j] = j
				}
				sort.SliceStable(order, func(a, b int) bool { return p[order[a]] > p[order[b]] })
				var parts []string
				for _, c := range order[:min(top, len(order))] {
					name := fmt.Sprint(c)
					if c < len(m.Classes()) {
						name = m.Classes()[c]
					}
					parts = append(parts, fmt.Sprintf("%s %.3f", name, p[c]))
				}
				fmt.Fprintf(out, "%s: %s\n", files[i], strings.Join(parts, ", "))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "run", "", "run folder of a trained image classifier")
	f.IntVar(&top, "top", 3, "classes to show per image")
	f.BoolVar(&invert, "invert", false, "invert the images' brightness first")
	f.BoolVar(&best, "best", false, "use the best epoch's weights instead of the last")
	return cmd
}

func newSummaryCmd() *cobra.Command {
	var model, dir, data string
	cmd := &cobra.Command{
		Use:   "summary",
		Short: "Print a model's layers with output shapes and parameter counts",
		Example: `  dlrun summary --model cnn
  dlrun summary --model small-cnn.yaml
  dlrun summary --run runs/cnn`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var m *nn.Sequential
			var in []int
			switch {
			case dir != "":
				info, err := train.ReadInfo(dir)
				if err != nil {
					return err
				}
				if m, err = info.Model.Build(); err != nil {
					return errors.Wrapf(err, "run folder %s: model.json", dir)
				}
				in = info.InputShape
			case model != "":
				var err error
				if m, in, err = run.BuildModel(run.Config{Model: model, Dataset: data}); err != nil {
					return err
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
