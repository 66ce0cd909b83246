package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/spf13/cobra"
)

// pipelineBinary is the separately built Beam pipelines' command.
const pipelineBinary = "odmn-pipeline"

func newPipelineCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "pipeline features|score|job-server [flags]",
		Short: "Run the Beam pipelines (odmn-pipeline, built with make pipeline)",
		Long: `pipeline runs odmn's Apache Beam pipelines, which live in their own Go module
and binary so that odmn itself does not depend on Beam. It runs
odmn-pipeline (found beside odmn, else in PATH) with the same arguments:

  odmn pipeline features --in 'logs/*.csv' --customer COL --time COL --value COL
        [--count COL] --as-of YYYY-MM-DD [--window 7d] [--horizons 30,90,180,365]
        [--labels] --out out/features [--shards N] [--max-bad 0.001] [--json]
  odmn pipeline score --model model.onnx --data 'users-*.parquet' --out out/scores
        [--shards-per-file N] [--cache URL --name NAME --version V]
        [--max-bad 0.001] [--json]
  odmn pipeline job-server --port 8073    a standalone prism job server

features builds the table of 'odmn dataset from-transactions' (the same
feature code) from many log files: without --labels the day's scoring set
(customers whose feature window is complete by --as-of), with --labels the
training table. Both write Parquet shards PREFIX-SSSSS-of-NNNNN.parquet;
features also writes PREFIX.spec.json. Bad rows (a missing or unparsable
field, a negative value) are skipped into PREFIX-bad-SSSSS-of-NNNNN.csv with
file, line, column and reason; past --max-bad (a share of the rows read) the
run fails with a non-zero exit and its output shards are removed.

The default runner is Beam's embedded prism; --runner universal --endpoint
HOST:PORT submits to a portable job server (Flink's, Spark's or a standalone
prism). Build odmn-pipeline with 'make pipeline' (bin/odmn-pipeline).`,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			bin, err := findPipeline()
			if err != nil {
				return err
			}
			c := exec.CommandContext(cmd.Context(), bin, args...)
			c.Stdin, c.Stdout, c.Stderr = os.Stdin, cmd.OutOrStdout(), cmd.ErrOrStderr()
			err = c.Run()
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				os.Exit(ee.ExitCode())
			}
			return err
		},
	}
}

// findPipeline looks for odmn-pipeline beside the running odmn, then in PATH.
func findPipeline() (string, error) {
	var looked []string
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), pipelineBinary)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
		looked = append(looked, filepath.Dir(self))
	}
	if p, err := exec.LookPath(pipelineBinary); err == nil {
		return p, nil
	}
	looked = append(looked, "$PATH")
	return "", fmt.Errorf("%s not found (looked in %v): build it with 'make pipeline' in the odmn repository (it writes bin/%s beside bin/odmn)", pipelineBinary, looked, pipelineBinary)
}
