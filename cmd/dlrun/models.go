package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/dlrun/dlrun/datasets"
	"github.com/dlrun/dlrun/internal/version"
	"github.com/dlrun/dlrun/nn"
	"github.com/spf13/cobra"
)

func newModelsCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "models",
		Short: "List the reference models with their parameter counts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			fmt.Fprintln(w, "MODEL\tPARAMS\tDATASET\tDESCRIPTION")
			for _, r := range nn.References() {
				if r.Recipe.LanguageModel {
					txt, err := datasets.PrideAndPrejudice()
					if err != nil {
						return err
					}
					m, err := r.New([]int{r.Recipe.SeqLen}, len(txt.Vocab))
					if err != nil {
						return err
					}
					fmt.Fprintf(w, "%s\t%d\t%s\t%s\n", r.Name, m.NumParams([]int{r.Recipe.SeqLen}), r.Recipe.Dataset, r.Description)
					continue
				}
				d, err := datasets.Load(r.Recipe.Dataset)
				if err != nil {
					return err
				}
				outputs := len(d.Classes)
				if r.Recipe.Loss != "cce" && outputs == 2 {
					outputs = 1
				}
				in := r.InputShape(d.Shape)
				m, err := r.New(in, outputs)
				if err != nil {
					return err
				}
				fmt.Fprintf(w, "%s\t%d\t%s\t%s\n", r.Name, m.NumParams(in), r.Recipe.Dataset, r.Description)
			}
			return w.Flush()
		},
	}
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print dlrun's version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintln(cmd.OutOrStdout(), "dlrun", version.Version)
		},
	}
}
