package report

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// ErrDuplicate is returned by [Aggregate] when one seed has two rows with
// the same model and horizon.
var ErrDuplicate = errors.New("report: duplicate row")

// Stat summarizes one metric over seeds.
type Stat struct {
	// Mean over the seeds with a value; null when no seed has one.
	Mean *float64 `json:"mean"`
	// Std is the sample standard deviation (n-1 in the denominator) over the
	// same seeds; null with fewer than two values.
	Std *float64 `json:"std"`
	// N is the number of seeds with a (non-null) value.
	N int `json:"n"`
}

// AggRow is the mean ± std of one model at one horizon over seeds.
type AggRow struct {
	Model   string `json:"model"`
	Horizon string `json:"horizon"`
	// Seeds is the number of seeds that have this row.
	Seeds int `json:"seeds"`

	NRMSE          Stat `json:"nrmse"`
	NMAE           Stat `json:"nmae"`
	AMBE           Stat `json:"ambe"`
	MutualGini     Stat `json:"mutual_gini"`
	GiniPred       Stat `json:"gini_pred"`
	GiniLabel      Stat `json:"gini_label"`
	NormalizedGini Stat `json:"normalized_gini"`
	Spearman       Stat `json:"spearman"`
	PredMean       Stat `json:"pred_mean"`
	LabelMean      Stat `json:"label_mean"`

	// Notes says which seeds lack the row or a metric, and lists the distinct
	// notes of the seeds' reports with the seeds (1-based) they come from.
	Notes []string `json:"notes,omitempty"`
}

// Aggregate computes the mean and sample standard deviation of every metric
// of every (model, horizon) over seeds: rowsBySeed[s] holds the rows of
// seed s. Rows are matched by model and horizon; a row missing from some
// seeds, or a metric null in some, is aggregated over the seeds that have it
// and a note says so. Rows come out in order of first appearance (seed 0
// first). It fails with ErrDuplicate if a seed has two rows with the same
// model and horizon, and with ErrNoData if there are no rows at all.
func Aggregate(rowsBySeed [][]EvalRow) ([]AggRow, error) {
	type key struct{ model, horizon string }
	type acc struct {
		seeds []int
		rows  []*EvalRow
	}
	var keys []key
	accs := map[key]*acc{}
	for s, rows := range rowsBySeed {
		seen := map[key]bool{}
		for i := range rows {
			k := key{rows[i].Model, rows[i].Horizon}
			if seen[k] {
				return nil, fmt.Errorf("%w: seed %d has model %q at horizon %q twice", ErrDuplicate, s+1, k.model, k.horizon)
			}
			seen[k] = true
			a := accs[k]
			if a == nil {
				a = &acc{}
				accs[k] = a
				keys = append(keys, k)
			}
			a.seeds = append(a.seeds, s+1)
			a.rows = append(a.rows, &rows[i])
		}
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: no evaluation rows in %d seeds", ErrNoData, len(rowsBySeed))
	}
	out := make([]AggRow, len(keys))
	for j, k := range keys {
		a := accs[k]
		r := AggRow{Model: k.model, Horizon: k.horizon, Seeds: len(a.rows)}
		if r.Seeds < len(rowsBySeed) {
			r.Notes = append(r.Notes, fmt.Sprintf("row present in %d of %d seeds (%s)", r.Seeds, len(rowsBySeed), seedList(a.seeds)))
		}
		for _, col := range evalCols {
			vals := make([]float64, 0, len(a.rows))
			for _, er := range a.rows {
				if v := col.get(&er.Report); v != nil && !math.IsNaN(*v) && !math.IsInf(*v, 0) {
					vals = append(vals, *v)
				}
			}
			st := meanStd(vals)
			*col.agg(&r) = st
			if st.N < r.Seeds {
				if st.N == 0 {
					r.Notes = append(r.Notes, fmt.Sprintf("%s: null in all %d seeds", col.head, r.Seeds))
				} else {
					r.Notes = append(r.Notes, fmt.Sprintf("%s: a value in %d of %d seeds; mean and std over those", col.head, st.N, r.Seeds))
				}
			}
		}
		// Distinct report notes with the seeds they come from.
		var notes []string
		from := map[string][]int{}
		for i, er := range a.rows {
			for _, n := range er.Report.Notes {
				if _, ok := from[n]; !ok {
					notes = append(notes, n)
				}
				if s := from[n]; len(s) == 0 || s[len(s)-1] != a.seeds[i] {
					from[n] = append(from[n], a.seeds[i])
				}
			}
		}
		for _, n := range notes {
			r.Notes = append(r.Notes, fmt.Sprintf("%s: %s", seedList(from[n]), n))
		}
		out[j] = r
	}
	return out, nil
}

