package train_test

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/odmn/odmn/data"
	"github.com/odmn/odmn/fixtures/synth"
	"github.com/odmn/odmn/metrics"
	"github.com/odmn/odmn/train"
)

// synthFiles writes a synthetic table and returns its path and spec.
func synthFiles(t *testing.T, users int, seed uint64) (string, *data.Spec) {
	t.Helper()
	tab, spec, err := synth.Generate(synth.Config{Users: users, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "users.csv")
	if err := data.WriteFile(path, tab); err != nil {
		t.Fatal(err)
	}
	return path, spec
}

// TestLearnsOnSynthetic: on held-out synthetic users, ODMN's EV decode
// beats predicting the training mean on NRMSE and ranks users (normalized
// model Gini > 0.2) at every horizon.
func TestLearnsOnSynthetic(t *testing.T) {
	trainPath, spec := synthFiles(t, 16000, 11)
	testPath, _ := synthFiles(t, 4000, 12)
	enc, err := data.Fit(trainPath, spec, data.FitOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := data.Load(trainPath, spec, enc)
	if err != nil {
		t.Fatal(err)
	}
	test, err := data.Load(testPath, spec, enc)
	if err != nil {
		t.Fatal(err)
	}
	cfg := train.DefaultConfig()
	cfg.Bottom, cfg.Tower, cfg.Epochs = []int{64, 32}, 16, 4
	m, h, err := train.Fit(context.Background(), ds, cfg, train.Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("best epoch %d of %d", h.BestEpoch, len(h.Epochs))
	p, err := m.NewPredictor()
	if err != nil {
		t.Fatal(err)
	}
	pr, err := p.Predict(test, nil)
	if err != nil {
		t.Fatal(err)
	}
	y := m.LabelsOf(test, nil)
	trainY := m.LabelsOf(ds, nil)
	T := len(m.Horizons)
	mean := make([]float64, T)
	for _, row := range trainY {
		for t2, v := range row {
			mean[t2] += v / float64(len(trainY))
		}
	}
	constPred := make([][]float64, len(y))
	for i := range constPred {
		constPred[i] = mean
	}
	ev, err := metrics.ComputeMultiReport(y, pr.EV, metrics.Options{})
	if err != nil {
		t.Fatal(err)
	}
	am, err := metrics.ComputeMultiReport(y, pr.ArgMax, metrics.Options{})
	if err != nil {
		t.Fatal(err)
	}
	base, err := metrics.ComputeMultiReport(y, constPred, metrics.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for k, r := range ev.Horizons {
		nr, br := *r.NRMSE, *base.Horizons[k].NRMSE
		ng := *r.NormalizedGini
		t.Logf("horizon %d: EV NRMSE %.3f (mean predictor %.3f), normalized Gini %.3f; argmax NRMSE %.3f", m.Horizons[k], nr, br, ng, *am.Horizons[k].NRMSE)
		if !(nr < br) {
			t.Errorf("horizon %d: EV NRMSE %.4f not below the mean predictor's %.4f", m.Horizons[k], nr, br)
		}
		if !(ng > 0.2) || math.IsNaN(ng) {
			t.Errorf("horizon %d: normalized model Gini %.4f, want > 0.2", m.Horizons[k], ng)
		}
	}
	t.Logf("monotonicity violation rate: EV %.4f, argmax %.4f", *ev.MonotonicityViolationRate, *am.MonotonicityViolationRate)
}
