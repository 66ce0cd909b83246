package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/odmn/odmn/conform"
	"github.com/odmn/odmn/daily"
	"github.com/odmn/odmn/data"
	"github.com/odmn/odmn/train"
)

func newDailyCmd() *cobra.Command {
	var (
		o                daily.Options
		globs            []string
		window, horizons string
		asOf             string
		asJSON           bool
	)
	o.Train = train.DefaultConfig()
	cmd := &cobra.Command{
		Use:   "daily --transactions GLOB --customer COL --time COL --value COL --as-of DATE --workdir DIR --cache URL --name NAME [flags]",
		Short: "Run one day end to end: features, warm-start training, export, gates, scoring, cache switch",
		Long: `daily runs one day of the deployment, each step restartable, in DIR/DATE/:

  features  the logs cut at --as-of (later transactions left out); the
            training table: customers whose window and longest horizon ended
            by the day (first day + window + max horizon - 1 <= DATE), with
            labels; the scoring set: customers whose window ended by the day
  train     warm start from the latest earlier day's model in --workdir (its
            bins, label layout and weights), cold when there is none
  export    the ONNX file
  conform   native runtime and ONNX Runtime against the Go reference on a
            seeded sample of the scoring set (ODMN_ORT_LIB names ONNX
            Runtime); a disagreement stops the day
  drift     population stability index of every input feature, scoring set
            against the training table through the model's bins (empty bins
            count as a 1e-4 share); --max-psi stops the day, except for the
            features named by --psi-ignore (calendar features such as
            first_isoweek drift by construction: the newest cohorts' weeks
            are not in the training table)
  score     the whole scoring set, with odmn-pipeline (Beam, found beside
            odmn or in PATH; --engine auto uses it when present) or in this
            process (--engine local, or auto with a notice when absent)
  load      the scores into cache version NAME-YYYYMMDD (not yet served)
  switch    NAME's pointer to that version, atomically

Nothing is published before both gates pass. Each step writes its output
atomically and a done-marker (DIR/DATE/<step>.done); a rerun skips finished
steps, so rerunning a finished day changes nothing (no retraining, no new
version, same pointer) and rerunning a killed or stopped day resumes at its
first unfinished step. A day is never switched back over a later day. To
redo a day from scratch, remove DIR/DATE.

Progress goes to stderr; --json prints the summary to stdout.

Exit codes: 0 the day is published (now or already), 1 a step failed (rerun
to resume), 3 stopped by the conformance gate, 4 stopped by --max-psi,
130/143 interrupted by SIGINT/SIGTERM.`,
		Example: `  odmn daily --transactions 'logs/*.csv' --customer customer_id --time date \
    --value amount --as-of 2026-12-06 --workdir daily --cache redis://127.0.0.1:6379 \
    --name ltv --max-psi 0.25 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if o.Transactions, err = data.ExpandGlobs(globs); err != nil {
				return fmt.Errorf("--transactions: %w", err)
			}
			if o.Build.Window, err = data.ParseDays(window); err != nil {
				return fmt.Errorf("--window: %w", err)
			}
			if o.Build.Horizons, err = data.ParseHorizons(horizons); err != nil {
				return fmt.Errorf("--horizons: %w", err)
			}
			if o.AsOf, err = time.Parse("2006-01-02", asOf); err != nil {
				return fmt.Errorf("--as-of %q: want a date YYYY-MM-DD", asOf)
			}
			if o.Engine != daily.EngineLocal {
				if bin, err := findPipeline(); err == nil {
					o.PipelineBin = bin
				}
			}
			o.Log = cmd.ErrOrStderr()
			if isTerminal(o.Log) {
				o.Progress = o.Log
			}
			sum, err := daily.Run(cmd.Context(), o)
			if asJSON {
				if perr := printJSON(cmd.OutOrStdout(), sum); perr != nil && err == nil {
					err = perr
				}
			} else if err == nil {
				fmt.Fprintf(cmd.OutOrStdout(), "%s %s: %s (version %s)\n", sum.Name, sum.Date, sum.Status, sum.Version)
			}
			if err != nil {
				return &conform.ExitError{Code: daily.ExitCode(err), Err: err}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&globs, "transactions", nil, "transaction logs (glob; repeat or comma-separate for more), as odmn dataset from-transactions reads")
	f.StringVar(&o.Build.Customer, "customer", "", "customer id column")
	f.StringVar(&o.Build.Time, "time", "", "transaction date column")
	f.StringVar(&o.Build.Value, "value", "", "money column (non-negative)")
	f.StringVar(&o.Build.Count, "count", "", "optional quantity column (default: number of transactions)")
	f.StringVar(&window, "window", "7d", "feature window: days (7d, 7) or weeks (1w)")
	f.StringVar(&horizons, "horizons", "30,90,180,365", "label horizons after the window, comma-separated days")
	f.StringVar(&o.Build.DateFormat, "date-format", "", "Go time layout of the date column (default: detected)")
	f.IntVar(&o.Build.Bins, "bins", 0, fmt.Sprintf("equal-frequency bins of numeric and sequence features (0: %d)", data.DefaultBins))
	f.StringVar(&asOf, "as-of", "", "the day, YYYY-MM-DD: transactions dated after it are left out")
	f.StringVar(&o.Workdir, "workdir", "", "directory of the days (DIR/YYYY-MM-DD); the previous day's model is found here")
	f.StringVar(&o.Cache, "cache", "", "Redis URL (redis://, rediss://, user:password@ as for odmn cache)")
	f.StringVar(&o.Name, "name", "", "cache name; the day's version is NAME-YYYYMMDD")
	f.Float64Var(&o.MaxPSI, "max-psi", 0, "stop the day (exit 4) when any input feature's PSI exceeds this (0: no limit)")
	f.StringSliceVar(&o.PSIIgnore, "psi-ignore", nil, "input features --max-psi leaves out (still reported), e.g. first_isoweek, whose newest weeks are unseen in training")
	f.StringVar(&o.Engine, "engine", daily.EngineAuto, "scoring: auto (odmn-pipeline when found, else local), pipeline or local")
	f.StringSliceVar(&o.PipelineArgs, "pipeline-arg", nil, "extra argument for odmn-pipeline score (e.g. --pipeline-arg=--runner=universal)")
	f.IntVar(&o.ConformRows, "conform-rows", daily.DefaultConformRows, "rows of the scoring set the conformance gate samples")
	f.IntVar(&o.Train.Epochs, "epochs", o.Train.Epochs, "maximum training epochs")
	f.IntVar(&o.Train.Patience, "patience", o.Train.Patience, "stop after this many epochs without validation gain")
	f.IntVar(&o.Train.Batch, "batch", o.Train.Batch, "mini-batch size")
	f.IntVar(&o.Train.Threads, "threads", o.Train.Threads, "training workers (0: GOMAXPROCS)")
	f.Uint64Var(&o.Train.Seed, "seed", o.Train.Seed, "seed of the split, initialization, shuffling and the gate's sample")
	f.BoolVar(&asJSON, "json", false, "print the day's summary as JSON on stdout")
	for _, name := range []string{"transactions", "customer", "time", "value", "as-of", "workdir", "cache", "name"} {
		_ = cmd.MarkFlagRequired(name)
	}
	return cmd
}
