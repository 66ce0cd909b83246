package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/odmn/odmn/data"
	"github.com/odmn/odmn/export"
	"github.com/odmn/odmn/fixtures/synth"
	"github.com/odmn/odmn/internal/fsutil"
	"github.com/odmn/odmn/report"
	"github.com/odmn/odmn/runtime/ort"
	"github.com/odmn/odmn/score"
	"github.com/odmn/odmn/train"
)

type demoOptions struct {
	users    int
	seed     uint64
	data     string
	spec     string
	out      string
	epochs   int
	testFrac float64
	baseline bool
	quiet    bool
}

func newDemoCmd() *cobra.Command {
	o := demoOptions{users: 200000, seed: 1, out: "out/demo", epochs: 8, testFrac: 0.2, baseline: true}
	cmd := &cobra.Command{
		Use:   "demo [--data FILE --spec SPEC] [--out DIR]",
		Short: "Run the main job end to end: data, ODMN and an MSE-MLP, evaluation, ONNX export",
		Long: `demo runs odmn's main job in one command:

  1. data: generate --users synthetic new users (the default), or take --data;
  2. split it, holding out --test of the users (seeded);
  3. train ODMN, and an MSE-trained MLP of the same width as the baseline;
  4. evaluate both on the held-out users: the paper's metrics for ODMN's
     argmax and expected-value decodes and for the MLP, side by side, with
     Lorenz, decile and training-curve plots;
  5. export ODMN to one ONNX file (raw feature columns in, decoded LTV out)
     and score the held-out users through the Go training-time forward pass,
     the native Go runtime and ONNX Runtime, printing how closely they agree.

Everything is written under --out: the tables (results.md), the plots, the
model directories and odmn.onnx.`,
		Example: `  odmn demo
  odmn dataset from-transactions --in CDNOW_master.txt --customer customer_id \
    --time date --value dollar_value --count number_of_cds --out cdnow.csv
  odmn demo --data cdnow.csv --out out/cdnow`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context() // canceled by SIGINT or SIGTERM (main)
			return runDemo(ctx, o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.users, "users", o.users, "synthetic users to generate (without --data)")
	f.Uint64Var(&o.seed, "seed", o.seed, "seed of the data, split and training")
	f.StringVar(&o.data, "data", "", "a user table to use instead of synthetic data")
	f.StringVar(&o.spec, "spec", "", "its spec (default: <data without extension>.spec.json)")
	f.StringVar(&o.out, "out", o.out, "output directory")
	f.IntVar(&o.epochs, "epochs", o.epochs, "maximum training epochs")
	f.Float64Var(&o.testFrac, "test", o.testFrac, "share of users held out for evaluation")
	f.BoolVar(&o.baseline, "baseline", o.baseline, "also train and evaluate the MSE-MLP baseline")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "less output")
	return cmd
}

