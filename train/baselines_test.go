package train

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/odmn/odmn/compat"
	"github.com/odmn/odmn/export"
	g "github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/graph/graphtest"
	"github.com/odmn/odmn/internal/testenv"
	"github.com/odmn/odmn/runtime/native"
	"github.com/odmn/odmn/runtime/ort"
)

// Hand computations of the ZILN pieces, written from the formulas of
// google/lifetime_value's zero_inflated_lognormal (and its test, whose
// logits and labels the first two rows reuse).
func softplus(x float64) float64 { return math.Log1p(math.Exp(-math.Abs(x))) + math.Max(x, 0) }
func sigmoid(x float64) float64  { return 1 / (1 + math.Exp(-x)) }

// zilnRowLoss is one row's loss: softplus(p) for y = 0; for y > 0,
// softplus(-p) minus the lognormal log density of y (scipy's
// lognorm.logpdf(y, s=sigma, scale=exp(mu))).
func zilnRowLoss(p, mu, raw, y float64) float64 {
	if y == 0 {
		return softplus(p)
	}
	s := math.Max(softplus(raw), math.Sqrt(1e-7))
	d := math.Log(y) - mu
	logpdf := -math.Log(y) - math.Log(s) - 0.5*math.Log(2*math.Pi) - d*d/(2*s*s)
	return softplus(-p) - logpdf
}

func zilnRowPred(p, mu, raw float64) float64 {
	s := softplus(raw)
	return sigmoid(p) * math.Exp(mu+s*s/2)
}

func TestZILNLossAndPredictByHand(t *testing.T) {
	// Rows 0-1: google/lifetime_value's test ([.1 .2 .3] with y = 0,
	// [.4 .5 .6] with y = 1.5). Row 2: a negative logit and a large label.
	// Row 3: raw = -40, where softplus(raw) ~ 4e-18 and the loss floors
	// sigma at sqrt(1e-7) while the prediction uses softplus as is.
	logits := [][3]float64{{.1, .2, .3}, {.4, .5, .6}, {-1.2, 2.5, -.7}, {.3, -.2, -40}}
	labels := []float64{0, 1.5, 40, 0.8}
	n := len(labels)
	z := g.NewTensor(g.Float32, []int{n, 3})
	logy := g.NewTensor(g.Float32, []int{n, 1})
	pos := g.NewTensor(g.Float32, []int{n, 1})
	want, wantPred := 0.0, make([]float64, n)
	for i, l := range logits {
		for k := range l {
			z.F[i*3+k] = float32(l[k])
		}
		if labels[i] > 0 {
			logy.F[i] = float32(math.Log(labels[i]))
			pos.F[i] = 1
		}
		want += zilnRowLoss(l[0], l[1], l[2], labels[i]) / float64(n)
		wantPred[i] = zilnRowPred(l[0], l[1], l[2])
	}
	out := graphtest.MustEval(t, func(gr *g.Graph, x []*g.Node) []*g.Node {
		return []*g.Node{zilnLoss(x[0], x[1], x[2]), ZILNPredict(x[0])}
	}, z, logy, pos)
	if got := float64(out[0].F[0]); !near(got, want, 1e-5) {
		t.Errorf("loss %.7g, want %.7g", got, want)
	}
	// google/lifetime_value's test rows alone, by the numbers:
	// row 0: softplus(.1) = 0.74439666;
	// row 1: softplus(-.4) + log 1.5 + log s + log(2 pi)/2 + (log 1.5 - .5)^2/(2 s^2)
	//        with s = softplus(.6) = 1.0374880: 0.51301525 + 1.3653573 = 1.8783726.
	if r0 := zilnRowLoss(.1, .2, .3, 0); !near(r0, 0.74439666, 1e-7) {
		t.Errorf("row 0 loss %.8g", r0)
	}
	if r1 := zilnRowLoss(.4, .5, .6, 1.5); !near(r1, 1.8783726, 1e-7) {
		t.Errorf("row 1 loss %.8g", r1)
	}
	for i, w := range wantPred {
		if got := float64(out[1].F[i]); !near(got, w, 1e-5) {
			t.Errorf("prediction row %d: %.7g, want %.7g", i, got, w)
		}
	}
	// Row 1's prediction by the numbers: sigmoid(.4) * exp(.5 + 1.0374879^2/2).
	if p := zilnRowPred(.4, .5, .6); !near(p, 0.59868766*math.Exp(.5+1.037488*1.037488/2), 1e-6) {
		t.Errorf("row 1 prediction %.8g", p)
	}
}

func TestZILNLossGradient(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	n := 6
	z := graphtest.Rand(r, -1.5, 1.5, n, 3)
	logy := g.NewTensor(g.Float32, []int{n, 1})
	pos := g.NewTensor(g.Float32, []int{n, 1})
	for i := 0; i < n; i += 2 { // every other row positive
		logy.F[i] = float32(r.Float64()*3 - 1)
		pos.F[i] = 1
	}
	graphtest.GradCheck(t, graphtest.DefaultTol, func(gr *g.Graph, x []*g.Node) *g.Node {
		return zilnLoss(x[0], gr.Const(logy), gr.Const(pos))
	}, z)
}

