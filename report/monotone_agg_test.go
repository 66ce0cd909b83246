package report

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/odmn/odmn/metrics"
)

func TestMeanStdSkipsNonFinite(t *testing.T) {
	s := MeanStd([]float64{1, math.NaN(), 3, math.Inf(1)})
	near(t, "mean", s.Mean, 2)
	near(t, "std", s.Std, math.Sqrt2)
	if s.N != 2 {
		t.Errorf("n = %d, want 2", s.N)
	}
	if e := MeanStd(nil); e.Mean != nil || e.Std != nil || e.N != 0 {
		t.Errorf("empty: %+v", e)
	}
}

func TestAggregateMonotonicityByHand(t *testing.T) {
	mr := func(rate float64) metrics.MultiReport {
		return metrics.MultiReport{T: 4, MonotonicityViolationRate: f(rate), LabelMonotonicityViolationRate: f(0)}
	}
	agg, err := AggregateMonotonicity([][]ModelEval{
		{{"ODMN EV", mr(0.01)}, {"MSE-MLP", mr(0.2)}},
		{{"ODMN EV", mr(0.03)}, {"MSE-MLP", mr(0.3)}},
		{{"MSE-MLP", mr(0.4)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(agg) != 2 || agg[0].Model != "ODMN EV" || agg[1].Model != "MSE-MLP" || agg[0].Seeds != 2 || agg[1].Seeds != 3 {
		t.Fatalf("rows %+v", agg)
	}
	near(t, "ODMN mean", agg[0].Rate.Mean, 0.02)
	near(t, "ODMN std", agg[0].Rate.Std, math.Sqrt(0.0002))
	near(t, "MSE mean", agg[1].Rate.Mean, 0.3)
	near(t, "MSE std", agg[1].Rate.Std, 0.1)
	near(t, "labels", agg[1].LabelRate.Mean, 0)

	var b bytes.Buffer
	if err := AggMonoTable(&b, agg, Markdown, MarkBest()); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"| ODMN EV ", "**0.0200 ± 0.0141**", "0.3000 ± 0.1000 |", "Bold: lowest rate."} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if _, err := AggregateMonotonicity(nil); !errors.Is(err, ErrNoData) {
		t.Errorf("no evaluations: %v, want ErrNoData", err)
	}
	if err := AggMonoTable(&b, nil, Text); !errors.Is(err, ErrNoData) {
		t.Errorf("no rows: %v, want ErrNoData", err)
	}
}
