package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// newRootCmd builds the odmn command tree. Subcommands are registered here;
// each one is defined in its own file.
func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "odmn",
		Short: "Customer lifetime value models, trained in Go and served through ONNX",
		Long: `odmn is a Go toolkit for customer lifetime value (CLV) prediction. It
trains models natively in Go on a small tensor and autodiff library, exports
them as standard ONNX files, and scores them either with its own pure-Go
runtime or with ONNX Runtime, checking that both give the same answers, so a
model built here can be served anywhere ONNX runs.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(
		newVersionCmd(),
		newDemoCmd(),
		newDatasetCmd(),
		newGenCmd(),
		newTrainCmd(),
		newEvalCmd(),
		newExportCmd(),
		newScoreCmd(),
		newCompareCmd(),
		newConformCmd(),
		newBenchCmd(),
		newBenchChildCmd(),
		newCacheCmd(),
		newServeCmd(),
		newServeBenchCmd(),
	)
	return root
}

func main() {
	if err := newRootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "odmn:", err)
		os.Exit(1)
	}
}
