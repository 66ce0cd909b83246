package train

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	g "github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/graph/graphtest"
	"github.com/odmn/odmn/runtime/native"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol*(1+math.Abs(b)) }

func TestLossPiecesByHand(t *testing.T) {
	z := g.F32([]int{2, 3}, []float32{1, 2, 3, 0, 0, 0})
	tgt := g.F32([]int{2, 3}, []float32{0, 0, 1, 1, 0, 0})
	out := graphtest.MustEval(t, func(gr *g.Graph, x []*g.Node) []*g.Node {
		return []*g.Node{xent(x[1], x[0]), bceLogits(x[0], x[1]), ordinalTeacher(x[0], 4, 0, g.StopGradient)}
	}, z, tgt)
	// xent row 0: -log softmax([1,2,3])[2] = log(e+e^2+e^3) - 3
	lse := math.Log(math.E + math.Exp(2) + math.Exp(3))
	if !near(float64(out[0].F[0]), lse-3, 1e-5) || !near(float64(out[0].F[1]), math.Log(3), 1e-5) {
		t.Fatalf("xent %v", out[0].F)
	}
	// bce row 1 (z = 0): 3*log 2 - 0 = 3 log 2
	if !near(float64(out[1].F[1]), 3*math.Log(2), 1e-5) {
		t.Fatalf("bce %v", out[1].F)
	}
	// bce row 0: sum softplus(z) - z_2*1
	sp := math.Log1p(math.E) + math.Log1p(math.Exp(2)) + math.Log1p(math.Exp(3))
	if !near(float64(out[1].F[0]), sp-3, 1e-5) {
		t.Fatalf("bce %v", out[1].F)
	}
	// teacher row 1: P = [.5 .5 .5]: pi = [.5, 0, 0, .5]
	want := []float64{0.5, 0, 0, 0.5}
	for i, w := range want {
		if !near(float64(out[2].F[4+i]), w, 1e-6) {
			t.Fatalf("teacher row 1 %v", out[2].F[4:])
		}
	}
	// teacher row 0: P = s(1), s(2), s(3): decreasing, pi sums to 1
	s := func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
	w0 := []float64{1 - s(1), s(1) - s(2), s(2) - s(3), s(3)}
	// s(1) < s(2): pi_1 < 0 is clipped to 0 and the rest renormalized
	w0[1], w0[2] = 0, 0
	sum := w0[0] + w0[3]
	for i := range w0 {
		if !near(float64(out[2].F[i]), w0[i]/sum, 1e-5) {
			t.Fatalf("teacher row 0 %v, want %v", out[2].F[:4], w0)
		}
	}
}

