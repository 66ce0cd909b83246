package score

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"

	"github.com/odmn/odmn/conform"
	"github.com/odmn/odmn/data"
	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/train"
)

// Conformance defaults: label units for the float tolerance, probability
// for the margin.
const (
	DefaultAtol   = 1e-4
	DefaultRtol   = 1e-5
	DefaultMargin = 1e-5
	DefaultRows   = 20000
)

// ConformOptions control Conform.
type ConformOptions struct {
	// Rows is the number of rows to compare, from the top of the data file
	// (0: DefaultRows; negative: every row).
	Rows int
	// Atol and Rtol: float outputs agree when |a-b| <= Atol + Rtol*|ref|
	// (default DefaultAtol, DefaultRtol).
	Atol, Rtol float64
	// Margin: a decode whose top-2 probability margin (of p, or of q within
	// the chosen sub-distribution; the reference's) is below Margin is a
	// tie, which runtimes may break differently; its ltv and indices are
	// reported, not held to agreement (default DefaultMargin).
	Margin float64
	// Runtimes are compared with the reference (default Native,
	// NativeBodies and ORT).
	Runtimes []string
	// Threads is ONNX Runtime's intra-op thread count (0: its default).
	Threads int
	// Batch is the rows per model call (default DefaultBatch).
	Batch int
}

// Disagreement is one decode (row, horizon) on which a runtime and the
// reference chose differently.
type Disagreement struct {
	Runtime           string
	Row               int // 0-based among the compared rows (= data row)
	Horizon           string
	RefSub, RefBucket int64
	Sub, Bucket       int64 // -1 when the runtime has no index outputs
	RefLTV, LTV       float64
	MarginSub         float64 // the reference's top-2 margins
	MarginBucket      float64
	Tie               bool // under the margin: reported, not a failure
}

// Tie is a decode under the margin.
type Tie struct {
	Row                     int
	Horizon                 string
	MarginSub, MarginBucket float64
}

// RuntimeReport is one runtime against the reference.
type RuntimeReport struct {
	Runtime string
	Outputs []conform.Diff
}

// ConformReport is the result of Conform.
type ConformReport struct {
	Model, Data        string
	Rows, Horizons     int
	Atol, Rtol, Margin float64
	Runtimes           []RuntimeReport
	Ties               []Tie
	Disagreements      []Disagreement
}

// Pass reports whether every runtime agrees with the reference within
// tolerance outside ties.
func (r *ConformReport) Pass() bool {
	for _, rr := range r.Runtimes {
		for _, d := range rr.Outputs {
			if !d.OK() {
				return false
			}
		}
	}
	for _, d := range r.Disagreements {
		if !d.Tie {
			return false
		}
	}
	return true
}

