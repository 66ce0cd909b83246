package bench

import "fmt"

// The extrapolations scale a measured per-core rate (the 1-thread median)
// to 16 cores with Amdahl's law fitted to the measured scaling from 1 to
// N threads (the median of the rounds' ratios), not with an assumed
// linear speedup: s(16) = 1 / (f + (1-f)/16), f = (1/s_N - 1/N) / (1 - 1/N).

const (
	epochUsers = 180e6 // the paper's training population
	scoreUsers = 1e9   // users scored every day
	cores      = 16
)

func rateAt(rs []TrainRate, t int) float64 {
	for _, r := range rs {
		if r.Threads == t {
			return r.Samples
		}
	}
	return 0
}

// extrapolateEpoch is one training epoch over 180M users on 16 cores.
func extrapolateEpoch(r *Report) *Extrapolate {
	per := rateAt(r.Train, 1)
	if per == 0 {
		return nil
	}
	n, s := 1, 1.0
	if r.TrainScalingRounds != nil {
		n, s = r.TrainScalingRounds.Threads, r.TrainScaling
	}
	e := &Extrapolate{Users: epochUsers, Cores: cores, PerCoreRate: per}
	e.Serial, e.Speedup = amdahl(s, n, cores)
	e.Minutes = epochUsers / (per * e.Speedup) / 60
	e.Hours16 = e.Minutes / 60
	e.Formula = fmt.Sprintf("180e6 / (%.0f samples/s/core x %.2f) = %.1f min; %.2f = Amdahl's speedup on 16 cores for the measured %.2fx on %d threads (serial fraction %.3f)",
		per, e.Speedup, e.Minutes, e.Speedup, s, n, e.Serial)
	if mm := r.Memory; mm != nil && len(mm.TrainMiB) == 2 && r.TrainBytesPerRow > 0 {
		base := mm.TrainMiB[0]*(1<<20) - r.TrainBytesPerRow*float64(mm.TrainUsers[0])
		e.MemoryGiB = (base + r.TrainBytesPerRow*epochUsers) / (1 << 30)
		e.Formula += fmt.Sprintf("; memory %.0f MiB + 180e6 x %.0f bytes/row = %.1f GiB", base/(1<<20), r.TrainBytesPerRow, e.MemoryGiB)
	}
	return e
}

// extrapolateScore is scoring 1e9 users on 16 cores.
func extrapolateScore(r *Report) *Extrapolate {
	var per float64
	for _, s := range r.Score {
		if s.Threads == 1 {
			per = s.Native
		}
	}
	if per == 0 {
		return nil
	}
	n, s := 1, 1.0
	if r.ScoreScaling != nil {
		n, s = r.ScoreScaling.Threads, r.ScoreScaling.Median
	}
	e := &Extrapolate{Users: scoreUsers, Cores: cores, PerCoreRate: per}
	e.Serial, e.Speedup = amdahl(s, n, cores)
	e.Minutes = scoreUsers / (per * e.Speedup) / 60
	e.Hours16 = e.Minutes / 60
	e.Formula = fmt.Sprintf("1e9 / (%.0f users/s/core x %.2f) = %.1f min; %.2f = Amdahl's speedup on 16 cores for the measured %.2fx on %d threads (serial fraction %.3f); n machines with odmn score --shard i/n divide it by n",
		per, e.Speedup, e.Minutes, e.Speedup, s, n, e.Serial)
	if hw := sgemmScaling(r.Sgemm, n); hw > 0 {
		_, sp := amdahl(hw, n, cores)
		e.Formula += fmt.Sprintf("; the same fit to this machine's own %s SGEMM, which has no serial part (%.2fx on %d threads), gives %.2f on 16 cores", bigSgemm, hw, n, sp)
	}
	return e
}

// bigSgemm is the compute-bound product the machine section times.
const bigSgemm = "1024x1024x1024"

// sgemmScaling is the big SGEMM's GFLOP/s on n threads over 1 (0 when not
// measured).
func sgemmScaling(rs []SgemmRate, n int) float64 {
	var one, at float64
	for _, r := range rs {
		if r.Shape == bigSgemm && r.Threads == 1 {
			one = r.GFLOPS
		}
		if r.Shape == bigSgemm && r.Threads == n {
			at = r.GFLOPS
		}
	}
	if one == 0 || at == 0 || n < 2 {
		return 0
	}
	return at / one
}

// targets are the goals odmn bench checks.
func targets(r *Report) []Target {
	var ts []Target
	add := func(name string, v, target float64, atLeast bool, note string) {
		met := v >= target
		if !atLeast {
			met = v <= target
		}
		ts = append(ts, Target{Name: name, Value: v, Target: target, Met: met, Note: note})
	}
	if sr := r.TrainScalingRounds; sr != nil {
		add(fmt.Sprintf("training samples/s, %d threads over 1 (median of %d rounds)", sr.Threads, len(sr.Rounds)), sr.Median, 0.85*float64(sr.Threads), true,
			fmt.Sprintf("rounds range %.2f-%.2f", sr.Min, sr.Max))
	}
	for _, tr := range r.TorchRatio {
		want := 3.0
		if tr.Threads == 1 {
			want = 2.5
		}
		add(fmt.Sprintf("training, odmn / PyTorch, %d thread(s) (median of %d rounds)", tr.Threads, len(tr.Rounds)), tr.Median, want, true,
			fmt.Sprintf("rounds range %.2f-%.2f", tr.Min, tr.Max))
	}
	if len(r.TorchRatio) == 0 && r.TorchNote != "" {
		ts = append(ts, Target{Name: "training, odmn / PyTorch", Note: "PyTorch " + r.TorchNote})
	}
	if r.TrainBytesPerRow > 0 {
		mm := r.Memory
		add(fmt.Sprintf("training peak memory growth per row (%d to %d rows), bytes", mm.TrainUsers[0], mm.TrainUsers[1]), r.TrainBytesPerRow, 120, false,
			fmt.Sprintf("the encoded table holds %d bytes/row", mm.TableBytesPerRow))
	}
	for _, s := range r.Score {
		add(fmt.Sprintf("native scoring / ONNX Runtime, %d thread(s), batch %d (median of %d rounds)", s.Threads, s.Batch, len(s.NativeRounds)), s.Ratio, 1.2, true,
			fmt.Sprintf("rounds range %.2f-%.2f", s.RatioMin, s.RatioMax))
	}
	if r.Memory != nil && r.Memory.ScoreRatio > 0 {
		add("scoring peak memory, 1,000,000 / 100,000 users", r.Memory.ScoreRatio, 1.2, false, "")
	}
	if e := r.Epoch180M; e != nil {
		add("one epoch over 180M users on 16 cores (minutes, extrapolated)", e.Minutes, 15, false, "")
	}
	if e := r.Billion; e != nil {
		add("scoring 1e9 users on 16 cores (minutes, extrapolated)", e.Minutes, 5, false, "")
	}
	return ts
}
