package train

import (
	"fmt"
	"math"

	"github.com/odmn/odmn/data"
	g "github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/runtime/native"
)

// minCalibrate is the fewest labels an interval bucket needs before its
// bias output is calibrated.
const minCalibrate = 20

// CalibrateBias shifts each interval bucket's bias output (the BBT's
// output-layer bias, a logit) so that over rows of ds the predicted bias
// coefficient, weighted by the bucket's probability o, has the mean of the
// labels that fall into the bucket: sum_i o_i sigmoid(z_i + delta) /
// sum_i o_i = mean bias of the bucket's labels.
//
// Why: a bucket's contribution to the mean EV is its probability times its
// value left + bias * width. The open-ended top bucket of money labels is
// wide (on CDNOW, hundreds of dollars), so a bias error of 0.01 moves the
// mean EV by dollars, and the BBT, trained by only the few users in that
// bucket, is still far from its mean when early stopping ends training.
// One scalar per bucket, fitted by bisection, keeps each user's ordering
// within the bucket (sigmoid is monotone) and leaves the probabilities
// alone. Buckets with fewer than minCalibrate labels keep their bias.
func (m *Model) CalibrateBias(ds *data.Dataset, rows []int) error {
	parts := m.Cfg.Variant.Parts()
	if parts.Head != HeadMDME || !parts.BBT || len(rows) == 0 {
		return nil
	}
	gr, err := m.InferGraph(InferOptions{Distributions: true, Values: true, NoQuantiles: true})
	if err != nil {
		return err
	}
	sess, err := native.New(gr, native.Options{})
	if err != nil {
		return err
	}
	defer sess.Close()
	T := len(m.Tasks)
	// Per task: each user's o and bias per interval bucket (float32).
	type col struct {
		sub, k  int // sub-distribution and interval index within it
		b       Bucket
		o, z    []float32
		sum, nc float64 // label bias sum and count
	}
	cols := make([][]*col, T)
	for t, tb := range m.Tasks {
		cols[t] = make([]*col, tb.NumBuckets())
		j := 0
		for s, sd := range tb.Subs {
			k := 0
			for _, b := range sd.Buckets {
				if !b.Point {
					cols[t][j] = &col{sub: s, k: k, b: b}
					k++
				}
				j++
			}
		}
	}
	// Label biases per bucket.
	for t, tb := range m.Tasks {
		offs := make([]int, len(tb.Subs))
		for s := 1; s < len(tb.Subs); s++ {
			offs[s] = offs[s-1] + len(tb.Subs[s-1].Buckets)
		}
		for _, r := range rows {
			y := float64(ds.Y[r*ds.T+m.Labels[t]])
			s, u, c := tb.Assign(y)
			if cl := cols[t][offs[s]+u]; cl != nil {
				cl.sum += c
				cl.nc++
			}
		}
	}
	const bs = 4096
	ids := &g.Tensor{}
	for i := 0; i < len(rows); i += bs {
		batch := rows[i:min(i+bs, len(rows))]
		ids.Reset(g.Int64, []int{len(batch), ds.F})
		for k, r := range batch {
			ds.RowInt64(r, ids.I[k*ds.F:(k+1)*ds.F])
		}
		res, err := sess.Run(map[string]*g.Tensor{InputIDs: ids})
		if err != nil {
			return err
		}
		for t, h := range m.Horizons {
			o, v := res[DistOutput(h)], res[ValuesOutput(h)]
			M := o.Shape[1]
			for j, cl := range cols[t] {
				if cl == nil || cl.nc < minCalibrate {
					continue
				}
				w := cl.b.Width()
				for k := range batch {
					c := (float64(v.F[k*M+j]) - cl.b.Left) / w
					c = math.Min(math.Max(c, 1e-6), 1-1e-6)
					cl.o = append(cl.o, o.F[k*M+j])
					cl.z = append(cl.z, float32(math.Log(c/(1-c))))
				}
			}
		}
	}
	for t, h := range m.Horizons {
		for _, cl := range cols[t] {
			if cl == nil || cl.nc < minCalibrate {
				continue
			}
			target := cl.sum / cl.nc
			f := func(d float64) float64 {
				var num, den float64
				for i, o := range cl.o {
					num += float64(o) / (1 + math.Exp(-(float64(cl.z[i]) + d)))
					den += float64(o)
				}
				if den == 0 {
					return 0
				}
				return num/den - target
			}
			// Bisection on [-20, 20]; a target out of reach (all labels at
			// one edge) ends at that end.
			lo, hi := -20.0, 20.0
			switch {
			case f(lo) > 0:
				hi = lo
			case f(hi) < 0:
				lo = hi
			}
			for it := 0; it < 60 && lo < hi; it++ {
				mid := (lo + hi) / 2
				if f(mid) < 0 {
					lo = mid
				} else {
					hi = mid
				}
			}
			name := fmt.Sprintf("t%d.s%d.bbt.o.b", h, cl.sub)
			p := m.byName[name]
			if p == nil || cl.k >= len(p.T.F) {
				return fmt.Errorf("calibrate: no bias output %s[%d]", name, cl.k)
			}
			p.T.F[cl.k] += float32((lo + hi) / 2)
		}
	}
	return nil
}
