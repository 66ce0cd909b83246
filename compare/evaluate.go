package compare

import (
	"fmt"
	"slices"

	"github.com/odmn/odmn/metrics"
	"github.com/odmn/odmn/train"
)

// Evaluate computes the metrics of the asked decodes of pr (predictions
// of model m for users with labels [n][T]), named "<name> <decode>" for
// ODMN models and name (mean-type) and "<name> QM" for baselines. The
// mean-type evaluation carries the interval report when pr has quantiles,
// and every evaluation whose raw decode pr has carries the share of users
// the running maximum changed. Decodes pr lacks (FQM of a model without
// frozen maps, QM of predictions read from a file without it) are left
// out; nil decodes means all. lorenz > 0 keeps Lorenz curves of that many
// segments.
func Evaluate(m *train.Model, name string, labels [][]float64, pr *train.Predictions, decodes []train.DecodeName, lorenz int) ([]Eval, error) {
	if decodes == nil {
		decodes = train.DecodeNames
	}
	mopts := metrics.Options{Horizons: horizonNames(m.Horizons), LorenzPoints: lorenz}
	mdme := m.Cfg.Variant.Parts().Head == train.HeadMDME
	type dec struct {
		d         train.DecodeName
		label     string
		kind      string
		pred, raw [][]float64
		intervals bool
	}
	var decs []dec
	if mdme {
		decs = []dec{
			{train.DecodeArgMax, name + " argmax", KindPoint, pr.ArgMax, pr.RawArgMax, false},
			{train.DecodeEV, name + " EV", KindMean, pr.EV, pr.RawEV, true},
			{train.DecodeQM, name + " QM", KindQM, pr.QM, pr.RawQM, false},
			{train.DecodeFQM, name + " fqm", KindQM, pr.FQM, nil, false},
		}
	} else {
		decs = []dec{
			{train.DecodeEV, name, KindMean, pr.EV, pr.RawEV, true},
			{train.DecodeQM, name + " QM", KindQM, pr.QM, pr.RawQM, false},
		}
	}
	var out []Eval
	for _, d := range decs {
		// A baseline's one prediction answers both argmax and ev.
		want := slices.Contains(decodes, d.d) || (!mdme && d.d == train.DecodeEV && slices.Contains(decodes, train.DecodeArgMax))
		if !want || d.pred == nil {
			continue
		}
		mr, err := metrics.ComputeMultiReport(labels, d.pred, mopts)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", d.label, err)
		}
		e := Eval{Name: d.label, Kind: d.kind, Report: mr}
		if d.raw != nil {
			c := train.ChangedShare(d.raw)
			e.Changed = &c
		}
		if d.intervals && pr.Q != nil {
			if e.Intervals, err = metrics.Intervals(labels, pr.Quantiles, pr.Q, pr.PIT, mopts.Horizons); err != nil {
				return nil, fmt.Errorf("%s intervals: %w", name, err)
			}
			for t := range e.Intervals {
				iv := &e.Intervals[t]
				iv.ClosedMass = columnMean(pr.IntervalMass, t)
				iv.PredZero = columnMean(pr.ZeroProb, t)
				if iv.PredZero != nil {
					var z float64
					for _, row := range labels {
						if row[t] == 0 {
							z++
						}
					}
					z /= float64(len(labels))
					iv.LabelZero = &z
				}
			}
		}
		out = append(out, e)
	}
	return out, nil
}

// columnMean is the mean of column t of x ([n][T]), nil when x is.
func columnMean(x [][]float64, t int) *float64 {
	if len(x) == 0 {
		return nil
	}
	var sum float64
	for _, row := range x {
		sum += row[t]
	}
	c := sum / float64(len(x))
	return &c
}
