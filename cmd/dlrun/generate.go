package main

import (
	"fmt"

	"github.com/dlrun/dlrun/run"
	"github.com/pkg/errors"
	"github.com/spf13/cobra"
)

func newGenerateCmd() *cobra.Command {
	var dir string
	var best bool
	var o run.GenerateOptions
	cmd := &cobra.Command{
		Use:   "generate",
		Short: "Write text with a trained language model (charrnn, gpt, a next-token model file)",
		Long: `Load a language model from its run folder (config.json, model.json and
model.safetensors, or with --best best.safetensors) and write text: the model reads --prime, then samples
--length characters, one at a time (a transformer over its key/value caches). The same --seed
writes the same text.`,
		Example: `  dlrun train --model charrnn --out runs/austen
  dlrun generate --run runs/austen --prime "Elizabeth" --length 400 --temperature 0.8
  dlrun train --model gpt --out runs/gpt`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				return errors.New("--run: name the run folder of a trained language model (charrnn, gpt, ...)")
			}
			if err := o.Check(); err != nil {
				return err
			}
			r, err := run.Open(dir, best)
			if err != nil {
				return atFlag("run", err)
			}
			defer r.Close()
			text, err := r.Generate(o)
			if err != nil {
				return atFlag("run", err)
			}
			fmt.Fprintln(cmd.OutOrStdout(), text)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "run", "", "run folder of a trained language model")
	f.BoolVar(&best, "best", false, "use the best epoch's weights instead of the last")
	f.StringVar(&o.Prime, "prime", "\n", "text the model reads before writing")
	f.IntVar(&o.Length, "length", 500, "characters to write")
	f.Float64Var(&o.Temperature, "temperature", 0.8, "sampling temperature (0: always the most likely character)")
	f.Uint64Var(&o.Seed, "seed", 1, "seed for sampling")
	runDataFlag(f, &o.Data)
	return cmd
}
