package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/odmn/odmn/data"
	"github.com/odmn/odmn/fixtures/synth"
)

// progressMinUsers is the table size from which gen shows a progress bar
// (when stderr is a terminal).
const progressMinUsers = 100000

func newGenCmd() *cobra.Command {
	var (
		cfg   synth.Config
		out   string
		start string
		quiet bool
	)
	cmd := &cobra.Command{
		Use:   "gen --users N --seed S --out FILE [--labels active_days|revenue]",
		Short: "Generate the seeded synthetic user table (odmn's demo data)",
		Long: `gen writes a synthetic table of new users: acquisition channel, device,
region and age group, registration-date features (weekday, month, ISO week,
holiday, festival), 7 days of behaviour (active minutes, videos, likes,
spend per day, and recency/frequency/monetary totals), and labels for the
30, 90, 180 and 365 days after that first week: active days (default,
label_kind "count") or payments (--labels revenue, label_kind "money").
Labels are cumulative, so ltv_30 <= ltv_90 <= ltv_180 <= ltv_365 on every row.

The same --seed gives the same table, whatever the machine's core count; the
first N users of a larger table are the table of N users. The process and its
parameters are documented in the package odmn/fixtures/synth.

The table is written as CSV or Parquet (by the extension of --out), its spec
beside it as <out without extension>.spec.json, each atomically (a temporary
file renamed into place). The table is generated in chunks, so any --users
fits in memory. A label summary is printed at the end.`,
		Example: `  odmn gen --users 1000000 --seed 1 --out users.parquet
  odmn gen --users 100000 --seed 2 --labels revenue --out revenue.csv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if start != "" {
				t, err := time.Parse(time.DateOnly, start)
				if err != nil {
					return fmt.Errorf("--start: %w", err)
				}
				cfg.StartDate = t
			}
			ctx := cmd.Context() // canceled by SIGINT or SIGTERM (main)
			var bar io.Writer
			if !quiet && cfg.Users >= progressMinUsers && isTerminal(cmd.ErrOrStderr()) {
				bar = cmd.ErrOrStderr()
			}
			res, err := generateTable(ctx, cfg, out, bar)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "wrote %d users to %s (spec %s) in %s\n", cfg.Users, out, res.specPath, res.elapsed.Round(time.Millisecond))
			return synth.PrintSummary(w, res.stats)
		},
	}
	f := cmd.Flags()
	f.IntVar(&cfg.Users, "users", 0, "number of users (rows)")
	f.Uint64Var(&cfg.Seed, "seed", 1, "random seed")
	f.StringVar(&out, "out", "", "output table, .csv or .parquet")
	f.StringVar(&cfg.Labels, "labels", synth.LabelsActiveDays, "labels: active_days (count of active days) or revenue (payments)")
	f.StringVar(&start, "start", "2021-01-01", "first registration date (YYYY-MM-DD, years 2010-2040)")
	f.IntVar(&cfg.Days, "days", 365, "registration window in days")
	f.IntVar(&cfg.Workers, "workers", 0, "generator goroutines (0: GOMAXPROCS); does not change the data")
	f.BoolVarP(&quiet, "quiet", "q", false, "no progress bar")
	_ = cmd.MarkFlagRequired("users")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

type genResult struct {
	specPath string
	stats    []synth.LabelStats
	elapsed  time.Duration
}

// generateTable streams the synthetic table into out and its spec beside
// it. progress, when not nil, receives a progress bar.
func generateTable(ctx context.Context, cfg synth.Config, out string, progress io.Writer) (*genResult, error) {
	if out == "" {
		return nil, fmt.Errorf("no --out file given")
	}
	spec, err := synth.Spec(cfg) // checks cfg before anything is written
	if err != nil {
		return nil, err
	}
	names, kinds := synth.Schema()
	w, err := data.NewWriter(out, names, kinds)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	var bar *progressbar.ProgressBar
	if progress != nil {
		bar = progressbar.NewOptions64(int64(cfg.Users),
			progressbar.OptionSetWriter(progress),
			progressbar.OptionSetDescription("generating users"),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
	sum := synth.NewSummary(spec)
	_, err = synth.Stream(ctx, cfg, func(chunk *data.Table) error {
		if err := w.Write(chunk); err != nil {
			return err
		}
		if err := sum.Add(chunk); err != nil {
			return err
		}
		if bar != nil {
			_ = bar.Add(chunk.Rows())
		}
		return nil
	})
	if bar != nil {
		_ = bar.Finish()
	}
	if err != nil {
		w.Abort()
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	specPath := data.SpecPathFor(out)
	if err := spec.Save(specPath); err != nil {
		return nil, err
	}
	return &genResult{specPath: specPath, stats: sum.Stats(), elapsed: time.Since(t0)}, nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
