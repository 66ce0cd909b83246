package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/odmn/odmn/data"
	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/runtime"
	"github.com/odmn/odmn/runtime/native"
	"github.com/odmn/odmn/runtime/ort"
	"github.com/odmn/odmn/score"
	"github.com/odmn/odmn/train"
)

// trainWindow runs training steps for about sec seconds on t threads and
// returns samples/s and the GEMM statistics.
func trainWindow(st *train.Stepper, ds *data.Dataset, t, batch int, sec float64, next *int) (float64, graph.GemmStats, error) {
	setThreads(t)
	st.SetThreads(t)
	nb := ds.N / batch
	rows := make([]int, batch)
	graph.CountGemm(true)
	t0 := time.Now()
	steps := 0
	for time.Since(t0).Seconds() < sec || steps < 3 {
		b := *next % nb
		*next++
		for k := range rows {
			rows[k] = b*batch + k
		}
		if _, err := st.Step(ds, rows); err != nil {
			graph.CountGemm(false)
			return 0, graph.GemmStats{}, err
		}
		steps++
	}
	el := time.Since(t0).Seconds()
	gs := graph.CountGemm(false)
	gs.Seconds /= float64(t) // the workers' GEMM time, per worker
	return float64(steps*batch) / el, gs, nil
}

// trainRounds measures odmn's training and PyTorch's on the same network,
// window by window in turn, at every thread count.
func trainRounds(ctx context.Context, rep *Report, o Options, st *train.Stepper, ds *data.Dataset, m *train.Model, threadSet []int, logf func(string, ...any)) error {
	torch := map[int]*torchServer{}
	if o.Torch {
		for _, t := range threadSet {
			logf("starting PyTorch, %d thread(s) ...", t)
			s, note := startTorch(m, t, o.Batch)
			if s == nil {
				rep.TorchNote = note
				break
			}
			defer s.close()
			torch[t] = s
		}
		if rep.TorchNote != "" {
			torch = map[int]*torchServer{}
		} else {
			rep.TorchNote = torchNote
		}
	}
	next := 0
	for _, t := range threadSet { // warm up: buffers, caches
		if _, _, err := trainWindow(st, ds, t, o.Batch, 0, &next); err != nil {
			return err
		}
	}
	odmn := map[int][]float64{}
	pt := map[int][]float64{}
	gemm := map[int]graph.GemmStats{}
	secs := map[int]float64{}
	for r := range o.Rounds {
		if err := ctx.Err(); err != nil {
			return err
		}
		logf("training round %d/%d ...", r+1, o.Rounds)
		for _, t := range threadSet {
			rate, gs, err := trainWindow(st, ds, t, o.Batch, o.Window, &next)
			if err != nil {
				return err
			}
			odmn[t] = append(odmn[t], rate)
			g := gemm[t]
			g.Calls, g.Flops, g.Seconds = g.Calls+gs.Calls, g.Flops+gs.Flops, g.Seconds+gs.Seconds
			gemm[t] = g
			secs[t] += float64(o.Window)
			if s := torch[t]; s != nil {
				pr, err := s.window(o.Window)
				if err != nil {
					return err
				}
				pt[t] = append(pt[t], pr)
			}
		}
	}
	for _, t := range threadSet {
		med := median(odmn[t])
		g := gemm[t]
		total := 0.0
		for _, x := range odmn[t] {
			total += x * o.Window
		}
		tr := TrainRate{Threads: t, Batch: o.Batch, Samples: med, Rounds: odmn[t], KernelGFLOPS: g.GFLOPS(), Steps: int(total) / o.Batch}
		if total > 0 {
			flopsPerRow := float64(g.Flops) / total
			tr.DenseGFLOPS = flopsPerRow * med / 1e9
			tr.GemmShare = g.Seconds / secs[t]
			rep.Model.TrainMFLOPPerRow = flopsPerRow / 1e6
		}
		rep.Train = append(rep.Train, tr)
		if s := torch[t]; s != nil {
			rep.Torch = append(rep.Torch, TorchRate{Threads: t, Batch: s.batch, Rows: median(pt[t]), Rounds: pt[t], Params: s.params, Version: s.version})
			rep.TorchRatio = append(rep.TorchRatio, ratio("odmn samples/s over PyTorch's", t, odmn[t], pt[t]))
		}
	}
	if n := threadSet[len(threadSet)-1]; n > 1 {
		r := ratio(fmt.Sprintf("odmn samples/s on %d threads over 1", n), n, odmn[n], odmn[1])
		rep.TrainScaling, rep.TrainScalingRounds = r.Median, &r
	}
	return nil
}