func runDemo(ctx context.Context, o demoOptions, w, errw io.Writer) error {
	t0 := time.Now()
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	step := func(format string, a ...any) {
		fmt.Fprintf(w, "\n== "+format+"\n", a...)
	}
	src, specPath := o.data, o.spec
	if src == "" {
		step("1. generating %d synthetic users (seed %d)", o.users, o.seed)
		src = filepath.Join(o.out, "users.csv")
		var bar io.Writer
		if !o.quiet && isTerminal(errw) {
			bar = errw
		}
		res, err := generateTable(ctx, synth.Config{Users: o.users, Seed: o.seed}, src, bar)
		if err != nil {
			return err
		}
		specPath = res.specPath
		if err := synth.PrintSummary(w, res.stats); err != nil {
			return err
		}
	} else {
		step("1. data: %s", src)
	}
	if specPath == "" {
		specPath = data.SpecPathFor(src)
	}
	spec, err := data.LoadSpec(specPath)
	if err != nil {
		return err
	}
	trainPath, testPath := filepath.Join(o.out, "train.csv"), filepath.Join(o.out, "test.csv")
	ins := []fsutil.Arg{{Flag: "--data", Path: src}, {Flag: "--spec", Path: specPath}}
	if err := checkOutputs(ins, fsutil.Arg{Flag: "the demo's training split", Path: trainPath}, fsutil.Arg{Flag: "the demo's test split", Path: testPath}); err != nil {
		return err
	}
	nTrain, nTest, err := data.SplitFile(src, spec, o.testFrac, o.seed, trainPath, testPath)
	if err != nil {
		return err
	}
	for _, p := range []string{trainPath, testPath} {
		if err := spec.Save(data.SpecPathFor(p)); err != nil {
			return err
		}
	}
	step("2. split: %d users to train on, %d held out", nTrain, nTest)

	cfg := train.DefaultConfig()
	cfg.Epochs, cfg.Seed = o.epochs, o.seed
	type run struct {
		variant train.Variant
		dir     string
		bundle  *train.Bundle
	}
	runs := []*run{{variant: train.ODMN, dir: filepath.Join(o.out, "odmn")}}
	if o.baseline {
		runs = append(runs, &run{variant: train.MSE, dir: filepath.Join(o.out, "mse-mlp")})
	}
	for i, r := range runs {
		step("3.%d training %s", i+1, displayName(r.variant))
		c := cfg
		c.Variant = r.variant
		b, err := runTrain(ctx, trainOptions{data: trainPath, spec: specPath, out: r.dir, cfg: c, quiet: o.quiet}, w, errw)
		if err != nil {
			return err
		}
		r.bundle = b
	}

	step("4. evaluation on the %d held-out users", nTest)
	var evals []report.ModelEval
	var plotHistory *train.History
	for _, r := range runs {
		ds, err := data.Load(testPath, r.bundle.Spec, r.bundle.Encoder)
		if err != nil {
			return err
		}
		e, err := evaluateBundle(r.bundle, ds, "", "all", displayName(r.variant), true)
		if err != nil {
			return err
		}
		evals = append(evals, modelEvals(e)...)
		if r.variant == train.ODMN {
			plotHistory = r.bundle.History
		}
	}
	if err := report.EvalTable(w, report.Rows(evals), report.Text, report.MarkBest()); err != nil {
		return err
	}
	fmt.Fprintln(w)
	if err := report.MonotonicityLines(w, evals, report.Text); err != nil {
		return err
	}
	if err := report.WriteAtomic(filepath.Join(o.out, "results.md"), func(f io.Writer) error {
		fmt.Fprintf(f, "Held-out users: %d (data %s, seed %d)\n\n", nTest, src, o.seed)
		if err := report.EvalTable(f, report.Rows(evals), report.Markdown, report.MarkBest()); err != nil {
			return err
		}
		fmt.Fprintln(f)
		return report.MonotonicityLines(f, evals, report.Markdown)
	}); err != nil {
		return err
	}
	plots, err := writePlots(filepath.Join(o.out, "plots"), "models", evals, plotHistory)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\ntables: %s\nplots: %v\n", filepath.Join(o.out, "results.md"), plots)

	step("5. ONNX export and cross-runtime check")
	if err := demoExport(runs[0].bundle, testPath, filepath.Join(o.out, "odmn.onnx"), w); err != nil {
		return err
	}
	fmt.Fprintf(w, "\ndemo done in %s\n", time.Since(t0).Round(time.Second))
	return nil
}

// demoExport exports ODMN as one raw-feature ONNX file (with the decode
// indices, so that the check below covers them) and compares the Go
// training-time forward pass, the native runtime and ONNX Runtime on every
// held-out user.
func demoExport(b *train.Bundle, testPath, onnxPath string, w io.Writer) error {
	g, err := b.ExportGraph(train.InferOptions{Indices: true})
	if err != nil {
		return err
	}
	if err := export.WriteFile(onnxPath, g, export.Options{ProducerVersion: train.Version}); err != nil {
		return err
	}
	fmt.Fprintf(w, "wrote %s: %d raw feature columns in, %d outputs\n", onnxPath, len(g.Inputs()), len(g.Outputs()))
	m, err := score.Load(onnxPath, train.InferOptions{})
	if err != nil {
		return err
	}
	ver, _ := ort.Version()
	fmt.Fprintf(w, "Go training-time forward pass vs native Go runtime vs ONNX Runtime %s:\n", ver)
	rep, err := score.Conform(m, testPath, score.ConformOptions{Rows: -1, Runtimes: []string{score.Native, score.ORT}})
	if err != nil {
		return err
	}
	if err := rep.Print(w, false); err != nil {
		return err
	}
	if !rep.Pass() {
		return fmt.Errorf("the runtimes disagree on %s", onnxPath)
	}
	return nil
}
