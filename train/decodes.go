package train

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	g "github.com/odmn/odmn/graph"
)

// DecodeName names a decode: how a model's predicted distribution becomes
// one value per user and horizon.
type DecodeName string

// The decodes. ArgMax and EV are the spec's (section 5); QM and FQM its
// quantile-matched forms (section 5b). Every decode is made non-decreasing
// across horizons by a running maximum in horizon order.
const (
	// DecodeArgMax is the paper's Eq. 7-8: likeliest sub-distribution, its
	// likeliest bucket, plus the bucket bias.
	DecodeArgMax DecodeName = "argmax"
	// DecodeEV is the expected value of the bucket distribution.
	DecodeEV DecodeName = "ev"
	// DecodeQM is the batch quantile-matched EV: users ranked by EV get the
	// matching slice of the population's predicted mixture.
	DecodeQM DecodeName = "qm"
	// DecodeFQM is QM's frozen map (fitted on validation data at training
	// time), applied one user at a time.
	DecodeFQM DecodeName = "fqm"
)

// DecodeNames lists the decodes in table order.
var DecodeNames = []DecodeName{DecodeArgMax, DecodeEV, DecodeQM, DecodeFQM}

// ParseDecode reads a decode name.
func ParseDecode(s string) (DecodeName, error) {
	d := DecodeName(strings.ToLower(strings.TrimSpace(s)))
	if slices.Contains(DecodeNames, d) {
		return d, nil
	}
	names := make([]string, len(DecodeNames))
	for i, n := range DecodeNames {
		names[i] = string(n)
	}
	return "", fmt.Errorf("unknown decode %q (one of %s)", s, strings.Join(names, ", "))
}

// Output names of the decodes added by this file.
const (
	OutFQM      = "ltv_fqm"    // float32 [N, T]: frozen quantile-matched EV
	OutLTVRaw   = "ltv_raw"    // float32 [N, T]: argmax decode before the running maximum
	OutLTVEVRaw = "ltv_ev_raw" // float32 [N, T]: EV decode before the running maximum
	OutZILNP    = "ziln_p"     // float32 [N, T]: ZILN's P(y > 0)
	OutZILNMu   = "ziln_mu"    // float32 [N, T]: ZILN's lognormal location (scaled label units)
	OutZILNSig  = "ziln_sigma" // float32 [N, T]: ZILN's lognormal scale
)

// DefaultQuantiles are the interval outputs of every export unless
// InferOptions says otherwise: ltv_p10, ltv_p50 and ltv_p90.
var DefaultQuantiles = []float64{0.1, 0.5, 0.9}

// QuantileOutput names the output of quantile q: ltv_p10 for 0.1, ltv_p05
// for 0.05, ltv_p2_5 for 0.025.
func QuantileOutput(q float64) string {
	p := 100 * q
	if r := math.Round(p); math.Abs(p-r) < 1e-9 {
		return fmt.Sprintf("ltv_p%02d", int(r))
	}
	return "ltv_p" + strings.ReplaceAll(strconv.FormatFloat(p, 'g', -1, 64), ".", "_")
}

// ValuesOutput names task h's per-bucket decoded values v_<h> [N, M_t].
func ValuesOutput(h int) string { return fmt.Sprintf("v_%d", h) }

// CheckQuantiles validates a quantile list: each in (0, 1), increasing,
// with distinct output names.
func CheckQuantiles(qs []float64) error {
	seen := map[string]bool{}
	for i, q := range qs {
		if !(q > 0 && q < 1) {
			return fmt.Errorf("quantile %v: want 0 < q < 1", q)
		}
		if i > 0 && q <= qs[i-1] {
			return fmt.Errorf("quantiles %v: want them increasing", qs)
		}
		n := QuantileOutput(q)
		if seen[n] {
			return fmt.Errorf("quantiles %v: two have the output name %s", qs, n)
		}
		seen[n] = true
	}
	return nil
}