// Conform runs the model's reference (the Go training-time forward pass),
// and each of opts.Runtimes on the same rows of the data file, and
// compares every output the runtime and the reference share: ltv (outside
// ties), ltv_ev, the decode indices and margins and the encoded ids when
// the model has them, distributions.
func Conform(m *Model, dataPath string, opts ConformOptions) (*ConformReport, error) {
	if opts.Rows == 0 {
		opts.Rows = DefaultRows
	}
	if opts.Atol == 0 && opts.Rtol == 0 {
		opts.Atol, opts.Rtol = DefaultAtol, DefaultRtol
	}
	if opts.Margin == 0 {
		opts.Margin = DefaultMargin
	}
	if opts.Runtimes == nil {
		opts.Runtimes = []string{Native, NativeBodies, ORT}
	}
	if opts.Batch <= 0 {
		opts.Batch = DefaultBatch
	}
	if m.Bundle == nil {
		return nil, fmt.Errorf("%s: conform needs the Go model: a model directory, or an ONNX file exported by odmn (with %s metadata)", m.Path, train.MetaModel)
	}
	if m.Bundle.Model.Cfg.Variant.Parts().Head != train.HeadMDME {
		return nil, fmt.Errorf("%s: conform compares ODMN decodes; variant %s has none", m.Path, m.Bundle.Model.Cfg.Variant)
	}
	feeder := NewFeeder(m.Inputs)
	tab, err := readRows(dataPath, feeder.Columns(), opts.Rows)
	if err != nil {
		return nil, err
	}
	n := tab.Rows()
	refOpts := m.opts
	refOpts.Indices, refOpts.IDs, refOpts.Distributions = true, true, true
	refSess, err := m.Bundle.ReferenceSession(refOpts)
	if err != nil {
		return nil, err
	}
	defer refSess.Close()
	ref, err := runBatches(n, opts.Batch, func(rows []int) (map[string]*graph.Tensor, error) {
		return refSess.RunTable(subTable(tab, rows))
	})
	if err != nil {
		return nil, fmt.Errorf("reference: %w", err)
	}
	T := ref[train.OutLTV].Shape[1]
	hs := m.HorizonNames(T)
	tol := conform.Tolerance{Atol: opts.Atol, Rtol: opts.Rtol}
	rep := &ConformReport{Model: m.Path, Data: dataPath, Rows: n, Horizons: T, Atol: opts.Atol, Rtol: opts.Rtol, Margin: opts.Margin}

	// Ties, by the reference's margins.
	ms, mb := ref[train.OutMarginSub].F, ref[train.OutMarginBucket].F
	tie := make([]bool, n*T)
	for i := range tie {
		if float64(ms[i]) < opts.Margin || float64(mb[i]) < opts.Margin {
			tie[i] = true
			rep.Ties = append(rep.Ties, Tie{Row: i / T, Horizon: hs[i%T], MarginSub: float64(ms[i]), MarginBucket: float64(mb[i])})
		}
	}

	// ltv is the running maximum of the raw decodes: a tie at one horizon
	// may move every later one.
	tieLTV := append([]bool{}, tie...)
	for i := range tieLTV {
		if i%T > 0 && tieLTV[i-1] {
			tieLTV[i] = true
		}
	}
	allow := decodeAllowances(m.Bundle.Model, ref, m.Outputs, n, T)

	for _, rt := range opts.Runtimes {
		sess, err := m.Session(rt, SessionOptions{Threads: opts.Threads})
		if err != nil {
			return nil, err
		}
		got, err := runBatches(n, opts.Batch, func(rows []int) (map[string]*graph.Tensor, error) {
			feed, err := feeder.Feed(tab, rows)
			if err != nil {
				return nil, err
			}
			return sess.Run(feed)
		})
		sess.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", rt, err)
		}
		rr := RuntimeReport{Runtime: rt}
		for _, name := range m.Outputs {
			want, ok := ref[name]
			if !ok {
				continue
			}
			a, ok := got[name]
			if !ok {
				rr.Outputs = append(rr.Outputs, conform.Missing(name, want))
				continue
			}
			var mask []bool
			switch name {
			case train.OutLTV:
				mask = tieLTV
			case train.OutSub, train.OutBucket:
				mask = tie
			}
			extra := allow[name]
			if name == train.OutFQM {
				extra = fqmAllowance(m.Bundle.Model.Frozen, got[train.OutLTVEV], ref[train.OutLTVEV], n, T)
			}
			rr.Outputs = append(rr.Outputs, conform.CompareWiden(name, a, want, tol, mask, extra))
		}
		rep.Runtimes = append(rep.Runtimes, rr)

		// Decode disagreements: from the index outputs when the runtime
		// has them, else from ltv.
		sub, bucket := got[train.OutSub], got[train.OutBucket]
		lt := got[train.OutLTV]
		for i := 0; i < n*T; i++ {
			rs, rb := ref[train.OutSub].I[i], ref[train.OutBucket].I[i]
			rl, l := float64(ref[train.OutLTV].F[i]), float64(lt.F[i])
			dis := Disagreement{Runtime: rt, Row: i / T, Horizon: hs[i%T], RefSub: rs, RefBucket: rb, Sub: -1, Bucket: -1,
				RefLTV: rl, LTV: l, MarginSub: float64(ms[i]), MarginBucket: float64(mb[i]), Tie: tie[i]}
			differs := false
			if sub != nil && bucket != nil {
				dis.Sub, dis.Bucket = sub.I[i], bucket.I[i]
				differs = dis.Sub != rs || dis.Bucket != rb
			} else {
				differs = !tol.Agree(l, rl)
			}
			if differs {
				rep.Disagreements = append(rep.Disagreements, dis)
			}
		}
	}
	return rep, nil
}

