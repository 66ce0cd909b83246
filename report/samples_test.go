package report

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/odmn/odmn/data"
	"github.com/odmn/odmn/metrics"
	"github.com/odmn/odmn/train"
)

// TestRenderSamples renders sample tables and plots from synthetic data into
// the directory named by ODMN_REPORT_SAMPLES, for looking at them; it is
// skipped when that variable is unset.
func TestRenderSamples(t *testing.T) {
	dir := os.Getenv("ODMN_REPORT_SAMPLES")
	if dir == "" {
		t.Skip("set ODMN_REPORT_SAMPLES=dir to render sample plots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	evals := syntheticEvals(t, 200000)
	var curves []Curve
	for _, e := range evals {
		for _, r := range e.Multi.Horizons {
			curves = append(curves, CurvesFromReport(e.Model, r)...)
		}
	}
	rows := Rows(evals)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(LorenzPlot(filepath.Join(dir, "lorenz.png"), "Lorenz curves by horizon (synthetic, 200,000 users)", curves))
	var one []Curve
	for _, c := range curves {
		if c.Horizon == "365d" {
			one = append(one, c)
		}
	}
	must(LorenzPlot(filepath.Join(dir, "lorenz_365d.png"), "Lorenz curves, 365 days", one))
	must(DecilePlot(filepath.Join(dir, "deciles.png"), "Calibration by prediction decile (synthetic)", rows))
	var ev []EvalRow
	for _, r := range rows {
		if r.Model == "ODMN EV" {
			ev = append(ev, r)
		}
	}
	must(DecilePlot(filepath.Join(dir, "deciles_ev.png"), "ODMN EV: calibration by prediction decile", ev))
	h := syntheticHistory(12)
	must(CurvePlot(filepath.Join(dir, "curve.png"), h))
	must(CurvePlot(filepath.Join(dir, "curve_terms.png"), h, WithLossTerms(), WithTitle("ODMN training curve (synthetic)")))
	must(CurvePlot(filepath.Join(dir, "curve_one.png"), syntheticHistory(1)))
	f, err := os.Create(filepath.Join(dir, "tables.txt"))
	must(err)
	defer f.Close()
	must(EvalTable(f, rows, Text, MarkBest()))
	f.WriteString("\n")
	must(EvalTable(f, rows, Markdown, MarkBest()))
	f.WriteString("\n")
	must(DecileTable(f, rows[0], Text))
	f.WriteString("\n")
	must(MonotonicityLines(f, evals, Text))
}

// syntheticEvals builds zero-inflated cumulative labels for four horizons
// and three kinds of prediction.
func syntheticEvals(t *testing.T, n int) []ModelEval {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 11))
	horizons := []string{"30d", "90d", "180d", "365d"}
	T := len(horizons)
	labels := make([][]float64, n)
	preds := map[string][][]float64{"ODMN argmax": make([][]float64, n), "ODMN EV": make([][]float64, n), "ZILN": make([][]float64, n)}
	for i := range n {
		score := rng.NormFloat64()
		p := 1 / (1 + math.Exp(-(score*1.5 - 1)))
		labels[i] = make([]float64, T)
		for _, m := range []string{"ODMN argmax", "ODMN EV", "ZILN"} {
			preds[m][i] = make([]float64, T)
		}
		var cum float64
		for h := range T {
			if rng.Float64() < p {
				cum += math.Exp(1 + 0.6*score + 0.8*rng.NormFloat64())
			}
			labels[i][h] = cum
			ev := p * math.Exp(1+0.6*score+0.32) * float64(h+1)
			preds["ODMN EV"][i][h] = ev
			preds["ZILN"][i][h] = 1.3 * ev * math.Exp(0.3*rng.NormFloat64())
			am := 0.0
			if p > 0.5 {
				am = math.Exp(1+0.6*score) * float64(h+1)
			}
			if h > 0 && rng.Float64() < 0.05 {
				am = preds["ODMN argmax"][i][h-1] * 0.9
			}
			preds["ODMN argmax"][i][h] = am
		}
	}
	var out []ModelEval
	for _, m := range []string{"ODMN argmax", "ODMN EV", "ZILN"} {
		mr, err := metrics.ComputeMultiReport(labels, preds[m], metrics.Options{Horizons: horizons, LorenzPoints: 200})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ModelEval{Model: m, Multi: mr})
	}
	return out
}

func syntheticHistory(epochs int) *train.History {
	h := &train.History{TrainRows: 90000, ValRows: 10000, Stopped: "epochs done"}
	best := math.Inf(1)
	for e := 1; e <= epochs; e++ {
		x := float64(e)
		st := train.EpochStats{Epoch: e, TrainLoss: 3 + 2/x, ValLoss: 3.2 + 2/x + 0.02*x,
			ValTerms: map[string]float64{"dct": 0.8 + 0.5/x, "dot": 0.5 + 0.3/x, "dct_dis": 0.9 + 0.2/x, "bct": 1 + 0.6/x, "bot": 0.4 + 0.2/x, "bct_dis": 0.7 + 0.1/x, "bbt": 0.05 + 0.1/x, "cali": 0.01 / x}}
		if st.ValLoss < best {
			best, st.Best, h.BestEpoch = st.ValLoss, true, e
		}
		h.Epochs = append(h.Epochs, st)
	}
	return h
}

