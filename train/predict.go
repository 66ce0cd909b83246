package train

import (
	"fmt"
	"math"

	"github.com/odmn/odmn/data"
	g "github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/runtime/native"
)

// Predictions are per-row, per-task decodes, each [n][T] and (but the
// raw ones) non-decreasing across horizons.
type Predictions struct {
	Horizons []int
	ArgMax   [][]float64 // Eq. 7-8 (a baseline's prediction)
	EV       [][]float64 // expected value (a baseline's prediction)
	// RawArgMax and RawEV are ArgMax and EV before the running maximum
	// across horizons.
	RawArgMax, RawEV [][]float64
	// QM is the batch quantile-matched EV over the predicted rows
	// (QMSketch): each model's own predicted distribution as the mixture.
	QM [][]float64
	// RawQM is QM before the running maximum across horizons: per
	// horizon, its mean is the mixture's mean (the mean raw EV).
	RawQM [][]float64
	// ZeroProb is, per user and horizon, the predicted P(y = 0) (nil
	// without a distribution): its mean against the share of zero labels
	// is the zero mass's calibration in the large.
	ZeroProb [][]float64
	// FQM is the frozen QM decode (nil for a model without frozen maps).
	FQM [][]float64
	// Quantiles are the interval levels of Q; Q[j] is [n][T], the
	// Quantiles[j]-quantile of each user's predicted distribution (ODMN's
	// buckets, ZILN's zero-inflated lognormal; none for the MSE-MLP).
	Quantiles []float64
	Q         [][][]float64
	// PIT is, per user and horizon, the range [F(y-), F(y)] of the user's
	// predicted CDF at its label y (a point when F is continuous at y):
	// the randomized probability integral transform is uniform on it, and
	// uniform on [0, 1] over users when the predicted distributions are
	// calibrated, point masses included. Nil without a distribution.
	PIT [][][2]float64
	// IntervalMass is, per user and horizon, the probability the user's
	// predicted distribution gives the closed interval [Q[0], Q[last]]:
	// F(Q[last]) - F(Q[0]-). It is the nominal level of a quantile interval
	// plus whatever point mass sits on its ends, so for a calibrated model
	// its mean over users is the closed interval's expected coverage (above
	// the nominal level wherever an end is an atom, such as the zero mass).
	// Nil without a distribution.
	IntervalMass [][]float64

	sketches []*QMSketch // per task: the QM sketch of these rows
}

// Predictor scores encoded rows with the model's inference graph on the
// native runtime (the training-time forward pass).
type Predictor struct {
	m    *Model
	sess *native.Session
	mdme bool
}

// lnAtoms is the number of equal-mass atoms a ZILN user's lognormal part
// adds to the QM mixture.
const lnAtoms = 64

// NewPredictor compiles the inference graph with every decode.
func (m *Model) NewPredictor() (*Predictor, error) {
	head := m.Cfg.Variant.Parts().Head
	opts := InferOptions{Raw: true}
	if head == HeadMDME {
		opts.Distributions, opts.Values = true, true
	}
	if head == HeadZILN {
		opts.ZILN = true
	}
	gr, err := m.InferGraph(opts)
	if err != nil {
		return nil, err
	}
	s, err := native.New(gr, native.Options{})
	if err != nil {
		return nil, err
	}
	return &Predictor{m: m, sess: s, mdme: head == HeadMDME}, nil
}

