package main

import (
	"fmt"
	"regexp"

	"github.com/spf13/cobra"

	"odmn/compat"
	"odmn/runtime/native"
)

func newConformCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "conform",
		Short: "Check odmn against ONNX's conformance tests",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
	}
	cmd.AddCommand(newConformNodesCmd())
	return cmd
}

func newConformNodesCmd() *cobra.Command {
	var (
		dir        string
		verbose    bool
		run        string
		bodiesOnly bool
	)
	cmd := &cobra.Command{
		Use:   "nodes",
		Short: "Run ONNX's backend node tests on the native runtime",
		Long: `Run ONNX's backend node tests (one directory per test: model.onnx and
test_data_set_N/{input,output}_K.pb) through odmn's importer and native
runtime, and compare with ONNX's tolerance (rtol 1e-3, atol 1e-7).

Tests whose model uses an op, element type, op version or feature outside
odmn's vocabulary are "not applicable", never passed. The table counts each
test under every op type its model uses; the total counts each test once.
Failures are listed with their reason (and, with --verbose, every test that
does not apply). The last line is "N passed, M failed"; the command exits
non-zero when any test fails.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts := compat.NodeOptions{Native: native.Options{BodiesOnly: bodiesOnly}}
			if run != "" {
				re, err := regexp.Compile(run)
				if err != nil {
					return fmt.Errorf("--run: %w", err)
				}
				opts.Match = re
			}
			rep, err := compat.RunNodeTests(dir, opts)
			if err != nil {
				return err
			}
			if err := rep.Print(cmd.OutOrStdout(), verbose); err != nil {
				return err
			}
			if n := rep.Total.Failed; n > 0 {
				return fmt.Errorf("conform nodes: %d of %d applicable tests failed", n, n+rep.Total.Passed)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", compat.DefaultNodeTestDir, "directory of node tests (test_*/model.onnx)")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "also list every test that is not applicable, with its reason")
	cmd.Flags().StringVar(&run, "run", "", "only run tests whose directory name matches this regular expression")
	cmd.Flags().BoolVar(&bodiesOnly, "bodies-only", false, "run composite ops from their function bodies even when a fused kernel exists")
	return cmd
}
