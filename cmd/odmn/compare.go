package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/odmn/odmn/compare"
	"github.com/odmn/odmn/data"
	"github.com/odmn/odmn/fixtures/synth"
	"github.com/odmn/odmn/internal/fsutil"
	"github.com/odmn/odmn/report"
	"github.com/odmn/odmn/train"
	"github.com/odmn/odmn/train/twostage"
)

type compareOptions struct {
	data, spec string
	users      int
	dataSeed   uint64
	labels     string
	seeds      int
	firstSeed  uint64
	testFrac   float64
	ablations  bool
	models     []string
	out        string
	cfg        train.Config
	xgbThreads int
	quiet      bool
}

func newCompareCmd() *cobra.Command {
	o := compareOptions{seeds: 5, firstSeed: 1, testFrac: 0.2, out: "out/compare", dataSeed: 1, labels: synth.LabelsActiveDays}
	o.cfg = train.DefaultConfig()
	cmd := &cobra.Command{
		Use:   "compare --data FILE [--spec SPEC] [--seeds 5] [--ablations] [--out DIR]",
		Short: "Train ODMN, its baselines and ablations over seeds and write the paper's tables",
		Long: `compare runs the paper's evaluation. For each of --seeds seeds (--first-seed,
--first-seed+1, ...) it holds out --test of the users (seeded), fits the
feature encoder on the rest, trains Two-Stage XGBoost, ZILN, the MSE-MLP and
ODMN on them with that seed (and, with --ablations, NM, NMB, NMO, MDME on the
longest horizon and S, SM, SC on all), and evaluates every model on the same
held-out users.

The tables give the paper's metrics per horizon (NRMSE, NMAE, AMBE, Mutual
Gini, Gini, and the normalized model Gini, Spearman and means beside them) as
mean ± standard deviation over the seeds, the best of each horizon marked.
Predictions of the same kind are compared with each other (spec note 5b):
Table 1 has the mean-type predictions (ODMN's EV decode, ZILN, the MSE-MLP,
Two-Stage's P(pay) x E[y | pay]); Table 1b the point decodes (ODMN's argmax,
Eq. 7-8, and Two-Stage's hard rule); the ablation tables come once per
decode. The monotonicity violation rate of every multi-horizon model is
listed below its table. A paired comparison follows: per baseline, metric
and horizon, the seeds in which ODMN is better on the same held-out users,
and the mean difference.

Written to --out: results.md (the tables, the protocol and the timings),
results.json (every run's per-horizon reports and the aggregated tables;
timings in their own field), and Lorenz curves of the first seed (per
horizon the labels and every model, point decodes dashed): lorenz.png for
Two-Stage, ZILN, the MSE-MLP and ODMN and, with --ablations,
lorenz-single.png (Table 2) and lorenz-multi.png (Table 3).

Without --data, --users synthetic users are generated into --out first
(odmn gen, seed --data-seed). The same data, flags and seeds give the same
tables.`,
		Example: `  odmn compare --users 200000 --seeds 5 --ablations --out out/compare-synth
  odmn compare --data cdnow.csv --seeds 5 --ablations --out out/compare-cdnow`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context() // canceled by SIGINT or SIGTERM (main)
			_, err := runCompare(ctx, o, cmd.OutOrStdout(), cmd.ErrOrStderr())
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.data, "data", "", "user table (.csv or .parquet); without it, --users synthetic users")
	f.StringVar(&o.spec, "spec", "", "its spec (default: <data without extension>.spec.json)")
	f.IntVar(&o.users, "users", 0, "synthetic users to generate when no --data is given")
	f.Uint64Var(&o.dataSeed, "data-seed", o.dataSeed, "seed of the synthetic users")
	f.StringVar(&o.labels, "labels", o.labels, "synthetic labels: active_days or revenue")
	f.IntVar(&o.seeds, "seeds", o.seeds, "number of seeds (splits and trainings)")
	f.Uint64Var(&o.firstSeed, "first-seed", o.firstSeed, "the first seed; the others follow it")
	f.Float64Var(&o.testFrac, "test", o.testFrac, "share of users held out for evaluation")
	f.BoolVar(&o.ablations, "ablations", false, "also train the ablations: nm, nmb, nmo, mdme (longest horizon), s, sm, sc")
	f.StringSliceVar(&o.models, "models", nil, "only these models (twostage, ziln, mse, odmn, nm, nmb, nmo, mdme, s, sm, sc)")
	f.StringVar(&o.out, "out", o.out, "output directory")
	f.IntVar(&o.cfg.Epochs, "epochs", o.cfg.Epochs, "maximum epochs of the neural models")
	f.IntVar(&o.cfg.Patience, "patience", o.cfg.Patience, "early stopping: epochs without validation gain (0: never)")
	f.IntVar(&o.cfg.Batch, "batch", o.cfg.Batch, "mini-batch size")
	f.Float64Var(&o.cfg.LR, "lr", o.cfg.LR, "Adam learning rate of the networks")
	f.Float64Var(&o.cfg.EmbedLR, "embed-lr", o.cfg.EmbedLR, "Adam learning rate of the embeddings")
	f.BoolVar(&o.cfg.BBTInit, "bbt-init", o.cfg.BBTInit, "start each bucket-bias output at its bucket's mean training bias (--bbt-init=false: at 0.5, as the paper)")
	f.BoolVar(&o.cfg.BiasCal, "bias-cal", o.cfg.BiasCal, "calibrate each bucket-bias output on the training users at the end of training (--bias-cal=false: off)")
	f.BoolVar(&o.cfg.ProbCal, "prob-cal", o.cfg.ProbCal, "calibrate the bucket probabilities in the large on the training users at the end of training (--prob-cal=false: off)")
	f.Float64Var(&o.cfg.ValFrac, "val", o.cfg.ValFrac, "share of the training users held out for early stopping (all models)")
	f.IntVar(&o.cfg.EmbedDim, "embed-dim", o.cfg.EmbedDim, "embedding width")
	f.IntSliceVar(&o.cfg.Bottom, "bottom", o.cfg.Bottom, "share-bottom widths")
	f.IntVar(&o.cfg.Tower, "tower", o.cfg.Tower, "tower hidden width")
	f.IntVar(&o.cfg.Buckets.Buckets, "buckets", 12, "most buckets per sub-distribution")
	f.Float64Var(&o.cfg.Buckets.PointShare, "point-share", 0.05, "share of a sub-distribution that makes a value a point bucket")
	f.IntVar(&o.xgbThreads, "xgb-threads", 1, "XGBoost threads per booster")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "no progress output")
	return cmd
}

