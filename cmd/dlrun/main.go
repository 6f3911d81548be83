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
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func main() {
	if err := newRoot().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "dlrun:", err)
		os.Exit(1)
	}
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
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetFlagErrorFunc(flagError)
	root.AddCommand(newTrainCmd(), newRunCmd(), newEvalCmd(), newPredictCmd(), newRecommendCmd(), newGenerateCmd(), newSummaryCmd(), newModelsCmd(), newVersionCmd())
	return root
}
