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
		Use:   "pipeline score|job-server [flags]",
		Short: "Run the Beam pipelines (odmn-pipeline, built with make pipeline)",
		Long: `pipeline runs odmn's Apache Beam pipelines, which live in their own Go module
and binary so that odmn itself does not depend on Beam. It runs
odmn-pipeline (found beside odmn, else in PATH) with the same arguments:

  odmn pipeline score --model model.onnx --data 'users-*.parquet' --out out/scores
        [--shards-per-file N] [--runner prism|universal --endpoint HOST:PORT]
        [--cache URL --name NAME --version V] [--json]
  odmn pipeline job-server --port 8073    a standalone prism job server

The default runner is Beam's embedded prism; --runner universal --endpoint
submits to a portable job server (Flink's, Spark's or a standalone prism).
Build odmn-pipeline with 'make pipeline' (bin/odmn-pipeline).`,
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
