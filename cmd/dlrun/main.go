// Command dlrun trains dlrun's reference models from the command line.
//
//	dlrun train --model cnn            # train on the bundled Fashion-MNIST subset
//	dlrun train --model cnn --data /usr/share/datasets/fashion-mnist
//	dlrun models                       # list the reference models
//
// Every training run writes a run folder (see the train package):
// config.json, metrics.csv and summary.json.
package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/dlrun/dlrun/internal/version"
	"github.com/spf13/cobra"
)

// Exit status: 0 when every part of the command succeeded, 1 when it
// failed or, for a command over several inputs (predict's files), when any
// input failed; the error is one line on stderr, after "dlrun: ". With no
// arguments at all it prints its help on stderr and exits 2, as go does;
// a training stopped by SIGINT or SIGTERM exits 130 or 143 (onStop).
func main() {
	root := newRoot()
	if len(os.Args) < 2 {
		root.SetOut(os.Stderr)
		root.Help()
		os.Exit(2)
	}
	if err := execute(root); err != nil {
		fmt.Fprintln(os.Stderr, "dlrun:", err)
		os.Exit(1)
	}
}

// execute runs root and returns its error on one line: cobra's unknown
// command error with its suggestions on further lines becomes
// `unknown command "trian" for "dlrun"; did you mean train?`.
func execute(root *cobra.Command) error {
	err := root.Execute()
	if err == nil || !strings.Contains(err.Error(), "\n") {
		return err
	}
	msg := err.Error()
	if head, sugg, ok := strings.Cut(msg, "\n\nDid you mean this?\n"); ok {
		return fmt.Errorf("%s; did you mean %s?", head, strings.Join(strings.Fields(sugg), " or "))
	}
	return errors.New(strings.Join(strings.Fields(strings.ReplaceAll(msg, "\n", " ")), " "))
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "dlrun",
		Short: "Train neural networks declared as Gorgonia graphs",
		Long: `dlrun trains neural networks declared as symbolic Gorgonia graphs, reproducibly:
the same seed gives the same weights and the same metrics, bit for bit.

The reference models train on bundled data, so no download is needed:
  dlrun train --model cnn
  dlrun models`,
		Version:       version.Version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetVersionTemplate("dlrun {{.Version}}\n")
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetFlagErrorFunc(flagError)
	root.AddCommand(newTrainCmd(), newRunCmd(), newEvalCmd(), newPredictCmd(), newRecommendCmd(), newGenerateCmd(), newComposeCmd(), newCutsCmd(), newExplainCmd(), newExportCmd(), newPlayCmd(), newServeCmd(), newBoardCmd(), newSummaryCmd(), newModelsCmd(), newVersionCmd())
	return root
}