// seedList names 1-based seeds: "seed 2", "seeds 1, 3".
func seedList(s []int) string {
	parts := make([]string, len(s))
	for i, x := range s {
		parts[i] = strconv.Itoa(x)
	}
	if len(s) == 1 {
		return "seed " + parts[0]
	}
	return "seeds " + strings.Join(parts, ", ")
}

// meanStd returns the mean and the sample standard deviation of vals
// (two passes; null std for fewer than two values, null mean for none).
func meanStd(vals []float64) Stat {
	st := Stat{N: len(vals)}
	if len(vals) == 0 {
		return st
	}
	var sum float64
	for _, v := range vals {
		sum += v
	}
	m := sum / float64(len(vals))
	if math.IsInf(m, 0) || math.IsNaN(m) {
		return Stat{N: len(vals)}
	}
	st.Mean = &m
	if len(vals) < 2 {
		return st
	}
	var ss float64
	for _, v := range vals {
		d := v - m
		ss += d * d
	}
	sd := math.Sqrt(ss / float64(len(vals)-1))
	if !math.IsInf(sd, 0) && !math.IsNaN(sd) {
		st.Std = &sd
	}
	return st
}

// statCell prints "mean ± std"; "n/a" for no mean, "mean ± n/a" for a single
// seed.
func statCell(s Stat, digits int, bold bool) cell {
	if s.Mean == nil {
		return cell{text: naText, num: true, plain: true}
	}
	std := naText
	if s.Std != nil {
		std = fmtNum(*s.Std, digits)
	}
	return cell{text: fmtNum(*s.Mean, digits) + " ± " + std, num: true, bold: bold, plain: true}
}

// AggTable writes aggregated rows as [EvalTable] does, each cell as
// "mean ± std" over seeds, with a Seeds column. [MarkBest] compares the
// means; the rows' notes become footnotes.
func AggTable(w io.Writer, rows []AggRow, format Format, opts ...Option) error {
	if err := format.valid(); err != nil {
		return err
	}
	if len(rows) == 0 {
		return fmt.Errorf("%w: no aggregated rows", ErrNoData)
	}
	cfg := newTableConfig(opts)
	values := func(i, c int) *float64 { return evalCols[c].agg(&rows[i]).Mean }
	best := bestMarks(len(rows), func(i int) string { return rows[i].Horizon }, values, cfg)
	withinNoise(rows, best)

	t := &table{marked: cfg.markBest}
	first, second := "Horizon", "Model"
	if cfg.group == ByModel {
		first, second = second, first
	}
	t.head = append([]string{first, second, "Seeds"}, colHeads()...)
	var fn footnotes
	idx := order(len(rows), func(i int) string { return groupKey(cfg.group, rows[i].Model, rows[i].Horizon) })
	prev := ""
	for k, i := range idx {
		r := &rows[i]
		// The footnote number goes on the second column, which text
		// never blanks.
		key, other := cell{text: r.Horizon}, cell{text: r.Model}
		if cfg.group == ByModel {
			key, other = other, key
		}
		other.text += refSuffix(fn.ref(r.Notes))
		gk := groupKey(cfg.group, r.Model, r.Horizon)
		t.blank = append(t.blank, k > 0 && gk == prev)
		prev = gk
		line := []cell{key, other, {text: strconv.Itoa(r.Seeds), num: true, plain: true}}
		for c := range evalCols {
			line = append(line, statCell(*evalCols[c].agg(r), cfg.digits, best[i][c]))
		}
		t.rows = append(t.rows, line)
	}
	if err := t.write(w, format); err != nil {
		return err
	}
	legend := []string{"Cells: mean ± sample standard deviation over seeds.", legendGini}
	if cfg.markBest {
		legend = append(legend, bestLegend(format, " (by mean), and every value of its horizon within seed noise of it (mean within the larger of the two standard deviations)"))
	}
	return writeFooter(w, format, legend, &fn)
}

// withinNoise extends the best marks of aggregated rows to every row of
// the same horizon whose mean is within seed noise of a best one: within
// the larger of the two standard deviations.
func withinNoise(rows []AggRow, best [][]bool) {
	for c := range evalCols {
		orig := make([]bool, len(rows))
		for i := range rows {
			orig[i] = best[i][c]
		}
		for i := range rows {
			if !orig[i] {
				continue
			}
			b := evalCols[c].agg(&rows[i])
			for k := range rows {
				if best[k][c] || rows[k].Horizon != rows[i].Horizon {
					continue
				}
				o := evalCols[c].agg(&rows[k])
				if o.Mean == nil || b.Mean == nil || b.Std == nil || o.Std == nil {
					continue
				}
				if math.Abs(*o.Mean-*b.Mean) <= math.Max(*b.Std, *o.Std) {
					best[k][c] = true
				}
			}
		}
	}
}
