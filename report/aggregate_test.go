package report

import (
	"bytes"
	"errors"
	"math"
	"testing"

	"github.com/odmn/odmn/metrics"
)

// full returns a report with every metric equal to v.
func full(h string, v float64) metrics.Report {
	return metrics.Report{Horizon: h, N: 10, NRMSE: f(v), NMAE: f(v), AMBE: f(v), MutualGini: f(v),
		GiniPred: f(v), GiniLabel: f(v), NormalizedGini: f(v), Spearman: f(v), PredMean: f(v), LabelMean: f(v)}
}

// aggSeeds: model A in three seeds with values 1, 2, 4 (Spearman null in
// seed 2), model B only in seed 1 with value 3.
func aggSeeds() [][]EvalRow {
	a2 := full("30d", 2)
	a2.Spearman = nil
	a2.Notes = []string{"spearman: null: metrics: constant vector"}
	return [][]EvalRow{
		{{"A", "30d", full("30d", 1)}, {"B", "30d", full("30d", 3)}},
		{{"A", "30d", a2}},
		{{"A", "30d", full("30d", 4)}},
	}
}

func near(t *testing.T, what string, got *float64, want float64) {
	t.Helper()
	if got == nil {
		t.Errorf("%s = null, want %v", what, want)
		return
	}
	if math.Abs(*got-want) > 1e-12 {
		t.Errorf("%s = %.15g, want %.15g", what, *got, want)
	}
}

func TestAggregateByHand(t *testing.T) {
	agg, err := Aggregate(aggSeeds())
	if err != nil {
		t.Fatal(err)
	}
	if len(agg) != 2 || agg[0].Model != "A" || agg[1].Model != "B" {
		t.Fatalf("rows = %+v, want A then B", agg)
	}
	a, b := agg[0], agg[1]
	if a.Seeds != 3 || b.Seeds != 1 {
		t.Errorf("seeds = %d, %d; want 3, 1", a.Seeds, b.Seeds)
	}
	// 1, 2, 4: mean 7/3; squared deviations 16/9 + 1/9 + 25/9 = 42/9,
	// over n-1 = 2: 7/3, so std = sqrt(7/3).
	near(t, "A NRMSE mean", a.NRMSE.Mean, 7.0/3)
	near(t, "A NRMSE std", a.NRMSE.Std, math.Sqrt(7.0/3))
	near(t, "A Label mean std", a.LabelMean.Std, math.Sqrt(7.0/3))
	if a.NRMSE.N != 3 {
		t.Errorf("A NRMSE n = %d, want 3", a.NRMSE.N)
	}
	// Spearman 1 and 4: mean 2.5, std sqrt((1.5² + 1.5²)/1) = sqrt(4.5).
	near(t, "A Spearman mean", a.Spearman.Mean, 2.5)
	near(t, "A Spearman std", a.Spearman.Std, math.Sqrt(4.5))
	if a.Spearman.N != 2 {
		t.Errorf("A Spearman n = %d, want 2", a.Spearman.N)
	}
	near(t, "B NRMSE mean", b.NRMSE.Mean, 3)
	if b.NRMSE.Std != nil {
		t.Errorf("B NRMSE std = %v from one seed, want null", *b.NRMSE.Std)
	}
	wantA := []string{"Spearman: a value in 2 of 3 seeds; mean and std over those", "seed 2: spearman: null: metrics: constant vector"}
	if len(a.Notes) != len(wantA) || a.Notes[0] != wantA[0] || a.Notes[1] != wantA[1] {
		t.Errorf("A notes = %q, want %q", a.Notes, wantA)
	}
	if len(b.Notes) != 1 || b.Notes[0] != "row present in 1 of 3 seeds (seed 1)" {
		t.Errorf("B notes = %q", b.Notes)
	}
}

func TestAggregateErrors(t *testing.T) {
	dup := [][]EvalRow{{{"A", "30d", full("30d", 1)}, {"A", "30d", full("30d", 2)}}}
	if _, err := Aggregate(dup); !errors.Is(err, ErrDuplicate) {
		t.Errorf("duplicate row: err = %v, want ErrDuplicate", err)
	}
	if _, err := Aggregate([][]EvalRow{nil, {}}); !errors.Is(err, ErrNoData) {
		t.Errorf("no rows: err = %v, want ErrNoData", err)
	}
	// The same model at another horizon is not a duplicate.
	ok := [][]EvalRow{{{"A", "30d", full("30d", 1)}, {"A", "90d", full("90d", 2)}}}
	if agg, err := Aggregate(ok); err != nil || len(agg) != 2 {
		t.Errorf("two horizons: %d rows, err %v", len(agg), err)
	}
}

func TestAggregateAllNull(t *testing.T) {
	r := metrics.Report{Horizon: "30d", LabelMean: f(0)}
	agg, err := Aggregate([][]EvalRow{{{"A", "30d", r}}, {{"A", "30d", r}}})
	if err != nil {
		t.Fatal(err)
	}
	if agg[0].NRMSE.Mean != nil || agg[0].NRMSE.Std != nil || agg[0].NRMSE.N != 0 {
		t.Errorf("NRMSE = %+v, want all null", agg[0].NRMSE)
	}
	near(t, "label mean", agg[0].LabelMean.Mean, 0)
	near(t, "label std", agg[0].LabelMean.Std, 0)
}

func TestAggTableGolden(t *testing.T) {
	agg, err := Aggregate(aggSeeds())
	if err != nil {
		t.Fatal(err)
	}
	got := render(t, func(b *bytes.Buffer) error { return AggTable(b, agg, Text, MarkBest(), Digits(2)) })
	want := `Horizon  Model  Seeds         NRMSE          NMAE          AMBE   Mutual Gini         Gini*    Label Gini    Norm. Gini      Spearman     Pred mean    Label mean
-------  -----  ------  ------------  ------------  ------------  ------------  ------------  ------------  ------------  ------------  ------------  ------------
30d      A [1]      3   2.33 ± 1.53*  2.33 ± 1.53*  2.33 ± 1.53*  2.33 ± 1.53*  2.33 ± 1.53   2.33 ± 1.53   2.33 ± 1.53   2.50 ± 2.12   2.33 ± 1.53   2.33 ± 1.53
         B [2]      1    3.00 ± n/a    3.00 ± n/a    3.00 ± n/a    3.00 ± n/a    3.00 ± n/a    3.00 ± n/a    3.00 ± n/a*   3.00 ± n/a*   3.00 ± n/a    3.00 ± n/a

Cells: mean ± sample standard deviation over seeds.
Gini* = Gini of the predictions; like the paper (Table 1) we show it but it is not a performance measure. Norm. Gini = normalized model Gini (ZILN).
* after a value: best of its horizon: lowest NRMSE, NMAE, AMBE, Mutual Gini; highest Norm. Gini, Spearman (by mean), and every value of its horizon within seed noise of it (mean within the larger of the two standard deviations).
Notes (n/a = undefined for this input):
[1] Spearman: a value in 2 of 3 seeds; mean and std over those
    seed 2: spearman: null: metrics: constant vector
[2] row present in 1 of 3 seeds (seed 1)
`
	checkGolden(t, got, want)
}
