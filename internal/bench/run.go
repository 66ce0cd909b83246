package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"time"

	"github.com/odmn/odmn/data"
	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/internal/benchdata"
	"github.com/odmn/odmn/runtime"
	"github.com/odmn/odmn/runtime/native"
	"github.com/odmn/odmn/runtime/ort"
	"github.com/odmn/odmn/score"
	"github.com/odmn/odmn/train"
	"strings"
)

// Options choose what Run measures.
type Options struct {
	Users     int     // users generated for the throughput runs
	Seconds   float64 // time per throughput measurement
	Batch     int     // training batch
	ScoreRows int     // rows per scoring call
	EpochN    int     // users of the one-epoch run (0: skip)
	Memory    bool    // peak memory in child processes
	Torch     bool    // PyTorch beside, when installed
	Command   string  // the command line, recorded in the report
	// Log receives progress lines (nil: none).
	Log func(format string, a ...any)
}

// DefaultOptions are odmn bench's defaults.
func DefaultOptions() Options {
	return Options{Users: 50000, Seconds: 4, Batch: 512, ScoreRows: 4096, EpochN: 1000000, Memory: true, Torch: true}
}

// Run measures what o asks for and returns the report.
func Run(ctx context.Context, o Options) (*Report, error) {
	t0 := time.Now()
	logf := func(format string, a ...any) {
		if o.Log != nil {
			o.Log(format, a...)
		}
	}
	all := goruntime.GOMAXPROCS(0)
	threadSet := []int{1}
	if all > 1 {
		threadSet = append(threadSet, all)
	}
	rep := &Report{Date: time.Now().UTC().Format("2006-01-02"), Command: o.Command}
	rep.Machine = Machine{CPU: cpuModel(), Cores: goruntime.NumCPU(), GOMAXPROCS: all, Go: goruntime.Version(),
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
		return nil, err
	}
	defer os.RemoveAll(dir)
	logf("generating %d synthetic users ...", o.Users)
	set, err := benchdata.Synthetic(o.Users, 1, dir)
	if err != nil {
		return nil, err
	}
	ds := set.Data
	cfg := train.DefaultConfig()
	cfg.Batch = o.Batch
	rows := make([]int, ds.N)
	for i := range rows {
		rows[i] = i
	}
	m, err := train.Prepare(ds, rows, cfg)
	if err != nil {
		return nil, err
	}
	st, err := train.NewStepper(m, native.Options{})
	if err != nil {
		return nil, err
	}
	rep.Model = ModelInfo{Variant: string(cfg.Variant), Params: m.NumParams(), Features: len(m.Features), Horizons: m.Horizons, Users: o.Users}

	// 3. training throughput
	for _, t := range threadSet {
		logf("training, %d thread(s) ...", t)
		r, err := trainRate(st, ds, t, o.Batch, o.Seconds)
		if err != nil {
			return nil, err
		}
		rep.Train = append(rep.Train, r.TrainRate)
		rep.Model.TrainMFLOPPerRow = r.flopsPerRow / 1e6
	}

	// 4. PyTorch beside it
	if o.Torch {
		rep.Torch, rep.TorchNote = torchRates(m, threadSet, o.Batch, o.Seconds, logf)
	}

	// 5. export and scoring, native and ORT
	logf("exporting and scoring ...")
	b := &train.Bundle{Model: m, Spec: set.Spec, Encoder: set.Encoder}
	sm, err := score.FromBundle(b, "bench", train.InferOptions{})
	if err != nil {
		return nil, err
	}
	onnxPath := filepath.Join(dir, "odmn.onnx")
	if err := os.WriteFile(onnxPath, sm.ONNX(), 0o644); err != nil {
		return nil, err
	}
	fm, err := score.Load(onnxPath, train.InferOptions{}) // the file, as odmn score reads it
	if err != nil {
		return nil, err
	}
	feeds, err := scoreFeeds(fm, set.Path, o.ScoreRows, 8)
	if err != nil {
		return nil, err
	}
	for _, t := range threadSet {
		r, err := scoreRate(fm, onnxPath, feeds, t, o.ScoreRows, o.Seconds)
		if err != nil {
			return nil, err
		}
		rep.Score = append(rep.Score, r)
		rep.Model.ScoreMFLOPPerRow = r.GFLOPS * 1e3 / r.Native
	}

	// 6. peak memory and the one-epoch run, each in a child process
	if o.Memory {
		logf("peak memory of scoring 100,000 and 1,000,000 users (files written, then odmn score's path in child processes) ...")
		mem := &Memory{}
		var res [2]ChildResult
		for i, n := range []int{100000, 1000000} {
			path := filepath.Join(dir, fmt.Sprintf("score-%d.csv", n))
			if err := writeUsers(ctx, path, n, 7); err != nil {
				return nil, err
			}
			if err := runChild(ctx, &res[i], "score", "--model", onnxPath, "--data", path, "--batch", strconv.Itoa(o.ScoreRows)); err != nil {
				return nil, err
			}
			os.Remove(path)
		}
		mem.Score100kMiB, mem.Score1MMiB = mib(res[0].PeakRSS), mib(res[1].PeakRSS)
		mem.ScoreRatio = mem.Score1MMiB / mem.Score100kMiB
		rep.Memory = mem
	}
	if o.EpochN > 0 {
		logf("one epoch over %d users, %d threads (child process) ...", o.EpochN, all)
		var ce ChildResult
		if err := runChild(ctx, &ce, "train", "--users", strconv.Itoa(o.EpochN), "--batch", strconv.Itoa(o.Batch)); err != nil {
			return nil, err
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
	return rep, nil
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// WriteJSON writes v, indented, to path.
func WriteJSON(path string, v any) error {
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
	st.SetThreads(t)
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

func targets(r *Report) []Target {
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