// randomize gives every parameter of m a seeded random value, so that the
// heads are far from their zero-bias initialization.
func randomize(m *Model, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 1))
	for _, p := range m.Params() {
		for i := range p.T.F {
			p.T.F[i] = float32(r.NormFloat64() * 0.3)
		}
	}
}

// The ZILN model's training loss and prediction, wired through the shared
// trunk, the per-task label scales and the baseline target columns, equal
// the hand formulas applied to the raw head outputs: loss on y / scale,
// prediction scale * sigmoid(p) * exp(mu + sigma^2 / 2).
func TestZILNModelByHand(t *testing.T) {
	ds := toyData(300, 5)
	cfg := smallConfig(ZILN)
	rows := make([]int, ds.N)
	for i := range rows {
		rows[i] = i
	}
	m, err := Prepare(ds, rows, cfg)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := newTrainer(m) // creates the parameters
	if err != nil {
		t.Fatal(err)
	}
	randomize(m, 9)
	batch := rows[:64]
	res, err := tr.sess.Run(tr.feed(ds, batch), OutLoss)
	if err != nil {
		t.Fatal(err)
	}
	// The raw heads [N, 3] per task, from a graph of trunk and towers.
	n := newNet(m, "heads")
	err = g.Catch(func() {
		ids := n.gr.Input(InputIDs, g.Int64, -1, len(m.Features))
		h, in := n.trunk(ids)
		for t, z := range n.scalarHeads(h, in, 3, "ziln") {
			n.gr.SetOutput(m.TargetInput(t), z)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	hs, err := native.New(n.gr, native.Options{})
	if err != nil {
		t.Fatal(err)
	}
	heads, err := hs.Run(map[string]*g.Tensor{InputIDs: tr.workers[0].ids})
	if err != nil {
		t.Fatal(err)
	}
	p, err := m.NewPredictor()
	if err != nil {
		t.Fatal(err)
	}
	pr, err := p.Predict(ds, batch)
	if err != nil {
		t.Fatal(err)
	}
	want := 0.0
	for t0 := range m.Horizons {
		z := heads[m.TargetInput(t0)]
		for i, r := range batch {
			y := float64(ds.Y[r*ds.T+m.Labels[t0]])
			pl, mu, raw := float64(z.F[i*3]), float64(z.F[i*3+1]), float64(z.F[i*3+2])
			want += zilnRowLoss(pl, mu, raw, y/m.Scales[t0]) / float64(len(batch))
			wp := m.Scales[t0] * zilnRowPred(pl, mu, raw)
			if !near(pr.RawEV[i][t0], wp, 1e-4) || pr.ArgMax[i][t0] != pr.EV[i][t0] {
				t.Fatalf("task %d row %d: prediction %v (ltv %v), want %v", t0, i, pr.RawEV[i][t0], pr.ArgMax[i][t0], wp)
			}
		}
	}
	if got := float64(res[OutLoss].F[0]); !near(got, want, 1e-4) {
		t.Errorf("training loss %.6g, want %.6g", got, want)
	}
}

// A trained ZILN model exports to ONNX (its InferGraph through
// export.Marshal), and the file, imported back into the native runtime and
// run by ONNX Runtime, gives the training-time predictions.
func TestZILNExport(t *testing.T) {
	ds := toyData(2000, 2)
	cfg := smallConfig(ZILN)
	cfg.Epochs = 2
	m, _, err := Fit(context.Background(), ds, cfg, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	gr, err := m.InferGraph(InferOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := export.Marshal(gr, export.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mp, err := compat.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	imported, err := compat.Import(mp)
	if err != nil {
		t.Fatal(err)
	}
	ns, err := native.New(imported, native.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rows := make([]int, 500)
	for i := range rows {
		rows[i] = i
	}
	p, err := m.NewPredictor()
	if err != nil {
		t.Fatal(err)
	}
	pr, err := p.Predict(ds, rows)
	if err != nil {
		t.Fatal(err)
	}
	ids := g.NewTensor(g.Int64, []int{len(rows), ds.F})
	for i := range ids.I {
		ids.I[i] = int64(ds.X[i])
	}
	feed := map[string]*g.Tensor{InputIDs: ids}
	check := func(name string, res map[string]*g.Tensor) {
		t.Helper()
		T := len(m.Horizons)
		for _, out := range []string{OutLTV, OutLTVEV} {
			x := res[out]
			if x == nil || len(x.F) != len(rows)*T {
				t.Fatalf("%s: output %s missing or of the wrong size", name, out)
			}
			for i := range rows {
				for k := 0; k < T; k++ {
					got, want := float64(x.F[i*T+k]), pr.EV[i][k]
					if math.Abs(got-want) > 1e-5+1e-5*math.Abs(want) {
						t.Fatalf("%s %s row %d task %d: %v, training-time prediction %v", name, out, i, k, got, want)
					}
				}
			}
		}
	}
	res, err := ns.Run(feed)
	if err != nil {
		t.Fatal(err)
	}
	check("native (imported)", res)

	testenv.RequireLib(t)
	so, err := ort.OpenBytes(b, ort.Options{IntraOpThreads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer so.Close()
	res, err = so.Run(feed)
	if err != nil {
		t.Fatal(err)
	}
	check("ONNX Runtime", res)
}
