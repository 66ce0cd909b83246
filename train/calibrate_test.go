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
