package report

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/odmn/odmn/metrics"
)

// threeUsers is the decile table of 3 users: labels 10, 0, 2 with
// predictions 8, 5, 1; deciles 4-10 are empty.
func threeUsers() EvalRow {
	ds := make([]metrics.DecileRow, metrics.NumDeciles)
	for i := range ds {
		ds[i].Decile = i + 1
	}
	set := func(i int, label, pred float64) {
		ds[i] = metrics.DecileRow{Decile: i + 1, Count: 1, MeanLabel: f(label), MeanPred: f(pred), MinPred: f(pred), MaxPred: f(pred)}
	}
	set(0, 10, 8)
	set(1, 0, 5)
	set(2, 2, 1)
	return EvalRow{Model: "ODMN EV", Horizon: "30d", Report: metrics.Report{Horizon: "30d", N: 3, Deciles: ds,
		Notes: []string{"spearman: null: not this one", "deciles: n = 3 < 10: the last 7 deciles are empty (null means)"}}}
}

func TestDecileTableText(t *testing.T) {
	got := render(t, func(b *bytes.Buffer) error { return DecileTable(b, threeUsers(), Text) })
	// Label total 12: shares 10/12, 0, 2/12; pred/label 8/10, n/a (label
	// 0), 1/2.
	want := `Deciles of ODMN EV at 30d (decile 1 = highest predictions; n = 3)

Decile  Users  Mean label  Mean pred  Pred/label  Label share  Cum. share  Min pred  Max pred
------  -----  ----------  ---------  ----------  -----------  ----------  --------  --------
     1      1     10.0000     8.0000      0.8000       0.8333      0.8333    8.0000    8.0000
     2      1      0.0000     5.0000         n/a       0.0000      0.8333    5.0000    5.0000
     3      1      2.0000     1.0000      0.5000       0.1667      1.0000    1.0000    1.0000
     4      0         n/a        n/a         n/a          n/a         n/a       n/a       n/a
     5      0         n/a        n/a         n/a          n/a         n/a       n/a       n/a
     6      0         n/a        n/a         n/a          n/a         n/a       n/a       n/a
     7      0         n/a        n/a         n/a          n/a         n/a       n/a       n/a
     8      0         n/a        n/a         n/a          n/a         n/a       n/a       n/a
     9      0         n/a        n/a         n/a          n/a         n/a       n/a       n/a
    10      0         n/a        n/a         n/a          n/a         n/a       n/a       n/a

Notes (n/a = undefined for this input):
[1] deciles: n = 3 < 10: the last 7 deciles are empty (null means)
`
	checkGolden(t, got, want)
}

func TestDecileTableMarkdown(t *testing.T) {
	r := threeUsers()
	r.Report.Notes = nil
	got := render(t, func(b *bytes.Buffer) error { return DecileTable(b, r, Markdown, Digits(1)) })
	lines := strings.Split(got, "\n")
	want := []string{
		"**Deciles of ODMN EV at 30d (decile 1 = highest predictions; n = 3)**",
		"",
		"| Decile | Users | Mean label | Mean pred | Pred/label | Label share | Cum. share | Min pred | Max pred |",
		"| -----: | ----: | ---------: | --------: | ---------: | ----------: | ---------: | -------: | -------: |",
		"|      1 |     1 |       10.0 |       8.0 |        0.8 |         0.8 |        0.8 |      8.0 |      8.0 |",
	}
	for i, w := range want {
		if i >= len(lines) || lines[i] != w {
			t.Fatalf("line %d:\n got  %q\n want %q\nfull output:\n%s", i+1, lines[min(i, len(lines)-1)], w, got)
		}
	}
	if strings.Contains(got, "Notes") {
		t.Errorf("no notes expected:\n%s", got)
	}
}

func TestMonotonicityLines(t *testing.T) {
	evals := []ModelEval{
		{"ODMN argmax", metrics.MultiReport{T: 4, MonotonicityViolationRate: f(0.03125), MonotonicityTol: 0, LabelMonotonicityViolationRate: f(0)}},
		{"ZILN", metrics.MultiReport{T: 4, MonotonicityViolationRate: f(0.5), MonotonicityTol: 0.01, LabelMonotonicityViolationRate: f(0.25)}},
		{"broken|name", metrics.MultiReport{T: 2}},
	}
	got := render(t, func(b *bytes.Buffer) error { return MonotonicityLines(b, evals, Text) })
	want := `Monotonicity violation rate (share of users whose prediction falls from a horizon to the next by more than tol):
  ODMN argmax  0.0312  (tol 0, 4 horizons; labels 0.0000)
  ZILN         0.5000  (tol 0.01, 4 horizons; labels 0.2500) labels decrease between horizons: bad input
  broken|name     n/a  (tol 0, 2 horizons; labels n/a)
`
	checkGolden(t, got, want)
	got = render(t, func(b *bytes.Buffer) error { return MonotonicityLines(b, evals[2:], Markdown) })
	want = "Monotonicity violation rate (share of users whose prediction falls from a horizon to the next by more than tol):\n\n" +
		"- broken\\|name: n/a (tol 0, 2 horizons; labels n/a)\n"
	checkGolden(t, got, want)
}

