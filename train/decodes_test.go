package train

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/odmn/odmn/conform"
	"github.com/odmn/odmn/export"
	g "github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/internal/testenv"
	"github.com/odmn/odmn/runtime/native"
	"github.com/odmn/odmn/runtime/ort"
)

// testLayout has a zero point, an interval with a point inside it, and a
// last interval: the knots must handle both kinds of jumps.
var testLayout = TaskBuckets{Horizon: 30, Subs: []SubDist{
	{Lo: 0, Hi: 1, Buckets: []Bucket{{Left: 0, Right: 0, Point: true}}},
	{Lo: 1, Hi: 100, Buckets: []Bucket{{Left: 1, Right: 10}, {Left: 5, Right: 5, Point: true}, {Left: 10, Right: 100}}},
}}

// decodeFuncGraph calls MixtureQuantiles and FrozenQM on graph inputs.
func decodeFuncGraph(t *testing.T, knots, cdf []float64, qs []float64, fm FrozenMap) *g.Graph {
	t.Helper()
	fq, ff := DecodeFunctions()
	gr := g.New("decodes")
	f32 := func(v []float64) []float32 {
		out := make([]float32, len(v))
		for i, x := range v {
			out[i] = float32(x)
		}
		return out
	}
	err := g.Catch(func() {
		M, K := len(cdf)/len(knots), len(knots)
		o := gr.Input("o", g.Float32, -1, M)
		C := gr.Const(g.F32([]int{M, K}, f32(cdf)))
		X := gr.Const(g.F32([]int{K}, f32(knots)))
		Q := gr.Const(g.F32([]int{len(qs)}, f32(qs)))
		gr.SetOutput("quantiles", fq.Call(nil, o, C, X, Q)[0])
		ev := gr.Input("ev", g.Float32, -1, 1)
		xs := gr.Const(g.F32([]int{len(fm.X)}, f32(fm.X)))
		ys := gr.Const(g.F32([]int{len(fm.Y)}, f32(fm.Y)))
		gr.SetOutput("fqm", ff.Call(nil, ev, xs, ys)[0])
	})
	if err != nil {
		t.Fatal(err)
	}
	return gr
}

