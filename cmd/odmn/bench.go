package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/odmn/odmn/internal/bench"
)

func newBenchCmd() *cobra.Command {
	o := bench.DefaultOptions()
	var asJSON bool
	var out string
	cmd := &cobra.Command{
		Use:   "bench [--json]",
		Short: "Measure training and scoring throughput, GFLOP/s and peak memory of the default ODMN",
		Long: `bench measures the default ODMN on synthetic users, on this machine, in one
run (about three to four minutes on 2 cores). Each throughput is the best
of four windows, for odmn and PyTorch alike (shared machines are noisy):

  - the machine: CPU, cores, the BLAS behind the GEMM kernels (OpenBLAS, or
    gonum with -tags noopenblas) and its sgemm rate, one thread and all;
  - training throughput (samples/s) at batch 512, one thread and all threads,
    and the dense layers' achieved GFLOP/s (inside the GEMM calls, and over
    the whole step);
  - PyTorch's training throughput on the same network and batch, same
    threads (scripts/bench_torch.py, when /usr/bin/python3 has torch);
  - scoring throughput (users/s) of the model's ONNX export through the
    native Go runtime and ONNX Runtime: the same file, rows, batch and
    thread counts;
  - peak memory (VmHWM) of scoring 100,000 and 1,000,000 users and of one
    training epoch over 1,000,000 users, each in a child process, and the
    epoch's time with its kernel-time profile;
  - the time to score 1e9 users extrapolated to one 16-core machine and to
    n machines with odmn score --shard.

"One thread" runs with GOMAXPROCS=1 and kernels on one thread; "all" with
every core GOMAXPROCS allows.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Command = "odmn " + strings.Join(os.Args[1:], " ")
			if !asJSON {
				errw := cmd.ErrOrStderr()
				o.Log = func(format string, a ...any) { fmt.Fprintf(errw, format+"\n", a...) }
			}
			rep, err := bench.Run(cmd.Context(), o)
			if err != nil {
				return err
			}
			if out != "" {
				if err := bench.WriteJSON(out, rep); err != nil {
					return err
				}
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(rep)
			}
			printBench(cmd.OutOrStdout(), rep)
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&asJSON, "json", false, "print the report as JSON")
	f.IntVar(&o.Users, "users", o.Users, "synthetic users for the throughput runs")
	f.Float64Var(&o.Seconds, "seconds", o.Seconds, "seconds per throughput measurement")
	f.IntVar(&o.ScoreRows, "score-batch", o.ScoreRows, "rows per scoring call")
	f.IntVar(&o.EpochN, "epoch-users", o.EpochN, "users of the one-epoch training run (0: skip)")
	f.BoolVar(&o.Memory, "memory", o.Memory, "measure peak memory in child processes")
	f.BoolVar(&o.Torch, "torch", o.Torch, "run PyTorch beside when available")
	f.StringVar(&out, "out", "", "also write the JSON report to this file")
	return cmd
}

// newBenchChildCmd is the hidden subcommand odmn bench re-executes itself
// with, so that each peak-memory figure is a process of its own.
func newBenchChildCmd() *cobra.Command {
	var o bench.ChildOptions
	cmd := &cobra.Command{
		Use:    bench.ChildCommand,
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.Mode == "score" {
				defer scoreGC()() // odmn score's GC setting
			}
			res, err := bench.Child(cmd.Context(), o)
			if err != nil {
				return err
			}
			return json.NewEncoder(cmd.OutOrStdout()).Encode(res)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Mode, "mode", "", "score or train")
	f.StringVar(&o.Model, "model", "", "ONNX file to score")
	f.StringVar(&o.Data, "data", "", "data file to score")
	f.IntVar(&o.Users, "users", 100000, "synthetic users")
	f.IntVar(&o.Batch, "batch", 4096, "rows per call")
	return cmd
}

func printBench(w io.Writer, r *bench.Report) {
	m := r.Machine
	fmt.Fprintf(w, "odmn bench, %s\n", r.Date)
	fmt.Fprintf(w, "machine: %s, %d cores (GOMAXPROCS %d), %s\n", m.CPU, m.Cores, m.GOMAXPROCS, m.Go)
	fmt.Fprintf(w, "kernels: GEMM %s (%s), elementwise SIMD %s; ONNX Runtime %s\n", m.BLAS, m.BLASConfig, m.SIMD, m.ORT)
	fmt.Fprintf(w, "model: default %s, %d parameters, %d features, horizons %v; dense %.2f MFLOP/row scoring, %.2f MFLOP/row training\n\n",
		r.Model.Variant, r.Model.Params, r.Model.Features, r.Model.Horizons, r.Model.ScoreMFLOPPerRow, r.Model.TrainMFLOPPerRow)
	fmt.Fprintln(w, "sgemm (machine rate):")
	for _, s := range r.Sgemm {
		fmt.Fprintf(w, "  %-16s %d thread(s) %7.1f GFLOP/s\n", s.Shape, s.Threads, s.GFLOPS)
	}
	fmt.Fprintln(w, "\ntraining (batch, samples/s, dense GFLOP/s over the step, inside GEMM, GEMM share of the step):")
	for _, t := range r.Train {
		fmt.Fprintf(w, "  native  %d thread(s) batch %d: %8.0f samples/s  %6.1f GFLOP/s  %6.1f GFLOP/s in GEMM  %4.0f%%\n",
			t.Threads, t.Batch, t.Samples, t.DenseGFLOPS, t.KernelGFLOPS, 100*t.GemmShare)
	}
	for _, t := range r.Torch {
		fmt.Fprintf(w, "  PyTorch %d thread(s) batch %d: %8.0f rows/s (torch %s, %d parameters)\n", t.Threads, t.Batch, t.Rows, t.Version, t.Params)
	}
	if r.TorchNote != "" {
		fmt.Fprintf(w, "  PyTorch: %s\n", r.TorchNote)
	}
	fmt.Fprintln(w, "\nscoring the exported ONNX file (users/s, same rows, batch and threads):")
	for _, s := range r.Score {
		fmt.Fprintf(w, "  %d thread(s) batch %d: native %8.0f  ORT %8.0f  native/ORT %.2f  (native dense %.1f GFLOP/s)\n",
			s.Threads, s.Batch, s.Native, s.ORT, s.Ratio, s.GFLOPS)
	}
	if mm := r.Memory; mm != nil {
		fmt.Fprintf(w, "\npeak memory (VmHWM, child processes): scoring 100,000 users %.0f MiB, 1,000,000 users %.0f MiB (x%.2f); training on 1,000,000 users %.0f MiB\n",
			mm.Score100kMiB, mm.Score1MMiB, mm.ScoreRatio, mm.Train1MMiB)
	}
	if e := r.Epoch; e != nil {
		fmt.Fprintf(w, "\none epoch over %d users on %d threads: %.1f s (%.2f min, %.0f samples/s); GEMM %.0f%% of the epoch, outside kernels %.0f%%\n",
			e.Users, e.Threads, e.Seconds, e.Minutes, e.Samples, 100*e.GemmShare, 100*e.Other)
		var parts []string
		for _, p := range e.Profile[:min(8, len(e.Profile))] {
			parts = append(parts, fmt.Sprintf("%s %.0f%%", p.Op, 100*p.Share))
		}
		fmt.Fprintf(w, "  kernel time by op: %s\n", strings.Join(parts, ", "))
	}
	if b := r.Billion; b != nil {
		fmt.Fprintf(w, "\n1e9 users: %s\n", b.Formula)
	}
	fmt.Fprintln(w, "\ntargets:")
	for _, t := range r.Targets {
		mark := "met"
		if !t.Met {
			mark = "NOT met"
		}
		if t.Target == 0 {
			fmt.Fprintf(w, "  %-80s %.2f\n", t.Name, t.Value)
		} else {
			fmt.Fprintf(w, "  %-80s %.2f (target %.2f) %s\n", t.Name, t.Value, t.Target, mark)
		}
		if t.Note != "" {
			fmt.Fprintf(w, "      %s\n", t.Note)
		}
	}
	fmt.Fprintf(w, "\nbench took %.0f s\n", r.Seconds)
}
