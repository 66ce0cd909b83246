package report

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/odmn/odmn/metrics"
)

// ErrNoData is returned by every renderer and plot given nothing to show.
// Plots return it before any file is created.
var ErrNoData = errors.New("report: nothing to render")

// Format selects the syntax of a table.
type Format int

const (
	// Text is plain text with aligned columns, for a terminal.
	Text Format = iota
	// Markdown is a GitHub-flavoured Markdown table.
	Markdown
)

// String returns "text" or "markdown".
func (f Format) String() string {
	switch f {
	case Text:
		return "text"
	case Markdown:
		return "markdown"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// ParseFormat accepts "text", "txt", "markdown" and "md" in any case.
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "text", "txt":
		return Text, nil
	case "markdown", "md":
		return Markdown, nil
	}
	return 0, fmt.Errorf("report: unknown table format %q (text or markdown)", s)
}

func (f Format) valid() error {
	if f != Text && f != Markdown {
		return fmt.Errorf("report: unknown table format %d", int(f))
	}
	return nil
}

// EvalRow is one line of an evaluation table: the metrics of one model (or
// one decode of a model, e.g. "ODMN argmax", "ODMN EV", "MSE-MLP") at one
// horizon.
type EvalRow struct {
	Model   string
	Horizon string
	Report  metrics.Report
}

// GroupBy says how a table orders its rows.
type GroupBy int

const (
	// ByHorizon groups the rows of each horizon together, as the paper's
	// tables do (the default).
	ByHorizon GroupBy = iota
	// ByModel groups the rows of each model together.
	ByModel
)

// Option tunes a table.
type Option func(*tableConfig)

type tableConfig struct {
	group    GroupBy
	markBest bool
	digits   int
}

func newTableConfig(opts []Option) tableConfig {
	c := tableConfig{group: ByHorizon, digits: 4}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	return c
}

// Group orders rows by horizon (default) or by model. Within a group, rows
// keep the order in which they were given; groups appear in the order of
// their first row.
func Group(g GroupBy) Option { return func(c *tableConfig) { c.group = g } }

// MarkBest marks the best value of each metric within each horizon: bold in
// Markdown, a trailing '*' in text. Lower is better for NRMSE, NMAE, AMBE and
// Mutual Gini, higher for the normalized Gini and Spearman. Gini* (of the
// predictions), the label Gini and the means are never marked: the paper
// says Gini is not a performance measure. Values are compared as printed,
// so values equal at the printed precision are all marked; a metric is
// marked only where at least two rows of the horizon have a value.
func MarkBest() Option { return func(c *tableConfig) { c.markBest = true } }

// Digits sets the number of decimals printed (default 4, as the paper;
// clamped to 0..12).
func Digits(d int) Option {
	return func(c *tableConfig) { c.digits = min(max(d, 0), 12) }
}

// better says which direction of a metric is better.
type better int

const (
	noBest better = iota
	lowerBetter
	higherBetter
)

// metricCol is one metric column of the evaluation tables.
type metricCol struct {
	head   string
	better better
	get    func(*metrics.Report) *float64
	agg    func(*AggRow) *Stat
}

