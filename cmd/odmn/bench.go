package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/odmn/odmn/data"
	"github.com/odmn/odmn/fixtures/synth"
	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/internal/benchdata"
	"github.com/odmn/odmn/runtime"
	"github.com/odmn/odmn/runtime/native"
	"github.com/odmn/odmn/runtime/ort"
	"github.com/odmn/odmn/score"
	"github.com/odmn/odmn/train"
)

// The bench command measures, in one run on one machine, what issue 6 asks:
// training throughput of the default ODMN, scoring throughput of its ONNX
// export through the native runtime and ONNX Runtime (same file, rows,
// threads and batch), the dense layers' GFLOP/s next to the machine's
// sgemm rate, peak memory of scoring and training (each in a child process,
// so that the figures do not contaminate each other), one epoch over
// 1,000,000 users, and PyTorch's training throughput on the same network
// when Debian's python3-torch is installed.

type benchOptions struct {
	json      bool
	users     int     // users generated for the throughput runs
	seconds   float64 // time per throughput measurement
	batch     int     // training batch
	scoreRows int     // rows per scoring call
	epochN    int     // users of the one-epoch run (0: skip)
	memory    bool
	torch     bool
	out       string
}

func newBenchCmd() *cobra.Command {
	o := benchOptions{users: 50000, seconds: 4, batch: 512, scoreRows: 4096, epochN: 1000000, memory: true, torch: true}
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
			return runBench(cmd.Context(), o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.json, "json", false, "print the report as JSON")
	f.IntVar(&o.users, "users", o.users, "synthetic users for the throughput runs")
	f.Float64Var(&o.seconds, "seconds", o.seconds, "seconds per throughput measurement")
	f.IntVar(&o.scoreRows, "score-batch", o.scoreRows, "rows per scoring call")
	f.IntVar(&o.epochN, "epoch-users", o.epochN, "users of the one-epoch training run (0: skip)")
	f.BoolVar(&o.memory, "memory", o.memory, "measure peak memory in child processes")
	f.BoolVar(&o.torch, "torch", o.torch, "run PyTorch beside when available")
	f.StringVar(&o.out, "out", "", "also write the JSON report to this file")
	return cmd
}

// BenchReport is odmn bench's result (--json prints it).
type BenchReport struct {
	Date    string       `json:"date"`
	Command string       `json:"command"`
	Machine BenchMachine `json:"machine"`
	Model   BenchModel   `json:"model"`
	Sgemm   []SgemmRate  `json:"sgemm"`
	Train   []TrainRate  `json:"train"`
	Torch   []TorchRate  `json:"torch,omitempty"`
	// TorchNote says why PyTorch was not measured, or how it was run.
	TorchNote string       `json:"torch_note,omitempty"`
	Score     []ScoreRate  `json:"score"`
	Memory    *BenchMemory `json:"memory,omitempty"`
	Epoch     *EpochRun    `json:"epoch,omitempty"`
	Billion   *Extrapolate `json:"score_1e9,omitempty"`
	Targets   []Target     `json:"targets"`
	Seconds   float64      `json:"seconds"`
}

