package metrics

import (
	"fmt"
	"math"
)

// IntervalReport evaluates predictive quantiles at one horizon.
type IntervalReport struct {
	Horizon string `json:"horizon"`
	// Levels are the quantile levels, increasing.
	Levels []float64 `json:"levels"`
	// Coverage is the share of labels inside the closed interval [first
	// quantile, last quantile]. Where the predictive distribution has an
	// atom at an end (the zero mass of money labels), the closed interval
	// holds more than its nominal level of predicted probability, so a
	// calibrated model covers more than 80% with p10..p90: compare it with
	// ClosedMass, not with 0.8.
	Coverage float64 `json:"coverage"`
	// ClosedMass is the mean over users of the predicted probability of
	// their closed interval, F(last) - F(first-): what Coverage is for a
	// calibrated model. Set by callers that have the predictive CDFs (nil
	// otherwise).
	ClosedMass *float64 `json:"closed_mass,omitempty"`
	// PredZero is the mean predicted P(y = 0) and LabelZero the share of
	// zero labels: the zero mass's calibration in the large. Set by
	// callers that have the predictive distributions (nil otherwise).
	PredZero  *float64 `json:"pred_zero,omitempty"`
	LabelZero *float64 `json:"label_zero,omitempty"`
	// Pinball is the mean pinball (quantile) loss of each level, divided
	// by the label mean (like NMAE; the 0.5 level's is NMAE / 2 of the
	// median).
	Pinball []float64 `json:"pinball"`
	// MeanPinball is the mean over the levels of Pinball: for many evenly
	// spaced levels it approaches CRPS / label mean.
	MeanPinball float64 `json:"mean_pinball"`
	// PITCoverage is the coverage of the central interval between the
	// first and last level as defined for predictive distributions with
	// atoms: the share of users whose randomized PIT, uniform on
	// [F(y-), F(y)], falls in [first level, last level], computed as its
	// expectation (Czado, Gneiting and Held 2009). It is the coverage of
	// the randomized interval that includes a label on an atom at an end
	// with the probability the central band gives that atom, whose
	// predicted probability is exactly the nominal level; a calibrated
	// model (uniform PIT) has 0.8 for p10..p90, point masses included.
	// This is the figure to hold against 80%. Null without PIT ranges.
	PITCoverage *float64 `json:"pit_coverage,omitempty"`
}

// Intervals evaluates quantile predictions q[j][i][t] (level levels[j],
// user i, horizon t) against labels[i][t]. Horizons names the T horizons.
//
// pit, when not nil, holds each user's [F(y-), F(y)] per horizon
// ([n][T]) for PITCoverage.
func Intervals(labels [][]float64, levels []float64, q [][][]float64, pit [][][2]float64, horizons []string) ([]IntervalReport, error) {
	if pit != nil && len(pit) != len(labels) {
		return nil, fmt.Errorf("%w: %d PIT rows, %d labels", ErrLength, len(pit), len(labels))
	}
	if len(levels) < 2 || len(q) != len(levels) {
		return nil, fmt.Errorf("%w: %d quantile levels and %d predictions; want at least 2 of each", ErrShape, len(levels), len(q))
	}
	n := len(labels)
	if n == 0 {
		return nil, ErrEmpty
	}
	T := len(labels[0])
	if len(horizons) != T {
		return nil, fmt.Errorf("%w: %d horizon names for %d horizons", ErrShape, len(horizons), T)
	}
	for j := range q {
		if len(q[j]) != n {
			return nil, fmt.Errorf("%w: level %v has %d rows, labels %d", ErrLength, levels[j], len(q[j]), n)
		}
	}
	out := make([]IntervalReport, T)
	for t := 0; t < T; t++ {
		r := IntervalReport{Horizon: horizons[t], Levels: levels, Pinball: make([]float64, len(levels))}
		var mean float64
		in := 0
		for i := 0; i < n; i++ {
			if len(labels[i]) != T {
				return nil, fmt.Errorf("%w: label row %d has %d horizons, want %d", ErrShape, i, len(labels[i]), T)
			}
			y := labels[i][t]
			mean += y
			lo, hi := q[0][i][t], q[len(q)-1][i][t]
			if y >= lo && y <= hi {
				in++
			}
			for j, a := range levels {
				p := q[j][i][t]
				if math.IsNaN(p) || math.IsInf(p, 0) || math.IsNaN(y) {
					return nil, fmt.Errorf("%w: row %d horizon %s level %v", ErrNonFinite, i, horizons[t], a)
				}
				d := y - p
				r.Pinball[j] += math.Max(a*d, (a-1)*d)
			}
		}
		mean /= float64(n)
		r.Coverage = float64(in) / float64(n)
		if pit != nil {
			a, b := levels[0], levels[len(levels)-1]
			c := 0.0
			for i := 0; i < n; i++ {
				if len(pit[i]) != T {
					return nil, fmt.Errorf("%w: PIT row %d has %d horizons, want %d", ErrShape, i, len(pit[i]), T)
				}
				lo, hi := pit[i][t][0], pit[i][t][1]
				if hi-lo > 1e-12 {
					c += math.Max(0, math.Min(hi, b)-math.Max(lo, a)) / (hi - lo)
				} else if lo >= a && lo <= b {
					c++
				}
			}
			c /= float64(n)
			r.PITCoverage = &c
		}
		for j := range r.Pinball {
			r.Pinball[j] /= float64(n)
			if mean > 0 {
				r.Pinball[j] /= mean
			}
			r.MeanPinball += r.Pinball[j] / float64(len(levels))
		}
		out[t] = r
	}
	return out, nil
}