func TestTargetLayoutFill(t *testing.T) {
	tb := TaskBuckets{Horizon: 30, Subs: []SubDist{
		{Lo: 0, Hi: 1, Buckets: []Bucket{{Left: 0, Right: 0, Point: true}}},
		{Lo: 1, Hi: 30, Buckets: []Bucket{{Left: 1, Right: 5}, {Left: 5, Right: 5, Point: true}, {Left: 5, Right: 30}}},
	}}
	l := layoutFor(tb)
	// S=2: subOH 2 + dot 1; sub0: in 1, oh 1, bot 0, bbt 0+0; sub1: in 1, oh 3, bot 2, bbtT 2, bbtM 2
	if l.width != 2+1+(1+1)+(1+3+2+2+2) {
		t.Fatalf("width %d", l.width)
	}
	row := make([]float32, l.width)
	l.fill(row, &tb, 17.5) // sub 1, bucket 2 (interval #1), bias (17.5-5)/25 = .5
	want := []float32{0, 1, 1, 0, 0, 1, 0, 0, 1, 1, 1, 0, 0.5, 0, 1}
	for i := range want {
		if row[i] != want[i] {
			t.Fatalf("row %v, want %v", row, want)
		}
	}
	l.fill(row, &tb, 0)
	want = []float32{1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	for i := range want {
		if row[i] != want[i] {
			t.Fatalf("zero row %v, want %v", row, want)
		}
	}
}

// tinyModel builds a small ODMN on toy data with its training graph.
func tinyModel(t *testing.T, v Variant) (*Model, *trainer, *g.Graph) {
	t.Helper()
	ds := toyData(400, 3)
	cfg := smallConfig(v)
	cfg.Bottom, cfg.Tower, cfg.MonoDim, cfg.EmbedDim = []int{6}, 4, 3, 2
	cfg.Buckets.MinPerBucket = 30
	idx := make([]int, ds.N)
	for i := range idx {
		idx[i] = i
	}
	m, err := Prepare(ds, idx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := newTrainer(m)
	if err != nil {
		t.Fatal(err)
	}
	gr, _, err := m.TrainGraph()
	if err != nil {
		t.Fatal(err)
	}
	return m, tr, gr
}

// TestFullLossGradient checks the gradient of the whole ODMN loss against
// central differences along random directions, one per parameter tensor.
// Autodiff treats stop-gradient values (the ordinal teachers and o_(t-1)
// into the Mono Units) as constants, so the numerical side must too: the
// graph is rebuilt with every stopped value replaced by an input fed with
// its value at the unperturbed parameters.
func TestFullLossGradient(t *testing.T) {
	m, tr, _ := tinyModel(t, ODMN)
	init := rand.New(rand.NewPCG(8, 8))
	for _, p := range m.Params() {
		switch {
		case strings.Contains(p.Name, ".mono") && strings.Contains(p.Name, ".v"):
			for i := range p.T.F { // give the Mono Units real weight
				p.T.F[i] = float32(init.NormFloat64() * 0.3)
			}
		case strings.HasSuffix(p.Name, ".b") || strings.Contains(p.Name, ".b1") || strings.Contains(p.Name, ".b2"):
			// Zero biases put ReLU inputs exactly on the kink (rows whose
			// bottom output is all zero), where finite differences see
			// half a slope: move them off it.
			for i := range p.T.F {
				p.T.F[i] = float32(init.NormFloat64() * 0.1)
			}
		}
	}
	ds := toyData(400, 3)
	rows := make([]int, 32)
	for i := range rows {
		rows[i] = i * 7
	}
	feed := tr.feed(ds, rows)

	// Graph A exposes the stopped values; graph B takes them as inputs.
	var stopped []*g.Node
	ga, _, err := m.trainGraph(func(n *net, x *g.Node) *g.Node {
		stopped = append(stopped, x)
		return g.StopGradient(x)
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range stopped {
		ga.SetOutput(fmt.Sprintf("stopped%d", i), x)
	}
	k := 0
	gb, params, err := m.trainGraph(func(n *net, x *g.Node) *g.Node {
		in := n.gr.Input(fmt.Sprintf("stopped%d", k), g.Float32, x.Shape()...)
		k++
		return in
	})
	if err != nil {
		t.Fatal(err)
	}
	sa, err := native.New(ga, native.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sb, err := native.New(gb, native.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ra, err := sa.Run(feed)
	if err != nil {
		t.Fatal(err)
	}
	fb := map[string]*g.Tensor{}
	for k, v := range feed {
		fb[k] = v
	}
	for i := range stopped {
		fb[fmt.Sprintf("stopped%d", i)] = ra[fmt.Sprintf("stopped%d", i)]
	}
	loss := func() float64 {
		r, err := sb.Run(fb, OutLoss)
		if err != nil {
			t.Fatal(err)
		}
		return float64(r[OutLoss].F[0])
	}
	if l0 := loss(); !near(l0, float64(ra[OutLoss].F[0]), 1e-6) {
		t.Fatalf("frozen graph loss %v, original %v", l0, ra[OutLoss].F[0])
	}
	r := rand.New(rand.NewPCG(5, 5))
	const eps = 1e-3
	for _, p := range params {
		grad := ra[gradPfx+p.Name]
		d := make([]float32, len(p.T.F))
		var ad float64
		for i := range d {
			d[i] = float32(r.NormFloat64())
			ad += float64(d[i]) * float64(grad.F[i])
		}
		orig := append([]float32{}, p.T.F...)
		for i := range d {
			p.T.F[i] = orig[i] + eps*d[i]
		}
		lp := loss()
		for i := range d {
			p.T.F[i] = orig[i] - eps*d[i]
		}
		lm := loss()
		copy(p.T.F, orig)
		num := (lp - lm) / (2 * eps)
		if math.Abs(num-ad) > 5e-3+3e-2*math.Abs(num) {
			t.Errorf("%s: directional derivative autodiff %.6g, finite differences %.6g", p.Name, ad, num)
		}
	}
}

func TestNoGradientIntoEarlierTask(t *testing.T) {
	// The loss of the last task alone must not move the towers of task 1,
	// even though task 1's distribution feeds task 2's Mono Units.
	m, _, _ := tinyModel(t, ODMN)
	n := newNet(m, "probe")
	var grads []*g.Node
	var wrt []*g.Node
	err := g.Catch(func() {
		ids := n.gr.Input(InputIDs, g.Int64, -1, len(m.Features))
		outs := n.forward(ids)
		last := outs[len(outs)-1]
		l := g.ReduceSum(g.Mul(last.o, last.values), nil, false)
		for _, p := range m.Params() {
			if strings.HasPrefix(p.Name, "t30.") {
				wrt = append(wrt, n.nodes[p.Name])
			}
		}
		var err error
		grads, err = g.Gradients(l, wrt...)
		if err != nil {
			panic(&g.BuildError{Err: err})
		}
		for i, gr := range grads {
			n.gr.SetOutput("g"+wrt[i].Name(), gr)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(wrt) == 0 {
		t.Fatal("no task-1 parameters found")
	}
	s, err := native.New(n.gr, native.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ids := g.NewTensor(g.Int64, []int{5, len(m.Features)})
	for i := range ids.I {
		ids.I[i] = int64(i % 3)
	}
	res, err := s.Run(map[string]*g.Tensor{InputIDs: ids})
	if err != nil {
		t.Fatal(err)
	}
	for name, gt := range res {
		for _, v := range gt.F {
			if v != 0 {
				t.Fatalf("gradient %s reaches task 1 through o_1", name)
			}
		}
	}
	// Without the stop-gradient it would: check that the probe can fail.
	// (The Mono Unit is the only path from task 2 into task 1's towers.)
}

// TestMonoWeightsNonNegative trains at a high rate (which drives many raw
// Mono Unit weights negative) and checks what the reparameterization
// promises: the effective weights the graph uses are non-negative, so every
// trained Mono Unit is monotone — raising any input never lowers an output.
func TestMonoWeightsNonNegative(t *testing.T) {
	ds := toyData(1500, 4)
	cfg := smallConfig(ODMN)
	cfg.Epochs = 2
	cfg.LR = 0.05
	m, _, err := Fit(t.Context(), ds, cfg, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(9, 9))
	units, negRaw := 0, 0
	type unit struct {
		name           string
		v1, b1, v2, b2 *g.Tensor
	}
	var all []unit
	for _, p := range m.Params() {
		name, ok := strings.CutSuffix(p.Name, ".v1")
		if ok && strings.Contains(name, ".mono") {
			all = append(all, unit{name, m.Param(name + ".v1").T, m.Param(name + ".b1").T, m.Param(name + ".v2").T, m.Param(name + ".b2").T})
		}
	}
	// A unit whose raw first layer is negative and second positive, with
	// active hidden units: without non-negative effective weights it would
	// decrease in its inputs.
	fill := func(shape []int, v float32) *g.Tensor {
		t := g.NewTensor(g.Float32, shape)
		for i := range t.F {
			t.F[i] = v
		}
		return t
	}
	all = append(all, unit{"hand-set unit", fill([]int{5, 3}, -1), fill([]int{3}, 10), fill([]int{3, 2}, 1), fill([]int{2}, 0)})
	for _, u := range all {
		name, v1, b1, v2, b2 := u.name, u.v1, u.b1, u.v2, u.b2
		units++
		for _, w := range append(append([]float32{}, v1.F...), v2.F...) {
			if w < 0 {
				negRaw++
			}
		}
		in := v1.Shape[0]
		const n = 64
		x := graphtest.Rand(r, 0, 1, n, in)
		up := x.Clone()
		for i := range up.F {
			up.F[i] += float32(r.Float64()) // raise every input by a random amount
		}
		out := graphtest.MustEval(t, func(gr *g.Graph, xs []*g.Node) []*g.Node {
			c := func(name string, t *g.Tensor) *g.Node { return gr.Initializer(name, t) }
			return []*g.Node{
				MonoUnit(xs[0], c("v1", v1), c("b1", b1), c("v2", v2), c("b2", b2)),
				MonoUnit(xs[1], c("v1b", v1), c("b1b", b1), c("v2b", v2), c("b2b", b2)),
			}
		}, x, up)
		for i, lo := range out[0].F {
			if hi := out[1].F[i]; hi < lo-1e-5*(1+float32(math.Abs(float64(lo)))) {
				t.Fatalf("%s is not monotone: raising its inputs moved output %d from %v to %v", name, i, lo, hi)
			}
		}
	}
	if units == 0 {
		t.Fatal("no Mono Units")
	}
	if negRaw == 0 {
		t.Fatal("no raw Mono Unit weight went negative: the test does not exercise the reparameterization")
	}
	t.Logf("%d Mono Units monotone; %d raw weights negative", units, negRaw)
}