type BenchMachine struct {
	CPU        string `json:"cpu"`
	Cores      int    `json:"cores"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	Go         string `json:"go"`
	BLAS       string `json:"blas"`
	BLASConfig string `json:"blas_config"`
	SIMD       string `json:"simd"`
	ORT        string `json:"ort,omitempty"`
}

type BenchModel struct {
	Variant          string  `json:"variant"`
	Params           int     `json:"params"`
	Features         int     `json:"features"`
	Horizons         []int   `json:"horizons"`
	TrainMFLOPPerRow float64 `json:"train_dense_mflop_per_row"` // forward and backward GEMMs
	ScoreMFLOPPerRow float64 `json:"score_dense_mflop_per_row"`
	Users            int     `json:"users"`
}

type SgemmRate struct {
	Shape   string  `json:"shape"`
	Threads int     `json:"threads"`
	GFLOPS  float64 `json:"gflops"`
}

type TrainRate struct {
	Threads int     `json:"threads"`
	Batch   int     `json:"batch"`
	Samples float64 `json:"samples_per_s"`
	// DenseGFLOPS is the GEMM FLOPs per second of training time;
	// KernelGFLOPS the rate inside the GEMM calls; GemmShare the share of
	// the step spent in them.
	DenseGFLOPS  float64 `json:"dense_gflops"`
	KernelGFLOPS float64 `json:"gemm_kernel_gflops"`
	GemmShare    float64 `json:"gemm_share"`
	Steps        int     `json:"steps"`
}

type TorchRate struct {
	Threads int     `json:"threads"`
	Batch   int     `json:"batch"`
	Rows    float64 `json:"rows_per_s"`
	Params  int     `json:"params"`
	Version string  `json:"torch"`
}

type ScoreRate struct {
	Threads int     `json:"threads"`
	Batch   int     `json:"batch"`
	Native  float64 `json:"native_users_per_s"`
	ORT     float64 `json:"ort_users_per_s"`
	Ratio   float64 `json:"native_over_ort"`
	GFLOPS  float64 `json:"native_dense_gflops"`
}

type BenchMemory struct {
	Score100kMiB float64 `json:"score_100k_mib"`
	Score1MMiB   float64 `json:"score_1m_mib"`
	ScoreRatio   float64 `json:"score_1m_over_100k"`
	Train1MMiB   float64 `json:"train_1m_mib"`
}

type EpochRun struct {
	Users   int     `json:"users"`
	Threads int     `json:"threads"`
	Seconds float64 `json:"seconds"`
	Minutes float64 `json:"minutes"`
	Samples float64 `json:"samples_per_s"`
	// Profile is the share of the epoch's kernel time per op type (the
	// largest first); GemmShare the share of the epoch inside GEMM calls;
	// Other the share outside every kernel (executor, Adam, batching, GC).
	Profile   []OpShare `json:"profile"`
	GemmShare float64   `json:"gemm_share"`
	Other     float64   `json:"outside_kernels_share"`
	PeakMiB   float64   `json:"peak_mib"`
}

type OpShare struct {
	Op    string  `json:"op"`
	Calls int     `json:"calls"`
	Share float64 `json:"share"`
}

type Extrapolate struct {
	Users       float64 `json:"users"`
	Cores       int     `json:"cores"`
	PerCoreRate float64 `json:"per_core_users_per_s"`
	Hours16     float64 `json:"hours_one_16_core_machine"`
	Formula     string  `json:"formula"`
}

type Target struct {
	Name   string  `json:"name"`
	Value  float64 `json:"value"`
	Target float64 `json:"target"`
	Met    bool    `json:"met"`
	Note   string  `json:"note,omitempty"`
}

func runBench(ctx context.Context, o benchOptions, w, errw io.Writer) error {
	t0 := time.Now()
	logf := func(format string, a ...any) {
		if !o.json {
			fmt.Fprintf(errw, format+"\n", a...)
		}
	}
	all := goruntime.GOMAXPROCS(0)
	threadSet := []int{1}
	if all > 1 {
		threadSet = append(threadSet, all)
	}
	rep := &BenchReport{Date: time.Now().UTC().Format("2006-01-02"), Command: "odmn " + strings.Join(os.Args[1:], " ")}
	rep.Machine = BenchMachine{CPU: cpuModel(), Cores: goruntime.NumCPU(), GOMAXPROCS: all, Go: goruntime.Version(),
		BLAS: graph.SgemmImpl, BLASConfig: graph.BLASConfig(), SIMD: graph.SIMDLevel()}
	if v, err := ort.Version(); err == nil {
		rep.Machine.ORT = v
	}
	defer graph.SetThreads(graph.SetThreads(0))
	defer goruntime.GOMAXPROCS(all)

	// 1. the machine's sgemm rate
	logf("sgemm rate ...")
	for _, t := range threadSet {
		for _, sz := range [][3]int{{1024, 1024, 1024}, {512, 64, 128}} {
			rep.Sgemm = append(rep.Sgemm, SgemmRate{Shape: fmt.Sprintf("%dx%dx%d", sz[0], sz[1], sz[2]), Threads: t,
				GFLOPS: sgemmRate(t, sz[0], sz[1], sz[2], 1.0)})
		}
	}

	// 2. data and model
	dir, err := os.MkdirTemp("", "odmn-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	logf("generating %d synthetic users ...", o.users)
	set, err := benchdata.Synthetic(o.users, 1, dir)
	if err != nil {
		return err
	}
	ds := set.Data
	cfg := train.DefaultConfig()
	cfg.Batch = o.batch
	rows := make([]int, ds.N)
	for i := range rows {
		rows[i] = i
	}
	m, err := train.Prepare(ds, rows, cfg)
	if err != nil {
		return err
	}
	st, err := train.NewStepper(m, native.Options{})
	if err != nil {
		return err
	}
	rep.Model = BenchModel{Variant: string(cfg.Variant), Params: m.NumParams(), Features: len(m.Features), Horizons: m.Horizons, Users: o.users}

	// 3. training throughput
	for _, t := range threadSet {
		logf("training, %d thread(s) ...", t)
		r, err := trainRate(st, ds, t, o.batch, o.seconds)
		if err != nil {
			return err
		}
		rep.Train = append(rep.Train, r.TrainRate)
		rep.Model.TrainMFLOPPerRow = r.flopsPerRow / 1e6
	}

	// 4. PyTorch beside it
	if o.torch {
		rep.Torch, rep.TorchNote = torchRates(m, threadSet, o.batch, o.seconds, logf)
	}

	// 5. export and scoring, native and ORT
	logf("exporting and scoring ...")
	b := &train.Bundle{Model: m, Spec: set.Spec, Encoder: set.Encoder}
	sm, err := score.FromBundle(b, "bench", train.InferOptions{})
	if err != nil {
		return err
	}
	onnxPath := filepath.Join(dir, "odmn.onnx")
	if err := os.WriteFile(onnxPath, sm.ONNX(), 0o644); err != nil {
		return err
	}
	fm, err := score.Load(onnxPath, train.InferOptions{}) // the file, as odmn score reads it
	if err != nil {
		return err
	}
	feeds, err := scoreFeeds(fm, set.Path, o.scoreRows, 8)
	if err != nil {
		return err
	}
	for _, t := range threadSet {
		r, err := scoreRate(fm, onnxPath, feeds, t, o.scoreRows, o.seconds)
		if err != nil {
			return err
		}
		rep.Score = append(rep.Score, r)
		rep.Model.ScoreMFLOPPerRow = r.GFLOPS * 1e3 / r.Native
	}

	// 6. peak memory and the one-epoch run, each in a child process
	if o.memory {
		logf("peak memory of scoring 100,000 and 1,000,000 users (files written, then odmn score's path in child processes) ...")
		mem := &BenchMemory{}
		var res [2]childResult
		for i, n := range []int{100000, 1000000} {
			path := filepath.Join(dir, fmt.Sprintf("score-%d.csv", n))
			if err := writeUsers(ctx, path, n, 7); err != nil {
				return err
			}
			if err := runChild(ctx, &res[i], "score", "--model", onnxPath, "--data", path, "--batch", strconv.Itoa(o.scoreRows)); err != nil {
				return err
			}
			os.Remove(path)
		}
		mem.Score100kMiB, mem.Score1MMiB = mib(res[0].PeakRSS), mib(res[1].PeakRSS)
		mem.ScoreRatio = mem.Score1MMiB / mem.Score100kMiB
		rep.Memory = mem
	}
	if o.epochN > 0 {
		logf("one epoch over %d users, %d threads (child process) ...", o.epochN, all)
		var ce childResult
		if err := runChild(ctx, &ce, "train", "--users", strconv.Itoa(o.epochN), "--batch", strconv.Itoa(o.batch)); err != nil {
			return err
		}
		rep.Epoch = ce.Epoch
		if rep.Memory != nil {
			rep.Memory.Train1MMiB = mib(ce.PeakRSS)
		}
	}

	// 7. extrapolation and targets
	rep.Billion = extrapolate(rep.Score)
	rep.Targets = targets(rep)
	rep.Seconds = time.Since(t0).Seconds()
	if o.out != "" {
		if err := writeJSON(o.out, rep); err != nil {
			return err
		}
	}
	if o.json {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	printBench(w, rep)
	return nil
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// setThreads runs everything on t threads: GOMAXPROCS and the kernels.
func setThreads(t int) {
	goruntime.GOMAXPROCS(t)
	graph.SetThreads(t)
}

// sgemmRate is the best GFLOP/s of C = A·B over about sec seconds.
func sgemmRate(threads, m, n, k int, sec float64) float64 {
	setThreads(threads)
	a, b, c := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
	for i := range a {
		a[i] = float32(i%13) * 0.01
	}
	for i := range b {
		b[i] = float32(i%7) * 0.01
	}
	graph.Sgemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n)
	best := 0.0
	end := time.Now().Add(time.Duration(sec * float64(time.Second)))
	for time.Now().Before(end) {
		reps := max(1, int(2e8/float64(2*m*n*k)))
		t0 := time.Now()
		for range reps {
			graph.Sgemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n)
		}
		best = max(best, float64(2*m*n*k*reps)/time.Since(t0).Seconds()/1e9)
	}
	return best
}

type trainResult struct {
	TrainRate
	flopsPerRow float64
}

// trainRate runs training steps for about sec seconds on t threads.
func trainRate(st *train.Stepper, ds *data.Dataset, t, batch int, sec float64) (trainResult, error) {
	setThreads(t)
	nb := ds.N / batch
	step := func(i int) error {
		rows := make([]int, batch)
		for k := range rows {
			rows[k] = ((i%nb)*batch + k) % ds.N
		}
		_, err := st.Step(ds, rows)
		return err
	}
	for i := range 3 { // warm up: buffers, caches
		if err := step(i); err != nil {
			return trainResult{}, err
		}
	}
	// The rate is the best of several windows: this kind of machine is
	// shared, and a window slowed by a neighbour says nothing about odmn.
	best := trainResult{}
	total := 0
	for win := 0; win < benchWindows; win++ {
		graph.CountGemm(true)
		t0 := time.Now()
		steps := 0
		for time.Since(t0).Seconds() < sec/benchWindows || steps < 3 {
			if err := step(total); err != nil {
				return trainResult{}, err
			}
			steps++
			total++
		}
		el := time.Since(t0).Seconds()
		gs := graph.CountGemm(false)
		n := float64(steps * batch)
		if r := n / el; r > best.Samples {
			best = trainResult{TrainRate{Threads: t, Batch: batch, Samples: r, DenseGFLOPS: float64(gs.Flops) / el / 1e9,
				KernelGFLOPS: gs.GFLOPS(), GemmShare: gs.Seconds / el}, float64(gs.Flops) / n}
		}
	}
	best.Steps = total
	return best, nil
}

// benchWindows is the number of measurement windows a rate is the best of.
const benchWindows = 4

// scoreFeeds reads nb batches of rows of the data file as the model's
// input tensors (copies: a Feeder reuses its buffers).
func scoreFeeds(m *score.Model, path string, rows, nb int) ([]map[string]*graph.Tensor, error) {
	f := score.NewFeeder(m.Inputs)
	t, err := data.ReadFile(path, f.Columns())
	if err != nil {
		return nil, err
	}
	var out []map[string]*graph.Tensor
	for k := 0; k < nb && (k+1)*rows <= t.Rows(); k++ {
		sel := make([]int, rows)
		for i := range sel {
			sel[i] = k*rows + i
		}
		feed, err := f.Feed(t, sel)
		if err != nil {
			return nil, err
		}
		c := make(map[string]*graph.Tensor, len(feed))
		for name, x := range feed {
			c[name] = x.Clone()
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("bench: fewer than %d rows to score", rows)
	}
	return out, nil
}

// scoreRate measures native and ORT on the same feeds with t threads.
func scoreRate(m *score.Model, onnxPath string, feeds []map[string]*graph.Tensor, t, batch int, sec float64) (ScoreRate, error) {
	setThreads(t)
	r := ScoreRate{Threads: t, Batch: batch}
	ns, err := native.New(m.Graph(), native.Options{Threads: t, SplitRows: true})
	if err != nil {
		return r, err
	}
	var flopsPerRow float64
	r.Native, flopsPerRow, err = usersPerSecond(ns, feeds, batch, sec)
	if err != nil {
		return r, fmt.Errorf("native: %w", err)
	}
	r.GFLOPS = flopsPerRow * r.Native / 1e9
	ors, err := ort.Open(onnxPath, ort.Options{IntraOpThreads: t, InterOpThreads: 1})
	if err != nil {
		return r, err
	}
	defer ors.Close()
	r.ORT, _, err = usersPerSecond(ors, feeds, batch, sec)
	if err != nil {
		return r, fmt.Errorf("ort: %w", err)
	}
	r.Ratio = r.Native / r.ORT
	return r, nil
}

// usersPerSecond runs the feeds round robin for about sec seconds and
// returns the rate and the GEMM FLOPs per row (native only).
func usersPerSecond(s runtime.Session, feeds []map[string]*graph.Tensor, batch int, sec float64) (float64, float64, error) {
	for _, f := range feeds[:min(2, len(feeds))] { // warm up
		if _, err := s.Run(f); err != nil {
			return 0, 0, err
		}
	}
	bestRate, flopsPerRow := 0.0, 0.0
	calls := 0
	for win := 0; win < benchWindows; win++ {
		graph.CountGemm(true)
		t0 := time.Now()
		n := 0
		for time.Since(t0).Seconds() < sec/benchWindows || n < 2 {
			if _, err := s.Run(feeds[calls%len(feeds)]); err != nil {
				graph.CountGemm(false)
				return 0, 0, err
			}
			n++
			calls++
		}
		el := time.Since(t0).Seconds()
		gs := graph.CountGemm(false)
		rows := float64(n * batch)
		if r := rows / el; r > bestRate {
			bestRate, flopsPerRow = r, float64(gs.Flops)/rows
		}
	}
	return bestRate, flopsPerRow, nil
}

// extrapolate scales the best all-thread native scoring rate per core to
// 1e9 users on one 16-core machine (assumes scoring scales with cores, as
// independent --shard processes do).
func extrapolate(rs []ScoreRate) *Extrapolate {
	if len(rs) == 0 {
		return nil
	}
	best := 0.0
	for _, r := range rs {
		best = max(best, r.Native/float64(r.Threads))
	}
	e := &Extrapolate{Users: 1e9, Cores: 16, PerCoreRate: best}
	e.Hours16 = 1e9 / (best * 16) / 3600
	e.Formula = fmt.Sprintf("1e9 / (%.0f users/s/core × 16 cores × n machines) = %.2f h / n with odmn score --shard i/n on each", best, e.Hours16)
	return e
}

func targets(r *BenchReport) []Target {
	var ts []Target
	for _, s := range r.Score {
		ts = append(ts, Target{Name: fmt.Sprintf("native scoring / ORT, %d thread(s), batch %d", s.Threads, s.Batch),
			Value: s.Ratio, Target: 0.8, Met: s.Ratio >= 0.8})
	}
	for _, t := range r.Train {
		for _, p := range r.Torch {
			if p.Threads == t.Threads {
				v := t.Samples / p.Rows
				ts = append(ts, Target{Name: fmt.Sprintf("native training / PyTorch, %d thread(s), batch %d", t.Threads, t.Batch),
					Value: v, Target: 1, Met: v >= 1})
			}
		}
	}
	if len(r.Torch) == 0 && len(r.Train) > 0 {
		v := r.Train[0].Samples / 26000
		ts = append(ts, Target{Name: "native training (1 thread) / PyTorch yardstick 26,000 rows/s", Value: v, Target: 1, Met: v >= 1,
			Note: "PyTorch not measured here: " + r.TorchNote})
	}
	var sg float64
	for _, s := range r.Sgemm {
		if s.Shape == "1024x1024x1024" && s.Threads == 1 {
			sg = s.GFLOPS
		}
	}
	for _, t := range r.Train {
		if t.Threads == 1 && sg > 0 {
			v := t.DenseGFLOPS / sg
			ts = append(ts, Target{Name: "training dense GFLOP/s (1 thread, over the whole step) / sgemm rate (1 thread)", Value: v, Target: 0.25, Met: v >= 0.25,
				Note: fmt.Sprintf("inside the GEMM calls: %.0f GFLOP/s = %.0f%% of sgemm", t.KernelGFLOPS, 100*t.KernelGFLOPS/sg)})
		}
	}
	if r.Memory != nil {
		ts = append(ts, Target{Name: "scoring peak memory, 1,000,000 / 100,000 users", Value: r.Memory.ScoreRatio, Target: 1.2, Met: r.Memory.ScoreRatio <= 1.2})
	}
	if r.Epoch != nil {
		ts = append(ts, Target{Name: fmt.Sprintf("one epoch over %d users on %d cores (minutes)", r.Epoch.Users, r.Epoch.Threads),
			Value: r.Epoch.Minutes, Met: true, Note: "no fixed target: stated with its profile"})
	}
	return ts
}

func printBench(w io.Writer, r *BenchReport) {
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

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return goruntime.GOARCH
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return goruntime.GOARCH
}

// ---------- PyTorch ----------

// torchLayout is scripts/bench_torch.py's input: the model's shape.
func torchLayout(m *train.Model, threads, batch int, sec float64) map[string]any {
	var card []int
	for _, f := range m.Features {
		card = append(card, f.Cardinality)
	}
	var tasks [][]map[string]int
	for _, tb := range m.Tasks {
		var subs []map[string]int
		for _, s := range tb.Subs {
			subs = append(subs, map[string]int{"m": len(s.Buckets), "r": s.Intervals()})
		}
		tasks = append(tasks, subs)
	}
	c := m.Cfg
	return map[string]any{"cardinalities": card, "embed_dim": c.EmbedDim, "bottom": c.Bottom, "tower": c.Tower,
		"mono": c.MonoDim, "tasks": tasks, "batch": batch, "threads": threads, "seconds": sec, "windows": benchWindows}
}

// torchScript finds scripts/bench_torch.py: beside the working directory's
// odmn module root, or the binary's (bin/odmn -> ../scripts).
func torchScript() string {
	var dirs []string
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			dirs = append(dirs, d)
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	if exe, err := os.Executable(); err == nil {
		dirs = append(dirs, filepath.Dir(filepath.Dir(exe)))
	}
	for _, d := range dirs {
		p := filepath.Join(d, "scripts", "bench_torch.py")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

const torchPython = "/usr/bin/python3" // Debian's, where python3-torch installs

func torchRates(m *train.Model, threadSet []int, batch int, sec float64, logf func(string, ...any)) ([]TorchRate, string) {
	script := torchScript()
	if script == "" {
		return nil, "scripts/bench_torch.py not found (run from the odmn repository)"
	}
	if err := exec.Command(torchPython, "-c", "import torch").Run(); err != nil {
		return nil, "not measured: " + torchPython + " has no torch (apt-get install python3-torch)"
	}
	var out []TorchRate
	for _, t := range threadSet {
		logf("PyTorch, %d thread(s) ...", t)
		layout, _ := json.Marshal(torchLayout(m, t, batch, sec))
		cmd := exec.Command(torchPython, script, "-")
		cmd.Stdin = bytes.NewReader(layout)
		// OpenBLAS threads inside PyTorch's own threads oversubscribe the
		// cores (measured: 2 threads slower than 1 by 10x); PyTorch runs
		// its intra-op parallelism itself.
		cmd.Env = append(os.Environ(), "OPENBLAS_NUM_THREADS=1")
		res, err := cmd.Output()
		if err != nil {
			return out, fmt.Sprintf("bench_torch.py failed: %v", err)
		}
		var r struct {
			Rows    float64 `json:"rows_per_s"`
			Threads int     `json:"threads"`
			Batch   int     `json:"batch"`
			Params  int     `json:"params"`
			Torch   string  `json:"torch"`
		}
		if err := json.Unmarshal(res, &r); err != nil {
			return out, fmt.Sprintf("bench_torch.py: %v", err)
		}
		out = append(out, TorchRate{Threads: r.Threads, Batch: r.Batch, Rows: r.Rows, Params: r.Params, Version: r.Torch})
	}
	return out, "scripts/bench_torch.py: the same layers, losses and Adam in PyTorch on CPU, OPENBLAS_NUM_THREADS=1, torch.set_num_threads(k)"
}

// ---------- child processes ----------

type childResult struct {
	PeakRSS int64     `json:"peak_rss"`
	Rows    int       `json:"rows"`
	Seconds float64   `json:"seconds"`
	Epoch   *EpochRun `json:"epoch,omitempty"`
}

func runChild(ctx context.Context, res *childResult, args ...string) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, exe, append([]string{"bench-child", "--mode"}, args...)...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("bench child %v: %w", args, err)
	}
	return json.Unmarshal(out, res)
}

// newBenchChildCmd is the hidden subcommand odmn bench re-executes itself
// with, so that each peak-memory figure is a process of its own.
func newBenchChildCmd() *cobra.Command {
	var mode, model, dataPath string
	var users, batch int
	cmd := &cobra.Command{
		Use:    "bench-child",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var res childResult
			var err error
			switch mode {
			case "score":
				res, err = childScore(cmd.Context(), model, dataPath, batch)
			case "train":
				res, err = childTrain(users, batch)
			default:
				err = fmt.Errorf("unknown mode %q", mode)
			}
			if err != nil {
				return err
			}
			peak, err := peakRSSBytes()
			if err != nil {
				return err
			}
			res.PeakRSS = peak
			if res.Epoch != nil {
				res.Epoch.PeakMiB = mib(peak)
			}
			return json.NewEncoder(cmd.OutOrStdout()).Encode(res)
		},
	}
	f := cmd.Flags()
	f.StringVar(&mode, "mode", "", "score or train")
	f.StringVar(&model, "model", "", "ONNX file to score")
	f.StringVar(&dataPath, "data", "", "data file to score")
	f.IntVar(&users, "users", 100000, "synthetic users")
	f.IntVar(&batch, "batch", 4096, "rows per call")
	return cmd
}

// childScore scores a data file with the native runtime through
// score.File, as odmn score does (read, scored and written in batches),
// and discards the predictions.
func childScore(ctx context.Context, model, path string, batch int) (childResult, error) {
	defer scoreGC()() // odmn score's GC setting
	m, err := score.Load(model, train.InferOptions{})
	if err != nil {
		return childResult{}, err
	}
	out := path + ".scores.csv"
	defer os.Remove(out)
	st, err := score.File(ctx, m, path, out, score.Options{Runtime: score.Native, Batch: batch})
	return childResult{Rows: int(st.Scored), Seconds: st.Elapsed.Seconds()}, err
}

// writeUsers streams n synthetic users to a CSV file.
func writeUsers(ctx context.Context, path string, n int, seed uint64) error {
	names, kinds := synth.Schema()
	w, err := data.NewWriter(path, names, kinds)
	if err != nil {
		return err
	}
	if _, err := synth.Stream(ctx, synth.Config{Users: n, Seed: seed}, w.Write); err != nil {
		_ = w.Abort()
		return err
	}
	return w.Close()
}

// childTrain trains the default ODMN for one epoch over users synthetic
// users (batch rows per step, every core), with the kernel-time profile.
func childTrain(users, batch int) (childResult, error) {
	dir, err := os.MkdirTemp("", "odmn-bench-train-")
	if err != nil {
		return childResult{}, err
	}
	defer os.RemoveAll(dir)
	set, err := benchdata.Synthetic(users, 1, dir)
	if err != nil {
		return childResult{}, err
	}
	ds := set.Data
	cfg := train.DefaultConfig()
	cfg.Batch = batch
	rows := make([]int, ds.N)
	for i := range rows {
		rows[i] = i
	}
	m, err := train.Prepare(ds, rows, cfg)
	if err != nil {
		return childResult{}, err
	}
	st, err := train.NewStepper(m, native.Options{Profile: true})
	if err != nil {
		return childResult{}, err
	}
	debug.FreeOSMemory()
	order := slices.Clone(rows)
	seed := uint64(1)
	for i := len(order) - 1; i > 0; i-- { // a seeded shuffle, as Fit's
		seed = seed*6364136223846793005 + 1442695040888963407
		j := int((seed >> 33) % uint64(i+1))
		order[i], order[j] = order[j], order[i]
	}
	graph.CountGemm(true)
	t0 := time.Now()
	for lo := 0; lo < len(order); lo += batch {
		if _, err := st.Step(ds, order[lo:min(lo+batch, len(order))]); err != nil {
			return childResult{}, err
		}
	}
	el := time.Since(t0).Seconds()
	gs := graph.CountGemm(false)
	e := &EpochRun{Users: users, Threads: goruntime.GOMAXPROCS(0), Seconds: el, Minutes: el / 60, Samples: float64(users) / el,
		GemmShare: gs.Seconds / el}
	var kernels float64
	for _, p := range st.Session().Profile() {
		kernels += p.Time.Seconds()
		e.Profile = append(e.Profile, OpShare{Op: p.Op, Calls: p.Calls, Share: p.Time.Seconds() / el})
	}
	e.Other = math.Max(0, 1-kernels/el)
	return childResult{Rows: users, Seconds: el, Epoch: e}, nil
}

// peakRSSBytes reads VmHWM from /proc/self/status.
func peakRSSBytes() (int64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, fmt.Errorf("peak memory: %w (Linux only)", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(v)
			if len(f) == 2 && f[1] == "kB" {
				kb, err := strconv.ParseInt(f[0], 10, 64)
				return kb << 10, err
			}
		}
	}
	return 0, fmt.Errorf("peak memory: no VmHWM in /proc/self/status")
}
