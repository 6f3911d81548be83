package main

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/dlrun/dlrun/runner"

	"github.com/dlrun/dlrun/experiments"
	"github.com/dlrun/dlrun/run"
	"github.com/pkg/errors"
	"github.com/spf13/cobra"
)

func newRunCmd() *cobra.Command {
	var scratch run.Config // only to declare the flags; applyFlags copies the given ones
	var seeds, out string
	var prof profiling
	cmd := &cobra.Command{
		Use:   "run CONFIG...",
		Short: "Run experiments from YAML configs",
		Long: `Run each experiment config (see experiments/*.yaml): its model on its dataset with
every hyperparameter and seed it names. Every flag of 'dlrun train' can
override the file (--seed N runs that one seed); the resolved configuration of
each seed is what its config.json records. Each seed trains into OUT/seed-N,
and OUT/experiment.json holds every seed's figures with their mean and
standard deviation and the SHA-256 of each trained weights file.`,
		Example: `  dlrun run experiments/cnn.yaml
  dlrun run experiments/mlp.yaml --epochs 3 --seeds 1,2 --out runs/mlp-short
  dlrun run experiments/*.yaml`,
		Args: needArgs("experiment CONFIG"),
		RunE: func(cmd *cobra.Command, paths []string) error {
			f := cmd.Flags()
			if len(paths) > 1 && f.Changed("out") {
				return errors.New("--out names one folder: give one config with it")
			}
			if err := checkOutFolder("out", out); err != nil {
				return err
			}
			if f.Changed("seeds") && f.Changed("seed") {
				return errors.New("--seed and --seeds: give one of them")
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
				if err := experiments.CheckSeeds(seedList); err != nil {
					return errors.Errorf("--seeds %s: %s", seeds, strings.TrimPrefix(err.Error(), "seeds: "))
				}
			}
			return prof.with(func() error { return runExperiments(cmd, paths, seedList) })
		},
	}
	f := cmd.Flags()
	runFlags(f, &scratch)
	profileFlags(f, &prof)
	f.StringVar(&seeds, "seeds", "", "override the seeds (comma-separated)")
	f.StringVar(&out, "out", "", "experiment folder (default runs/experiments/<name>)")
	return cmd
}

// runExperiments runs each experiment config of paths, the command's
// flags applied, and its seeds replaced by seedList where not nil.
func runExperiments(cmd *cobra.Command, paths []string, seedList []uint64) error {
	opts := runner.Options{Log: cmd.OutOrStdout()}
	finish, err := parallel(&opts)
	if err != nil {
		return err
	}
	return finish(runEach(cmd, paths, seedList, opts))
}

// runEach runs each experiment of paths with opts. A flag that does not
// apply to an experiment's model (--epochs to an agent) is left out of it,
// and the command says so before the first runs; one that applies to none
// of them is refused, as train refuses it.
func runEach(cmd *cobra.Command, paths []string, seedList []uint64, opts runner.Options) error {
	f := cmd.Flags()
	out, _ := f.GetString("out")
	load := func(force map[string]bool) ([]*experiments.Config, []string, map[string][]string, map[string]string, error) {
		var cs []*experiments.Config
		var flags []string
		skippedBy := map[string][]string{} // flag -> experiments
		why := map[string]string{}         // flag -> why, for the first
		for _, p := range paths {
			c, err := experiments.Load(p)
			if err != nil {
				return nil, nil, nil, nil, err
			}
			skipped, err := applyFlags(cmd, &c.Config, force)
			if err != nil {
				return nil, nil, nil, nil, withFlagNames(errors.Wrap(err, p))
			}
			for _, s := range skipped {
				if len(skippedBy[s.flag]) == 0 {
					flags = append(flags, s.flag)
					why[s.flag] = s.why
				}
				skippedBy[s.flag] = append(skippedBy[s.flag], c.Name)
			}
			cs = append(cs, c)
		}
		return cs, flags, skippedBy, why, nil
	}
	cs, flags, skippedBy, why, err := load(nil)
	if err != nil {
		return err
	}
	nowhere := map[string]bool{}
	for _, fl := range flags {
		if len(skippedBy[fl]) == len(cs) {
			nowhere[fl] = true
		}
	}
	if len(nowhere) > 0 { // set them, for the experiments' checks to refuse
		if cs, flags, skippedBy, why, err = load(nowhere); err != nil {
			return err
		}
	}
	for _, fl := range flags {
		names := skippedBy[fl]
		fmt.Fprintf(cmd.OutOrStdout(), "%s does not apply to %s (%s: %s); left out of %s\n", fl, strings.Join(names, ", "), names[0], why[fl], count(len(names), "experiment"))
	}
	for i, c := range cs { // every experiment checked before the first runs
		if f.Changed("data") {
			c.Requires = "" // the file's data requirement is about its own dataset
		}
		if f.Changed("seed") {
			c.Seeds = []uint64{c.Seed}
			c.Seed = 0
		} else if seedList != nil {
			c.Seeds = seedList
		}
		if err := c.Check(); err != nil {
			return withFlagNames(errors.Wrap(err, paths[i]))
		}
	}
	for _, c := range cs {
		dir := out
		if dir == "" {
			dir = filepath.Join("runs", "experiments", c.Name)
		}
		res, err := experiments.Run(c, dir, opts)
		if err != nil {
			return withoutResume(err, dir)
		}
		if res != nil && res.Skipped == "" {
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %s\n", c.Name, filepath.Join(dir, "experiment.json"))
		}
	}
	return nil
}

// withoutResume rewrites runner.Train's error for a seed folder that already
// holds a run (a runner.ExistsError, which suggests train's --resume) to a
// hint that 'dlrun run' can follow: another --out, or the experiment
// folder dir removed.
func withoutResume(err error, dir string) error {
	var ex *runner.ExistsError
	if !errors.As(err, &ex) {
		return err
	}
	hint := fmt.Sprintf("run folder %s already holds a run (%s); choose another --out, or remove %s to run the experiment again", ex.Dir, ex.File, dir)
	return errors.New(strings.Replace(err.Error(), ex.Error(), hint, 1))
}
