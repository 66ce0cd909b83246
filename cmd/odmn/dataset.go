package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/odmn/odmn/data"
	"github.com/odmn/odmn/internal/fsutil"
)

// newDatasetCmd groups the commands that build user tables.
func newDatasetCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dataset",
		Short: "Build user tables (features, multi-horizon labels and a spec) for training",
	}
	cmd.AddCommand(newDatasetFromTransactionsCmd(), newDatasetSplitCmd())
	return cmd
}

func newDatasetFromTransactionsCmd() *cobra.Command {
	var (
		o        data.BuildOptions
		window   string
		horizons string
	)
	cmd := &cobra.Command{
		Use:   "from-transactions --in FILE --customer COL --time COL --value COL [flags]",
		Short: "Turn a transaction log into a user table with multi-horizon LTV labels",
		Long: `from-transactions reads a transaction log (one row per purchase, with a
header line; comma-, tab- or whitespace-separated, as detected from the header)
and writes one row per customer:

  features  from the customer's first --window days (day 0 = the date of the
            first transaction): day-level sequences value_d1.. and count_d1..,
            first_value, recency, frequency, monetary, and the weekday and ISO
            week of the first purchase (categorical);
  labels    ltv_H = value summed over the H days after the window, for each
            horizon H (cumulative, so non-decreasing across horizons).

Customers whose history (up to the last date in the log) does not cover the
window plus the longest horizon are dropped and counted. With --out the table
(.csv or .parquet) and its spec (<out without extension>.spec.json) are
written atomically; without it only the summary is printed.

Example (CDNOW):

  odmn dataset from-transactions --in CDNOW_master.txt --customer customer_id \
    --time date --value dollar_value --count number_of_cds --out cdnow.csv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w, err := data.ParseDays(window)
			if err != nil {
				return fmt.Errorf("--window: %w", err)
			}
			o.Window = w
			if o.Horizons, err = data.ParseHorizons(horizons); err != nil {
				return fmt.Errorf("--horizons: %w", err)
			}
			in := []fsutil.Arg{{Flag: "--in", Path: o.In}}
			if err := checkOutputs(in, fsutil.Arg{Flag: "--out", Path: o.Out}); err != nil {
				return err
			}
			_, _, st, err := data.BuildFromTransactions(o)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if err := st.Report(out); err != nil {
				return err
			}
			if o.Out == "" {
				_, err = fmt.Fprintln(out, "no --out given: nothing written")
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.In, "in", "", "transaction log (header line; comma, tab or whitespace separated)")
	f.StringVar(&o.Customer, "customer", "", "customer id column")
	f.StringVar(&o.Time, "time", "", "transaction date column")
	f.StringVar(&o.Value, "value", "", "money column (non-negative)")
	f.StringVar(&o.Count, "count", "", "optional quantity column summed into count_dN (default: number of transactions)")
	f.StringVar(&window, "window", "7d", "feature window: days (7d, 7) or weeks (1w)")
	f.StringVar(&horizons, "horizons", "30,90,180,365", "label horizons after the window, comma-separated, in days (or with d/w suffixes)")
	f.StringVar(&o.Out, "out", "", "output table (.csv or .parquet); its spec goes beside it as <name>.spec.json")
	f.StringVar(&o.DateFormat, "date-format", "", "Go time layout of the date column (default: detect YYYYMMDD, YYYY-MM-DD, RFC 3339 or unix seconds)")
	f.IntVar(&o.Bins, "bins", 0, fmt.Sprintf("equal-frequency bins written into the spec for numeric and sequence features (0: %d)", data.DefaultBins))
	for _, name := range []string{"in", "customer", "time", "value"} {
		_ = cmd.MarkFlagRequired(name)
	}
	return cmd
}

func newDatasetSplitCmd() *cobra.Command {
	var (
		in, spec, trainOut, testOut string
		frac                        float64
		seed                        uint64
	)
	cmd := &cobra.Command{
		Use:   "split --in FILE [--test 0.2] [--seed S] [--train-out FILE] [--test-out FILE]",
		Short: "Hold out a seeded share of the users as a test set",
		Long: `split writes the rows of a user table into a training file and a test file
(CSV or Parquet by extension, each with its spec beside it), holding out
--test of the rows chosen by a seeded permutation: the same seed always holds
out the same users. Only the spec's columns are written.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if spec == "" {
				spec = data.SpecPathFor(in)
			}
			s, err := data.LoadSpec(spec)
			if err != nil {
				return err
			}
			base := strings.TrimSuffix(in, filepath.Ext(in))
			if trainOut == "" {
				trainOut = base + "-train" + filepath.Ext(in)
			}
			if testOut == "" {
				testOut = base + "-test" + filepath.Ext(in)
			}
			if trainOut == testOut {
				return fmt.Errorf("--train-out and --test-out are both %s", trainOut)
			}
			ins := []fsutil.Arg{{Flag: "--in", Path: in}, {Flag: "--spec", Path: spec}}
			outs := []fsutil.Arg{{Flag: "--train-out", Path: trainOut}, {Flag: "--test-out", Path: testOut}}
			if err := checkOutputs(ins, outs...); err != nil {
				return err
			}
			nt, ns, err := data.SplitFile(in, s, frac, seed, trainOut, testOut)
			if err != nil {
				return err
			}
			for _, p := range []string{trainOut, testOut} {
				if err := s.Save(data.SpecPathFor(p)); err != nil {
					return err
				}
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "%d rows to %s, %d rows to %s\n", nt, trainOut, ns, testOut)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&in, "in", "", "user table (.csv or .parquet)")
	f.StringVar(&spec, "spec", "", "its spec (default: <in without extension>.spec.json)")
	f.Float64Var(&frac, "test", 0.2, "share of rows held out")
	f.Uint64Var(&seed, "seed", 1, "seed of the permutation")
	f.StringVar(&trainOut, "train-out", "", "training file (default: <in>-train.<ext>)")
	f.StringVar(&testOut, "test-out", "", "test file (default: <in>-test.<ext>)")
	_ = cmd.MarkFlagRequired("in")
	return cmd
}

// checkOutputs refuses a table output (or the spec written beside it) that
// is one of the input files.
func checkOutputs(ins []fsutil.Arg, outs ...fsutil.Arg) error {
	for _, out := range outs {
		if out.Path == "" {
			continue
		}
		specOut := fsutil.Arg{Flag: "the spec of " + out.Flag, Path: data.SpecPathFor(out.Path)}
		for _, o := range []fsutil.Arg{out, specOut} {
			if err := fsutil.CheckOutput(o, false, ins...); err != nil {
				return err
			}
		}
	}
	return nil
}