// readRows reads the first limit rows (all when negative) of the file.
func readRows(path string, cols []data.ColumnRequest, limit int) (*data.Table, error) {
	r, err := data.OpenReader(path, cols)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	names := make([]string, len(cols))
	kinds := make([]data.Kind, len(cols))
	for i, c := range cols {
		names[i], kinds[i] = c.Name, c.Kind
	}
	out := data.NewTable(names, kinds)
	for limit < 0 || out.Rows() < limit {
		t, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		k := t.Rows()
		if limit >= 0 {
			k = min(k, limit-out.Rows())
		}
		for i := range cols {
			if kinds[i] == data.Float {
				out.Num[i] = append(out.Num[i], t.Num[i][:k]...)
			} else {
				out.Str[i] = append(out.Str[i], t.Str[i][:k]...)
			}
		}
	}
	if out.Rows() == 0 {
		return nil, fmt.Errorf("%s: no rows", path)
	}
	return out, nil
}

// subTable copies rows of t.
func subTable(t *data.Table, rows []int) *data.Table {
	s := data.NewTable(t.Names, t.Kinds)
	for j, k := range t.Kinds {
		if k == data.Float {
			v := make([]float64, len(rows))
			for i, r := range rows {
				v[i] = t.Num[j][r]
			}
			s.Num[j] = v
		} else {
			v := make([]string, len(rows))
			for i, r := range rows {
				v[i] = t.Str[j][r]
			}
			s.Str[j] = v
		}
	}
	return s
}

// runBatches calls run on consecutive row ranges of size batch and
// concatenates the outputs along the first axis.
func runBatches(n, batch int, run func(rows []int) (map[string]*graph.Tensor, error)) (map[string]*graph.Tensor, error) {
	out := map[string]*graph.Tensor{}
	rows := make([]int, 0, batch)
	for lo := 0; lo < n; lo += batch {
		rows = rows[:0]
		for i := lo; i < min(n, lo+batch); i++ {
			rows = append(rows, i)
		}
		res, err := run(rows)
		if err != nil {
			return nil, err
		}
		for name, t := range res {
			acc, ok := out[name]
			if !ok {
				acc = &graph.Tensor{DType: t.DType, Shape: append([]int{0}, t.Shape[1:]...)}
				out[name] = acc
			}
			if len(t.Shape) == 0 || t.DType != acc.DType || !graph.SameShape(t.Shape[1:], acc.Shape[1:]) {
				return nil, fmt.Errorf("output %s: shape %v changes across batches", name, t.Shape)
			}
			acc.Shape[0] += t.Shape[0]
			acc.F = append(acc.F, t.F...)
			acc.I = append(acc.I, t.I...)
			acc.B = append(acc.B, t.B...)
			acc.S = append(acc.S, t.S...)
		}
	}
	return out, nil
}

// Print writes the report: per runtime and output the largest
// differences, every decode disagreement with its margins, the ties, and
// PASS or FAIL.
func (r *ConformReport) Print(w io.Writer, verbose bool) error {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("conform %s on %d rows of %s (%d horizons)\n", r.Model, r.Rows, r.Data, r.Horizons)
	p("reference: the Go training-time forward pass (Go encoder, inline graph)\n")
	p("tolerance: |x - ref| <= %g + %g*|ref| (label units); ties: a top-2 margin of p or q under %g\n\n", r.Atol, r.Rtol, r.Margin)
	p("%-14s %-16s %12s %12s %8s %6s\n", "runtime", "output", "max abs", "max rel", "beyond", "ties≠")
	for _, rr := range r.Runtimes {
		outs := append([]conform.Diff{}, rr.Outputs...)
		sort.SliceStable(outs, func(i, j int) bool { return outputRank(outs[i].Output) < outputRank(outs[j].Output) })
		for _, d := range outs {
			switch {
			case d.Problem != "":
				p("%-14s %-16s %s\n", rr.Runtime, d.Output, d.Problem)
			case conform.Floating(d.DType):
				p("%-14s %-16s %12.3g %12.3g %8d %6d\n", rr.Runtime, d.Output, d.MaxAbs, d.MaxRel, d.Beyond, d.Skipped)
			default:
				p("%-14s %-16s %12s %12s %8d %6d\n", rr.Runtime, d.Output, "exact", "", d.Beyond, d.Skipped)
			}
		}
	}
	p("\ndecodes under the margin (ties): %d of %d (%d rows)\n", len(r.Ties), r.Rows*r.Horizons, r.tieRows())
	limit := 10
	if verbose {
		limit = len(r.Ties)
	}
	for i, t := range r.Ties {
		if i == limit {
			p("  ... %d more (--verbose lists all)\n", len(r.Ties)-limit)
			break
		}
		p("  row %d, %sd: margin p %.3g, margin q %.3g\n", t.Row, t.Horizon, t.MarginSub, t.MarginBucket)
	}
	p("decode disagreements: %d\n", len(r.Disagreements))
	for _, d := range r.Disagreements {
		kind := "FAIL"
		if d.Tie {
			kind = "tie"
		}
		got := "indices not exported"
		if d.Sub >= 0 {
			got = fmt.Sprintf("sub %d bucket %d", d.Sub, d.Bucket)
		}
		p("  %s %s row %d, %sd: reference sub %d bucket %d (ltv %g), %s (ltv %g); margin p %.3g, q %.3g\n",
			kind, d.Runtime, d.Row, d.Horizon, d.RefSub, d.RefBucket, d.RefLTV, got, d.LTV, d.MarginSub, d.MarginBucket)
	}
	if r.Pass() {
		p("PASS\n")
	} else {
		p("FAIL\n")
	}
	return nil
}