func TestRows(t *testing.T) {
	evals := []ModelEval{
		{"A", metrics.MultiReport{Horizons: []metrics.Report{{Horizon: "30d"}, {Horizon: "90d"}}}},
		{"B", metrics.MultiReport{Horizons: []metrics.Report{{Horizon: "30d"}}}},
	}
	rows := Rows(evals)
	var got []string
	for _, r := range rows {
		got = append(got, r.Model+"@"+r.Horizon+"="+r.Report.Horizon)
	}
	if strings.Join(got, " ") != "A@30d=30d A@90d=90d B@30d=30d" {
		t.Errorf("rows = %v", got)
	}
}

func TestRendererErrors(t *testing.T) {
	var b bytes.Buffer
	if err := EvalTable(&b, nil, Text); !errors.Is(err, ErrNoData) {
		t.Errorf("EvalTable(nil) err = %v", err)
	}
	if err := AggTable(&b, nil, Markdown); !errors.Is(err, ErrNoData) {
		t.Errorf("AggTable(nil) err = %v", err)
	}
	if err := DecileTable(&b, EvalRow{Model: "x"}, Text); !errors.Is(err, ErrNoData) {
		t.Errorf("DecileTable(no deciles) err = %v", err)
	}
	if err := MonotonicityLines(&b, nil, Text); !errors.Is(err, ErrNoData) {
		t.Errorf("MonotonicityLines(nil) err = %v", err)
	}
	if err := EvalTable(&b, handRows(), Format(7)); err == nil {
		t.Error("unknown format accepted")
	}
	if b.Len() != 0 {
		t.Errorf("errors wrote output: %q", b.String())
	}
	// A failing writer is reported.
	if err := EvalTable(failWriter{}, handRows(), Text); err == nil {
		t.Error("write error not reported")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestParseFormat(t *testing.T) {
	for s, want := range map[string]Format{"text": Text, " TXT ": Text, "Markdown": Markdown, "md": Markdown} {
		if got, err := ParseFormat(s); err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %v, %v", s, got, err)
		}
	}
	if _, err := ParseFormat("html"); err == nil {
		t.Error("html accepted")
	}
	if Text.String() != "text" || Markdown.String() != "markdown" {
		t.Error("Format.String")
	}
}

func TestMarkdownEscapesCells(t *testing.T) {
	rows := []EvalRow{{Model: "a|b *c*", Horizon: "30d", Report: full("30d", 1)}}
	got := render(t, func(b *bytes.Buffer) error { return EvalTable(b, rows, Markdown) })
	if !strings.Contains(got, `| a\|b \*c\* |`) {
		t.Errorf("model name not escaped:\n%s", got)
	}
	// Every table line has the same number of unescaped pipes.
	for _, l := range strings.Split(got, "\n")[:3] {
		if n := strings.Count(l, "|") - strings.Count(l, `\|`); n != 13 {
			t.Errorf("%d cell separators in %q, want 13", n, l)
		}
	}
}

func TestBestIndex(t *testing.T) {
	vals := []*float64{f(0.30004), nil, f(0.29996), f(0.4)}
	// At 4 decimals the first and third print as 0.3000: both best.
	got := bestIndex(vals, lowerBetter, 4)
	if !got[0] || got[1] || !got[2] || got[3] {
		t.Errorf("lower, 4 digits: %v", got)
	}
	got = bestIndex(vals, lowerBetter, 5)
	if got[0] || !got[2] {
		t.Errorf("lower, 5 digits: %v", got)
	}
	got = bestIndex(vals, higherBetter, 4)
	if !got[3] || got[0] {
		t.Errorf("higher: %v", got)
	}
	if got := bestIndex([]*float64{f(1), nil}, lowerBetter, 4); got[0] {
		t.Error("a single value was marked best")
	}
	if got := bestIndex(vals, noBest, 4); got[0] || got[2] || got[3] {
		t.Error("noBest marked a value")
	}
}
