package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/odmn/odmn/internal/fsutil"
	"github.com/odmn/odmn/score"
	"github.com/odmn/odmn/train"
)

type scoreOptions struct {
	model, data, out string
	shard            string
	decode           string
	reportMem        bool
	quiet            bool
	opts             score.Options
}

func newScoreCmd() *cobra.Command {
	o := scoreOptions{opts: score.Options{Runtime: score.Native, Batch: score.DefaultBatch}}
	cmd := &cobra.Command{
		Use:   "score --model model.onnx|MODEL_DIR --data FILE --out FILE [--runtime native|ort] [--batch N] [--shard i/n]",
		Short: "Score a table with an exported model (or a model directory), streaming",
		Long: `score streams a CSV or Parquet table through a raw-feature model and writes
the predictions (CSV or Parquet, by the extension of --out):

  the id column (the spec's, carried through; "row", the 0-based input row,
  when the data has none), then ltv_<h> and ltv_ev_<h> for every horizon h
  (the argmax and expected-value decodes, label units), ltv_fqm_<h> (the
  frozen quantile-matched EV) and ltv_p10_<h>, ltv_p50_<h>, ltv_p90_<h>
  (quantiles of the user's predicted distribution) when the model has
  them, ltv_qm_<h> with --decode qm (see docs/decodes.md), plus sub_<h>,
  bucket_<h>, margin_sub_<h>, margin_bucket_<h> with --indices and
  o_<h>_<j> with --distributions (the model must have those outputs: export
  with the same flags, or score the model directory).

--model is an ONNX file from odmn export, or a model directory, which is
exported in memory first. --runtime native runs odmn's pure-Go runtime (fused
kernels for the ai.odmn nodes), ort ONNX Runtime, reference the Go
training-time forward pass (Go encoder and inline graph).

Memory stays flat whatever the input size: the data is read, scored and
written --batch rows at a time (one batch is parsed ahead). The output is
written to a temporary file beside --out and renamed over it at the end, so
--out is never seen half written, and is left alone on error, Ctrl-C or
SIGTERM. --out may not be --data or --model (after resolving links).

--shard i/n scores only the rows r (0-based, in file order) with
r mod n = i, for i in 0..n-1: n jobs on n machines, given the same file,
score every row exactly once; rows stay in input order within a shard.
Every decode is non-decreasing across horizons (a running maximum).

--decode qm ranks all scored rows by EV and gives each the matching slice
of the population's predicted mixture: a first pass scores and sketches,
a second rewrites the output with ltv_qm_<h> (memory stays flat; not with
--shard). An ONNX file needs o_<h> and v_<h>: export with --distributions.
The input columns are the model's (see odmn export --help): a missing one is
an error that names it; other columns are ignored.`,
		Example: `  odmn score --model model.onnx --data users.parquet --out scores.parquet
  odmn score --model model.onnx --data users.csv --out part1.csv --shard 1/4 --runtime ort`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context() // canceled by SIGINT or SIGTERM (main)
			return runScore(ctx, o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.model, "model", "", "ONNX file from odmn export, or a model directory")
	f.StringVar(&o.data, "data", "", "table to score (.csv or .parquet)")
	f.StringVar(&o.out, "out", "", "predictions to write (.csv or .parquet)")
	f.StringVar(&o.opts.Runtime, "runtime", o.opts.Runtime, "native, ort or reference")
	f.IntVar(&o.opts.Batch, "batch", o.opts.Batch, "rows read and scored at a time")
	f.StringVar(&o.shard, "shard", "", "i/n: score only rows r with r mod n = i")
	f.IntVar(&o.opts.Threads, "threads", 1, "ONNX Runtime intra-op threads (0: one per core; with files being parsed and written beside it, 1 is fastest on small machines: scale out with --shard)")
	f.BoolVar(&o.opts.Indices, "indices", false, "also write the decode's indices and top-2 margins")
	f.BoolVar(&o.opts.Distributions, "distributions", false, "also write the bucket distributions")
	f.StringVar(&o.decode, "decode", "", "qm: also write ltv_qm_<h>, the batch quantile-matched EV over the scored rows (a second pass)")
	f.StringVar(&o.opts.IDColumn, "id", "", "id column to carry through (default: the spec's; - for none)")
	f.BoolVar(&o.reportMem, "report-mem", false, "print the peak resident memory (VmHWM) at the end")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "no progress bar")
	_ = cmd.MarkFlagRequired("model")
	_ = cmd.MarkFlagRequired("data")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

// parseShard reads "i/n".
func parseShard(s string) (int, int, error) {
	if s == "" {
		return 0, 1, nil
	}
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(strings.TrimSpace(a))
	n, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return 0, 0, fmt.Errorf("--shard %q: want i/n with 0 <= i < n, e.g. 0/4", s)
	}
	return i, n, nil
}

// scoreGCPercent is odmn score's GOGC unless the environment sets one.
// Scoring keeps a small live heap (one batch's buffers) and makes garbage
// at a steady rate (parsed chunks); at Go's default of 100 the heap's
// high-water mark creeps up over millions of rows, at 25 it stays within a
// few MiB of the first 100,000 rows' at the same speed.
const scoreGCPercent = 25

// scoreGC applies scoreGCPercent (unless GOGC is set) and returns the
// function that restores the previous setting.
func scoreGC() (restore func()) {
	if os.Getenv("GOGC") != "" {
		return func() {}
	}
	prev := debug.SetGCPercent(scoreGCPercent)
	return func() { debug.SetGCPercent(prev) }
}

func runScore(ctx context.Context, o scoreOptions, w, errw io.Writer) error {
	defer scoreGC()()
	var err error
	if o.opts.Shard, o.opts.Shards, err = parseShard(o.shard); err != nil {
		return err
	}
	if err := fsutil.CheckOutput(fsutil.Arg{Flag: "--out", Path: o.out}, false,
		fsutil.Arg{Flag: "--data", Path: o.data}, fsutil.Arg{Flag: "--model", Path: o.model}); err != nil {
		return err
	}
	switch o.decode {
	case "":
	case string(train.DecodeQM):
		o.opts.QM = true
	default:
		return fmt.Errorf("--decode %q: score writes argmax, ev, fqm and the intervals always; --decode adds qm only", o.decode)
	}
	if o.opts.QM && o.opts.Shards > 1 {
		return fmt.Errorf("--decode qm ranks all scored users together: it cannot run on one shard")
	}
	m, err := score.Load(o.model, train.InferOptions{Indices: o.opts.Indices, Distributions: o.opts.Distributions || o.opts.QM, Values: o.opts.QM})
	if err != nil {
		return err
	}
	if !o.quiet && isTerminal(errw) {
		o.opts.Progress = errw
	}
	st, err := score.File(ctx, m, o.data, o.out, o.opts)
	if err != nil {
		return err
	}
	shard := ""
	if o.opts.Shards > 1 {
		shard = fmt.Sprintf(" (shard %d/%d of %d rows)", o.opts.Shard, o.opts.Shards, st.Rows)
	}
	rate := float64(st.Scored) / st.Elapsed.Seconds()
	fmt.Fprintf(w, "scored %d rows%s with %s in %s (%.0f rows/s): %s\n", st.Scored, shard, o.opts.Runtime,
		st.Elapsed.Round(1e6), rate, o.out)
	if o.reportMem {
		peak, err := score.PeakRSS()
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "peak RSS (VmHWM): %.1f MiB\n", float64(peak)/(1<<20))
	}
	return nil
}
