package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/odmn/odmn/conform"
	"github.com/odmn/odmn/runtime/native"
	"github.com/odmn/odmn/score"
	"github.com/odmn/odmn/train"
)

type conformOptions struct {
	model, data, runtimes string
	verbose               bool
	opts                  score.ConformOptions
	any                   conform.ModelOptions
	dims                  []string
	intRange              string
	jsonOut, junitOut     string
}

func newConformCmd() *cobra.Command {
	var o conformOptions
	cmd := &cobra.Command{
		Use:   "conform --model MODEL.onnx [--inputs PATH | --random N] | --model M --data FILE | conform nodes",
		Short: "Check a model across runtimes, or odmn against ONNX's conformance tests",
		Long: `conform --model runs any ONNX file on the native runtime and on ONNX Runtime
with the same inputs and compares every output: floats within
|native - ort| <= atol + rtol*|ort|, integers, bools and strings exactly.
The inputs are --inputs (a folder of input_N.pb, NAME.pb or NAME.npy files,
one .npz, or a folder of test_data_set_N folders; with output_N.pb beside
the inputs both runtimes are also compared with those expected outputs), or
--random N sets drawn from the declared types and shapes: symbolic dims
from --dim NAME=SIZE (else 1), floats standard normal, integers in the
range the graph accepts (below the gathered dimension for an input that
indexes a Gather, a one-hot depth, a LabelEncoder's keys), else --int-range.

Exit status: 0 every output agrees, 1 some output does not, 2 the check
could not run, 3 the model uses something outside the native runtime's
vocabulary (every such op is listed). --json and --junit write the report
(JUnit XML: a test case per output).

With --data, a model exported by odmn is checked on rows of a table against
the Go training-time forward pass (the reference) as well: per output the
largest differences, every decode on which a runtime chose another
sub-distribution or bucket (with the reference's top-2 margins), and the
decodes under --margin (ties, reported, not failures).

conform nodes runs ONNX's backend node tests (see conform nodes --help).`,
		Example: `  odmn conform --model model.onnx --random 1000 --seed 1 --junit conform.xml
  odmn conform --model model.onnx --inputs test_data_set_0 --atol 1e-4
  odmn conform --model model.onnx --data test.csv --rows 20000   # odmn exports`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch {
			case o.model == "":
				return cmd.Help()
			case o.data != "":
				return runConformODMN(o, cmd.OutOrStdout())
			}
			return runConformAny(cmd, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.model, "model", "", "ONNX file (with --data: from odmn export, or a model directory)")
	f.StringVar(&o.any.Inputs, "inputs", "", "inputs: folder of input_N.pb/NAME.pb/NAME.npy, one .npz, or test_data_set_N folders")
	f.IntVar(&o.any.Random, "random", 1, "random input sets to draw when --inputs is not given")
	f.Uint64Var(&o.any.Seed, "seed", 1, "seed of the random inputs")
	f.StringSliceVar(&o.dims, "dim", nil, "size of a symbolic dimension, NAME=SIZE (repeatable; default 1)")
	f.StringVar(&o.intRange, "int-range", "0:10", "range LO:HI (HI excluded) of integer inputs the graph does not bound")
	f.StringVar(&o.jsonOut, "json", "", "write the report as JSON to this file (- for stdout)")
	f.StringVar(&o.junitOut, "junit", "", "write the report as JUnit XML to this file")
	f.IntVar(&o.any.Threads, "threads", 1, "ONNX Runtime intra-op threads")
	f.StringVar(&o.data, "data", "", "odmn exports: table whose first --rows rows are compared with the Go reference")
	f.IntVar(&o.opts.Rows, "rows", score.DefaultRows, "with --data: rows to compare (-1: all)")
	f.Float64Var(&o.opts.Atol, "atol", 0, "absolute tolerance (default 1e-5; with --data 1e-4, label units)")
	f.Float64Var(&o.opts.Rtol, "rtol", 0, "relative tolerance (default 1e-5)")
	f.Float64Var(&o.opts.Margin, "margin", score.DefaultMargin, "with --data: top-2 probability margin under which a decode is a tie")
	f.StringVar(&o.runtimes, "runtimes", "native,native-bodies,ort", "with --data: runtimes to compare with the reference")
	f.IntVar(&o.opts.Batch, "batch", score.DefaultBatch, "with --data: rows per model call")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "with --data: list every tie")
	cmd.AddCommand(newConformNodesCmd())
	return cmd
}

