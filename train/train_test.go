package train

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/odmn/odmn/data"
)

// toyData makes a small data set whose labels depend on the features:
// zero-inflated, cumulative over 4 horizons.
func toyData(n int, seed uint64) *data.Dataset {
	r := rand.New(rand.NewPCG(seed, 9))
	ds := &data.Dataset{N: n, F: 3, T: 4}
	ds.Features = []data.Feature{
		{Column: "a", Name: "a", Type: "categorical", Cardinality: 6},
		{Column: "b", Name: "b", Type: "numeric", Cardinality: 9},
		{Column: "c", Name: "c", Type: "numeric", Cardinality: 9},
	}
	ds.Labels = []data.Label{{Name: "y30", Horizon: 30}, {Name: "y90", Horizon: 90}, {Name: "y180", Horizon: 180}, {Name: "y365", Horizon: 365}}
	for i := 0; i < n; i++ {
		a, b, c := r.IntN(6), 1+r.IntN(8), 1+r.IntN(8)
		ds.X = append(ds.X, int32(a), int32(b), int32(c))
		act := 1 / (1 + math.Exp(-(float64(a) - 2.5 + float64(b-4)*0.4)))
		rate := float64(c) / 8
		y := 0.0
		hs := []float64{30, 60, 90, 185}
		for _, h := range hs {
			if r.Float64() < act {
				y += math.Round(h * rate * r.Float64())
			}
			ds.Y = append(ds.Y, float32(y))
		}
	}
	return ds
}

func smallConfig(v Variant) Config {
	cfg := DefaultConfig()
	cfg.Variant = v
	cfg.Bottom = []int{32, 16}
	cfg.Tower = 16
	cfg.MonoDim = 8
	cfg.Epochs = 3
	cfg.Batch = 128
	cfg.Buckets.MinPerBucket = 20
	return cfg
}

func TestFitToy(t *testing.T) {
	ds := toyData(3000, 1)
	m, h, err := Fit(context.Background(), ds, smallConfig(ODMN), Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Epochs) == 0 || h.Epochs[0].ValLoss <= h.Epochs[len(h.Epochs)-1].ValLoss && len(h.Epochs) > 1 && h.BestEpoch == 1 {
		t.Logf("history %+v", h)
	}
	p, err := m.NewPredictor()
	if err != nil {
		t.Fatal(err)
	}
	pr, err := p.Predict(ds, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("params %d; val loss by epoch: %v", m.NumParams(), h.Epochs)
	_ = pr
}

// A training step allocates little in steady state: the session reuses its
// buffers and cached shapes and the gradients are read in place; what is
// left are the small index slices of the Slice and Reduce* kernels (about
// 1,050 allocations, 40 KB, per step of this model). The bound catches a
// regression to per-step buffers or shape inference (2,000 and more).
func TestStepAllocations(t *testing.T) {
	// one worker: one run per step (each worker's run allocates as much)
	ds, rows, tr := toyTrainer(t, 2000, 1)
	batch := rows[:128]
	for range 2 {
		if _, err := tr.step(ds, batch); err != nil {
			t.Fatal(err)
		}
	}
	n := testing.AllocsPerRun(10, func() { _, _ = tr.step(ds, batch) })
	t.Logf("%v allocations per training step", n)
	if n > 1200 {
		t.Errorf("%v allocations per training step, want at most 1200", n)
	}
}
