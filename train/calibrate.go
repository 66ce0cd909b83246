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
	err = inBatches(sess, ds, rows, func(_ int, batch []int, res map[string]*g.Tensor) error {
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
		return nil
	})
	if err != nil {
		return err
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

// CalibrateProbs refits the intercepts of the bucket probabilities on rows
// of ds so that the distribution is calibrated in the large: for every
// horizon, sub-distribution s and bucket j, the mean over the rows of the
// predicted probability equals the share of labels that fall there,
// sum_i p_is = n_s and sum_i p_is q_isj = n_j.
//
// Why: these equalities are what maximum likelihood gives the output-layer
// intercepts of the DCT and BCT softmaxes at convergence. Early stopping
// after a few epochs and the distillation towards the ordinal teacher
// leave them off on the training users themselves (on CDNOW at 180 days
// the zero mass was predicted 3 points too small, and the missing mass,
// spread over the positive buckets, raised the mean EV by dollars). Only
// the intercepts move (one scalar per class, added to the logits), so
// every user's order within a sub-distribution's odds is kept. Horizons
// are calibrated in order, each after the previous one has moved, since
// horizon t's logits depend on o_(t-1) through the Mono Unit. A task
// whose classes have fewer than minCalibrate labels is left as is. The
// probabilities of the rows are held as float32 (rows x buckets per task).
func (m *Model) CalibrateProbs(ds *data.Dataset, rows []int) error {
	if m.Cfg.Variant.Parts().Head != HeadMDME || len(rows) == 0 {
		return nil
	}
	for t := range m.Tasks {
		if err := m.calibrateTaskProbs(ds, rows, t); err != nil {
			return err
		}
	}
	return nil
}

func (m *Model) calibrateTaskProbs(ds *data.Dataset, rows []int, t int) error {
	tb := m.Tasks[t]
	h := m.Horizons[t]
	M := tb.NumBuckets()
	S := len(tb.Subs)
	offs := make([]int, S+1)
	for s := range tb.Subs {
		offs[s+1] = offs[s] + len(tb.Subs[s].Buckets)
	}
	// Label counts per bucket and sub-distribution.
	nj := make([]float64, M)
	ns := make([]float64, S)
	for _, r := range rows {
		s, u, _ := tb.Assign(float64(ds.Y[r*ds.T+m.Labels[t]]))
		nj[offs[s]+u]++
		ns[s]++
	}
	o, err := m.taskDistributions(ds, rows, h, M)
	if err != nil {
		return err
	}
	n := len(rows)
	// p[i*S+s]: the current probability of sub s.
	p := make([]float64, n*S)
	for i := 0; i < n; i++ {
		for s := 0; s < S; s++ {
			var sum float64
			for j := offs[s]; j < offs[s+1]; j++ {
				sum += float64(o[i*M+j])
			}
			p[i*S+s] = sum
		}
	}
	enough := func(c []float64) bool {
		for _, x := range c {
			if x < minCalibrate {
				return false
			}
		}
		return true
	}
	if S > 1 && enough(ns) {
		d := fitIntercepts(n, S, func(i, s int) float64 { return p[i*S+s] }, nil, ns)
		name := fmt.Sprintf("t%d.dct.o.b", h)
		pr := m.byName[name]
		if pr == nil || len(pr.T.F) != S {
			return fmt.Errorf("calibrate: no output bias %s of %d values", name, S)
		}
		for s := range d {
			pr.T.F[s] += float32(d[s])
		}
		// The calibrated p, the weights of the buckets' fit.
		for i := 0; i < n; i++ {
			var z float64
			for s := 0; s < S; s++ {
				p[i*S+s] *= math.Exp(d[s])
				z += p[i*S+s]
			}
			for s := 0; s < S && z > 0; s++ {
				p[i*S+s] /= z
			}
		}
	}
	for s, sd := range tb.Subs {
		ms := len(sd.Buckets)
		if ms < 2 || !enough(nj[offs[s]:offs[s+1]]) {
			continue
		}
		// q_isj = o_ij / (sum over s's buckets), weighted by the calibrated p_is.
		sub := make([]float64, n)
		for i := range sub {
			for j := offs[s]; j < offs[s+1]; j++ {
				sub[i] += float64(o[i*M+j])
			}
		}
		q := func(i, k int) float64 {
			if sub[i] <= 0 {
				return 1 / float64(ms)
			}
			return float64(o[i*M+offs[s]+k]) / sub[i]
		}
		w := func(i int) float64 { return p[i*S+s] }
		e := fitIntercepts(n, ms, q, w, nj[offs[s]:offs[s+1]])
		name := fmt.Sprintf("t%d.s%d.bct.o.b", h, s)
		pr := m.byName[name]
		if pr == nil || len(pr.T.F) != ms {
			return fmt.Errorf("calibrate: no output bias %s of %d values", name, ms)
		}
		for k := range e {
			pr.T.F[k] += float32(e[k])
		}
	}
	return nil
}

// fitIntercepts returns the shifts d (K values, the first 0) of a softmax's
// logits for which sum_i w_i softmax(log prob_i + d)_k = target_k for every
// class k, where prob(i, k) are the current probabilities and w(i) the
// row weights (1 when w is nil). The fixed point d_k += log(target_k /
// current_k) is the iterative proportional fitting of the intercepts; it
// stops when every class is within 1e-9 relative of its target, or after
// 500 rounds.
func fitIntercepts(n, K int, prob func(i, k int) float64, w func(i int) float64, target []float64) []float64 {
	d := make([]float64, K)
	f := make([]float64, K)
	cur := make([]float64, K)
	var total, wsum float64
	for _, x := range target {
		total += x
	}
	for i := 0; i < n; i++ {
		if w == nil {
			wsum++
		} else {
			wsum += w(i)
		}
	}
	if total <= 0 || wsum <= 0 {
		return d
	}
	// The weights need not sum to the label count: match shares.
	scale := wsum / total
	for round := 0; round < 500; round++ {
		for k := range f {
			f[k] = math.Exp(d[k])
			cur[k] = 0
		}
		for i := 0; i < n; i++ {
			var z float64
			for k := 0; k < K; k++ {
				z += prob(i, k) * f[k]
			}
			if z <= 0 {
				continue
			}
			wi := 1.0
			if w != nil {
				wi = w(i)
			}
			for k := 0; k < K; k++ {
				cur[k] += wi * prob(i, k) * f[k] / z
			}
		}
		worst := 0.0
		for k := range d {
			tk := target[k] * scale
			if cur[k] <= 0 {
				continue
			}
			worst = math.Max(worst, math.Abs(cur[k]-tk)/tk)
			d[k] += math.Log(tk / cur[k])
		}
		if worst < 1e-9 {
			break
		}
	}
	d0 := d[0]
	for k := range d {
		d[k] -= d0
	}
	return d
}

// taskDistributions runs the inference graph over rows and returns horizon
// h's bucket distributions o, row-major [len(rows)][M].
func (m *Model) taskDistributions(ds *data.Dataset, rows []int, h, M int) ([]float32, error) {
	gr, err := m.InferGraph(InferOptions{Distributions: true, NoQuantiles: true})
	if err != nil {
		return nil, err
	}
	sess, err := native.New(gr, native.Options{})
	if err != nil {
		return nil, err
	}
	defer sess.Close()
	out := make([]float32, 0, len(rows)*M)
	err = inBatches(sess, ds, rows, func(_ int, batch []int, res map[string]*g.Tensor) error {
		o := res[DistOutput(h)]
		if o == nil || o.Shape[1] != M {
			return fmt.Errorf("calibrate: no distribution output of %d buckets for horizon %d", M, h)
		}
		out = append(out, o.F[:len(batch)*M]...)
		return nil
	})
	return out, err
}

// inBatches runs sess on rows of ds, 4096 at a time, and calls fn with
// each batch's offset into rows, the batch and its outputs (valid until fn
// returns).
func inBatches(sess *native.Session, ds *data.Dataset, rows []int, fn func(i int, batch []int, res map[string]*g.Tensor) error) error {
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
		if err := fn(i, batch, res); err != nil {
			return err
		}
	}
	return nil
}
