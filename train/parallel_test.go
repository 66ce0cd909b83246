package train

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/odmn/odmn/data"
	"github.com/odmn/odmn/runtime/native"
)

// toyTrainer is a trainer of the small ODMN on n toy users over threads
// workers, with the rows of the data set.
func toyTrainer(t *testing.T, n, threads int) (*data.Dataset, []int, *trainer) {
	t.Helper()
	ds := toyData(n, 2)
	rows := make([]int, ds.N)
	for i := range rows {
		rows[i] = i
	}
	cfg := smallConfig(ODMN)
	cfg.Threads = threads
	m, err := Prepare(ds, rows, cfg)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := newTrainer(m)
	if err != nil {
		t.Fatal(err)
	}
	return ds, rows, tr
}

func fitThreads(t *testing.T, v Variant, threads int) (*Model, *History) {
	t.Helper()
	ds := toyData(3000, 4)
	cfg := smallConfig(v)
	cfg.Threads = threads
	cfg.Epochs = 3
	cfg.Patience = 0
	m, h, err := Fit(context.Background(), ds, cfg, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	return m, h
}

// For a fixed thread count and seed, training gives the same bits.
func TestParallelDeterministic(t *testing.T) {
	for _, v := range []Variant{ODMN, ZILN} {
		a, ha := fitThreads(t, v, 3)
		b, hb := fitThreads(t, v, 3)
		for i, p := range a.Params() {
			q := b.Params()[i]
			for j := range p.T.F {
				if math.Float32bits(p.T.F[j]) != math.Float32bits(q.T.F[j]) {
					t.Fatalf("%s: parameter %s[%d] differs between two runs on 3 threads: %v and %v", v, p.Name, j, p.T.F[j], q.T.F[j])
				}
			}
		}
		for i, e := range ha.Epochs {
			if e.TrainLoss != hb.Epochs[i].TrainLoss || e.ValLoss != hb.Epochs[i].ValLoss {
				t.Fatalf("%s: epoch %d losses differ between two runs: %+v and %+v", v, i+1, e, hb.Epochs[i])
			}
		}
	}
}

// Across thread counts the loss curves agree within float tolerance: the
// batch gradient is the same sum, only added in another order.
func TestParallelEquivalentAcrossThreads(t *testing.T) {
	for _, v := range []Variant{ODMN, MSE} {
		_, h1 := fitThreads(t, v, 1)
		for _, threads := range []int{2, 4} {
			_, h := fitThreads(t, v, threads)
			for i, e := range h.Epochs {
				for _, pair := range [][2]float64{{h1.Epochs[i].TrainLoss, e.TrainLoss}, {h1.Epochs[i].ValLoss, e.ValLoss}} {
					d := math.Abs(pair[0]-pair[1]) / math.Abs(pair[0])
					t.Logf("%s epoch %d threads %d: relative difference %.1e", v, i+1, threads, d)
					if d > 1e-4 {
						t.Errorf("%s: epoch %d: loss %v on 1 thread, %v on %d (relative difference %.1e)", v, i+1, pair[0], pair[1], threads, d)
					}
				}
			}
		}
	}
}

// One step's reduced gradients (dense and the sparse embedding rows) match
// the dense gradients of the whole batch computed in one run.
func TestParallelGradientsMatchWholeBatch(t *testing.T) {
	ds, rows, tr := toyTrainer(t, 1000, 3)
	m := tr.m
	randomize(m, 5)
	batch := rows[100:400]
	gr, params, err := m.TrainGraph()
	if err != nil {
		t.Fatal(err)
	}
	s, err := native.New(gr, native.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want, err := s.Run(tr.feed(ds, batch))
	if err != nil {
		t.Fatal(err)
	}
	ws := tr.prepare(ds, batch)
	if len(ws) != 3 {
		t.Fatalf("%d workers, want 3", len(ws))
	}
	if err := tr.run(ws, tr.names, tr.keepGrads); err != nil {
		t.Fatal(err)
	}
	tr.reduce(ws)
	got := map[string][]float32{}
	for i, p := range tr.params {
		got[p.Name] = ws[0].grad[tr.gradOff[i]:tr.gradOff[i+1]]
	}
	got[embeddingParam] = tr.embGrad.F
	var loss float64
	for _, w := range ws {
		loss += w.outs[0]
	}
	if d := math.Abs(loss - float64(want[OutLoss].F[0])); d > 1e-5*math.Abs(loss) {
		t.Errorf("loss %v from 3 workers, %v whole", loss, want[OutLoss].F[0])
	}
	for _, p := range params {
		w, g1 := want[gradPfx+p.Name].F, got[p.Name]
		if len(w) != len(g1) {
			t.Fatalf("%s: %d gradient values, want %d", p.Name, len(g1), len(w))
		}
		scale := 0.0
		for _, x := range w {
			scale = math.Max(scale, math.Abs(float64(x)))
		}
		for j := range w {
			if d := math.Abs(float64(w[j] - g1[j])); d > 1e-4*scale+1e-7 {
				t.Fatalf("%s[%d]: gradient %v from 3 workers, %v whole", p.Name, j, g1[j], w[j])
			}
		}
	}
	// a second step clears the rows the first touched, and a third on
	// another number of workers, which split the features otherwise, too
	embeddingAfter := func(what string, batch []int) {
		t.Helper()
		ws := tr.prepare(ds, batch)
		if err := tr.run(ws, tr.names, tr.keepGrads); err != nil {
			t.Fatal(err)
		}
		tr.reduce(ws)
		want, err := s.Run(tr.feed(ds, batch), gradPfx+embeddingParam)
		if err != nil {
			t.Fatal(err)
		}
		for j, x := range want[gradPfx+embeddingParam].F {
			if math.Abs(float64(x-tr.embGrad.F[j])) > 1e-5 {
				t.Fatalf("embedding gradient [%d] after %s: %v, want %v", j, what, tr.embGrad.F[j], x)
			}
		}
	}
	embeddingAfter("a second step", rows[600:610])
	tr.setWorkers(2)
	embeddingAfter("a step on 2 workers", rows[700:900])
}

// An id past its feature's categories, which the graph's Gather would
// read from the next feature's rows, fails the step with the row and
// feature named.
func TestParallelIDOutsideFeature(t *testing.T) {
	ds, rows, tr := toyTrainer(t, 200, 2)
	m := tr.m
	ws := tr.prepare(ds, rows[:64])
	F := len(m.Features)
	ws[1].ids.I[3*F] = int64(m.Features[0].Cardinality)
	err := tr.run(ws, tr.names, tr.keepGrads)
	want := fmt.Sprintf("row %d, feature %s: id %d is outside its %d categories", ws[1].rows[3], m.Features[0].Name, m.Features[0].Cardinality, m.Features[0].Cardinality)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want one containing %q", err, want)
	}
}
