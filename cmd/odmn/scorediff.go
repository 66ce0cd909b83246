package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/odmn/odmn/conform"
	"github.com/odmn/odmn/data"
	"github.com/odmn/odmn/score"
)

func newScoreDiffCmd() *cobra.Command {
	var (
		o      score.DiffOptions
		asJSON bool
	)
	o.Tol = conform.Tolerance{Atol: 1e-6}
	cmd := &cobra.Command{
		Use:   "score-diff A B",
		Short: "Compare two score outputs row by row (runtimes, machines, pipeline shards)",
		Long: `score-diff compares two outputs of odmn score or odmn pipeline score, each
one file or a quoted glob of shards, rows matched by --key (default: the
first column both have that is not a score column, the id or "row"), so row
order does not matter. Every ltv... column of either side is compared with
|b - a| <= atol + rtol*|a|; a key on one side only, a column on one side
only or a key twice on a side is a disagreement.

Exit status: 0 the outputs agree, 1 they do not, 2 the check could not run
(unreadable file, no common key).`,
		Example: `  odmn score-diff scores.parquet 'pipe-*-of-*.parquet'
  odmn score-diff native.csv ort.csv --atol 1e-5 --json`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			fail := func(err error) error { return &conform.ExitError{Code: conform.ExitCannotRun, Err: err} }
			a, err := data.ExpandGlobs([]string{args[0]})
			if err != nil {
				return fail(err)
			}
			b, err := data.ExpandGlobs([]string{args[1]})
			if err != nil {
				return fail(err)
			}
			r, err := score.DiffFiles(a, b, o)
			if err != nil {
				return fail(err)
			}
			w := cmd.OutOrStdout()
			if asJSON {
				err = printJSON(w, map[string]any{"ok": r.OK(), "key": r.Key, "rows_a": r.RowsA, "rows_b": r.RowsB,
					"only_a": r.OnlyA, "only_b": r.OnlyB, "first_only": r.FirstOnly, "columns": r.Columns, "first_keys": r.FirstKeys})
			} else {
				fmt.Fprintf(w, "A: %s (%d rows)\nB: %s (%d rows)\nkey %s: %d only in A, %d only in B\n",
					strings.Join(a, " "), r.RowsA, strings.Join(b, " "), r.RowsB, r.Key, r.OnlyA, r.OnlyB)
				if r.FirstOnly != "" {
					fmt.Fprintln(w, "  e.g.", r.FirstOnly)
				}
				for i, d := range r.Columns {
					fmt.Fprint(w, d.String())
					if k := r.FirstKeys[i]; k != "" {
						fmt.Fprintf(w, " (%s %s)", r.Key, k)
					}
					fmt.Fprintln(w)
				}
			}
			if err != nil {
				return err
			}
			if !r.OK() {
				return &conform.ExitError{Code: conform.ExitDisagree, Err: fmt.Errorf("score-diff: %s and %s disagree", args[0], args[1])}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Key, "key", "", "column matching rows (default: the first non-score column both sides have)")
	f.Float64Var(&o.Tol.Atol, "atol", o.Tol.Atol, "absolute tolerance")
	f.Float64Var(&o.Tol.Rtol, "rtol", 0, "relative tolerance")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
