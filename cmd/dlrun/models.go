package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/dlrun/dlrun/internal/version"
	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/runner"
	"github.com/spf13/cobra"
)

func newModelsCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "models",
		Short: "List the reference models with their parameter counts, and the agents",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			fmt.Fprintln(w, "MODEL\tPARAMS\tDATA\tTASK\tDESCRIPTION")
			for _, name := range run.References() {
				c := run.Config{Model: name}
				if err := c.Resolve(); err != nil {
					return err
				}
				k, err := c.Kind()
				if err != nil {
					return err
				}
				// A model whose data must be made first (shots) is listed
				// all the same, its parameters uncounted.
				params, desc := "-", k.Describe(name)
				if m, in, err := runner.BuildModel(run.Config{Model: name}); err == nil {
					params = fmt.Sprint(m.NumParams(in))
				} else {
					desc += " [parameters not counted: " + err.Error() + "]"
				}
				data := c.Dataset
				if data == "" {
					data = c.Game()
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", name, params, data, c.Task, desc)
			}
			return w.Flush()
		},
	}
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print dlrun's version",
		Args:  noArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintln(cmd.OutOrStdout(), "dlrun", version.Version)
		},
	}
}