// runCompare is odmn compare.
func runCompare(ctx context.Context, o compareOptions, w, errw io.Writer) (*compare.Result, error) {
	t0 := time.Now()
	if o.seeds < 1 {
		return nil, fmt.Errorf("--seeds must be at least 1, got %d", o.seeds)
	}
	seeds := make([]uint64, o.seeds)
	for i := range seeds {
		seeds[i] = o.firstSeed + uint64(i)
	}
	cfg := o.cfg
	opts := compare.Options{Data: o.data, Spec: o.spec, Seeds: seeds, TestFrac: o.testFrac,
		Models: o.models, Ablations: o.ablations, Config: &cfg, TwoStage: twostage.Config{Threads: o.xgbThreads}}
	// Everything is checked before --out is created.
	synthCfg := synth.Config{Users: o.users, Seed: o.dataSeed, Labels: o.labels}
	switch {
	case o.data == "" && o.users <= 0:
		return nil, fmt.Errorf("give --data FILE, or --users N for synthetic users")
	case o.data != "" && o.users > 0:
		return nil, fmt.Errorf("give either --data or --users, not both")
	case o.data == "":
		if _, err := synth.Spec(synthCfg); err != nil {
			return nil, err
		}
		opts.Data = filepath.Join(o.out, "users.csv")
	default:
		if _, err := os.Stat(o.data); err != nil {
			return nil, fmt.Errorf("--data: %w", err)
		}
		if opts.Spec == "" {
			opts.Spec = data.SpecPathFor(o.data)
		}
		if _, err := data.LoadSpec(opts.Spec); err != nil {
			return nil, err
		}
		if err := fsutil.CheckOutput(fsutil.Arg{Flag: "--out", Path: o.out}, false,
			fsutil.Arg{Flag: "--data", Path: o.data}, fsutil.Arg{Flag: "--spec", Path: opts.Spec}); err != nil {
			return nil, err
		}
	}
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return nil, err
	}
	if o.data == "" {
		var bar io.Writer
		if !o.quiet && isTerminal(errw) {
			bar = errw
		}
		res, err := generateTable(ctx, synthCfg, opts.Data, bar)
		if err != nil {
			return nil, err
		}
		opts.Spec = res.specPath
		if !o.quiet {
			fmt.Fprintf(w, "generated %d synthetic users (seed %d) into %s\n", o.users, o.dataSeed, opts.Data)
		}
	}
	var bar *progressbar.ProgressBar
	useBar := !o.quiet && isTerminal(errw)
	const steps = 100 // bar steps per run
	opts.Progress = func(e compare.Event) {
		if o.quiet {
			return
		}
		if useBar && bar == nil {
			bar = progressbar.NewOptions(e.Runs*steps,
				progressbar.OptionSetWriter(errw),
				progressbar.OptionSetPredictTime(true),
				progressbar.OptionShowElapsedTimeOnFinish(),
				progressbar.OptionThrottle(200*time.Millisecond),
				progressbar.OptionSetWidth(30),
				progressbar.OptionClearOnFinish())
		}
		switch {
		case e.Stage != "":
			if bar != nil {
				bar.Describe(e.Stage)
			}
		case e.Done:
			line := fmt.Sprintf("[%d/%d] seed %d %s: %.1fs; %s", e.Run, e.Runs, e.Seed, e.Model, e.Seconds, e.Detail)
			if bar != nil {
				_ = bar.Clear()
				fmt.Fprintln(w, line)
				_ = bar.Set((e.Run) * steps)
			} else {
				fmt.Fprintln(w, line)
			}
		case bar != nil && e.Batch != nil:
			p := e.Batch
			frac := (float64(p.Epoch-1) + float64(p.Batch)/float64(p.Batches)) / float64(p.Epochs)
			bar.Describe(fmt.Sprintf("run %d/%d seed %d %s epoch %d/%d", e.Run, e.Runs, e.Seed, e.Model, p.Epoch, p.Epochs))
			_ = bar.Set((e.Run-1)*steps + int(frac*steps))
		case bar != nil:
			bar.Describe(fmt.Sprintf("run %d/%d seed %d %s", e.Run, e.Runs, e.Seed, e.Model))
			_ = bar.Set((e.Run - 1) * steps)
		}
	}
	res, err := compare.Run(ctx, opts)
	if bar != nil {
		_ = bar.Finish()
	}
	if err != nil {
		return nil, err
	}
	paths, err := res.WriteDir(o.out)
	if err != nil {
		return nil, err
	}
	if !o.quiet {
		fmt.Fprintf(w, "\n%s\n", res.Summary(report.Text))
		if err := res.WriteTables(w, report.Text, ""); err != nil {
			return nil, err
		}
		fmt.Fprintf(w, "\nwrote %s\ncompare done in %s\n", strings.Join(paths, ", "), time.Since(t0).Round(time.Second))
	}
	return res, nil
}
