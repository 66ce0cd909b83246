package main

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"

	"github.com/spf13/cobra"

	"github.com/odmn/odmn/conform"
	"github.com/odmn/odmn/internal/sigctx"
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
	// --cpuprofile: a pprof CPU profile of any command, for finding where
	// time goes (go tool pprof bin/odmn FILE).
	var cpuprofile string
	var stopProfile func()
	root.PersistentFlags().StringVar(&cpuprofile, "cpuprofile", "", "write a pprof CPU profile of the command to `FILE`")
	root.PersistentPreRunE = func(*cobra.Command, []string) error {
		if cpuprofile == "" {
			return nil
		}
		f, err := os.Create(cpuprofile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return fmt.Errorf("--cpuprofile: %v", err)
		}
		stopProfile = func() { pprof.StopCPUProfile(); f.Close() }
		return nil
	}
	root.PersistentPostRun = func(*cobra.Command, []string) {
		if stopProfile != nil {
			stopProfile()
		}
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
		newInspectCmd(),
		newRunCmd(),
		newBenchCmd(),
		newBenchChildCmd(),
		newCacheCmd(),
		newServeCmd(),
		newServeBenchCmd(),
		newPipelineCmd(),
		newScoreDiffCmd(),
		newDailyCmd(),
	)
	return root
}

// main runs the command with a context that SIGINT (Ctrl-C) and SIGTERM
// cancel alike; a command stopped by one exits with 128 + its number.
func main() {
	ctx, stop := sigctx.Notify(context.Background())
	err := newRootCmd().ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "odmn:", sigctx.Explain(ctx, err))
		code := sigctx.ExitCode(ctx)
		if code == 1 {
			// Not stopped by a signal: the command's own code (odmn
			// conform: 1 disagree, 2 cannot run, 3 not supported).
			code = conform.ExitCodeOf(err)
		}
		os.Exit(code)
	}
}
