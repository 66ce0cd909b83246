package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	goruntime "runtime"
	"strconv"
	"strings"
	"time"

	"github.com/odmn/odmn/data"
	"github.com/odmn/odmn/fixtures/synth"
	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/internal/benchdata"
	"github.com/odmn/odmn/runtime/native"
	"github.com/odmn/odmn/score"
	"github.com/odmn/odmn/train"
)

func runChild(ctx context.Context, res *ChildResult, args ...string) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, exe, append([]string{ChildCommand, "--mode"}, args...)...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("bench child %v: %w", args, err)
	}
	return json.Unmarshal(out, res)
}

// ChildCommand is the hidden subcommand of the odmn binary that Run
// re-executes (os.Executable) for each peak-memory figure, so that each is
// a process of its own: the command calls Child with its flags and prints
// the result as one JSON line.
const ChildCommand = "bench-child"

// ChildOptions are a child's flags.
type ChildOptions struct {
	Mode  string // "score" or "train"
	Model string // ONNX file to score
	Data  string // data file to score
	Users int    // synthetic users to train on
	Batch int    // rows per call or step
}

// ChildResult is what a child prints.
type ChildResult struct {
	PeakRSS int64     `json:"peak_rss"`
	Rows    int       `json:"rows"`
	Seconds float64   `json:"seconds"`
	Epoch   *EpochRun `json:"epoch,omitempty"`
	// LoadPeakRSS is the peak before training (data made, fitted, loaded).
	LoadPeakRSS int64 `json:"load_peak_rss,omitempty"`
}

// Child runs one child measurement in this process and returns it with
// the process's peak memory.
func Child(ctx context.Context, o ChildOptions) (ChildResult, error) {
	var res ChildResult
	var err error
	switch o.Mode {
	case "score":
		res, err = childScore(ctx, o.Model, o.Data, o.Batch)
	case "train":
		res, err = childTrain(ctx, o.Users, o.Batch)
	default:
		err = fmt.Errorf("bench: unknown child mode %q (want score or train)", o.Mode)
	}
	if err != nil {
		return res, err
	}
	peak, err := peakRSSBytes()
	if err != nil {
		return res, err
	}
	res.PeakRSS = peak
	if res.Epoch != nil {
		res.Epoch.PeakMiB = mib(peak)
	}
	return res, nil
}

// childScore scores a data file with the native runtime through
// score.File, as odmn score does (read, scored and written in batches),
// and discards the predictions.
func childScore(ctx context.Context, model, path string, batch int) (ChildResult, error) {
	m, err := score.Load(model, train.InferOptions{})
	if err != nil {
		return ChildResult{}, err
	}
	out := path + ".scores.csv"
	defer os.Remove(out)
	st, err := score.File(ctx, m, path, out, score.Options{Runtime: score.Native, Batch: batch})
	return ChildResult{Rows: int(st.Scored), Seconds: st.Elapsed.Seconds()}, err
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
func childTrain(ctx context.Context, users, batch int) (ChildResult, error) {
	dir, err := os.MkdirTemp("", "odmn-bench-train-")
	if err != nil {
		return ChildResult{}, err
	}
	defer os.RemoveAll(dir)
	set, err := benchdata.Synthetic(users, 1, dir)
	if err != nil {
		return ChildResult{}, err
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
		return ChildResult{}, err
	}
	rows = nil
	loadPeak, err := peakRSSBytes()
	if err != nil {
		return ChildResult{}, err
	}
	st, err := train.NewStepper(m, native.Options{Profile: true})
	if err != nil {
		return ChildResult{}, err
	}
	order := make([]int32, ds.N) // as Fit's: 4 bytes a row
	for i := range order {
		order[i] = int32(i)
	}
	seed := uint64(1)
	for i := len(order) - 1; i > 0; i-- { // a seeded shuffle, as Fit's
		seed = seed*6364136223846793005 + 1442695040888963407
		j := int((seed >> 33) % uint64(i+1))
		order[i], order[j] = order[j], order[i]
	}
	graph.CountGemm(true)
	t0 := time.Now()
	rb := make([]int, 0, batch)
	for lo := 0; lo < len(order); lo += batch {
		if err := ctx.Err(); err != nil { // Ctrl-C or SIGTERM: the temporary files go
			return ChildResult{}, err
		}
		rb = rb[:0]
		for _, r := range order[lo:min(lo+batch, len(order))] {
			rb = append(rb, int(r))
		}
		if _, err := st.Step(ds, rb); err != nil {
			return ChildResult{}, err
		}
	}
	el := time.Since(t0).Seconds()
	gs := graph.CountGemm(false)
	e := &EpochRun{Users: users, Threads: goruntime.GOMAXPROCS(0), Seconds: el, Minutes: el / 60, Samples: float64(users) / el,
		GemmShare: gs.Seconds / el}
	// the workers' time: kernel times add up over the threads
	work := el * float64(e.Threads)
	e.GemmShare = gs.Seconds / work
	var kernels float64
	for _, p := range st.Session().Profile() {
		kernels += p.Time.Seconds()
		e.Profile = append(e.Profile, OpShare{Op: p.Op, Calls: p.Calls, Share: p.Time.Seconds() / work})
	}
	e.Other = math.Max(0, 1-kernels/work)
	return ChildResult{Rows: users, Seconds: el, Epoch: e, LoadPeakRSS: loadPeak}, nil
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