// MixtureKnots lays out the CDF of a task's bucket distribution as a
// piecewise-linear function of the value: within a bucket, a point bucket
// is a point mass and an interval bucket spreads its mass uniformly over
// [Left, Right] (spec section 2). Knots are the bucket edges and points in
// increasing order, a point's value twice (just below it and at it), so
// that F(x) between two knots is linear. cdf[m*K+k] is the share of
// bucket m's mass at or below knot k (below it for the first copy of a
// point), so that a user's CDF at the knots is o · cdf.
func MixtureKnots(tb TaskBuckets) (knots []float64, cdf []float64) {
	type bk struct {
		l, r  float64
		point bool
	}
	var bs []bk
	pos := map[float64]bool{} // position -> has a point bucket
	for _, sd := range tb.Subs {
		for _, b := range sd.Buckets {
			point := b.Point || !(b.Width() > 0)
			bs = append(bs, bk{b.Left, b.Right, point})
			if point {
				pos[b.Left] = true
			} else {
				pos[b.Left] = pos[b.Left] || false
				pos[b.Right] = pos[b.Right] || false
			}
		}
	}
	xs := make([]float64, 0, len(pos))
	for x := range pos {
		xs = append(xs, x)
	}
	sort.Float64s(xs)
	var below []bool
	for _, x := range xs {
		if pos[x] {
			knots, below = append(knots, x), append(below, true)
		}
		knots, below = append(knots, x), append(below, false)
	}
	if len(knots) == 1 { // one position without a point: any second knot will do
		knots, below = append(knots, knots[0]), append(below, false)
	}
	K := len(knots)
	cdf = make([]float64, len(bs)*K)
	for m, b := range bs {
		for k, x := range knots {
			var c float64
			switch {
			case b.point && below[k]:
				c = b2f(b.l < x)
			case b.point:
				c = b2f(b.l <= x)
			default:
				c = math.Max(0, math.Min(1, (x-b.l)/(b.r-b.l)))
			}
			cdf[m*K+k] = c
		}
	}
	return knots, cdf
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Interp is the piecewise-linear interpolation the decode functions share,
// with standard ops: for each row n and column j of x [N, Q], the segment
// k of the non-decreasing row xs[n] [N, K] (K >= 2) with
// xs[n, k-1] < x <= xs[n, k] (the first or last segment outside the
// row's range), and ys[k-1] + t (ys[k] - ys[k-1]) with t = (x - xs[n,k-1])
// / (xs[n,k] - xs[n,k-1]) clamped to [0, 1] (0 on a zero-width segment).
// ys is [K]. Constant outside the range, continuous inside.
func Interp(x, xs, ys *g.Node) *g.Node {
	head := g.Slice(xs, []int64{0}, []int64{-1}, []int64{1}, nil) // all knots but the last
	lt := g.Less(g.Unsqueeze(head, 1), g.Unsqueeze(x, 2))         // [N,Q,K-1]
	k := g.ReduceSum(g.Cast(lt, g.Int64), []int64{2}, false)      // [N,Q] in [0, K-1]
	k1 := g.Max(k, g.ScalarLike(k, 1))                            // [1, K-1]
	k0 := g.Sub(k1, g.ScalarLike(k, 1))                           // [0, K-2]
	x0, x1 := g.GatherElements(xs, k0, 1), g.GatherElements(xs, k1, 1)
	y0, y1 := g.Gather(ys, k0, 0), g.Gather(ys, k1, 0)
	d := g.Sub(x1, x0)
	zero, one := g.ScalarLike(x, 0), g.ScalarLike(x, 1)
	t := g.Div(g.Sub(x, x0), g.Where(g.Greater(d, zero), d, one))
	t = g.Min(g.Max(t, zero), one)
	return g.Add(y0, g.Mul(t, g.Sub(y1, y0)))
}

// MixtureQuantiles are the quantiles q [Q] of each row's bucket
// distribution o [N, M] with buckets spread as MixtureKnots says (cdf
// [M, K], knots [K]): [N, Q].
func MixtureQuantiles(o, cdf, knots, q *g.Node) *g.Node {
	F := g.MatMul(o, cdf) // [N,K]: each user's CDF at the knots
	zero := g.Mul(g.Slice(o, []int64{0}, []int64{1}, []int64{1}, nil), g.ScalarLike(o, 0))
	return Interp(g.Add(zero, g.Unsqueeze(q, 0)), F, knots)
}

// FrozenQM maps each EV of ev [N, 1] through the frozen QM map with knots
// xs [K] (increasing) and values ys [K] (non-decreasing): linear between
// knots, ys[0] below the first, and ys[K-1] + (ev - xs[K-1]) above the
// last (extra value one for one, so the map keeps rising); then ties are
// broken by EV like QM's (QMTieBreak).
func FrozenQM(ev, xs, ys *g.Node) *g.Node {
	zero := g.Mul(ev, g.ScalarLike(ev, 0))
	row := g.Add(zero, g.Unsqueeze(xs, 0)) // [N,K]
	top := g.ReduceMax(xs, []int64{0}, false)
	over := g.Max(g.Sub(ev, top), g.ScalarLike(ev, 0))
	y := g.Add(Interp(ev, row, ys), over)
	// Ties (flat stretches of the map) broken by EV, as QMTieBreak says.
	return g.Add(g.Mul(y, g.ScalarLike(ev, 1-QMTieBreak)), g.Mul(ev, g.ScalarLike(ev, QMTieBreak)))
}

// Names of the decode functions in Domain.
const (
	FnQuantiles = "MixtureQuantiles"
	FnFrozenQM  = "FrozenQM"
)

var (
	decOnce              sync.Once
	fnQuantiles, fnFrozn *g.Function
)

// DecodeFunctions returns the ai.odmn functions of the distribution
// decodes (defined once): MixtureQuantiles(o, cdf, knots, q) -> y and
// FrozenQM(ev, xs, ys) -> y, each a body of standard ops; the native
// runtime runs them through fused kernels of the same arithmetic
// (decodes_fused.go).
func DecodeFunctions() (quantiles, frozenQM *g.Function) {
	decOnce.Do(func() {
		var err error
		fnQuantiles, err = g.DefineFunction(Domain, FnQuantiles, nil, func(b *g.Graph) error {
			o := b.Input("o", g.Float32, -1, -1)
			cdf := b.Input("cdf", g.Float32, -1, -1)
			knots := b.Input("knots", g.Float32, -1)
			q := b.Input("q", g.Float32, -1)
			b.SetOutput("y", MixtureQuantiles(o, cdf, knots, q))
			return nil
		})
		if err != nil {
			panic(err)
		}
		fnFrozn, err = g.DefineFunction(Domain, FnFrozenQM, nil, func(b *g.Graph) error {
			ev := b.Input("ev", g.Float32, -1, 1)
			xs := b.Input("xs", g.Float32, -1)
			ys := b.Input("ys", g.Float32, -1)
			b.SetOutput("y", FrozenQM(ev, xs, ys))
			return nil
		})
		if err != nil {
			panic(err)
		}
	})
	return fnQuantiles, fnFrozn
}

// RunningMax makes per-horizon columns (each [N, k], horizons in order)
// non-decreasing across horizons: column t becomes the elementwise
// maximum of columns 1..t.
func RunningMax(cols []*g.Node) []*g.Node {
	out := make([]*g.Node, len(cols))
	for t, c := range cols {
		if t == 0 {
			out[t] = c
			continue
		}
		out[t] = g.Max(out[t-1], c)
	}
	return out
}

// InterpRef is Interp on one row in float64, for tests and Go callers.
func InterpRef(x float64, xs, ys []float64) float64 {
	K := len(xs)
	k := 0
	for _, v := range xs[:K-1] {
		if v < x {
			k++
		}
	}
	k1 := max(k, 1)
	k0 := k1 - 1
	d := xs[k1] - xs[k0]
	if !(d > 0) {
		d = 1
	}
	t := math.Min(math.Max((x-xs[k0])/d, 0), 1)
	return ys[k0] + t*(ys[k1]-ys[k0])
}

// FrozenQMRef is FrozenQM on one value in float64.
func FrozenQMRef(ev float64, xs, ys []float64) float64 {
	y := InterpRef(ev, xs, ys) + math.Max(ev-xs[len(xs)-1], 0)
	return (1-QMTieBreak)*y + QMTieBreak*ev
}

// MixtureQuantileRef is the q-quantile of one user's bucket distribution o
// (MixtureKnots' layout) in float64.
func MixtureQuantileRef(o []float64, knots, cdf []float64, q float64) float64 {
	K := len(knots)
	F := make([]float64, K)
	for m, p := range o {
		for k := range F {
			F[k] += p * cdf[m*K+k]
		}
	}
	// Interp with the row F as xs and the knots as ys.
	return InterpRef(q, F, knots)
}

// quantiles builds the interval quantiles qs of one task's distribution o
// [N, M]: [N, Q].
func (n *net) quantiles(o *g.Node, tb TaskBuckets, qs []float64) *g.Node {
	knots, cdf := MixtureKnots(tb)
	M, K := tb.NumBuckets(), len(knots)
	f32 := func(v []float64) []float32 {
		out := make([]float32, len(v))
		for i, x := range v {
			out[i] = float32(x)
		}
		return out
	}
	C := n.gr.Const(g.F32([]int{M, K}, f32(cdf)))
	X := n.gr.Const(g.F32([]int{K}, f32(knots)))
	Q := n.gr.Const(g.F32([]int{len(qs)}, f32(qs)))
	if n.calls {
		fq, _ := DecodeFunctions()
		return fq.Call(nil, o, C, X, Q)[0]
	}
	return MixtureQuantiles(o, C, X, Q)
}

// decodeOutputs sets the decode outputs of an ODMN graph from the
// per-task argmax and EV columns [N, 1] and interval quantiles [N, Q]:
// each made monotone across horizons by a running maximum.
func (n *net) decodeOutputs(ltv, ev, quants []*g.Node, qs []float64, opts InferOptions) {
	m := n.m
	evM := RunningMax(ev)
	n.gr.SetOutput(OutLTV, concat(RunningMax(ltv)))
	n.gr.SetOutput(OutLTVEV, concat(evM))
	if opts.Raw {
		n.gr.SetOutput(OutLTVRaw, g.Identity(concat(ltv)))
		n.gr.SetOutput(OutLTVEVRaw, g.Identity(concat(ev)))
	}
	if len(quants) > 0 {
		mq := RunningMax(quants)
		for j, q := range qs {
			cols := make([]*g.Node, len(mq))
			for t, x := range mq {
				cols[t] = g.Slice(x, []int64{int64(j)}, []int64{int64(j + 1)}, []int64{1}, nil)
			}
			n.gr.SetOutput(QuantileOutput(q), concat(cols))
		}
	}
	if len(m.Frozen) != len(ev) {
		return
	}
	f := make([]*g.Node, len(ev))
	for t, fm := range m.Frozen {
		if fm.Horizon != m.Horizons[t] || len(fm.X) < 2 || len(fm.X) != len(fm.Y) {
			panic(&g.BuildError{Err: fmt.Errorf("frozen QM map %d is for horizon %d with %d/%d knots; the model's horizon is %d", t, fm.Horizon, len(fm.X), len(fm.Y), m.Horizons[t])})
		}
		xs, ys := make([]float32, len(fm.X)), make([]float32, len(fm.Y))
		for i := range fm.X {
			xs[i], ys[i] = float32(fm.X[i]), float32(fm.Y[i])
		}
		X := n.gr.Const(g.F32([]int{len(xs)}, xs))
		Y := n.gr.Const(g.F32([]int{len(ys)}, ys))
		if n.calls {
			_, ff := DecodeFunctions()
			f[t] = ff.Call(nil, evM[t], X, Y)[0]
		} else {
			f[t] = FrozenQM(evM[t], X, Y)
		}
	}
	n.gr.SetOutput(OutFQM, concat(RunningMax(f)))
}

// Slope is the steepest slope of the frozen map over [lo, hi]: how much a
// difference in EV there can move the fqm value.
func (fm FrozenMap) Slope(lo, hi float64) float64 {
	if lo > hi {
		lo, hi = hi, lo
	}
	s := 0.0
	K := len(fm.X)
	for k := 1; k < K; k++ {
		if fm.X[k] < lo || fm.X[k-1] > hi {
			continue
		}
		if d := fm.X[k] - fm.X[k-1]; d > 0 {
			s = max(s, (fm.Y[k]-fm.Y[k-1])/d)
		}
	}
	if hi > fm.X[K-1] {
		s = max(s, 1)
	}
	return s
}

// FrozenDisagreements compares the fqm outputs of two runs ([N, T] each,
// with their ltv_ev) given the frozen maps: they agree where
// |fqm - fqm_ref| <= atol + rtol |fqm_ref| plus the map's slope times the
// EV difference (the map amplifies the runtimes' float rounding of EV
// where it is steep; the running maximum carries the largest earlier
// allowance). It returns "" when every value agrees, else a summary.
func FrozenDisagreements(maps []FrozenMap, ev, fqm, evRef, fqmRef *g.Tensor, atol, rtol float64) string {
	if ev == nil || fqm == nil || evRef == nil || fqmRef == nil {
		return fmt.Sprintf("%s: missing", OutFQM)
	}
	T := len(maps)
	if len(fqm.F) != len(fqmRef.F) || len(ev.F) != len(evRef.F) || len(ev.F) != len(fqm.F) || T == 0 || len(fqm.F)%T != 0 {
		return fmt.Sprintf("%s: shapes %v and %v (ltv_ev %v and %v) do not match %d horizons", OutFQM, fqm.Shape, fqmRef.Shape, ev.Shape, evRef.Shape, T)
	}
	bad, worst, at := 0, 0.0, ""
	for i := 0; i < len(fqm.F)/T; i++ {
		allow := 0.0
		for t := 0; t < T; t++ {
			k := i*T + t
			a, b := float64(ev.F[k]), float64(evRef.F[k])
			allow = max(allow, maps[t].Slope(a, b)*math.Abs(a-b))
			d := math.Abs(float64(fqm.F[k]) - float64(fqmRef.F[k]))
			if !(d <= atol+rtol*math.Abs(float64(fqmRef.F[k]))+allow*(1+1e-6)) {
				bad++
				if d > worst {
					worst, at = d, fmt.Sprintf("row %d horizon %d: %v vs %v (ltv_ev %v vs %v)", i, t+1, fqm.F[k], fqmRef.F[k], a, b)
				}
			}
		}
	}
	if bad == 0 {
		return ""
	}
	return fmt.Sprintf("%s: %d values disagree beyond the map's slope; worst %s", OutFQM, bad, at)
}

// ParseQuantileOutput reads the level of a QuantileOutput name.
func ParseQuantileOutput(name string) (float64, bool) {
	rest, ok := strings.CutPrefix(name, "ltv_p")
	if !ok || rest == "" || strings.Trim(rest, "0123456789_") != "" {
		return 0, false
	}
	p, err := strconv.ParseFloat(strings.Replace(rest, "_", ".", 1), 64)
	if err != nil || !(p > 0 && p < 100) || QuantileOutput(p/100) != name {
		return 0, false
	}
	return p / 100, true
}
