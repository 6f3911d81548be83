package main

import (
	"fmt"
	"path/filepath"

	"github.com/dlrun/dlrun/onnx"
	"github.com/pkg/errors"
	"github.com/spf13/cobra"
)

func newExportCmd() *cobra.Command {
	var dir, out string
	var best bool
	cmd := &cobra.Command{
		Use:   "export --run DIR [--best] [-o model.onnx]",
		Short: "Export a trained model to ONNX, for ONNX Runtime and other runtimes",
		Long: fmt.Sprintf(`Write the model of a run folder as an ONNX model (opset %d, float32): every
layer dlrun builds, the recurrent ones as ONNX's LSTM and GRU operators. The
inputs and outputs are those the run's kind declares, named as dlrun serve
names them ("input"; "logits" and "probabilities" for a classifier, "rating"
for a recommender, "logits" for a language model, an agent's "q_values" or
"logits" and its greedy "action"), with a symbolic batch axis; the metadata
holds the dlrun version, the task, the architecture, the shapes and what
describes the tensors (class names, vocabulary, users and movies, game). A layer without an ONNX conversion is refused, by name. The file
is written atomically (default: model.onnx in the run folder).`, onnx.Opset),
		Example: `  dlrun train --model cnn --out runs/cnn
  dlrun export --run runs/cnn -o cnn.onnx
  dlrun export --run runs/cnn --best`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				return errors.New("--run: name the run folder of a trained model")
			}
			if out == "" {
				out = filepath.Join(dir, "model.onnx")
			}
			if err := checkOut("out", out); err != nil {
				return err
			}
			if err := onnx.ExportRun(dir, best, out); err != nil {
				return outOrRun(out, err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", out)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "run", "", "run folder of a trained model")
	f.StringVarP(&out, "out", "o", "", "the ONNX file to write (default: model.onnx in the run folder)")
	f.BoolVar(&best, "best", false, "export the best epoch's weights instead of the last")
	return cmd
}