// evalCols lists the columns in the order of the paper's Table 1 (NRMSE,
// NMAE, AMBE, Mutual Gini, Gini*), then the extras.
var evalCols = []metricCol{
	{"NRMSE", lowerBetter, func(r *metrics.Report) *float64 { return r.NRMSE }, func(a *AggRow) *Stat { return &a.NRMSE }},
	{"NMAE", lowerBetter, func(r *metrics.Report) *float64 { return r.NMAE }, func(a *AggRow) *Stat { return &a.NMAE }},
	{"AMBE", lowerBetter, func(r *metrics.Report) *float64 { return r.AMBE }, func(a *AggRow) *Stat { return &a.AMBE }},
	{"Mutual Gini", lowerBetter, func(r *metrics.Report) *float64 { return r.MutualGini }, func(a *AggRow) *Stat { return &a.MutualGini }},
	{"Gini*", noBest, func(r *metrics.Report) *float64 { return r.GiniPred }, func(a *AggRow) *Stat { return &a.GiniPred }},
	{"Label Gini", noBest, func(r *metrics.Report) *float64 { return r.GiniLabel }, func(a *AggRow) *Stat { return &a.GiniLabel }},
	{"Norm. Gini", higherBetter, func(r *metrics.Report) *float64 { return r.NormalizedGini }, func(a *AggRow) *Stat { return &a.NormalizedGini }},
	{"Spearman", higherBetter, func(r *metrics.Report) *float64 { return r.Spearman }, func(a *AggRow) *Stat { return &a.Spearman }},
	{"Pred mean", noBest, func(r *metrics.Report) *float64 { return r.PredMean }, func(a *AggRow) *Stat { return &a.PredMean }},
	{"Label mean", noBest, func(r *metrics.Report) *float64 { return r.LabelMean }, func(a *AggRow) *Stat { return &a.LabelMean }},
}

const (
	legendGini = "Gini* = Gini of the predictions; like the paper (Table 1) we show it but it is not a performance measure. Norm. Gini = normalized model Gini (ZILN)."
	legendBest = "best of its horizon: lowest NRMSE, NMAE, AMBE, Mutual Gini; highest Norm. Gini, Spearman"
	naText     = "n/a"
)

// fmtNum prints v with d decimals, without a sign on a value that rounds to
// zero.
func fmtNum(v float64, d int) string {
	s := strconv.FormatFloat(v, 'f', d, 64)
	if strings.HasPrefix(s, "-") && strings.Trim(s[1:], "0.") == "" {
		s = s[1:]
	}
	return s
}

// rounded is v as printed with d decimals, for comparing displayed values.
func rounded(v float64, d int) float64 {
	x, err := strconv.ParseFloat(fmtNum(v, d), 64)
	if err != nil {
		return v
	}
	return x
}

// bestIndex returns, for the values vals (nil = missing) of one metric in one
// horizon, which of them are best. Nothing is best with fewer than two values.
func bestIndex(vals []*float64, b better, digits int) []bool {
	out := make([]bool, len(vals))
	if b == noBest {
		return out
	}
	best, have := 0.0, 0
	for _, v := range vals {
		if v == nil || math.IsNaN(*v) {
			continue
		}
		x := rounded(*v, digits)
		if have == 0 || (b == lowerBetter && x < best) || (b == higherBetter && x > best) {
			best = x
		}
		have++
	}
	if have < 2 {
		return out
	}
	for i, v := range vals {
		out[i] = v != nil && !math.IsNaN(*v) && rounded(*v, digits) == best
	}
	return out
}

// order returns the indices of keys grouped by group key (groups in order of
// first appearance, members in input order).
func order(n int, groupKey func(i int) string) []int {
	var keys []string
	members := map[string][]int{}
	for i := range n {
		k := groupKey(i)
		if _, ok := members[k]; !ok {
			keys = append(keys, k)
		}
		members[k] = append(members[k], i)
	}
	out := make([]int, 0, n)
	for _, k := range keys {
		out = append(out, members[k]...)
	}
	return out
}

// footnotes numbers distinct note sets, so that rows with the same notes
// (e.g. every model on the same all-zero labels) share a footnote.
type footnotes struct {
	keys  map[string]int
	notes [][]string
}

func (f *footnotes) ref(notes []string) int {
	if len(notes) == 0 {
		return 0
	}
	k := strings.Join(notes, "\x00")
	if f.keys == nil {
		f.keys = map[string]int{}
	}
	if n, ok := f.keys[k]; ok {
		return n
	}
	f.notes = append(f.notes, notes)
	f.keys[k] = len(f.notes)
	return len(f.notes)
}

func refSuffix(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(" [%d]", n)
}

// cell is one table cell.
type cell struct {
	text  string
	num   bool // right-aligned
	bold  bool // best value
	plain bool // text known to need no Markdown escaping
}

