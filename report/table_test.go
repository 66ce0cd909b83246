package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/odmn/odmn/metrics"
)

func f(v float64) *float64 { return &v }

// handRows are small hand-made reports: two models at two horizons, with a
// tie at the printed precision (AMBE at 30d), a null Spearman, and all-zero
// labels at 90d (the same notes for both models, so one shared footnote).
func handRows() []EvalRow {
	zeroNotes := []string{
		"nrmse, nmae: null because mean(y) = 0 is not positive (nothing to normalize by)",
		"gini_label: null: metrics: vector sums to 0, its Lorenz curve is undefined: y is all zeros",
	}
	return []EvalRow{
		{"ODMN argmax", "30d", metrics.Report{Horizon: "30d", N: 100,
			NRMSE: f(0.5), NMAE: f(0.3), AMBE: f(0.12341), MutualGini: f(0.02), GiniPred: f(0.6),
			GiniLabel: f(0.7), NormalizedGini: f(0.8), Spearman: f(0.55), PredMean: f(1.1), LabelMean: f(1)}},
		{"ODMN EV", "30d", metrics.Report{Horizon: "30d", N: 100,
			NRMSE: f(0.4), NMAE: f(0.35), AMBE: f(0.12344), MutualGini: f(0.03), GiniPred: f(0.65),
			GiniLabel: f(0.7), NormalizedGini: f(0.75), PredMean: f(1.2), LabelMean: f(1),
			Notes: []string{"spearman: null: metrics: constant vector"}}},
		{"ODMN argmax", "90d", metrics.Report{Horizon: "90d", N: 100,
			AMBE: f(0), GiniPred: f(0), PredMean: f(0), LabelMean: f(0), Spearman: f(-0.00001), Notes: zeroNotes}},
		{"ODMN EV", "90d", metrics.Report{Horizon: "90d", N: 100,
			AMBE: f(0.5), GiniPred: f(0.5), PredMean: f(0.5), LabelMean: f(0), Spearman: f(0.1), Notes: zeroNotes}},
	}
}

