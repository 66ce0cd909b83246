package main

import (
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/spf13/cobra"

	"github.com/odmn/odmn/conform"
	"github.com/odmn/odmn/runtime/native"
	"github.com/odmn/odmn/score"
	"github.com/odmn/odmn/train"
)

type conformModelOptions struct {
	model, data string
	runtimes    string
	verbose     bool
	opts        score.ConformOptions
}

func newConformCmd() *cobra.Command {
	var o conformModelOptions
	cmd := &cobra.Command{
		Use:   "conform [--model model.onnx|MODEL_DIR --data FILE [--rows N]] | conform nodes",
		Short: "Check a model across runtimes, or odmn against ONNX's conformance tests",
		Long: `conform --model runs the same rows of --data through the Go training-time
forward pass (the reference: the Go encoder and the inline inference graph,
rebuilt from the ONNX file's metadata and weights), the native runtime (fused
ai.odmn kernels, and the function bodies) and ONNX Runtime, all on the same
model, and prints for every output the largest absolute and relative
difference from the reference, every decode on which a runtime chose another
sub-distribution or bucket (with the reference's top-2 probability margins),
and the decodes whose margin is under --margin (ties, which runtimes may
break either way: reported, not failures). It exits non-zero when any output
is beyond tolerance outside ties.

ltv is held to the tolerance outside ties, ltv_ev and the margins
everywhere; the indices and encoded ids, when the file has them (export with
--indices --ids), must be identical outside ties. Without index outputs a
disagreement is an ltv difference beyond tolerance.

conform nodes runs ONNX's backend node tests (see conform nodes --help).`,
		Example: `  odmn export --model model --out model.onnx --indices --ids
  odmn conform --model model.onnx --data test.csv --rows 20000`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.model == "" && o.data == "" {
				return cmd.Help()
			}
			if o.model == "" || o.data == "" {
				return fmt.Errorf("conform: --model and --data go together")
			}
			return runConformModel(o, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.model, "model", "", "ONNX file from odmn export, or a model directory (exported in memory)")
	f.StringVar(&o.data, "data", "", "table whose first --rows rows are compared")
	f.IntVar(&o.opts.Rows, "rows", score.DefaultRows, "rows to compare (-1: all)")
	f.Float64Var(&o.opts.Atol, "atol", score.DefaultAtol, "absolute tolerance, label units")
	f.Float64Var(&o.opts.Rtol, "rtol", score.DefaultRtol, "relative tolerance")
	f.Float64Var(&o.opts.Margin, "margin", score.DefaultMargin, "top-2 probability margin under which a decode is a tie")
	f.StringVar(&o.runtimes, "runtimes", "native,native-bodies,ort", "runtimes to compare with the reference")
	f.IntVar(&o.opts.Batch, "batch", score.DefaultBatch, "rows per model call")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "list every tie")
	cmd.AddCommand(newConformNodesCmd())
	return cmd
}

func runConformModel(o conformModelOptions, w io.Writer) error {
	for _, r := range strings.Split(o.runtimes, ",") {
		if r = strings.TrimSpace(r); r != "" {
			o.opts.Runtimes = append(o.opts.Runtimes, r)
		}
	}
	if o.opts.Rows == 0 {
		o.opts.Rows = -1
	}
	m, err := score.Load(o.model, train.InferOptions{Indices: true, IDs: true})
	if err != nil {
		return err
	}
	rep, err := score.Conform(m, o.data, o.opts)
	if err != nil {
		return err
	}
	if err := rep.Print(w, o.verbose); err != nil {
		return err
	}
	if !rep.Pass() {
		return fmt.Errorf("conform: %s disagrees beyond tolerance", o.model)
	}
	return nil
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
			opts := conform.NodeOptions{Native: native.Options{BodiesOnly: bodiesOnly}}
			if run != "" {
				re, err := regexp.Compile(run)
				if err != nil {
					return fmt.Errorf("--run: %w", err)
				}
				opts.Match = re
			}
			rep, err := conform.RunNodeTests(dir, opts)
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
	cmd.Flags().StringVar(&dir, "dir", conform.DefaultNodeTestDir, "directory of node tests (test_*/model.onnx)")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "also list every test that is not applicable, with its reason")
	cmd.Flags().StringVar(&run, "run", "", "only run tests whose directory name matches this regular expression")
	cmd.Flags().BoolVar(&bodiesOnly, "bodies-only", false, "run composite ops from their function bodies even when a fused kernel exists")
	return cmd
}