// table is a grid of cells to render as text or Markdown.
type table struct {
	head   []string
	rows   [][]cell
	blank  []bool // text: print the first column only on a group's first row
	marked bool   // some cell may be bold: pad text numbers for the '*'
}

// write renders t in format f.
func (t *table) write(w io.Writer, f Format) error {
	texts := make([][]string, len(t.rows))
	for i, r := range t.rows {
		texts[i] = make([]string, len(r))
		for j, c := range r {
			s := c.text
			switch f {
			case Markdown:
				if !c.plain {
					s = mdEscape(s)
				}
				if c.bold {
					s = "**" + s + "**"
				}
			case Text:
				if j == 0 && i < len(t.blank) && t.blank[i] {
					s = ""
				}
				if c.num && t.marked {
					if c.bold {
						s += "*"
					} else {
						s += " "
					}
				}
			}
			texts[i][j] = s
		}
	}
	num := make([]bool, len(t.head))
	for j := range t.head {
		for _, r := range t.rows {
			if r[j].num {
				num[j] = true
			}
		}
	}
	head := make([]string, len(t.head))
	for j, h := range t.head {
		head[j] = h
		switch {
		case f == Markdown:
			head[j] = mdEscape(h)
		case num[j] && t.marked:
			head[j] = h + " " // line up with the digits, not the '*'
		}
	}
	width := make([]int, len(t.head))
	for j, h := range head {
		width[j] = max(utf8.RuneCountInString(h), 3)
	}
	for _, r := range texts {
		for j, s := range r {
			width[j] = max(width[j], utf8.RuneCountInString(s))
		}
	}
	var b strings.Builder
	line := func(cells []string) {
		var l strings.Builder
		for j, s := range cells {
			pad := strings.Repeat(" ", width[j]-utf8.RuneCountInString(s))
			switch {
			case f == Markdown:
				l.WriteString("| ")
			case j > 0:
				l.WriteString("  ")
			}
			if num[j] {
				l.WriteString(pad + s)
			} else {
				l.WriteString(s + pad)
			}
			if f == Markdown {
				l.WriteString(" ")
			}
		}
		if f == Markdown {
			l.WriteString("|")
		}
		// Text lines carry no trailing blanks.
		b.WriteString(strings.TrimRight(l.String(), " "))
		b.WriteString("\n")
	}
	line(head)
	rule := make([]string, len(t.head))
	for j := range t.head {
		switch {
		case f == Text:
			rule[j] = strings.Repeat("-", width[j])
		case num[j]:
			rule[j] = strings.Repeat("-", width[j]-1) + ":"
		default:
			rule[j] = ":" + strings.Repeat("-", width[j]-1)
		}
	}
	line(rule)
	for _, r := range texts {
		line(r)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// mdEscape escapes the characters that Markdown would interpret in a table
// cell or list item.
func mdEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '\\', '`', '*', '_', '|', '<', '>', '[', ']':
			b.WriteByte('\\')
		case '\n':
			b.WriteByte(' ')
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// writeFooter prints the legend lines and the numbered notes.
func writeFooter(w io.Writer, f Format, legend []string, fn *footnotes) error {
	var b strings.Builder
	if len(legend) > 0 || len(fn.notes) > 0 {
		b.WriteString("\n")
	}
	for _, l := range legend {
		if f == Markdown {
			b.WriteString(mdEscape(l) + "  \n")
		} else {
			b.WriteString(l + "\n")
		}
	}
	if len(fn.notes) > 0 {
		if len(legend) > 0 && f == Markdown {
			b.WriteString("\n")
		}
		b.WriteString("Notes (" + naText + " = undefined for this input):\n")
		if f == Markdown {
			b.WriteString("\n")
		}
		for i, notes := range fn.notes {
			if f == Markdown {
				esc := make([]string, len(notes))
				for k, n := range notes {
					esc[k] = mdEscape(n)
				}
				fmt.Fprintf(&b, "- \\[%d\\] %s\n", i+1, strings.Join(esc, "; "))
				continue
			}
			pfx := fmt.Sprintf("[%d] ", i+1)
			for k, n := range notes {
				if k == 0 {
					b.WriteString(pfx + n + "\n")
				} else {
					b.WriteString(strings.Repeat(" ", len(pfx)) + n + "\n")
				}
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// valueCell formats one metric value.
func valueCell(v *float64, digits int, bold bool) cell {
	if v == nil || math.IsNaN(*v) || math.IsInf(*v, 0) {
		return cell{text: naText, num: true, plain: true}
	}
	return cell{text: fmtNum(*v, digits), num: true, bold: bold, plain: true}
}

// EvalTable writes rows as a table in the paper's Table 1 column order
// (NRMSE, NMAE, AMBE, Mutual Gini, Gini*) followed by the label Gini, the
// normalized model Gini, Spearman and the prediction and label means. Rows
// are grouped by horizon unless [Group](ByModel) is given; [MarkBest] marks
// the best value per horizon and metric; [Digits] sets the precision. A null
// metric prints as "n/a" and the row's Model cell gets a footnote number;
// the footnotes below the table list the report's notes (rows with the same
// notes share one). It fails with ErrNoData on no rows.
func EvalTable(w io.Writer, rows []EvalRow, format Format, opts ...Option) error {
	if err := format.valid(); err != nil {
		return err
	}
	if len(rows) == 0 {
		return fmt.Errorf("%w: no evaluation rows", ErrNoData)
	}
	cfg := newTableConfig(opts)
	values := func(i, c int) *float64 { return evalCols[c].get(&rows[i].Report) }
	best := bestMarks(len(rows), func(i int) string { return rows[i].Horizon }, values, cfg)

	t := &table{marked: cfg.markBest}
	first, second := "Horizon", "Model"
	if cfg.group == ByModel {
		first, second = second, first
	}
	t.head = append([]string{first, second}, colHeads()...)
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
		other.text += refSuffix(fn.ref(r.Report.Notes))
		gk := groupKey(cfg.group, r.Model, r.Horizon)
		t.blank = append(t.blank, k > 0 && gk == prev)
		prev = gk
		line := []cell{key, other}
		for c := range evalCols {
			line = append(line, valueCell(values(i, c), cfg.digits, best[i][c]))
		}
		t.rows = append(t.rows, line)
	}
	if err := t.write(w, format); err != nil {
		return err
	}
	legend := []string{legendGini}
	if cfg.markBest {
		legend = append(legend, bestLegend(format, ""))
	}
	return writeFooter(w, format, legend, &fn)
}

func bestLegend(f Format, extra string) string {
	if f == Markdown {
		return "Bold: " + legendBest + extra + "."
	}
	return "* after a value: " + legendBest + extra + "."
}

func colHeads() []string {
	h := make([]string, len(evalCols))
	for i, c := range evalCols {
		h[i] = c.head
	}
	return h
}

// groupKey is the key a row is grouped by.
func groupKey(g GroupBy, model, horizon string) string {
	if g == ByModel {
		return model
	}
	return horizon
}

// bestMarks computes, for n rows with the given horizons and metric values,
// which cells are the best of their horizon.
func bestMarks(n int, horizon func(i int) string, value func(i, c int) *float64, cfg tableConfig) [][]bool {
	out := make([][]bool, n)
	for i := range out {
		out[i] = make([]bool, len(evalCols))
	}
	if !cfg.markBest {
		return out
	}
	groups := map[string][]int{}
	var keys []string
	for i := range n {
		h := horizon(i)
		if _, ok := groups[h]; !ok {
			keys = append(keys, h)
		}
		groups[h] = append(groups[h], i)
	}
	for _, h := range keys {
		members := groups[h]
		for c, col := range evalCols {
			vals := make([]*float64, len(members))
			for k, i := range members {
				vals[k] = value(i, c)
			}
			for k, b := range bestIndex(vals, col.better, cfg.digits) {
				out[members[k]][c] = b
			}
		}
	}
	return out
}
