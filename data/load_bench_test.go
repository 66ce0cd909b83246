package data_test

import (
	"testing"

	"github.com/odmn/odmn/data"
	"github.com/odmn/odmn/internal/benchdata"
)

// BenchmarkFitLoad fits the encoder on 200,000 synthetic users' CSV file
// and loads it, as odmn train does, reported as rows/s of each pass.
func BenchmarkFitLoad(b *testing.B) {
	const users = 200000
	set, err := benchdata.Synthetic(users, 1, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Run("fit", func(b *testing.B) {
		for b.Loop() {
			if _, err := data.Fit(set.Path, set.Spec, data.FitOptions{Seed: 1}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(users*b.N)/b.Elapsed().Seconds(), "rows/s")
	})
	b.Run("load", func(b *testing.B) {
		for b.Loop() {
			if _, err := data.Load(set.Path, set.Spec, set.Encoder); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(users*b.N)/b.Elapsed().Seconds(), "rows/s")
	})
}
