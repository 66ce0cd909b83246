package train

import (
	"context"
	"math"
	"testing"
)

// After CalibrateBias, every calibrated bucket's o-weighted mean predicted
// bias on the calibration rows equals its labels' mean bias; the bucket
// probabilities do not move.
func TestCalibrateBias(t *testing.T) {
	ds := toyData(3000, 5)
	cfg := smallConfig(ODMN)
	cfg.Epochs = 1
	m, _, err := Fit(context.Background(), ds, cfg, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	rows := allRowsOf(ds.N)
	before := predictDist(t, m, rows)
	if err := m.CalibrateBias(ds, rows); err != nil {
		t.Fatal(err)
	}
	after := predictDist(t, m, rows)
	checked := 0
	for ti, tb := range m.Tasks {
		j := 0
		for _, sd := range tb.Subs {
			for _, b := range sd.Buckets {
				var sum, cnt, num, den float64
				for k, r := range rows {
					if math.Abs(after.o[ti][k][j]-before.o[ti][k][j]) > 1e-6 {
						t.Fatalf("task %d bucket %d: probability moved", ti, j)
					}
					if b.Point {
						continue
					}
					y := float64(ds.Y[r*ds.T+m.Labels[ti]])
					s, u, c := tb.Assign(y)
					if s == subOfIndex(tb, j) && u == j-offsetOf(tb, s) {
						sum += c
						cnt++
					}
					o := after.o[ti][k][j]
					num += o * (after.v[ti][k][j] - b.Left) / b.Width()
					den += o
				}
				if !b.Point && cnt >= minCalibrate && den > 0 {
					if got, want := num/den, sum/cnt; math.Abs(got-want) > 2e-3 {
						t.Errorf("task %d bucket %d: mean bias %.4f, labels %.4f", ti, j, got, want)
					}
					checked++
				}
				j++
			}
		}
	}
	if checked == 0 {
		t.Fatal("no bucket calibrated")
	}
}

type dists struct{ o, v [][][]float64 } // [task][row][bucket]

func predictDist(t *testing.T, m *Model, rows []int) dists {
	t.Helper()
	p, err := m.NewPredictor()
	if err != nil {
		t.Fatal(err)
	}
	ds := toyData(3000, 5)
	res := dists{}
	for range m.Tasks {
		res.o = append(res.o, nil)
		res.v = append(res.v, nil)
	}
	// One batch: the predictor's session gives o_<h> and v_<h>.
	out, err := p.runRows(ds, rows)
	if err != nil {
		t.Fatal(err)
	}
	for ti, h := range m.Horizons {
		o, v := out[DistOutput(h)], out[ValuesOutput(h)]
		M := o.Shape[1]
		for k := range rows {
			ro, rv := make([]float64, M), make([]float64, M)
			for j := 0; j < M; j++ {
				ro[j], rv[j] = float64(o.F[k*M+j]), float64(v.F[k*M+j])
			}
			res.o[ti] = append(res.o[ti], ro)
			res.v[ti] = append(res.v[ti], rv)
		}
	}
	return res
}

func subOfIndex(tb TaskBuckets, j int) int {
	for s, sd := range tb.Subs {
		if j < len(sd.Buckets) {
			return s
		}
		j -= len(sd.Buckets)
	}
	return -1
}

func offsetOf(tb TaskBuckets, s int) int {
	o := 0
	for _, sd := range tb.Subs[:s] {
		o += len(sd.Buckets)
	}
	return o
}

// fitIntercepts matches weighted class shares and keeps each row's odds
// between classes up to one factor per class.
func TestFitIntercepts(t *testing.T) {
	const n, K = 500, 4
	probs := make([][]float64, n)
	w := make([]float64, n)
	for i := range probs {
		probs[i] = make([]float64, K)
		var z float64
		for k := range probs[i] {
			probs[i][k] = math.Exp(math.Sin(float64(i*(k+3))) * 2)
			z += probs[i][k]
		}
		for k := range probs[i] {
			probs[i][k] /= z
		}
		w[i] = 0.2 + math.Abs(math.Cos(float64(i)))
	}
	target := []float64{10, 50, 25, 15} // shares 0.1, 0.5, 0.25, 0.15
	for _, weighted := range []bool{false, true} {
		var wf func(int) float64
		wsum := float64(n)
		if weighted {
			wf = func(i int) float64 { return w[i] }
			wsum = 0
			for _, x := range w {
				wsum += x
			}
		}
		d := fitIntercepts(n, K, func(i, k int) float64 { return probs[i][k] }, wf, target)
		if d[0] != 0 {
			t.Errorf("weighted %v: first shift %v, want 0", weighted, d[0])
		}
		got := make([]float64, K)
		for i := range probs {
			var z float64
			for k := range d {
				z += probs[i][k] * math.Exp(d[k])
			}
			wi := 1.0
			if wf != nil {
				wi = wf(i)
			}
			for k := range d {
				got[k] += wi * probs[i][k] * math.Exp(d[k]) / z
			}
		}
		for k := range got {
			if share := got[k] / wsum; math.Abs(share-target[k]/100) > 1e-8 {
				t.Errorf("weighted %v class %d: share %.10f, want %.2f", weighted, k, share, target[k]/100)
			}
		}
	}
}

// After CalibrateProbs, the mean predicted probability of every bucket on
// the calibration rows equals the share of their labels in it, at every
// horizon (before, it does not: the test can fail).
func TestCalibrateProbs(t *testing.T) {
	ds := toyData(3000, 5)
	cfg := smallConfig(ODMN)
	cfg.Epochs = 1
	cfg.ProbCal, cfg.BiasCal = false, false
	m, _, err := Fit(context.Background(), ds, cfg, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	rows := allRowsOf(ds.N)
	worst := func() float64 {
		d := predictDist(t, m, rows)
		var w float64
		for ti, tb := range m.Tasks {
			share := make([]float64, tb.NumBuckets())
			mean := make([]float64, tb.NumBuckets())
			for k, r := range rows {
				s, u, _ := tb.Assign(float64(ds.Y[r*ds.T+m.Labels[ti]]))
				share[offsetOf(tb, s)+u] += 1 / float64(len(rows))
				for j, o := range d.o[ti][k] {
					mean[j] += o / float64(len(rows))
				}
			}
			for j := range share {
				w = math.Max(w, math.Abs(mean[j]-share[j]))
			}
		}
		return w
	}
	before := worst()
	if err := m.CalibrateProbs(ds, rows); err != nil {
		t.Fatal(err)
	}
	after := worst()
	if after > 1e-5 {
		t.Errorf("after calibration a bucket's mean probability is %.2g from its label share (before: %.2g)", after, before)
	}
	if before < 1e-3 {
		t.Errorf("the uncalibrated model is already within %.2g: the test shows nothing", before)
	}
}
