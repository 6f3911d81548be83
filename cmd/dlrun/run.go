package main

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/dlrun/dlrun/experiments"
	"github.com/pkg/errors"
	"github.com/spf13/cobra"
)

func newRunCmd() *cobra.Command {
	var o experiments.Config
	var seeds, out string
	cmd := &cobra.Command{
		Use:   "run CONFIG...",
		Short: "Run experiments from YAML configs",
		Long: `Run each experiment config (see experiments/*.yaml): its model on its dataset with
every hyperparameter and seed it names. Flags given here override the file; the
resolved configuration of each seed is what its config.json records. Each seed
trains into OUT/seed-N, and OUT/experiment.json holds every seed's figures with
their mean and standard deviation and the SHA-256 of each trained weights file.`,
		Example: `  dlrun run experiments/cnn.yaml
  dlrun run experiments/mlp.yaml --epochs 3 --seeds 1,2 --out runs/mlp-short
  dlrun run experiments/*.yaml`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, paths []string) error {
			f := cmd.Flags()
			if len(paths) > 1 && f.Changed("out") {
				return errors.New("--out names one folder: give one config with it")
			}
			var seedList []uint64
			if f.Changed("seeds") {
				for _, s := range strings.Split(seeds, ",") {
					v, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
					if err != nil || v == 0 {
						return errors.Errorf("--seeds %q: want positive integers separated by commas", seeds)
					}
					seedList = append(seedList, v)
				}
			}
			for _, p := range paths {
				c, err := experiments.Load(p)
				if err != nil {
					return err
				}
				override(cmd, c, &o)
				if seedList != nil {
					c.Seeds = seedList
				}
				dir := out
				if dir == "" {
					dir = filepath.Join("runs", "experiments", c.Name)
				}
				res, err := experiments.Run(c, dir, cmd.OutOrStdout())
				if err != nil {
					return err
				}
				if res.Skipped == "" {
					fmt.Fprintf(cmd.OutOrStdout(), "%s: %s\n", c.Name, filepath.Join(dir, "experiment.json"))
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.Epochs, "epochs", 0, "override the epochs")
	f.IntVar(&o.BatchSize, "batch", 0, "override the batch size")
	f.Float64Var(&o.LearningRate, "lr", 0, "override the learning rate")
	f.StringVar(&o.Optimizer, "optimizer", "", "override the optimizer")
	f.StringVar(&o.Loss, "loss", "", "override the loss")
	f.StringVar(&o.DType, "dtype", "", "override the dtype")
	f.StringVar(&o.Cell, "cell", "", "override the recurrent cell")
	f.StringVar(&o.Dataset, "data", "", "override the dataset")
	f.Float64Var(&o.ClipNorm, "clip-norm", 0, "override gradient-norm clipping")
	f.StringVar(&seeds, "seeds", "", "override the seeds (comma-separated)")
	f.StringVar(&out, "out", "", "experiment folder (default runs/experiments/<name>)")
	return cmd
}

// override copies the flags given on the command line into c.
func override(cmd *cobra.Command, c, o *experiments.Config) {
	f := cmd.Flags()
	set := map[string]func(){
		"epochs": func() { c.Epochs = o.Epochs }, "batch": func() { c.BatchSize = o.BatchSize },
		"lr": func() { c.LearningRate = o.LearningRate }, "optimizer": func() { c.Optimizer = o.Optimizer },
		"loss": func() { c.Loss = o.Loss }, "dtype": func() { c.DType = o.DType }, "cell": func() { c.Cell = o.Cell },
		"data": func() { c.Dataset, c.Requires = o.Dataset, "" }, "clip-norm": func() { c.ClipNorm = o.ClipNorm },
	}
	for name, apply := range set {
		if f.Changed(name) {
			apply()
		}
	}
}
