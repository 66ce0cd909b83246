package train

import (
	"fmt"
	"math"
	"testing"

	g "github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/runtime/native"
)

// TestLossTermsByHand recomputes every loss term of Eq. 9-14 in float64
// from the towers' outputs of a tiny ODMN and compares with the graph.
func TestLossTermsByHand(t *testing.T) {
	m, tr, _ := tinyModel(t, ODMN)
	ds := toyData(400, 3)
	rows := make([]int, 40)
	for i := range rows {
		rows[i] = i * 9
	}
	feed := tr.feed(ds, rows)
	// Push task 1 to its positive sub-distribution and task 2 to zero, so
	// that the calibration hinge (Eq. 12) is not trivially 0.
	for name, v := range map[string][]float32{"t30.dct.o.b": {-4, 4}, "t90.dct.o.b": {4, -4}} {
		p := m.Param(name)
		if p == nil || len(p.T.F) != 2 {
			t.Fatalf("parameter %s: %+v", name, p)
		}
		copy(p.T.F, v)
	}

	n := newNet(m, "terms")
	var l Losses
	var outs []taskOut
	err := g.Catch(func() {
		ids := n.gr.Input(InputIDs, g.Int64, -1, len(m.Features))
		outs = n.forward(ids)
		targets := make([]*g.Node, len(m.Tasks))
		for k, tb := range m.Tasks {
			targets[k] = n.gr.Input(m.TargetInput(k), g.Float32, -1, layoutFor(tb).width)
		}
		l = n.loss(outs, targets)
		for name, x := range l.Terms {
			n.gr.SetOutput("term/"+name, x)
		}
		for k, to := range outs {
			set := func(name string, x *g.Node) {
				if x != nil {
					n.gr.SetOutput(fmt.Sprintf("%d/%s", k, name), x)
				}
			}
			set("dct", to.dct)
			set("dot", to.dot)
			set("o", to.o)
			set("values", to.values)
			for s := range to.bct {
				set(fmt.Sprintf("bct%d", s), to.bct[s])
				set(fmt.Sprintf("bot%d", s), to.bot[s])
				set(fmt.Sprintf("bbt%d", s), to.bbt[s])
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	sess, err := native.New(n.gr, native.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := sess.Run(feed)
	if err != nil {
		t.Fatal(err)
	}
	N := len(rows)
	row := func(name string, i int) []float64 {
		x := res[name]
		w := x.Shape[1]
		out := make([]float64, w)
		for j := range out {
			out[j] = float64(x.F[i*w+j])
		}
		return out
	}
	logSoftmax := func(z []float64) []float64 {
		mx := math.Inf(-1)
		for _, v := range z {
			mx = math.Max(mx, v)
		}
		var s float64
		for _, v := range z {
			s += math.Exp(v - mx)
		}
		out := make([]float64, len(z))
		for j, v := range z {
			out[j] = v - mx - math.Log(s)
		}
		return out
	}
	sig := func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
	softplus := func(x float64) float64 { return math.Max(x, 0) + math.Log1p(math.Exp(-math.Abs(x))) }
	teacher := func(z []float64) []float64 {
		k := len(z) + 1
		pi := make([]float64, k)
		pi[0] = 1 - sig(z[0])
		for j := 1; j < k-1; j++ {
			pi[j] = sig(z[j-1]) - sig(z[j])
		}
		pi[k-1] = sig(z[k-2])
		var s float64
		for j := range pi {
			pi[j] = math.Max(pi[j], 0)
			s += pi[j]
		}
		for j := range pi {
			pi[j] /= s + 1e-8
		}
		return pi
	}
	ce := func(target, z []float64) float64 {
		ls := logSoftmax(z)
		var s float64
		for j := range target {
			s -= target[j] * ls[j]
		}
		return s
	}
	bce := func(z, tgt []float64) float64 {
		var s float64
		for j := range z {
			s += softplus(z[j]) - tgt[j]*z[j]
		}
		return s
	}
	want := map[string]float64{}
	cfg := m.Cfg
	evs := make([][]float64, len(m.Tasks))
	for k, tb := range m.Tasks {
		lay := layoutFor(tb)
		tgtName := m.TargetInput(k)
		tg := func(i, from, w int) []float64 {
			x := feed[tgtName]
			out := make([]float64, w)
			for j := range out {
				out[j] = float64(x.F[i*lay.width+from+j])
			}
			return out
		}
		var dct, dot, dis float64
		for i := 0; i < N; i++ {
			z := row(fmt.Sprintf("%d/dct", k), i)
			dct += ce(tg(i, lay.subOH, lay.S), z)
			if _, ok := res[fmt.Sprintf("%d/dot", k)]; ok {
				zo := row(fmt.Sprintf("%d/dot", k), i)
				dot += bce(zo, tg(i, lay.dot, lay.S-1))
				dis += ce(teacher(zo), z)
			}
		}
		want["dct"] += dct / float64(N)
		want["dot"] += dot / float64(N)
		want["dct_dis"] += cfg.Beta * dis / float64(N)
		for s, sl := range lay.subs {
			var bct, bot, bdis, cnt, bbt, bcnt float64
			for i := 0; i < N; i++ {
				in := tg(i, sl.in, 1)[0]
				cnt += in
				if z, ok := res[fmt.Sprintf("%d/bct%d", k, s)]; ok && z != nil {
					zb := row(fmt.Sprintf("%d/bct%d", k, s), i)
					bct += in * ce(tg(i, sl.bucketOH, sl.m), zb)
					if _, ok := res[fmt.Sprintf("%d/bot%d", k, s)]; ok {
						zo := row(fmt.Sprintf("%d/bot%d", k, s), i)
						bot += in * bce(zo, tg(i, sl.bot, sl.m-1))
						bdis += in * ce(teacher(zo), zb)
					}
				}
				if _, ok := res[fmt.Sprintf("%d/bbt%d", k, s)]; ok {
					b := row(fmt.Sprintf("%d/bbt%d", k, s), i)
					tt, mk := tg(i, sl.bbtT, sl.r), tg(i, sl.bbtM, sl.r)
					for r := range b {
						bbt += mk[r] * (b[r] - tt[r]) * (b[r] - tt[r])
						bcnt += mk[r]
					}
				}
			}
			c := math.Max(cnt, 1)
			want["bct"] += bct / c
			want["bot"] += bot / c
			want["bct_dis"] += cfg.Gamma * bdis / c
			if sl.r > 0 {
				want["bbt"] += bbt / math.Max(bcnt, 1)
			}
		}
		evs[k] = make([]float64, N)
		for i := 0; i < N; i++ {
			o, v := row(fmt.Sprintf("%d/o", k), i), row(fmt.Sprintf("%d/values", k), i)
			for j := range o {
				evs[k][i] += o[j] * v[j]
			}
		}
	}
	var cali float64
	for i := 0; i < N; i++ {
		for k := 0; k+1 < len(evs); k++ {
			cali += math.Max(evs[k][i]-evs[k+1][i], 0)
		}
	}
	want["cali"] = cfg.Alpha / m.LabelScale * cali / float64(N)
	for _, name := range termOrder {
		got, ok := res["term/"+name]
		if !ok {
			t.Fatalf("term %s missing from the graph", name)
		}
		g := float64(got.F[0])
		if math.Abs(g-want[name]) > 1e-4*(1+math.Abs(want[name])) {
			t.Errorf("term %s: graph %.6g, by hand %.6g", name, g, want[name])
		}
	}
	if want["cali"] <= 0 {
		t.Fatalf("calibration hinge is %v: the test does not exercise it", want["cali"])
	}
	t.Logf("terms by hand: %v", want)
}