// The node tests of the decode functions: MixtureQuantiles and FrozenQM
// on the native runtime (their bodies) and on ONNX Runtime against the
// float64 references, on rows with point masses, empty buckets and EVs
// outside the map's range.
func TestDecodeFunctions(t *testing.T) {
	knots, cdf := MixtureKnots(testLayout)
	qs := []float64{0.05, 0.1, 0.5, 0.9, 0.95}
	fm := FrozenMap{Horizon: 30, X: []float64{1, 2, 4, 8}, Y: []float64{0, 0, 3, 20}}
	gr := decodeFuncGraph(t, knots, cdf, qs, fm)
	const n = 400
	M := testLayout.NumBuckets()
	r := rand.New(rand.NewPCG(3, 4))
	o := g.NewTensor(g.Float32, []int{n, M})
	ev := g.NewTensor(g.Float32, []int{n, 1})
	for i := 0; i < n; i++ {
		sum := float32(0)
		for j := 0; j < M; j++ {
			v := r.Float32()
			if r.IntN(3) == 0 {
				v = 0 // empty buckets: flat CDF stretches
			}
			if i%50 == 0 {
				v = b2f32(j == i/50%M) // all mass in one bucket
			}
			o.F[i*M+j] = v
			sum += v
		}
		if sum == 0 {
			o.F[i*M] = 1
			sum = 1
		}
		for j := 0; j < M; j++ {
			o.F[i*M+j] /= sum
		}
		ev.F[i] = float32(r.Float64()*12 - 1)
	}
	feed := map[string]*g.Tensor{"o": o, "ev": ev}
	check := func(what string, res map[string]*g.Tensor) {
		t.Helper()
		Q := len(qs)
		for i := 0; i < n; i++ {
			row := make([]float64, M)
			for j := range row {
				row[j] = float64(o.F[i*M+j])
			}
			for j, q := range qs {
				want := MixtureQuantileRef(row, knots, cdf, q)
				got := float64(res["quantiles"].F[i*Q+j])
				// The quantile is as precise as the CDF: a float32 error of
				// 1e-6 in F moves it by 1e-6 over the local density.
				if math.Abs(got-want) > 1e-3*(1+want) {
					t.Errorf("%s: row %d q %v: %v, want %v (o %v)", what, i, q, got, want, row)
				}
			}
			if want, got := FrozenQMRef(float64(ev.F[i]), fm.X, fm.Y), float64(res["fqm"].F[i]); math.Abs(got-want) > 1e-5*(1+want) {
				t.Errorf("%s: FrozenQM(%v) = %v, want %v", what, ev.F[i], got, want)
			}
		}
	}
	s, err := native.New(gr, native.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Run(feed)
	if err != nil {
		t.Fatal(err)
	}
	check("native", res)

	// Hand values: all mass on the zero point; uniform on [10, 100]; on the
	// point 5.
	hand := []struct {
		o    []float64
		q, v float64
	}{
		{[]float64{1, 0, 0, 0}, 0.5, 0},
		{[]float64{0, 0, 0, 1}, 0.5, 55},
		{[]float64{0, 0, 0, 1}, 0.1, 19},
		{[]float64{0, 0, 1, 0}, 0.9, 5},
		{[]float64{0.5, 0, 0, 0.5}, 0.75, 55},
		{[]float64{0.5, 0.5, 0, 0}, 0.25, 0},
	}
	for _, h := range hand {
		if got := MixtureQuantileRef(h.o, knots, cdf, h.q); math.Abs(got-h.v) > 1e-9 {
			t.Errorf("quantile %v of %v = %v, want %v", h.q, h.o, got, h.v)
		}
	}

	testenv.RequireLib(t)
	raw, err := export.Marshal(gr, export.Options{})
	if err != nil {
		t.Fatal(err)
	}
	os, err := ort.OpenBytes(raw, ort.Options{IntraOpThreads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer os.Close()
	ores, err := os.Run(feed)
	if err != nil {
		t.Fatal(err)
	}
	check("ORT", ores)
	diffs, err := conform.CrossRun(os, s, feed, conform.Tolerance{Atol: 1e-5, Rtol: 1e-5})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range diffs {
		if !d.OK() {
			t.Errorf("ORT vs native: %s", d)
		}
	}
}

// The fused kernels of MixtureQuantiles and FrozenQM give their bodies'
// bits, on odd inputs too: NaN, infinities, negative and unnormalized
// masses, EVs outside and on the map's knots.
func TestDecodeFusedMatchesBodies(t *testing.T) {
	knots, cdf := MixtureKnots(testLayout)
	fm := FrozenMap{Horizon: 30, X: []float64{1, 2, 4, 8}, Y: []float64{0, 0, 3, 20}}
	gr := decodeFuncGraph(t, knots, cdf, []float64{0, 0.1, 0.5, 0.9, 1}, fm)
	const n = 300
	M := testLayout.NumBuckets()
	r := rand.New(rand.NewPCG(5, 6))
	odd := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), -0.5, 0, 2, 1, 4, 8, 0.25}
	o := g.NewTensor(g.Float32, []int{n, M})
	ev := g.NewTensor(g.Float32, []int{n, 1})
	for i := range o.F {
		o.F[i] = r.Float32()
		if r.IntN(6) == 0 {
			o.F[i] = odd[r.IntN(len(odd))]
		}
	}
	for i := range ev.F {
		ev.F[i] = float32(r.Float64()*12 - 2)
		if i%4 == 0 {
			ev.F[i] = odd[r.IntN(len(odd))]
		}
	}
	feed := map[string]*g.Tensor{"o": o, "ev": ev}
	fused := runNative(t, gr, native.Options{Profile: true}, feed)
	bodies := runNative(t, gr, native.Options{BodiesOnly: true}, feed)
	for _, name := range []string{"quantiles", "fqm"} {
		for i, w := range bodies[name].F {
			if got := fused[name].F[i]; math.Float32bits(got) != math.Float32bits(w) && !(got != got && w != w) {
				t.Fatalf("%s[%d]: fused %v, body %v", name, i, got, w)
			}
		}
	}
	s, err := native.New(gr, native.Options{Profile: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Run(feed); err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, p := range s.Profile() {
		ops = append(ops, p.Op)
	}
	if !slices.Equal(sortedCopy(ops), []string{FnFrozenQM, FnQuantiles}) {
		t.Errorf("the plan ran %v, want the two fused kernels", ops)
	}
}

func sortedCopy(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func b2f32(b bool) float32 {
	if b {
		return 1
	}
	return 0
}

// The sketch keeps the mean exactly, maps EV monotonically, and stays
// within its stated bound of the exact in-memory QM.
func TestQMSketchBound(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	const n, M = 20000, 6
	ev := make([]float64, n)
	mass, val := make([][]float64, n), make([][]float64, n)
	sk := NewQMSketch()
	for i := range ev {
		mass[i], val[i] = make([]float64, M), make([]float64, M)
		sum := 0.0
		for j := 0; j < M; j++ {
			mass[i][j] = r.Float64() * float64(j+1)
			sum += mass[i][j]
		}
		e := 0.0
		for j := 0; j < M; j++ {
			mass[i][j] /= sum
			if j > 0 { // bucket 0 is the zero point
				val[i][j] = math.Exp(float64(j) + r.NormFloat64())
			}
			e += mass[i][j] * val[i][j]
		}
		if i > 0 && i%7 == 0 { // exact ties of EV
			for j := range mass[i] {
				mass[i][j], val[i][j] = mass[0][j], val[0][j]
			}
			e = ev[0]
		}
		ev[i] = e
	}
	half := NewQMSketch()
	for i := range ev {
		if i < n/2 {
			half.AddUser(ev[i], mass[i], val[i])
		} else {
			sk.AddUser(ev[i], mass[i], val[i])
		}
	}
	sk.Merge(half) // mergeable: two halves give the whole
	mp, err := sk.Map()
	if err != nil {
		t.Fatal(err)
	}
	exact := ExactQM(ev, mass, val)
	ranges := binRanges(ev, exact)
	var sumEV, sumQM, sumExact float64
	// Q over the users' rank slices: the exact values sorted by EV.
	for i := range ev {
		v := mp.Apply(ev[i])
		sumEV += ev[i]
		sumQM += v
		sumExact += exact[i]
		// Bound: both values lie in the range the user's EV bin covers;
		// users of one bin are within a factor 1+QMAlpha of EV, so their
		// exact values are those of its neighbours in rank.
		lo, hi := ranges[binKey(ev[i])][0], ranges[binKey(ev[i])][1]
		slack := 2*QMAlpha*hi + QMTieBreak*ev[i]
		if v < lo-slack || v > hi+slack {
			t.Fatalf("user %d: sketch %v outside the exact values [%v, %v] of its EV bin", i, v, lo, hi)
		}
	}
	if math.Abs(sumQM-sumEV) > 1e-9*sumEV || math.Abs(sumExact-sumEV) > 1e-9*sumEV {
		t.Errorf("means: EV %v, sketch QM %v, exact QM %v", sumEV/n, sumQM/n, sumExact/n)
	}
	// Monotone in EV.
	for i := 1; i < len(mp.Value); i++ {
		if mp.Value[i] < mp.Value[i-1] {
			t.Fatalf("map decreases at bin %d", i)
		}
	}
}

// binRanges are the ranges of exact QM values of the users in each sketch
// bin.
func binRanges(ev, exact []float64) map[int32][2]float64 {
	out := map[int32][2]float64{}
	for i, x := range ev {
		k := binKey(x)
		r, ok := out[k]
		if !ok {
			r = [2]float64{math.Inf(1), math.Inf(-1)}
		}
		out[k] = [2]float64{min(r[0], exact[i]), max(r[1], exact[i])}
	}
	return out
}

// LogNormalAtoms keep the zero-inflated lognormal's mean; ZILNQuantile
// inverts its CDF.
func TestLogNormalAtoms(t *testing.T) {
	mass, val := make([]float64, 65), make([]float64, 65)
	p, mu, sigma, scale := 0.3, 0.5, 1.2, 10.0
	LogNormalAtoms(p, mu, sigma, scale, 64, mass, val)
	var m, w float64
	for j := range mass {
		m += mass[j] * val[j]
		w += mass[j]
	}
	want := p * scale * math.Exp(mu+sigma*sigma/2)
	if math.Abs(m-want) > 1e-9*want || math.Abs(w-1) > 1e-12 {
		t.Errorf("atoms: mean %v mass %v, want %v and 1", m, w, want)
	}
	if q := ZILNQuantile(0.5, p, mu, sigma, scale); q != 0 {
		t.Errorf("median of a 70%% zero mass: %v", q)
	}
	// P(y <= Q(0.85)) = 0.7 + 0.3 * Φ((log(Q/scale) - mu)/sigma) = 0.85.
	q := ZILNQuantile(0.85, p, mu, sigma, scale)
	if c := 0.7 + 0.3*normCDF((math.Log(q/scale)-mu)/sigma); math.Abs(c-0.85) > 1e-9 {
		t.Errorf("CDF at the 0.85 quantile: %v", c)
	}
}

// Freeze keeps an increasing map that FrozenQMRef applies.
func TestFreeze(t *testing.T) {
	sk := NewQMSketch()
	for i := 1; i <= 1000; i++ {
		e := float64(i)
		sk.AddUser(e, []float64{0.5, 0.5}, []float64{0, 2 * e})
	}
	mp, err := sk.Map()
	if err != nil {
		t.Fatal(err)
	}
	fm, err := mp.Freeze(30, 16)
	if err != nil {
		t.Fatal(err)
	}
	if len(fm.X) > 16 || len(fm.X) < 2 {
		t.Fatalf("%d knots", len(fm.X))
	}
	for k := 1; k < len(fm.X); k++ {
		if !(fm.X[k] > fm.X[k-1]) || fm.Y[k] < fm.Y[k-1] {
			t.Fatalf("knot %d: %v %v after %v %v", k, fm.X[k], fm.Y[k], fm.X[k-1], fm.Y[k-1])
		}
	}
	// Half the mixture's mass is zero: the lower half of the users by EV
	// gets 0 (plus the tie-break).
	if v := FrozenQMRef(100, fm.X, fm.Y); math.Abs(v-QMTieBreak*100) > 1e-12 {
		t.Errorf("fqm(100) = %v, want %v", v, QMTieBreak*100)
	}
	if v, top := FrozenQMRef(5000, fm.X, fm.Y), fm.Y[len(fm.Y)-1]; math.Abs(v-((1-QMTieBreak)*(top+5000-fm.X[len(fm.X)-1])+QMTieBreak*5000)) > 1e-9 {
		t.Errorf("fqm above the range: %v", v)
	}
}

// FuzzDecodeFused feeds MixtureQuantiles and FrozenQM shapes and values
// from the fuzzer's bytes (mismatched sizes, NaN, infinities, unsorted
// knots) and requires the fused kernels to fail where the bodies fail and
// to give their bits otherwise.
func FuzzDecodeFused(f *testing.F) {
	f.Add([]byte{4, 3, 5, 2, 3, 4, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add([]byte{1, 1, 2, 1, 1, 2, 0, 255, 128, 7})
	f.Fuzz(func(t *testing.T, in []byte) {
		next := fuzzReader(in)
		N, M, K, Q, Kx, Ky := next(6), 1+next(5), 1+next(6), 1+next(4), 1+next(6), 1+next(6)
		M2, Kn := M, K
		if next(5) == 0 {
			M2 = 1 + next(5) // cdf rows that may not match o's columns
		}
		if next(5) == 0 {
			Kn = 1 + next(7) // knots that may not cover the CDF's columns
		}
		odd := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0, -1}
		val := func(sorted bool, prev float32) float32 {
			if next(11) == 0 {
				return odd[next(len(odd))]
			}
			v := float32(next(64)) / 16
			if sorted {
				return prev + v
			}
			return v - 2
		}
		fill := func(shape []int, sorted bool) *g.Tensor {
			x := g.NewTensor(g.Float32, shape)
			prev := float32(0)
			for i := range x.F {
				x.F[i] = val(sorted && next(4) != 0, prev)
				prev = x.F[i]
			}
			return x
		}
		fq, ff := DecodeFunctions()
		gr := g.New("fuzzdecodes")
		err := g.Catch(func() {
			o := gr.Input("o", g.Float32, -1, M)
			gr.SetOutput("q", fq.Call(nil, o, gr.Const(fill([]int{M2, K}, false)), gr.Const(fill([]int{Kn}, true)), gr.Const(fill([]int{Q}, false)))[0])
			ev := gr.Input("ev", g.Float32, -1, 1)
			gr.SetOutput("f", ff.Call(nil, ev, gr.Const(fill([]int{Kx}, true)), gr.Const(fill([]int{Ky}, true)))[0])
		})
		if err != nil {
			return // shapes the graph builder rejects
		}
		feed := map[string]*g.Tensor{"o": fill([]int{N, M}, false), "ev": fill([]int{N, 1}, false)}
		run := func(opts native.Options) (map[string]*g.Tensor, error) {
			s, err := native.New(gr, opts)
			if err != nil {
				return nil, err
			}
			return s.Run(feed)
		}
		want, werr := run(native.Options{BodiesOnly: true})
		got, gerr := run(native.Options{})
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("N=%d M=%d/%d K=%d knots=%d Q=%d xs=%d ys=%d: bodies error %v, fused error %v", N, M, M2, K, Kn, Q, Kx, Ky, werr, gerr)
		}
		if werr != nil {
			return
		}
		for _, name := range []string{"q", "f"} {
			for i, w := range want[name].F {
				if x := got[name].F[i]; math.Float32bits(x) != math.Float32bits(w) && !(x != x && w != w) {
					t.Fatalf("%s[%d] = %v, body %v", name, i, x, w)
				}
			}
		}
	})
}

// FuzzDiscretizeFused: Discretize's fused kernel (graph.Bucketize) against
// its body on shapes and values from the fuzzer's bytes (broadcast bounds
// rows, NaN padding anywhere, unsorted rows, ties, infinities).
func FuzzDiscretizeFused(f *testing.F) {
	f.Add([]byte{5, 3, 3, 4, 1, 2, 3, 4, 5, 6, 7, 8})
	f.Add([]byte{2, 1, 4, 20, 0, 255, 9})
	f.Fuzz(func(t *testing.T, in []byte) {
		next := fuzzReader(in)
		N, K, KB, B := next(7), 1+next(4), 1+next(4), next(20)
		if next(2) == 0 {
			KB = K // the usual shape: one bounds row per column
		}
		odd := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0}
		fill := func(shape ...int) *g.Tensor {
			x := g.NewTensor(g.Float32, shape)
			for i := range x.F {
				x.F[i] = float32(next(16)-8) / 4
				if next(7) == 0 {
					x.F[i] = odd[next(len(odd))]
				}
			}
			return x
		}
		disc, _, _ := Functions()
		gr := g.New("fuzzdisc")
		err := g.Catch(func() {
			gr.SetOutput("ids", disc.Call(nil, gr.Input("x", g.Float32, -1, K), gr.Const(fill(KB, B)))[0])
		})
		if err != nil {
			return
		}
		feed := map[string]*g.Tensor{"x": fill(N, K)}
		run := func(opts native.Options) (*g.Tensor, error) {
			s, err := native.New(gr, opts)
			if err != nil {
				return nil, err
			}
			res, err := s.Run(feed)
			if err != nil {
				return nil, err
			}
			return res["ids"], nil
		}
		want, werr := run(native.Options{BodiesOnly: true})
		got, gerr := run(native.Options{})
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("N=%d K=%d bounds %dx%d: bodies error %v, fused error %v", N, K, KB, B, werr, gerr)
		}
		if werr == nil && (!slices.Equal(got.I, want.I) || !slices.Equal(got.Shape, want.Shape)) {
			t.Fatalf("N=%d K=%d bounds %dx%d: fused %v %v, body %v %v", N, K, KB, B, got.Shape, got.I, want.Shape, want.I)
		}
	})
}

// fuzzReader returns a function that takes the fuzzer's next byte as a
// value in [0, n) (0 once the bytes run out).
func fuzzReader(in []byte) func(n int) int {
	return func(n int) int {
		if len(in) == 0 {
			return 0
		}
		b := int(in[0])
		in = in[1:]
		return b % n
	}
}
