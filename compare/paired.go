package compare

import (
	"fmt"
	"io"
	"strings"

	"github.com/odmn/odmn/metrics"
)

// Paired compares one prediction with another seed by seed: every seed
// evaluates both on the same held-out users, so the per-seed difference
// removes the variation of the test set that the ± of the tables carries.
type Paired struct {
	Model   string `json:"model"`   // e.g. "ODMN EV"
	Against string `json:"against"` // e.g. "ZILN"
	Horizon string `json:"horizon"`
	// Metrics in table order: NRMSE, NMAE, AMBE, Mutual Gini, Norm. Gini,
	// Spearman.
	Metrics []PairedMetric `json:"metrics"`
}

// PairedMetric is one metric of a [Paired] comparison.
type PairedMetric struct {
	Metric string `json:"metric"`
	// Better is the number of seeds in which Model is strictly better
	// (lower NRMSE, NMAE, AMBE, Mutual Gini; higher Norm. Gini, Spearman),
	// out of N seeds where both have a value.
	Better int `json:"better"`
	N      int `json:"n"`
	// MeanDiff is the mean over those seeds of Model - Against.
	MeanDiff *float64 `json:"mean_diff"`
}

// pairedMetrics are the compared metrics and whether higher is better.
var pairedMetrics = []struct {
	name   string
	higher bool
	get    func(*metrics.Report) *float64
}{
	{"NRMSE", false, func(r *metrics.Report) *float64 { return r.NRMSE }},
	{"NMAE", false, func(r *metrics.Report) *float64 { return r.NMAE }},
	{"AMBE", false, func(r *metrics.Report) *float64 { return r.AMBE }},
	{"Mutual Gini", false, func(r *metrics.Report) *float64 { return r.MutualGini }},
	{"Norm. Gini", true, func(r *metrics.Report) *float64 { return r.NormalizedGini }},
	{"Spearman", true, func(r *metrics.Report) *float64 { return r.Spearman }},
}

// pairs are the compared predictions: ODMN's EV decode against every
// mean-type baseline, its argmax decode against Two-Stage's hard rule.
var pairs = [][2]string{
	{"ODMN EV", "Two-Stage"}, {"ODMN EV", "ZILN"}, {"ODMN EV", "MSE-MLP"},
	{"ODMN argmax", "Two-Stage hard"},
	{"ODMN QM", "Two-Stage QM"}, {"ODMN QM", "ZILN QM"}, {"ODMN QM", "MSE-MLP QM"},
}

// paired builds the paired comparisons of the runs (those whose two
// predictions both ran).
func (r *Result) paired() []Paired {
	type key struct {
		seed uint64
		name string
	}
	evals := map[key]*metrics.MultiReport{}
	for i := range r.Runs {
		for j := range r.Runs[i].Evals {
			e := &r.Runs[i].Evals[j]
			evals[key{r.Runs[i].Seed, e.Name}] = &e.Report
		}
	}
	var out []Paired
	for _, p := range pairs {
		var horizons []string
		for _, s := range r.Seeds {
			if a, b := evals[key{s, p[0]}], evals[key{s, p[1]}]; a != nil && b != nil {
				for _, h := range a.Horizons {
					horizons = append(horizons, h.Horizon)
				}
				break
			}
		}
		for hi, h := range horizons {
			pr := Paired{Model: p[0], Against: p[1], Horizon: h}
			for _, m := range pairedMetrics {
				pm := PairedMetric{Metric: m.name}
				sum := 0.0
				for _, s := range r.Seeds {
					a, b := evals[key{s, p[0]}], evals[key{s, p[1]}]
					if a == nil || b == nil || hi >= len(a.Horizons) || hi >= len(b.Horizons) {
						continue
					}
					va, vb := m.get(&a.Horizons[hi]), m.get(&b.Horizons[hi])
					if va == nil || vb == nil {
						continue
					}
					pm.N++
					d := *va - *vb
					sum += d
					if (m.higher && d > 0) || (!m.higher && d < 0) {
						pm.Better++
					}
				}
				if pm.N > 0 {
					d := sum / float64(pm.N)
					pm.MeanDiff = &d
				}
				pr.Metrics = append(pr.Metrics, pm)
			}
			out = append(out, pr)
		}
	}
	return out
}

// WritePaired writes the paired comparisons as a Markdown table (also
// readable as text): per baseline and horizon, for every metric, the seeds
// in which the ODMN decode is better and the mean difference.
func (r *Result) WritePaired(w io.Writer) error {
	if len(r.Paired) == 0 {
		return nil
	}
	var b strings.Builder
	head := []string{"ODMN", "vs", "Horizon"}
	for _, m := range pairedMetrics {
		head = append(head, m.name)
	}
	rows := [][]string{}
	prev := ""
	for _, p := range r.Paired {
		model, against := p.Model, p.Against
		if model+against == prev {
			model, against = "", ""
		} else {
			prev = model + against
		}
		row := []string{model, against, p.Horizon}
		for _, m := range p.Metrics {
			cell := "n/a"
			if m.MeanDiff != nil {
				cell = fmt.Sprintf("%d/%d (%+.4f)", m.Better, m.N, *m.MeanDiff)
			}
			row = append(row, cell)
		}
		rows = append(rows, row)
	}
	width := make([]int, len(head))
	for j, h := range head {
		width[j] = len(h)
		for _, row := range rows {
			width[j] = max(width[j], len(row[j]))
		}
	}
	line := func(cells []string) {
		for j, c := range cells {
			if j < 3 {
				fmt.Fprintf(&b, "| %-*s ", width[j], c)
			} else {
				fmt.Fprintf(&b, "| %*s ", width[j], c)
			}
		}
		b.WriteString("|\n")
	}
	line(head)
	rule := make([]string, len(head))
	for j := range head {
		if j < 3 {
			rule[j] = ":" + strings.Repeat("-", width[j]-1)
		} else {
			rule[j] = strings.Repeat("-", width[j]-1) + ":"
		}
	}
	line(rule)
	for _, row := range rows {
		line(row)
	}
	b.WriteString("\nCells: seeds in which the ODMN decode is better (lower NRMSE, NMAE, AMBE, Mutual Gini; higher Norm. Gini, Spearman) of the seeds compared, and in parentheses the mean over seeds of ODMN minus the baseline. Each seed evaluates both on the same held-out users.\n")
	_, err := io.WriteString(w, b.String())
	return err
}
