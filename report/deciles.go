package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/odmn/odmn/metrics"
)

// ModelEval is the multi-horizon evaluation of one model (or one decode of
// a model): a name such as "ODMN EV" and its [metrics.MultiReport].
type ModelEval struct {
	Model string
	Multi metrics.MultiReport
}

// Rows flattens evaluations into table rows, one per model and horizon,
// models in the order given.
func Rows(evals []ModelEval) []EvalRow {
	var out []EvalRow
	for _, e := range evals {
		for _, r := range e.Multi.Horizons {
			out = append(out, EvalRow{Model: e.Model, Horizon: r.Horizon, Report: r})
		}
	}
	return out
}

// DecileTable writes the decile table of one row: users sorted by prediction
// descending (decile 1 = highest predictions, as the paper's Lorenz curve),
// with per decile the users, mean label, mean prediction, their ratio
// (calibration: 1 is perfect), the decile's share of the total label and
// the cumulative share (the gain curve at each decile), and the prediction
// range. The report's "deciles" notes follow the table. ErrNoData if the
// report has no deciles.
func DecileTable(w io.Writer, row EvalRow, format Format, opts ...Option) error {
	if err := format.valid(); err != nil {
		return err
	}
	ds := row.Report.Deciles
	if len(ds) == 0 {
		return fmt.Errorf("%w: no deciles for %s at %s", ErrNoData, row.Model, row.Horizon)
	}
	cfg := newTableConfig(opts)
	var total float64
	for _, d := range ds {
		if d.MeanLabel != nil {
			total += float64(d.Count) * *d.MeanLabel
		}
	}
	t := &table{head: []string{"Decile", "Users", "Mean label", "Mean pred", "Pred/label", "Label share", "Cum. share", "Min pred", "Max pred"}}
	var cum float64
	for _, d := range ds {
		var ratio, share, cumShare *float64
		if d.MeanLabel != nil && d.MeanPred != nil && *d.MeanLabel != 0 {
			ratio = ptr(*d.MeanPred / *d.MeanLabel)
		}
		if d.MeanLabel != nil && total > 0 {
			s := float64(d.Count) * *d.MeanLabel / total
			cum += s
			share, cumShare = ptr(s), ptr(cum)
		}
		t.rows = append(t.rows, []cell{
			{text: strconv.Itoa(d.Decile), num: true, plain: true},
			{text: strconv.Itoa(d.Count), num: true, plain: true},
			valueCell(d.MeanLabel, cfg.digits, false),
			valueCell(d.MeanPred, cfg.digits, false),
			valueCell(ratio, cfg.digits, false),
			valueCell(share, cfg.digits, false),
			valueCell(cumShare, cfg.digits, false),
			valueCell(d.MinPred, cfg.digits, false),
			valueCell(d.MaxPred, cfg.digits, false),
		})
	}
	title := fmt.Sprintf("Deciles of %s at %s (decile 1 = highest predictions; n = %d)", row.Model, row.Horizon, row.Report.N)
	if format == Markdown {
		title = "**" + mdEscape(title) + "**"
	}
	if _, err := io.WriteString(w, title+"\n\n"); err != nil {
		return err
	}
	if err := t.write(w, format); err != nil {
		return err
	}
	var notes []string
	for _, n := range row.Report.Notes {
		if strings.HasPrefix(n, "deciles:") {
			notes = append(notes, n)
		}
	}
	var fn footnotes
	fn.ref(notes)
	return writeFooter(w, format, nil, &fn)
}

// MonotonicityLines writes one line per model with its monotonicity
// violation rate: the share of users whose prediction falls from one
// horizon to the next by more than the tolerance. The labels' rate (which
// should be 0, labels being cumulative) is shown beside it. ErrNoData on
// no models.
func MonotonicityLines(w io.Writer, evals []ModelEval, format Format, opts ...Option) error {
	if err := format.valid(); err != nil {
		return err
	}
	if len(evals) == 0 {
		return fmt.Errorf("%w: no models", ErrNoData)
	}
	cfg := newTableConfig(opts)
	width := 0
	for _, e := range evals {
		width = max(width, len([]rune(e.Model)))
	}
	var b strings.Builder
	b.WriteString("Monotonicity violation rate (share of users whose prediction falls from a horizon to the next by more than tol):\n")
	if format == Markdown {
		b.WriteString("\n")
	}
	rates := make([]string, len(evals))
	rw := 0
	for i, e := range evals {
		rates[i] = valueCell(e.Multi.MonotonicityViolationRate, cfg.digits, false).text
		rw = max(rw, len(rates[i]))
	}
	for i, e := range evals {
		m := e.Multi
		rate := rates[i]
		if format == Text {
			rate = strings.Repeat(" ", rw-len(rate)) + rate
		}
		lab := valueCell(m.LabelMonotonicityViolationRate, cfg.digits, false).text
		detail := fmt.Sprintf("(tol %s, %d horizons; labels %s)", strconv.FormatFloat(m.MonotonicityTol, 'g', -1, 64), m.T, lab)
		if m.LabelMonotonicityViolationRate != nil && *m.LabelMonotonicityViolationRate > 0 {
			detail += " labels decrease between horizons: bad input"
		}
		if format == Markdown {
			fmt.Fprintf(&b, "- %s: %s %s\n", mdEscape(e.Model), rate, mdEscape(detail))
		} else {
			fmt.Fprintf(&b, "  %s%s  %s  %s\n", e.Model, strings.Repeat(" ", width-len([]rune(e.Model))), rate, detail)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func ptr(v float64) *float64 { return &v }
