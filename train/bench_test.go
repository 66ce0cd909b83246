package train

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"testing"

	"github.com/odmn/odmn/data"
	g "github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/internal/benchdata"
	"github.com/odmn/odmn/runtime/native"
)

var benchDS struct {
	once sync.Once
	ds   *data.Dataset
	err  error
}

// benchDataset is 20,000 synthetic users, generated once per test binary.
func benchDataset(b *testing.B) *data.Dataset {
	benchDS.once.Do(func() {
		dir, err := os.MkdirTemp("", "odmn-bench")
		if err != nil {
			benchDS.err = err
			return
		}
		defer os.RemoveAll(dir)
		set, err := benchdata.Synthetic(20000, 1, dir)
		if err != nil {
			benchDS.err = err
			return
		}
		benchDS.ds = set.Data
	})
	if benchDS.err != nil {
		b.Fatal(benchDS.err)
	}
	return benchDS.ds
}

// BenchmarkTrainStep is one optimizer step of the default ODMN at batch
// 512 (forward, backward, Adam), reported as samples/s, with the batch
// split over 1 worker and over GOMAXPROCS.
func BenchmarkTrainStep(b *testing.B) {
	for _, threads := range []int{1, runtime.GOMAXPROCS(0)} {
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) { benchTrainStep(b, threads) })
	}
}

func benchTrainStep(b *testing.B, threads int) {
	ds := benchDataset(b)
	cfg := DefaultConfig()
	cfg.Threads = threads
	rows := make([]int, ds.N)
	for i := range rows {
		rows[i] = i
	}
	m, err := Prepare(ds, rows, cfg)
	if err != nil {
		b.Fatal(err)
	}
	tr, err := newTrainer(m)
	if err != nil {
		b.Fatal(err)
	}
	bs := cfg.Batch
	nb := ds.N / bs
	i := 0
	if _, err := tr.step(ds, rows[:bs]); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := tr.step(ds, rows[(i%nb)*bs:(i%nb+1)*bs]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(bs*b.N)/b.Elapsed().Seconds(), "samples/s")
}

// BenchmarkScoreNative scores the default ODMN's inference graph on the
// native runtime at batch 4096 (encoded ids in, both decodes out), reported
// as users/s; odmn bench compares the exported file with ONNX Runtime.
func BenchmarkScoreNative(b *testing.B) {
	ds := benchDataset(b)
	rows := make([]int, ds.N)
	for i := range rows {
		rows[i] = i
	}
	m, err := Prepare(ds, rows, DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	if _, err := newTrainer(m); err != nil { // creates the parameters
		b.Fatal(err)
	}
	gr, err := m.InferGraph(InferOptions{})
	if err != nil {
		b.Fatal(err)
	}
	s, err := native.New(gr, native.Options{})
	if err != nil {
		b.Fatal(err)
	}
	const bs = 4096
	ids := g.NewTensor(g.Int64, []int{bs, ds.F})
	for i := range ids.I {
		ids.I[i] = int64(ds.X[i%len(ds.X)])
	}
	feed := map[string]*g.Tensor{InputIDs: ids}
	noop := func([]*g.Tensor) error { return nil }
	if err := s.RunWith(feed, nil, noop); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := s.RunWith(feed, nil, noop); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(bs*b.N)/b.Elapsed().Seconds(), "users/s")
}