// Predict scores rows of ds (all rows when rows is nil) in batches.
func (p *Predictor) Predict(ds *data.Dataset, rows []int) (*Predictions, error) {
	m := p.m
	if ds.F != len(m.Features) {
		return nil, fmt.Errorf("predict: data has %d feature slots, model expects %d", ds.F, len(m.Features))
	}
	if rows == nil {
		rows = allRowsOf(ds.N)
	}
	T := len(m.Horizons)
	n := len(rows)
	mat := func() [][]float64 {
		out := make([][]float64, n)
		for i := range out {
			out[i] = make([]float64, T)
		}
		return out
	}
	out := &Predictions{Horizons: m.Horizons, ArgMax: mat(), EV: mat(), RawArgMax: mat(), RawEV: mat()}
	ziln := m.Cfg.Variant.Parts().Head == HeadZILN
	if p.mdme || ziln {
		out.Quantiles = DefaultQuantiles
		out.Q = make([][][]float64, len(DefaultQuantiles))
		for j := range out.Q {
			out.Q[j] = mat()
		}
	}
	if p.mdme && len(m.Frozen) == T {
		out.FQM = mat()
	}
	if p.mdme || ziln {
		out.PIT = make([][][2]float64, n)
		for i := range out.PIT {
			out.PIT[i] = make([][2]float64, T)
		}
		out.IntervalMass = mat()
		out.ZeroProb = mat()
	}
	var zparams [][][3]float64 // ZILN: p, mu, sigma per user and horizon
	if ziln {
		zparams = make([][][3]float64, n)
	}

	sk := make([]*QMSketch, T)
	for t := range sk {
		sk[t] = NewQMSketch()
	}
	var mass, val []float64
	err := inBatches(p.sess, ds, rows[:n], func(i int, batch []int, res map[string]*g.Tensor) error {
		copyOut := func(dst [][]float64, name string) {
			x := res[name]
			for k := range batch {
				for t := 0; t < T; t++ {
					dst[i+k][t] = float64(x.F[k*T+t])
				}
			}
		}
		copyOut(out.ArgMax, OutLTV)
		copyOut(out.EV, OutLTVEV)
		copyOut(out.RawArgMax, OutLTVRaw)
		copyOut(out.RawEV, OutLTVEVRaw)
		if out.FQM != nil {
			copyOut(out.FQM, OutFQM)
		}
		switch {
		case p.mdme:
			for j, q := range out.Quantiles {
				copyOut(out.Q[j], QuantileOutput(q))
			}
			for t, h := range m.Horizons {
				o, v := res[DistOutput(h)], res[ValuesOutput(h)]
				M := o.Shape[1]
				mass, val = grow(mass, M), grow(val, M)
				for k := range batch {
					for j := 0; j < M; j++ {
						mass[j], val[j] = float64(o.F[k*M+j]), float64(v.F[k*M+j])
					}
					sk[t].AddUser(out.EV[i+k][t], mass, val)
					y := float64(ds.Y[batch[k]*ds.T+m.Labels[t]])
					out.PIT[i+k][t] = bucketPIT(m.Tasks[t], mass, y)
					lo, hi := out.Q[0][i+k][t], out.Q[len(out.Q)-1][i+k][t]
					out.IntervalMass[i+k][t] = bucketPIT(m.Tasks[t], mass, hi)[1] - bucketPIT(m.Tasks[t], mass, lo)[0]
					out.ZeroProb[i+k][t] = bucketPIT(m.Tasks[t], mass, 0)[1]
				}
			}
		case ziln:
			pp, mu, sg := res[OutZILNP], res[OutZILNMu], res[OutZILNSig]
			mass, val = grow(mass, lnAtoms+1), grow(val, lnAtoms+1)
			for k := range batch {
				zparams[i+k] = make([][3]float64, T)
				for t := 0; t < T; t++ {
					a, b, c := float64(pp.F[k*T+t]), float64(mu.F[k*T+t]), float64(sg.F[k*T+t])
					zparams[i+k][t] = [3]float64{a, b, c}
					out.ZeroProb[i+k][t] = 1 - a
					for j, q := range out.Quantiles {
						out.Q[j][i+k][t] = ZILNQuantile(q, a, b, c, m.Scales[t])
					}
					LogNormalAtoms(a, b, c, m.Scales[t], lnAtoms, mass, val)
					y := float64(ds.Y[batch[k]*ds.T+m.Labels[t]])
					out.PIT[i+k][t] = zilnPIT(y, a, b, c, m.Scales[t])
					sk[t].AddUser(out.EV[i+k][t], mass, val)
				}
			}
		default: // a point prediction: its own mixture is itself
			for k := range batch {
				for t := 0; t < T; t++ {
					e := out.EV[i+k][t]
					sk[t].AddUser(e, []float64{1}, []float64{e})
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if ziln {
		for j := range out.Q {
			MonotoneRows(out.Q[j])
		}
		for i, zp := range zparams {
			for t, z := range zp {
				lo, hi := out.Q[0][i][t], out.Q[len(out.Q)-1][i][t]
				out.IntervalMass[i][t] = zilnPIT(hi, z[0], z[1], z[2], m.Scales[t])[1] - zilnPIT(lo, z[0], z[1], z[2], m.Scales[t])[0]
			}
		}
	}
	out.sketches = sk
	if n > 0 {
		raw, err := applyQMRaw(out.EV, sk)
		if err != nil {
			return nil, err
		}
		out.RawQM = raw
		out.QM = make([][]float64, n)
		for i, r := range raw {
			out.QM[i] = append([]float64(nil), r...)
		}
		MonotoneRows(out.QM)
	}
	return out, nil
}

func grow(x []float64, n int) []float64 {
	if cap(x) < n {
		return make([]float64, n)
	}
	return x[:n]
}

func allRowsOf(n int) []int {
	rows := make([]int, n)
	for i := range rows {
		rows[i] = i
	}
	return rows
}

// ApplyQM maps every user's EV (ev [n][T]) through the QM map of its
// horizon's sketch and makes the result non-decreasing across horizons.
//
// What holds of the mean: before the running maximum, the QM values of
// horizon t have the mean of its mixture (the slices partition the
// quantile function), which is the mean raw EV; the running maximum then
// adds the mean lift of the users whose QM value fell from one horizon to
// the next, so mean(QM_t) >= mean(raw EV_t), with equality at the first
// horizon and wherever no value fell. Both cannot hold exactly at once
// while QM also keeps EV's order and the mixture's values (docs/decodes.md).
func ApplyQM(ev [][]float64, sketches []*QMSketch) ([][]float64, error) {
	out, err := applyQMRaw(ev, sketches)
	if err != nil {
		return nil, err
	}
	MonotoneRows(out)
	return out, nil
}

// applyQMRaw is ApplyQM without the running maximum.
func applyQMRaw(ev [][]float64, sketches []*QMSketch) ([][]float64, error) {
	maps := make([]*QMMap, len(sketches))
	for t, s := range sketches {
		mp, err := s.Map()
		if err != nil {
			return nil, fmt.Errorf("horizon %d: %w", t+1, err)
		}
		maps[t] = mp
	}
	out := make([][]float64, len(ev))
	for i, row := range ev {
		r := make([]float64, len(row))
		for t, e := range row {
			// float32, like every other output of the model.
			r[t] = float64(float32(maps[t].Apply(e)))
		}
		out[i] = r
	}
	return out, nil
}

// MonotoneRows replaces each row [T] by its running maximum in place.
func MonotoneRows(x [][]float64) {
	for _, r := range x {
		for t := 1; t < len(r); t++ {
			r[t] = max(r[t], r[t-1])
		}
	}
}

// ChangedShare is the share of rows in which the running maximum changed
// a value: rows of raw that decrease somewhere across horizons.
func ChangedShare(raw [][]float64) float64 {
	if len(raw) == 0 {
		return 0
	}
	c := 0
	for _, r := range raw {
		for t := 1; t < len(r); t++ {
			if r[t] < r[t-1] {
				c++
				break
			}
		}
	}
	return float64(c) / float64(len(raw))
}

// FreezeQM fits the frozen QM maps (the fqm decode) on rows of ds, the
// validation rows at the end of training: the QM map of their EVs, kept
// as DefaultFrozenKnots knots per task. Models without bucket
// distributions have no frozen map.
func (m *Model) FreezeQM(ds *data.Dataset, rows []int) error {
	m.Frozen = nil
	if m.Cfg.Variant.Parts().Head != HeadMDME || len(rows) == 0 {
		return nil
	}
	p, err := m.NewPredictor()
	if err != nil {
		return err
	}
	pr, err := p.Predict(ds, rows)
	if err != nil {
		return err
	}
	var fs []FrozenMap
	for t, s := range pr.sketches {
		mp, err := s.Map()
		if err != nil {
			return fmt.Errorf("frozen QM, horizon %d: %w", m.Horizons[t], err)
		}
		fm, err := mp.Freeze(m.Horizons[t], DefaultFrozenKnots)
		if err != nil {
			return err
		}
		fs = append(fs, fm)
	}
	m.Frozen = fs
	return nil
}

// LabelsOf returns the model's task labels for rows of ds ([n][T]).
func (m *Model) LabelsOf(ds *data.Dataset, rows []int) [][]float64 {
	if rows == nil {
		rows = allRowsOf(ds.N)
	}
	out := make([][]float64, len(rows))
	for k, r := range rows {
		row := make([]float64, len(m.Labels))
		for t, li := range m.Labels {
			row[t] = float64(ds.Y[r*ds.T+li])
		}
		out[k] = row
	}
	return out
}

// bucketPIT is [F(y-), F(y)] of a bucket distribution o (point buckets as
// points, interval buckets uniform over their range).
func bucketPIT(tb TaskBuckets, o []float64, y float64) [2]float64 {
	var lo, hi float64
	j := 0
	for _, sd := range tb.Subs {
		for _, b := range sd.Buckets {
			p := o[j]
			j++
			if b.Point || !(b.Width() > 0) {
				if b.Left < y {
					lo += p
				}
				if b.Left <= y {
					hi += p
				}
				continue
			}
			c := math.Max(0, math.Min(1, (y-b.Left)/b.Width()))
			lo += p * c
			hi += p * c
		}
	}
	return [2]float64{lo, hi}
}

// zilnPIT is [F(y-), F(y)] of a zero-inflated lognormal.
func zilnPIT(y, p, mu, sigma, scale float64) [2]float64 {
	if y <= 0 {
		return [2]float64{0, 1 - p}
	}
	f := 1 - p + p*normCDF((math.Log(y/scale)-mu)/sigma)
	return [2]float64{f, f}
}

// runRows runs the predictor's graph on rows of ds in one batch.
func (p *Predictor) runRows(ds *data.Dataset, rows []int) (map[string]*g.Tensor, error) {
	ids := g.NewTensor(g.Int64, []int{len(rows), ds.F})
	for k, r := range rows {
		ds.RowInt64(r, ids.I[k*ds.F:(k+1)*ds.F])
	}
	return p.sess.Run(map[string]*g.Tensor{InputIDs: ids})
}