func render(t *testing.T, fn func(*bytes.Buffer) error) string {
	t.Helper()
	var b bytes.Buffer
	if err := fn(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func checkGolden(t *testing.T, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("output differs\n--- got:\n%s\n--- want:\n%s", got, want)
		gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
		for i := 0; i < len(gl) && i < len(wl); i++ {
			if gl[i] != wl[i] {
				t.Errorf("first difference at line %d:\n got  %q\n want %q", i+1, gl[i], wl[i])
				break
			}
		}
	}
}

func TestEvalTableTextMarkBest(t *testing.T) {
	got := render(t, func(b *bytes.Buffer) error { return EvalTable(b, handRows(), Text, MarkBest()) })
	want := `Horizon  Model             NRMSE     NMAE     AMBE   Mutual Gini    Gini*   Label Gini   Norm. Gini   Spearman   Pred mean   Label mean
-------  ---------------  -------  -------  -------  ------------  -------  -----------  -----------  ---------  ----------  -----------
30d      ODMN argmax      0.5000   0.3000*  0.1234*       0.0200*  0.6000       0.7000       0.8000*    0.5500      1.1000       1.0000
         ODMN EV [1]      0.4000*  0.3500   0.1234*       0.0300   0.6500       0.7000       0.7500        n/a      1.2000       1.0000
90d      ODMN argmax [2]     n/a      n/a   0.0000*          n/a   0.0000          n/a          n/a     0.0000      0.0000       0.0000
         ODMN EV [2]         n/a      n/a   0.5000           n/a   0.5000          n/a          n/a     0.1000*     0.5000       0.0000

Gini* = Gini of the predictions; like the paper (Table 1) we show it but it is not a performance measure. Norm. Gini = normalized model Gini (ZILN).
* after a value: best of its horizon: lowest NRMSE, NMAE, AMBE, Mutual Gini; highest Norm. Gini, Spearman.
Notes (n/a = undefined for this input):
[1] spearman: null: metrics: constant vector
[2] nrmse, nmae: null because mean(y) = 0 is not positive (nothing to normalize by)
    gini_label: null: metrics: vector sums to 0, its Lorenz curve is undefined: y is all zeros
`
	checkGolden(t, got, want)
}

func TestEvalTableMarkdownMarkBest(t *testing.T) {
	got := render(t, func(b *bytes.Buffer) error { return EvalTable(b, handRows(), Markdown, MarkBest()) })
	want := `| Horizon | Model             |      NRMSE |       NMAE |       AMBE | Mutual Gini | Gini\* | Label Gini | Norm. Gini |   Spearman | Pred mean | Label mean |
| :------ | :---------------- | ---------: | ---------: | ---------: | ----------: | -----: | ---------: | ---------: | ---------: | --------: | ---------: |
| 30d     | ODMN argmax       |     0.5000 | **0.3000** | **0.1234** |  **0.0200** | 0.6000 |     0.7000 | **0.8000** |     0.5500 |    1.1000 |     1.0000 |
| 30d     | ODMN EV \[1\]     | **0.4000** |     0.3500 | **0.1234** |      0.0300 | 0.6500 |     0.7000 |     0.7500 |        n/a |    1.2000 |     1.0000 |
| 90d     | ODMN argmax \[2\] |        n/a |        n/a | **0.0000** |         n/a | 0.0000 |        n/a |        n/a |     0.0000 |    0.0000 |     0.0000 |
| 90d     | ODMN EV \[2\]     |        n/a |        n/a |     0.5000 |         n/a | 0.5000 |        n/a |        n/a | **0.1000** |    0.5000 |     0.0000 |

Gini\* = Gini of the predictions; like the paper (Table 1) we show it but it is not a performance measure. Norm. Gini = normalized model Gini (ZILN).  
Bold: best of its horizon: lowest NRMSE, NMAE, AMBE, Mutual Gini; highest Norm. Gini, Spearman.  

Notes (n/a = undefined for this input):

- \[1\] spearman: null: metrics: constant vector
- \[2\] nrmse, nmae: null because mean(y) = 0 is not positive (nothing to normalize by); gini\_label: null: metrics: vector sums to 0, its Lorenz curve is undefined: y is all zeros
`
	checkGolden(t, got, want)
}

func TestEvalTableByModelNoMarks(t *testing.T) {
	// handRows interleaves the models, so grouping has to reorder; the
	// footnote number moves to the Horizon column, which is never blanked.
	rows := handRows()
	got := render(t, func(b *bytes.Buffer) error { return EvalTable(b, rows, Text, Group(ByModel), Digits(2)) })
	want := `Model        Horizon  NRMSE  NMAE  AMBE  Mutual Gini  Gini*  Label Gini  Norm. Gini  Spearman  Pred mean  Label mean
-----------  -------  -----  ----  ----  -----------  -----  ----------  ----------  --------  ---------  ----------
ODMN argmax  30d       0.50  0.30  0.12         0.02   0.60        0.70        0.80      0.55       1.10        1.00
             90d [1]    n/a   n/a  0.00          n/a   0.00         n/a         n/a      0.00       0.00        0.00
ODMN EV      30d [2]   0.40  0.35  0.12         0.03   0.65        0.70        0.75       n/a       1.20        1.00
             90d [1]    n/a   n/a  0.50          n/a   0.50         n/a         n/a      0.10       0.50        0.00

Gini* = Gini of the predictions; like the paper (Table 1) we show it but it is not a performance measure. Norm. Gini = normalized model Gini (ZILN).
Notes (n/a = undefined for this input):
[1] nrmse, nmae: null because mean(y) = 0 is not positive (nothing to normalize by)
    gini_label: null: metrics: vector sums to 0, its Lorenz curve is undefined: y is all zeros
[2] spearman: null: metrics: constant vector
`
	checkGolden(t, got, want)
}