// TestRenderTrainedSample trains a small ODMN on toy data and renders its
// real training curve, Lorenz curves, deciles, tables and JSON into
// ODMN_REPORT_SAMPLES/trained; skipped when the variable is unset.
func TestRenderTrainedSample(t *testing.T) {
	root := os.Getenv("ODMN_REPORT_SAMPLES")
	if root == "" {
		t.Skip("set ODMN_REPORT_SAMPLES=dir to render sample plots")
	}
	dir := filepath.Join(root, "trained")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ds := toyDataset(20000, 3)
	cfg := train.DefaultConfig()
	cfg.Bottom, cfg.Tower, cfg.MonoDim, cfg.Epochs, cfg.Batch = []int{64, 32}, 16, 8, 8, 256
	cfg.Buckets.MinPerBucket = 20
	m, h, err := train.Fit(context.Background(), ds, cfg, train.Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := m.NewPredictor()
	if err != nil {
		t.Fatal(err)
	}
	pr, err := p.Predict(ds, nil)
	if err != nil {
		t.Fatal(err)
	}
	labels := make([][]float64, ds.N)
	for i := range labels {
		labels[i] = make([]float64, ds.T)
		for j := range ds.T {
			labels[i][j] = float64(ds.Y[i*ds.T+j])
		}
	}
	var names []string
	for _, hz := range pr.Horizons {
		names = append(names, fmt.Sprintf("%dd", hz))
	}
	opts := metrics.Options{Horizons: names, LorenzPoints: 200}
	var decodes []DecodeEval
	for _, d := range []struct {
		name  string
		preds [][]float64
	}{{"argmax", pr.ArgMax}, {"ev", pr.EV}} {
		mr, err := metrics.ComputeMultiReport(labels, d.preds, opts)
		if err != nil {
			t.Fatal(err)
		}
		decodes = append(decodes, DecodeEval{Decode: d.name, Report: mr})
	}
	doc := NewEvalDoc(ModelInfoOf(m, "ODMN", ""), DataInfo{Split: "all (toy)", Rows: ds.N}, decodes...)
	evals := doc.Evals()
	rows := Rows(evals)
	var curves []Curve
	for _, e := range evals {
		for _, r := range e.Multi.Horizons {
			curves = append(curves, CurvesFromReport(e.Model, r)...)
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(CurvePlot(filepath.Join(dir, "curve.png"), h, WithLossTerms(), WithTitle("ODMN on toy data")))
	must(LorenzPlot(filepath.Join(dir, "lorenz.png"), "ODMN on toy data: Lorenz curves", curves))
	must(DecilePlot(filepath.Join(dir, "deciles.png"), "ODMN on toy data: calibration by decile", rows))
	f, err := os.Create(filepath.Join(dir, "report.md"))
	must(err)
	defer f.Close()
	must(EvalTable(f, rows, Markdown, MarkBest()))
	fmt.Fprintln(f)
	must(MonotonicityLines(f, evals, Markdown))
	j, err := os.Create(filepath.Join(dir, "eval.json"))
	must(err)
	defer j.Close()
	must(WriteJSON(j, doc))
}

// toyDataset: zero-inflated cumulative labels over 4 horizons that depend
// on three features (as train's own tests make them).
func toyDataset(n int, seed uint64) *data.Dataset {
	r := rand.New(rand.NewPCG(seed, 9))
	ds := &data.Dataset{N: n, F: 3, T: 4}
	ds.Features = []data.Feature{
		{Column: "a", Name: "a", Type: "categorical", Cardinality: 6},
		{Column: "b", Name: "b", Type: "numeric", Cardinality: 9},
		{Column: "c", Name: "c", Type: "numeric", Cardinality: 9},
	}
	ds.Labels = []data.Label{{Name: "y30", Horizon: 30}, {Name: "y90", Horizon: 90}, {Name: "y180", Horizon: 180}, {Name: "y365", Horizon: 365}}
	for range n {
		a, b, c := r.IntN(6), 1+r.IntN(8), 1+r.IntN(8)
		ds.X = append(ds.X, int32(a), int32(b), int32(c))
		act := 1 / (1 + math.Exp(-(float64(a) - 2.5 + float64(b-4)*0.4)))
		rate := float64(c) / 8
		y := 0.0
		for _, h := range []float64{30, 60, 90, 185} {
			if r.Float64() < act {
				y += math.Round(h * rate * r.Float64())
			}
			ds.Y = append(ds.Y, float32(y))
		}
	}
	return ds
}
