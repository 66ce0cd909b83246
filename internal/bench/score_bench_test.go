package bench

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/internal/benchdata"
	"github.com/odmn/odmn/internal/testenv"
	"github.com/odmn/odmn/runtime"
	"github.com/odmn/odmn/runtime/native"
	"github.com/odmn/odmn/runtime/ort"
	"github.com/odmn/odmn/score"
	"github.com/odmn/odmn/train"
)

// workload is odmn bench's scoring workload: the default ODMN prepared on
// synthetic users, exported and loaded back from its ONNX file, and four
// batches of feeds.
type workload struct {
	model *score.Model
	onnx  string
	data  string // the users' CSV file
	feeds []map[string]*graph.Tensor
}

var (
	wlOnce sync.Once
	wl     *workload
	wlErr  error
	wlDir  string // removed when the tests end
)

func TestMain(m *testing.M) {
	code := m.Run()
	if wlDir != "" {
		os.RemoveAll(wlDir)
	}
	os.Exit(code)
}

func benchWorkload(b testing.TB) *workload {
	wlOnce.Do(func() {
		dir, err := os.MkdirTemp("", "odmn-benchtest-")
		if err != nil {
			wlErr = err
			return
		}
		wlDir = dir
		set, err := benchdata.Synthetic(20000, 1, dir)
		if err != nil {
			wlErr = err
			return
		}
		rows := make([]int, set.Data.N)
		for i := range rows {
			rows[i] = i
		}
		m, err := train.Prepare(set.Data, rows, train.DefaultConfig())
		if err != nil {
			wlErr = err
			return
		}
		sm, err := score.FromBundle(&train.Bundle{Model: m, Spec: set.Spec, Encoder: set.Encoder}, "bench", train.InferOptions{})
		if err != nil {
			wlErr = err
			return
		}
		path := filepath.Join(dir, "odmn.onnx")
		if wlErr = os.WriteFile(path, sm.ONNX(), 0o644); wlErr != nil {
			return
		}
		fm, err := score.Load(path, train.InferOptions{})
		if err != nil {
			wlErr = err
			return
		}
		feeds, err := scoreFeeds(fm, set.Path, 4096, 4)
		if err != nil {
			wlErr = err
			return
		}
		wl = &workload{model: fm, onnx: path, data: set.Path, feeds: feeds}
	})
	if wlErr != nil {
		b.Fatal(wlErr)
	}
	return wl
}

func benchScore(b *testing.B, s runtime.Session, w *workload, threads int) {
	defer setThreads(graph.Threads())
	setThreads(threads)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := s.Run(w.feeds[i%len(w.feeds)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(b.N*4096)/b.Elapsed().Seconds(), "users/s")
}

// BenchmarkScoreNative scores odmn bench's workload (batch 4096) with the
// native runtime, as odmn bench does; BenchmarkScoreORT with ONNX Runtime.
// Run them with -count and compare interleaved runs.
func BenchmarkScoreNative(b *testing.B) {
	w := benchWorkload(b)
	for _, t := range []int{1, 2} {
		b.Run(threadName(t), func(b *testing.B) {
			s, err := native.New(w.model.Graph(), native.Options{Threads: t, SplitRows: true})
			if err != nil {
				b.Fatal(err)
			}
			benchScore(b, s, w, t)
		})
	}
}

// BenchmarkScoreChunkRows scores the workload on 2 threads split into
// chunks of 256 rows and of 1024 (native.DefaultChunkRows picks one by
// the GEMM built in); run it several times and compare the two.
func BenchmarkScoreChunkRows(b *testing.B) {
	w := benchWorkload(b)
	for _, rows := range []int{256, 1024} {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			s, err := native.New(w.model.Graph(), native.Options{Threads: 2, SplitRows: true, ChunkRows: rows})
			if err != nil {
				b.Fatal(err)
			}
			benchScore(b, s, w, 2)
		})
	}
}

func BenchmarkScoreORT(b *testing.B) {
	testenv.RequireLib(b)
	w := benchWorkload(b)
	for _, t := range []int{1, 2} {
		b.Run(threadName(t), func(b *testing.B) {
			s, err := ort.Open(w.onnx, ort.Options{IntraOpThreads: t, InterOpThreads: 1})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			benchScore(b, s, w, t)
		})
	}
}

// BenchmarkScoreFile is odmn score's whole path on the workload's 20,000
// users (CSV in, CSV out): parsing, feeding, the model, the decodes,
// writing.
func BenchmarkScoreFile(b *testing.B) {
	w := benchWorkload(b)
	out := filepath.Join(b.TempDir(), "scores.csv")
	b.ReportAllocs()
	rows := 0
	for b.Loop() {
		st, err := score.File(context.Background(), w.model, w.data, out, score.Options{})
		if err != nil {
			b.Fatal(err)
		}
		rows += int(st.Scored)
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "users/s")
}

func threadName(t int) string {
	if t == 1 {
		return "threads=1"
	}
	return "threads=2"
}

// The scoring profile of odmn bench covers the whole call, and the exported
// ODMN runs through the plan's folds and fused kernels: the embedding
// lookup folded into the first dense layer, the decode functions fused.
func TestScoreProfile(t *testing.T) {
	w := benchWorkload(t)
	p, err := scoreProfile(w.model, w.feeds, 4096, 0.2)
	if err != nil {
		t.Fatal(err)
	}
	sum := p.Other
	ops := map[string]bool{}
	for _, o := range p.Ops {
		sum += o.Share
		ops[o.Op] = true
		if o.Share < 0 || o.Calls < 1 {
			t.Errorf("op %+v", o)
		}
	}
	if math.Abs(sum-1) > 1e-9 || p.Other < 0 || p.Other > 0.5 || p.Calls < 2 {
		t.Errorf("profile %+v: shares sum to %v", p, sum)
	}
	for _, op := range []string{"Add+Gather+Reshape+Gemm+Relu", "Gemm+Relu", train.FnQuantiles, train.FnDecode, train.FnDiscretize} {
		if !ops[op] {
			t.Errorf("the plan ran no %s: %v", op, p.Ops)
		}
	}
	for _, op := range []string{"Gather", "Less+Cast+ReduceSum", "GatherElements"} {
		if ops[op] {
			t.Errorf("the plan still runs %s: %v", op, p.Ops)
		}
	}
}
