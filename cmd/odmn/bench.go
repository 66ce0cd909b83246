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
	var asJSON, quick bool
	var out string
	cmd := &cobra.Command{
		Use:   "bench [--quick] [--json]",
		Short: "Measure training and scoring throughput against PyTorch and ONNX Runtime, thread scaling and peak memory",
		Long: `bench measures the default ODMN on synthetic users, on this machine, in one
run (about six minutes on 2 cores; --quick about one). Every comparison is
interleaved: odmn and its yardstick take turns, window by window, for
--rounds rounds (A B A B A B), and the report gives the median of the
rounds' ratios with their range, so a slow spell of a shared machine hits
both sides:

  - the machine: CPU, cores, the BLAS behind the GEMM kernels and its
    sgemm rate, one thread and all;
  - training throughput (samples/s) at batch 512 on one thread and on all,
    the 1->N thread scaling, and the dense layers' GFLOP/s;
  - PyTorch on the same network, batch and threads (scripts/bench_torch.py,
    when /usr/bin/python3 has torch), interleaved with odmn;
  - scoring throughput (users/s) of the model's ONNX export through the
    native Go runtime and ONNX Runtime: the same file, rows, batch and
    threads, interleaved;
  - peak memory (VmHWM) in child processes: scoring 100,000 and 1,000,000
    users, and one training epoch over --epoch-users and a tenth of it,
    whose difference per row is the training memory slope;
  - one 180M-user training epoch and scoring 1e9 users extrapolated to 16
    cores from the 1-thread rates and Amdahl's law fitted to the measured
    scaling (the model is printed with the figures).

"One thread" runs with GOMAXPROCS=1 and kernels on one thread; "all" with
every core GOMAXPROCS allows. Exit status 0 whatever the targets say.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if quick {
				q := bench.QuickOptions()
				for _, name := range []string{"users", "rounds", "window", "epoch-users", "memory"} {
					if !cmd.Flags().Changed(name) {
						switch name {
						case "users":
							o.Users = q.Users
						case "rounds":
							o.Rounds = q.Rounds
						case "window":
							o.Window = q.Window
						case "epoch-users":
							o.EpochUsers = q.EpochUsers
						case "memory":
							o.Memory = q.Memory
						}
					}
				}
				o.Quick = true
			}
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
	f.BoolVar(&quick, "quick", false, "a run of about a minute: fewer users, shorter windows, 3 rounds, a smaller memory slope, no scoring-memory children")
	f.IntVar(&o.Users, "users", o.Users, "synthetic users for the throughput runs")
	f.IntVar(&o.Rounds, "rounds", o.Rounds, "interleaved rounds (at least 3)")
	f.Float64Var(&o.Window, "window", o.Window, "seconds of one measurement window")
	f.IntVar(&o.ScoreRows, "score-batch", o.ScoreRows, "rows per scoring call")
	f.IntVar(&o.EpochUsers, "epoch-users", o.EpochUsers, "users of the one-epoch training run; a tenth of it gives the memory slope (0: skip)")
	f.BoolVar(&o.Memory, "memory", o.Memory, "measure scoring's peak memory in child processes")
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
			switch o.Mode { // the GC setting of the command measured
			case "score":
				defer scoreGC()()
			case "train":
				defer trainGC()()
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
	fmt.Fprintf(w, "odmn bench, %s: %d interleaved rounds of %.1f s windows\n", r.Date, r.Rounds, r.Window)
	fmt.Fprintf(w, "machine: %s, %d cores (GOMAXPROCS %d), %s\n", m.CPU, m.Cores, m.GOMAXPROCS, m.Go)
	fmt.Fprintf(w, "kernels: GEMM %s (%s), elementwise SIMD %s; ONNX Runtime %s\n", m.BLAS, m.BLASConfig, m.SIMD, m.ORT)
	fmt.Fprintf(w, "model: default %s, %d parameters, %d features, horizons %v; dense %.2f MFLOP/row scoring, %.2f MFLOP/row training\n\n",
		r.Model.Variant, r.Model.Params, r.Model.Features, r.Model.Horizons, r.Model.ScoreMFLOPPerRow, r.Model.TrainMFLOPPerRow)
	fmt.Fprintln(w, "sgemm (machine rate):")
	for _, s := range r.Sgemm {
		fmt.Fprintf(w, "  %-16s %d thread(s) %7.1f GFLOP/s\n", s.Shape, s.Threads, s.GFLOPS)
	}
	fmt.Fprintln(w, "\ntraining, batch samples/s (median of the rounds; dense GFLOP/s; GEMM share of the workers' time):")
	for _, t := range r.Train {
		fmt.Fprintf(w, "  odmn    %d thread(s) batch %d: %8.0f  %6.1f GFLOP/s  %3.0f%%  rounds %s\n",
			t.Threads, t.Batch, t.Samples, t.DenseGFLOPS, 100*t.GemmShare, rounds(t.Rounds))
	}
	for _, t := range r.Torch {
		fmt.Fprintf(w, "  PyTorch %d thread(s) batch %d: %8.0f  (torch %s, %d parameters)  rounds %s\n", t.Threads, t.Batch, t.Rows, t.Version, t.Params, rounds(t.Rounds))
	}
	for _, x := range r.TorchRatio {
		printRatio(w, x)
	}
	if r.TrainScalingRounds != nil {
		printRatio(w, *r.TrainScalingRounds)
	}
	if r.TorchNote != "" {
		fmt.Fprintf(w, "  PyTorch: %s\n", r.TorchNote)
	}
	fmt.Fprintln(w, "\nscoring the exported ONNX file, users/s (same rows, batch and threads; median of the rounds):")
	for _, s := range r.Score {
		fmt.Fprintf(w, "  %d thread(s) batch %d: native %8.0f  ORT %8.0f  native/ORT %.2f (rounds %.2f-%.2f)\n",
			s.Threads, s.Batch, s.Native, s.ORT, s.Ratio, s.RatioMin, s.RatioMax)
	}
	if r.ScoreScaling != nil {
		printRatio(w, *r.ScoreScaling)
	}
	if p := r.ScoreProfile; p != nil {
		fmt.Fprintf(w, "  1-thread native call by op: %s; outside kernels %.0f%%\n", opShares(p.Ops, 8), 100*p.Other)
	}
	if mm := r.Memory; mm != nil {
		fmt.Fprintln(w, "\npeak memory (VmHWM, child processes):")
		if mm.ScoreRatio > 0 {
			fmt.Fprintf(w, "  scoring 100,000 users %.0f MiB, 1,000,000 users %.0f MiB (x%.2f)\n", mm.Score100kMiB, mm.Score1MMiB, mm.ScoreRatio)
			if mm.ScoreFileRate > 0 {
				fmt.Fprintf(w, "  odmn score's whole path on the 1,000,000 users (CSV read, scored, written): %.0f users/s\n", mm.ScoreFileRate)
			}
		}
		if len(mm.TrainUsers) == 2 {
			fmt.Fprintf(w, "  training %d users %.0f MiB, %d users %.0f MiB: %.0f bytes per row (the table holds %d)\n",
				mm.TrainUsers[0], mm.TrainMiB[0], mm.TrainUsers[1], mm.TrainMiB[1], r.TrainBytesPerRow, mm.TableBytesPerRow)
		}
	}
	if e := r.Epoch; e != nil {
		fmt.Fprintf(w, "\none epoch over %d users on %d threads: %.1f s (%.0f samples/s); GEMM %.0f%% of the workers' time, outside kernels %.0f%%\n",
			e.Users, e.Threads, e.Seconds, e.Samples, 100*e.GemmShare, 100*e.Other)
		fmt.Fprintf(w, "  kernel time by op: %s\n", opShares(e.Profile, 8))
	}
	fmt.Fprintln(w, "\nextrapolated to 16 cores (1-thread rate x Amdahl's speedup fitted to the measured scaling):")
	if e := r.Epoch180M; e != nil {
		fmt.Fprintf(w, "  one epoch over 180M users: %s\n", e.Formula)
	}
	if b := r.Billion; b != nil {
		fmt.Fprintf(w, "  scoring 1e9 users: %s\n", b.Formula)
	}
	fmt.Fprintln(w, "\ntargets:")
	for _, t := range r.Targets {
		mark := "met"
		if !t.Met {
			mark = "NOT met"
		}
		if t.Target == 0 {
			fmt.Fprintf(w, "  %-80s -\n", t.Name)
		} else {
			fmt.Fprintf(w, "  %-80s %.2f (target %.2f) %s\n", t.Name, t.Value, t.Target, mark)
		}
		if t.Note != "" {
			fmt.Fprintf(w, "      %s\n", t.Note)
		}
	}
	fmt.Fprintf(w, "\nbench took %.0f s\n", r.Seconds)
}

func printRatio(w io.Writer, x bench.Ratio) {
	fmt.Fprintf(w, "  %s, %d thread(s): %.2f (rounds %.2f-%.2f)\n", x.Of, x.Threads, x.Median, x.Min, x.Max)
}

func rounds(xs []float64) string {
	var parts []string
	for _, x := range xs {
		parts = append(parts, fmt.Sprintf("%.0f", x))
	}
	return strings.Join(parts, " ")
}

// opShares lists the first n op shares as "op 12%, ...".
func opShares(ops []bench.OpShare, n int) string {
	var parts []string
	for _, p := range ops[:min(n, len(ops))] {
		parts = append(parts, fmt.Sprintf("%s %.0f%%", p.Op, 100*p.Share))
	}
	return strings.Join(parts, ", ")
}