func (r *ConformReport) tieRows() int {
	seen := map[int]bool{}
	for _, t := range r.Ties {
		seen[t.Row] = true
	}
	return len(seen)
}

func outputRank(name string) string {
	order := []string{train.OutLTV, train.OutLTVEV, train.OutSub, train.OutBucket, train.OutMarginSub, train.OutMarginBucket, train.OutIDs}
	for i, o := range order {
		if o == name {
			return fmt.Sprintf("%02d", i)
		}
	}
	return "99" + strings.ToLower(name)
}

// quantileDF is the CDF rounding the interval tolerance allows for: o_t
// and o_t · cdf in float32 over a few dozen buckets.
const quantileDF = 4e-6

// decodeAllowances are the per-element extra tolerances of the interval
// quantile outputs: |Q(q + dF) - Q(q - dF)| of the reference's
// distribution, carried forward by the running maximum across horizons.
func decodeAllowances(m *train.Model, ref map[string]*graph.Tensor, outputs []string, n, T int) map[string][]float64 {
	out := map[string][]float64{}
	if len(m.Tasks) != T {
		return out
	}
	knots := make([][]float64, T)
	cdfs := make([][]float64, T)
	for t, tb := range m.Tasks {
		knots[t], cdfs[t] = train.MixtureKnots(tb)
	}
	for _, name := range outputs {
		q, ok := train.ParseQuantileOutput(name)
		if !ok {
			continue
		}
		a := make([]float64, n*T)
		for i := 0; i < n; i++ {
			carry := 0.0
			for t, h := range m.Horizons {
				o := ref[train.DistOutput(h)]
				if o == nil {
					return out
				}
				M := o.Shape[1]
				row := make([]float64, M)
				for j := range row {
					row[j] = float64(o.F[i*M+j])
				}
				hi := train.MixtureQuantileRef(row, knots[t], cdfs[t], math.Min(q+quantileDF, 1))
				lo := train.MixtureQuantileRef(row, knots[t], cdfs[t], math.Max(q-quantileDF, 0))
				carry = math.Max(carry, hi-lo)
				a[i*T+t] = carry
			}
		}
		out[name] = a
	}
	return out
}

// fqmAllowance is the frozen map's slope times the EV difference of the
// runtime and the reference, carried forward across horizons.
func fqmAllowance(maps []train.FrozenMap, ev, evRef *graph.Tensor, n, T int) []float64 {
	if len(maps) != T || ev == nil || evRef == nil || len(ev.F) != n*T || len(evRef.F) != n*T {
		return nil
	}
	a := make([]float64, n*T)
	for i := 0; i < n; i++ {
		carry := 0.0
		for t := 0; t < T; t++ {
			x, y := float64(ev.F[i*T+t]), float64(evRef.F[i*T+t])
			carry = math.Max(carry, maps[t].Slope(x, y)*math.Abs(x-y)*(1+1e-6))
			a[i*T+t] = carry
		}
	}
	return a
}
