package metrics

import (
	"math"
	"math/rand/v2"
	"testing"
)

// benchData: n users, T horizons of zero-inflated, heavy-tailed cumulative
// labels (about 80% zeros at the first horizon) and noisy predictions.
func benchData(n, T int) (labels, preds [][]float64) {
	r := rand.New(rand.NewPCG(1, 1))
	labels, preds = make([][]float64, n), make([][]float64, n)
	for i := range labels {
		labels[i], preds[i] = make([]float64, T), make([]float64, T)
		var cl float64
		for t := range T {
			if r.Float64() < 0.2 {
				cl += math.Round(math.Exp(1 + r.NormFloat64()))
			}
			labels[i][t] = cl
			preds[i][t] = math.Max(0, cl*0.8+r.NormFloat64()+float64(t))
		}
	}
	return labels, preds
}

func BenchmarkComputeReport1M(b *testing.B) {
	labels, preds := benchData(1_000_000, 1)
	y, p := make([]float64, len(labels)), make([]float64, len(labels))
	for i := range labels {
		y[i], p[i] = labels[i][0], preds[i][0]
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ComputeReport(y, p, Options{LorenzPoints: 100}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkComputeMultiReport1Mx4(b *testing.B) {
	labels, preds := benchData(1_000_000, 4)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ComputeMultiReport(labels, preds, Options{LorenzPoints: 100}); err != nil {
			b.Fatal(err)
		}
	}
}