// scoreRounds measures native and ORT scoring on the same feeds, window
// by window in turn, at every thread count.
func scoreRounds(ctx context.Context, rep *Report, o Options, m *score.Model, onnxPath, dataPath string, threadSet []int, logf func(string, ...any)) error {
	feeds, err := scoreFeeds(m, dataPath, o.ScoreRows, 4)
	if err != nil {
		return err
	}
	ns := map[int]runtime.Session{}
	xs := map[int]runtime.Session{}
	for _, t := range threadSet {
		s, err := native.New(m.Graph(), native.Options{Threads: t, SplitRows: true})
		if err != nil {
			return err
		}
		ns[t] = s
		x, err := ort.Open(onnxPath, ort.Options{IntraOpThreads: t, InterOpThreads: 1})
		if err != nil {
			return err
		}
		defer x.Close()
		xs[t] = x
	}
	nat, rt := map[int][]float64{}, map[int][]float64{}
	flops := map[int]float64{}
	for _, t := range threadSet { // warm up
		setThreads(t)
		if _, _, err := scoreWindow(ns[t], feeds, o.ScoreRows, 0); err != nil {
			return fmt.Errorf("native: %w", err)
		}
		if _, _, err := scoreWindow(xs[t], feeds, o.ScoreRows, 0); err != nil {
			return fmt.Errorf("ort: %w", err)
		}
	}
	for r := range o.Rounds {
		if err := ctx.Err(); err != nil {
			return err
		}
		logf("scoring round %d/%d ...", r+1, o.Rounds)
		for _, t := range threadSet {
			setThreads(t)
			a, f, err := scoreWindow(ns[t], feeds, o.ScoreRows, o.Window)
			if err != nil {
				return fmt.Errorf("native: %w", err)
			}
			b, _, err := scoreWindow(xs[t], feeds, o.ScoreRows, o.Window)
			if err != nil {
				return fmt.Errorf("ort: %w", err)
			}
			nat[t], rt[t] = append(nat[t], a), append(rt[t], b)
			flops[t] = f
		}
	}
	for _, t := range threadSet {
		r := ratio("native users/s over ONNX Runtime's", t, nat[t], rt[t])
		sr := ScoreRate{Threads: t, Batch: o.ScoreRows, Native: median(nat[t]), ORT: median(rt[t]),
			Ratio: r.Median, RatioMin: r.Min, RatioMax: r.Max, NativeRounds: nat[t], ORTRounds: rt[t]}
		sr.GFLOPS = flops[t] * sr.Native / 1e9
		rep.Model.ScoreMFLOPPerRow = flops[t] / 1e6
		rep.Score = append(rep.Score, sr)
	}
	if n := threadSet[len(threadSet)-1]; n > 1 {
		r := ratio(fmt.Sprintf("native users/s on %d threads over 1", n), n, nat[n], nat[1])
		rep.ScoreScaling = &r
	}
	setThreads(1)
	p, err := scoreProfile(m, feeds, o.ScoreRows, o.Window)
	if err != nil {
		return fmt.Errorf("native profile: %w", err)
	}
	rep.ScoreProfile = p
	return nil
}

// scoreProfile runs 1-thread native scoring with the kernel profile for a
// window (after one warm-up call).
func scoreProfile(m *score.Model, feeds []map[string]*graph.Tensor, batch int, sec float64) (*ScoreProfile, error) {
	s, err := native.New(m.Graph(), native.Options{Threads: 1, Profile: true})
	if err != nil {
		return nil, err
	}
	if _, err := s.Run(feeds[0]); err != nil {
		return nil, err
	}
	s.Profile()
	t0 := time.Now()
	n := 0
	for time.Since(t0).Seconds() < sec || n < 2 {
		if _, err := s.Run(feeds[n%len(feeds)]); err != nil {
			return nil, err
		}
		n++
	}
	wall := time.Since(t0).Seconds()
	p := &ScoreProfile{Batch: batch, Calls: n, Other: 1}
	for _, t := range s.Profile() {
		sh := t.Time.Seconds() / wall
		p.Ops = append(p.Ops, OpShare{Op: t.Op, Calls: t.Calls / n, Share: sh})
		p.Other -= sh
	}
	return p, nil
}

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

// scoreWindow runs the feeds round robin for about sec seconds (at least
// two calls) and returns users/s and the GEMM FLOPs per row (native only).
func scoreWindow(s runtime.Session, feeds []map[string]*graph.Tensor, batch int, sec float64) (float64, float64, error) {
	graph.CountGemm(true)
	t0 := time.Now()
	n := 0
	for time.Since(t0).Seconds() < sec || n < 2 {
		if _, err := s.Run(feeds[n%len(feeds)]); err != nil {
			graph.CountGemm(false)
			return 0, 0, err
		}
		n++
	}
	el := time.Since(t0).Seconds()
	gs := graph.CountGemm(false)
	rows := float64(n * batch)
	return rows / el, float64(gs.Flops) / rows, nil
}