// runConformAny checks any ONNX file, native against ONNX Runtime.
func runConformAny(cmd *cobra.Command, o conformOptions) error {
	fail := func(err error) error { return &conform.ExitError{Code: conform.ExitCannotRun, Err: err} }
	o.any.Tolerance = conform.Tolerance{Atol: o.opts.Atol, Rtol: o.opts.Rtol}
	if o.any.Tolerance == (conform.Tolerance{}) {
		o.any.Tolerance = conform.ModelTolerance
	}
	o.any.Dims = map[string]int{}
	for _, d := range o.dims {
		name, size, ok := strings.Cut(d, "=")
		n, err := strconv.Atoi(size)
		if !ok || err != nil || n < 0 {
			return fail(fmt.Errorf("--dim %q: want NAME=SIZE", d))
		}
		o.any.Dims[name] = n
	}
	lo, hi, ok := strings.Cut(o.intRange, ":")
	var err1, err2 error
	o.any.IntLo, err1 = strconv.ParseInt(lo, 10, 64)
	o.any.IntHi, err2 = strconv.ParseInt(hi, 10, 64)
	if !ok || err1 != nil || err2 != nil || o.any.IntHi <= o.any.IntLo {
		return fail(fmt.Errorf("--int-range %q: want LO:HI with LO < HI", o.intRange))
	}
	rep, err := conform.Model(o.model, o.any)
	if err != nil {
		if o.junitOut != "" {
			// CI still gets a report: one test case in error.
			writeReport(cmd, o.junitOut, func(w io.Writer) error { return conform.WriteJUnit(w, conform.ErrorSuite(o.model, err)) })
		}
		return fail(err)
	}
	if o.jsonOut != "" {
		if err := writeReport(cmd, o.jsonOut, func(w io.Writer) error { return conform.WriteJSON(w, rep) }); err != nil {
			return fail(err)
		}
	}
	if o.junitOut != "" {
		if err := writeReport(cmd, o.junitOut, func(w io.Writer) error { return conform.WriteJUnit(w, rep.JUnit()) }); err != nil {
			return fail(err)
		}
	}
	if o.jsonOut != "-" {
		if err := rep.Print(cmd.OutOrStdout()); err != nil {
			return err
		}
	}
	switch rep.ExitCode() {
	case conform.ExitNotSupported:
		return &conform.ExitError{Code: conform.ExitNotSupported,
			Err: fmt.Errorf("conform: %s uses ops outside the native runtime's vocabulary: %s", o.model, rep.UnsupportedNames())}
	case conform.ExitDisagree:
		return &conform.ExitError{Code: conform.ExitDisagree, Err: fmt.Errorf("conform: %s: native and ONNX Runtime disagree beyond tolerance", o.model)}
	}
	return nil
}

// writeReport writes a report to path ("-": stdout) through a temporary
// file.
func writeReport(cmd *cobra.Command, path string, write func(io.Writer) error) error {
	if path == "-" {
		return write(cmd.OutOrStdout())
	}
	var b bytes.Buffer
	if err := write(&b); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b.Bytes(), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// runConformODMN is the richer check of odmn's own exports.
func runConformODMN(o conformOptions, w io.Writer) error {
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
		dir, run, jsonOut, junitOut string
		verbose, bodiesOnly         bool
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
non-zero when any test fails. --json writes every result with the counts by
op and by reason; --junit a test case per node test (not applicable ones
skipped).`,
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
			if jsonOut != "" {
				if err := writeReport(cmd, jsonOut, func(w io.Writer) error { return conform.WriteJSON(w, rep) }); err != nil {
					return err
				}
			}
			if junitOut != "" {
				if err := writeReport(cmd, junitOut, func(w io.Writer) error { return conform.WriteJUnit(w, rep.JUnit()) }); err != nil {
					return err
				}
			}
			if jsonOut != "-" {
				if err := rep.Print(cmd.OutOrStdout(), verbose); err != nil {
					return err
				}
			}
			if n := rep.Total.Failed; n > 0 {
				return fmt.Errorf("conform nodes: %d of %d applicable tests failed", n, n+rep.Total.Passed)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "dir", conform.DefaultNodeTestDir, "directory of node tests (test_*/model.onnx)")
	f.BoolVarP(&verbose, "verbose", "v", false, "also list every test that is not applicable, with its reason")
	f.StringVar(&run, "run", "", "only run tests whose directory name matches this regular expression")
	f.BoolVar(&bodiesOnly, "bodies-only", false, "run composite ops from their function bodies even when a fused kernel exists")
	f.StringVar(&jsonOut, "json", "", "write the results as JSON to this file (- for stdout)")
	f.StringVar(&junitOut, "junit", "", "write the results as JUnit XML to this file")
	return cmd
}
