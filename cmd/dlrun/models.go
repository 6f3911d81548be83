package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/dlrun/dlrun/internal/version"
	"github.com/dlrun/dlrun/nn"
	"github.com/dlrun/dlrun/run"
	"github.com/spf13/cobra"
)

func newModelsCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "models",
		Short: "List the reference models with their parameter counts, and the agents",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			fmt.Fprintln(w, "MODEL\tPARAMS\tDATASET\tTASK\tDESCRIPTION")
			for _, r := range nn.References() {
				recipe, err := run.Recipe(r.Name, "")
				if err != nil {
					return err
				}
				m, in, err := run.BuildModel(run.Config{Model: r.Name})
				if err != nil {
					return err
				}
				fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\n", r.Name, m.NumParams(in), recipe.Dataset, recipe.Task, r.Description)
			}
			for _, a := range run.Agents() {
				fmt.Fprintf(w, "%s\t\t%s\t%s\t%s\n", a.Name, a.Envs, run.Play, a.Description)
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
