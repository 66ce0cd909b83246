package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"time"

	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/internal/benchdata"
	"github.com/odmn/odmn/runtime/native"
	"github.com/odmn/odmn/runtime/ort"
	"github.com/odmn/odmn/score"
	"github.com/odmn/odmn/train"
)

// Options choose what Run measures.
type Options struct {
	Users     int     // users generated for the throughput runs
	Rounds    int     // interleaved rounds (at least 3)
	Window    float64 // seconds of one measurement window
	Batch     int     // training batch
	ScoreRows int     // rows per scoring call
	// EpochUsers is the table of the one-epoch training run in a child
	// process (0: skip); a second child trains on a tenth of it, and the
	// difference of their peaks per row is the training memory slope.
	EpochUsers int
	Memory     bool // peak memory of scoring 100,000 and 1,000,000 users
	Torch      bool // PyTorch beside, when installed
	Quick      bool // recorded in the report
	Command    string
	// Log receives progress lines (nil: none).
	Log func(format string, a ...any)
}

// DefaultOptions are odmn bench's defaults (about six minutes on 2 cores).
func DefaultOptions() Options {
	return Options{Users: 50000, Rounds: 5, Window: 2, Batch: 512, ScoreRows: 4096, EpochUsers: 1000000, Memory: true, Torch: true}
}

// QuickOptions are odmn bench --quick's (about a minute): fewer users,
// shorter windows, the memory slope between 10,000 and 100,000 rows and no
// scoring-memory children.
func QuickOptions() Options {
	return Options{Users: 20000, Rounds: 3, Window: 0.6, Batch: 512, ScoreRows: 4096, EpochUsers: 100000, Torch: true, Quick: true}
}

// Run measures what o asks for and returns the report.
func Run(ctx context.Context, o Options) (*Report, error) {
	t0 := time.Now()
	logf := func(format string, a ...any) {
		if o.Log != nil {
			o.Log(format, a...)
		}
	}
	if o.Rounds < 3 {
		return nil, fmt.Errorf("bench: %d rounds, need at least 3 for a median and its spread", o.Rounds)
	}
	if o.Window <= 0 || o.Users < 2*o.Batch || o.Batch < 1 || o.ScoreRows < 1 {
		return nil, fmt.Errorf("bench: window, batch and score batch must be positive and users at least two batches")
	}
	all := goruntime.GOMAXPROCS(0)
	threadSet := []int{1}
	if all > 1 {
		threadSet = append(threadSet, all)
	}
	rep := &Report{Date: time.Now().UTC().Format("2006-01-02 15:04 UTC"), Command: o.Command, Quick: o.Quick, Rounds: o.Rounds, Window: o.Window}
	rep.Machine = Machine{CPU: cpuModel(), Cores: goruntime.NumCPU(), GOMAXPROCS: all, Go: goruntime.Version(),
		BLAS: graph.SgemmImpl, BLASConfig: graph.BLASConfig(), SIMD: graph.SIMDLevel()}
	if v, err := ort.Version(); err == nil {
		rep.Machine.ORT = v
	}
	defer graph.SetThreads(graph.SetThreads(0))
	defer goruntime.GOMAXPROCS(all)

	// 1. the machine's sgemm rate (a cancelled ctx, Ctrl-C or SIGTERM,
	// stops the run between measurements)
	logf("sgemm rate ...")
	for _, t := range threadSet {
		for _, sz := range [][3]int{{1024, 1024, 1024}, {512, 64, 128}} {
			rep.Sgemm = append(rep.Sgemm, SgemmRate{Shape: fmt.Sprintf("%dx%dx%d", sz[0], sz[1], sz[2]), Threads: t,
				GFLOPS: sgemmRate(t, sz[0], sz[1], sz[2], o.Window/2)})
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

	// 3. training, odmn and PyTorch interleaved
	if err := trainRounds(ctx, rep, o, st, ds, m, threadSet, logf); err != nil {
		return nil, err
	}

	// 4. export and scoring, native and ORT interleaved
	logf("exporting ...")
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
	if err := scoreRounds(ctx, rep, o, fm, onnxPath, set.Path, threadSet, logf); err != nil {
		return nil, err
	}

	// 5. peak memory and the one-epoch run, each in a child process
	if o.Memory {
		logf("peak memory of scoring 100,000 and 1,000,000 users (files written, then odmn score's path in child processes) ...")
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
		rep.Memory = &Memory{Score100kMiB: mib(res[0].PeakRSS), Score1MMiB: mib(res[1].PeakRSS)}
		rep.Memory.ScoreRatio = rep.Memory.Score1MMiB / rep.Memory.Score100kMiB
		if res[1].Seconds > 0 {
			rep.Memory.ScoreFileRate = float64(res[1].Rows) / res[1].Seconds
		}
	}
	if o.EpochUsers > 0 {
		small := o.EpochUsers / 10
		var cs, ce ChildResult
		logf("training memory: one epoch over %d users in a child process ...", small)
		if err := runChild(ctx, &cs, "train", "--users", strconv.Itoa(small), "--batch", strconv.Itoa(o.Batch)); err != nil {
			return nil, err
		}
		logf("one epoch over %d users, %d threads (child process) ...", o.EpochUsers, all)
		if err := runChild(ctx, &ce, "train", "--users", strconv.Itoa(o.EpochUsers), "--batch", strconv.Itoa(o.Batch)); err != nil {
			return nil, err
		}
		rep.Epoch = ce.Epoch
		if rep.Memory == nil {
			rep.Memory = &Memory{}
		}
		mm := rep.Memory
		mm.TrainUsers = []int{small, o.EpochUsers}
		mm.TrainMiB = []float64{mib(cs.PeakRSS), mib(ce.PeakRSS)}
		if o.EpochUsers == 1000000 {
			mm.Train1MMiB = mib(ce.PeakRSS)
		}
		mm.TableBytesPerRow = ds.BytesPerRow()
		rep.TrainBytesPerRow = float64(ce.PeakRSS-cs.PeakRSS) / float64(o.EpochUsers-small)
	}

	// 6. extrapolations and targets
	rep.Epoch180M = extrapolateEpoch(rep)
	rep.Billion = extrapolateScore(rep)
	rep.Targets = targets(rep)
	rep.Seconds = time.Since(t0).Seconds()
	return rep, nil
}
