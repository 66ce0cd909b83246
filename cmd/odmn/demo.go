package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

// newDemoCmd is a placeholder: the end-to-end demo (train, export, score
// with both runtimes) is wired in later.
func newDemoCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "demo",
		Short: "Run the end-to-end demo: train a CLV model, export it to ONNX, score it",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(cmd.OutOrStdout(), "demo: not yet wired")
			return nil
		},
	}
}
