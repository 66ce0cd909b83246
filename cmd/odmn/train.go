package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/odmn/odmn/data"
	"github.com/odmn/odmn/internal/fsutil"
	"github.com/odmn/odmn/internal/sigctx"
	"github.com/odmn/odmn/train"
)

func newTrainCmd() *cobra.Command {
	var (
		o       trainOptions
		variant string
	)
	cfg := train.DefaultConfig()
	cmd := &cobra.Command{
		Use:   "train --data FILE --spec SPEC --out MODEL_DIR [flags]",
		Short: "Train ODMN (or an ablation) on a user table",
		Long: `train fits ODMN natively in Go: the feature encoder (vocabularies and
equal-frequency bins) and the label layout (sub-distributions and buckets per
horizon) on the training rows, then the network with Adam, keeping the epoch
with the best validation loss (--val rows held out, early stopping after
--patience epochs without gain).

--variant picks a model of the paper's ablations: odmn (default), s, sm, sc
over all horizons; mdme, nmo, nmb, nm on the longest horizon alone.

The model directory (weights, label layout, feature spec and encoder,
config, training curve) is written atomically at the end. After every epoch
a checkpoint of the best model so far is written to MODEL_DIR.checkpoint;
Ctrl-C or SIGTERM stops after the current batch and leaves that checkpoint
intact (a second signal ends the process at once).`,
		Example: `  odmn gen --users 200000 --seed 1 --out users.csv
  odmn train --data users.csv --spec users.spec.json --out model`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v, err := train.ParseVariant(variant)
			if err != nil {
				return err
			}
			cfg.Variant = v
			o.cfg = cfg
			ctx := cmd.Context() // canceled by SIGINT or SIGTERM (main)
			_, err = runTrain(ctx, o, cmd.OutOrStdout(), cmd.ErrOrStderr())
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.data, "data", "", "training table (.csv or .parquet)")
	f.StringVar(&o.spec, "spec", "", "feature spec (default: <data without extension>.spec.json)")
	f.StringVar(&o.out, "out", "", "model directory to write")
	f.StringVar(&variant, "variant", "odmn", "odmn, s, sm, sc (all horizons) or mdme, nmo, nmb, nm (longest horizon)")
	f.IntVar(&cfg.Epochs, "epochs", cfg.Epochs, "maximum epochs")
	f.IntVar(&cfg.Patience, "patience", cfg.Patience, "stop after this many epochs without validation gain (0: never)")
	f.IntVar(&cfg.Batch, "batch", cfg.Batch, "mini-batch size")
	f.IntVar(&cfg.Threads, "threads", cfg.Threads, "workers a mini-batch is split over (0: GOMAXPROCS); results are reproducible for a fixed seed and thread count")
	f.Float64Var(&cfg.LR, "lr", cfg.LR, "Adam learning rate of the network")
	f.Float64Var(&cfg.EmbedLR, "embed-lr", cfg.EmbedLR, "Adam learning rate of the embeddings")
	f.BoolVar(&cfg.BBTInit, "bbt-init", cfg.BBTInit, "start each bucket-bias output at its bucket's mean training bias (default: 0.5)")
	f.BoolVar(&cfg.BiasCal, "bias-cal", cfg.BiasCal, "calibrate each bucket-bias output on the training users at the end of training")
	f.BoolVar(&cfg.ProbCal, "prob-cal", cfg.ProbCal, "calibrate the bucket probabilities in the large on the training users at the end of training")
	f.Float64Var(&cfg.ValFrac, "val", cfg.ValFrac, "share of rows held out for validation and early stopping")
	f.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "seed of the split, initialization and shuffling")
	f.IntVar(&cfg.EmbedDim, "embed-dim", cfg.EmbedDim, "embedding width")
	f.IntSliceVar(&cfg.Bottom, "bottom", cfg.Bottom, "share-bottom widths")
	f.IntVar(&cfg.Tower, "tower", cfg.Tower, "tower hidden width")
	f.IntVar(&cfg.Buckets.Buckets, "buckets", 12, "most buckets per sub-distribution")
	f.Float64Var(&cfg.Buckets.PointShare, "point-share", 0.05, "share of a sub-distribution that makes a value a point bucket")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "no progress output")
	f.StringVar(&o.initFrom, "init-from", "", "warm start from this model directory: its weights, architecture, label layout and bins; vocabularies extended with new categories")
	f.BoolVar(&o.refitLayout, "refit-layout", false, "with --init-from: refit the label layout on the new data")
	_ = cmd.MarkFlagRequired("data")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

type trainOptions struct {
	data, spec, out string
	cfg             train.Config
	quiet           bool
	initFrom        string
	refitLayout     bool
}

// trainGCPercent is odmn train's GOGC unless the environment sets one. The
// encoded table is pointer-free, so collecting often costs little; at Go's
// default of 100 the heap may grow to twice the table before a collection.
const trainGCPercent = 25

// trainGC applies trainGCPercent (unless GOGC is set) and returns the
// function that restores the previous setting.
func trainGC() (restore func()) {
	if os.Getenv("GOGC") != "" {
		return func() {}
	}
	prev := debug.SetGCPercent(trainGCPercent)
	return func() { debug.SetGCPercent(prev) }
}

