package report

import (
	"fmt"
	"io"
	"math"
	"strconv"
)

// MeanStd summarizes values over seeds as [Aggregate] does: the mean and
// the sample standard deviation (n-1), skipping NaN and infinite values;
// null mean for no values, null std for fewer than two.
func MeanStd(vals []float64) Stat {
	keep := make([]float64, 0, len(vals))
	for _, v := range vals {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			keep = append(keep, v)
		}
	}
	return meanStd(keep)
}

// AggMono is the monotonicity violation rate of one model over seeds: the
// share of users whose prediction falls from a horizon to the next
// (metrics.MultiReport.MonotonicityViolationRate).
type AggMono struct {
	Model string `json:"model"`
	// Seeds is the number of seeds that evaluated the model.
	Seeds int `json:"seeds"`
	// Rate is over the seeds with a rate (none for a single horizon).
	Rate Stat `json:"rate"`
	// LabelRate is the labels' rate, 0 for cumulative labels.
	LabelRate Stat `json:"label_rate"`
}

// AggregateMonotonicity computes the mean and sample standard deviation of
// every model's monotonicity violation rate over seeds (evalsBySeed[s]
// holds the evaluations of seed s; models are matched by name and come out
// in order of first appearance). ErrNoData on no evaluations.
func AggregateMonotonicity(evalsBySeed [][]ModelEval) ([]AggMono, error) {
	var names []string
	rates := map[string][]float64{}
	labels := map[string][]float64{}
	seeds := map[string]int{}
	for _, evals := range evalsBySeed {
		for _, e := range evals {
			if _, ok := seeds[e.Model]; !ok {
				names = append(names, e.Model)
			}
			seeds[e.Model]++
			if r := e.Multi.MonotonicityViolationRate; r != nil {
				rates[e.Model] = append(rates[e.Model], *r)
			}
			if r := e.Multi.LabelMonotonicityViolationRate; r != nil {
				labels[e.Model] = append(labels[e.Model], *r)
			}
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%w: no evaluations", ErrNoData)
	}
	out := make([]AggMono, len(names))
	for i, n := range names {
		out[i] = AggMono{Model: n, Seeds: seeds[n], Rate: MeanStd(rates[n]), LabelRate: MeanStd(labels[n])}
	}
	return out, nil
}

// AggMonoTable writes the monotonicity violation rates of rows as a table:
// Model, Seeds, the models' rate and the labels' rate, each "mean ± std"
// over seeds. [MarkBest] marks the lowest mean rate (of at least two
// models with one); [Digits] sets the precision. ErrNoData on no rows.
func AggMonoTable(w io.Writer, rows []AggMono, format Format, opts ...Option) error {
	if err := format.valid(); err != nil {
		return err
	}
	if len(rows) == 0 {
		return fmt.Errorf("%w: no monotonicity rows", ErrNoData)
	}
	cfg := newTableConfig(opts)
	vals := make([]*float64, len(rows))
	for i := range rows {
		vals[i] = rows[i].Rate.Mean
	}
	best := make([]bool, len(rows))
	if cfg.markBest {
		best = bestIndex(vals, lowerBetter, cfg.digits)
	}
	t := &table{marked: cfg.markBest, head: []string{"Model", "Seeds", "Violation rate", "Labels"}}
	for i, r := range rows {
		t.rows = append(t.rows, []cell{{text: r.Model}, {text: strconv.Itoa(r.Seeds), num: true, plain: true},
			statCell(r.Rate, cfg.digits, best[i]), statCell(r.LabelRate, cfg.digits, false)})
	}
	if err := t.write(w, format); err != nil {
		return err
	}
	legend := []string{"Violation rate: share of users whose prediction falls from one horizon to the next (mean ± sample standard deviation over seeds); labels are cumulative, so theirs is 0."}
	if cfg.markBest {
		if format == Markdown {
			legend = append(legend, "Bold: lowest rate.")
		} else {
			legend = append(legend, "* after a value: lowest rate.")
		}
	}
	return writeFooter(w, format, legend, &footnotes{})
}