// runTrain is odmn train; the demo and compare reuse it.
func runTrain(ctx context.Context, o trainOptions, stdout, stderr io.Writer) (*train.Bundle, error) {
	defer trainGC()()
	if _, err := os.Stat(o.data); err != nil {
		return nil, fmt.Errorf("--data: %w", err)
	}
	if o.spec == "" {
		o.spec = data.SpecPathFor(o.data)
	}
	ckpt := filepath.Clean(o.out) + ".checkpoint"
	for _, out := range []fsutil.Arg{{Flag: "--out", Path: o.out}, {Flag: "the checkpoint", Path: ckpt}} {
		if err := fsutil.CheckOutput(out, true, fsutil.Arg{Flag: "--data", Path: o.data}, fsutil.Arg{Flag: "--spec", Path: o.spec}); err != nil {
			return nil, err
		}
		fsutil.CleanStale(out.Path) // leftovers of a killed run
	}
	spec, err := data.LoadSpec(o.spec)
	if err != nil {
		return nil, err
	}
	if err := o.cfg.Validate(); err != nil {
		return nil, err
	}
	t0 := time.Now()
	n, err := data.CountRows(o.data)
	if err != nil {
		return nil, err
	}
	if n < 2 {
		return nil, fmt.Errorf("%s: %d rows, need at least 2", o.data, n)
	}
	trainRows, _ := data.Split(n, o.cfg.ValFrac, o.cfg.Seed)
	var warm *train.Warm
	var enc *data.Encoder
	if o.initFrom != "" {
		if warm, err = train.NewWarm(o.initFrom, o.data, spec, trainRows, o.cfg, o.refitLayout); err != nil {
			return nil, err
		}
		enc, o.cfg = warm.Encoder, warm.Config
	} else if enc, err = data.Fit(o.data, spec, data.FitOptions{Rows: trainRows, Seed: o.cfg.Seed}); err != nil {
		return nil, err
	}
	ds, err := data.Load(o.data, spec, enc)
	if err != nil {
		return nil, err
	}
	if !o.quiet {
		fmt.Fprintf(stdout, "loaded %d rows, %d feature slots, horizons %v in %s\n", ds.N, ds.F, ds.Horizons(), time.Since(t0).Round(time.Millisecond))
	}
	fp := train.Fingerprint(ds)
	ckptEpoch := 0 // the epoch of the checkpoint this run wrote, if any
	var bar *progressbar.ProgressBar
	hooks := train.Hooks{
		OnBatch: func(p train.Progress) {
			if o.quiet || !isTerminal(stderr) {
				return
			}
			if bar == nil || p.Batch == 1 {
				if bar != nil {
					_ = bar.Finish()
				}
				bar = progressbar.NewOptions(p.Batches,
					progressbar.OptionSetWriter(stderr),
					progressbar.OptionSetDescription(fmt.Sprintf("epoch %d/%d", p.Epoch, p.Epochs)),
					progressbar.OptionShowCount(),
					progressbar.OptionSetPredictTime(true),
					progressbar.OptionThrottle(100*time.Millisecond),
					progressbar.OptionClearOnFinish())
			}
			bar.Describe(fmt.Sprintf("epoch %d/%d loss %.4f %6.0f samples/s", p.Epoch, p.Epochs, p.Loss, p.SamplesPerSecond))
			_ = bar.Set(p.Batch)
		},
		OnEpoch: func(m *train.Model, h *train.History) error {
			if bar != nil {
				_ = bar.Finish()
				bar = nil
			}
			e := h.Epochs[len(h.Epochs)-1]
			if !o.quiet {
				mark := ""
				if e.Best {
					mark = "  (best)"
				}
				fmt.Fprintf(stdout, "epoch %d: train loss %.4f, validation loss %.4f, %.1fs%s\n", e.Epoch, e.TrainLoss, e.ValLoss, e.Seconds, mark)
			}
			b := &train.Bundle{Model: m, Spec: spec, Encoder: enc, History: h, Fingerprint: fp}
			if err := b.Save(ckpt); err != nil {
				return err
			}
			ckptEpoch = e.Epoch
			return nil
		},
	}
	if warm != nil {
		hooks.Prepare = warm.Prepare
	}
	m, h, err := train.Fit(ctx, ds, o.cfg, hooks)
	if bar != nil {
		_ = bar.Finish()
	}
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return nil, interruptedTraining(ctx, ckpt, ckptEpoch)
		}
		return nil, err
	}
	b := &train.Bundle{Model: m, Spec: spec, Encoder: enc, History: h, Fingerprint: fp}
	if err := b.Save(o.out); err != nil {
		return nil, err
	}
	_ = os.RemoveAll(ckpt)
	if warm != nil && !o.quiet {
		fmt.Fprintf(stdout, "warm start from %s: %d parameters reused, %d grown (new categories %v), %d cold\n", o.initFrom, warm.Reused, warm.Resized, warm.Added, warm.Cold)
	}
	if !o.quiet {
		fmt.Fprintf(stdout, "trained %s (%d parameters) on %d rows: best epoch %d of %d (%s); model in %s (%s)\n",
			m.Cfg.Variant, m.NumParams(), h.TrainRows, h.BestEpoch, len(h.Epochs), h.Stopped, o.out, time.Since(t0).Round(time.Second))
	}
	return b, nil
}

// interruptedTraining is the error of a training run stopped by ctx: it
// names the checkpoint only when this run wrote one.
func interruptedTraining(ctx context.Context, ckpt string, epoch int) error {
	why := "interrupted"
	if e := sigctx.Cause(ctx); e != nil {
		why = e.Error()
	}
	if epoch > 0 {
		return fmt.Errorf("%s: the checkpoint written after epoch %d is in %s", why, epoch, ckpt)
	}
	msg := fmt.Sprintf("%s before the first epoch ended: no checkpoint was written", why)
	if _, err := os.Stat(ckpt); err == nil {
		msg += fmt.Sprintf(" (%s is from an earlier run)", ckpt)
	}
	return errors.New(msg)
}
