package metrics

import "math"

// pointSums holds the sums behind NRMSE, NMAE and AMBE.
type pointSums struct {
	n                     float64
	sumY, sumP            float64
	sumErr, sumAbs, sumSq float64
}

func newPointSums(y, yhat []float64) pointSums {
	s := pointSums{n: float64(len(y))}
	for i, yi := range y {
		pi := yhat[i]
		e := pi - yi
		s.sumY += yi
		s.sumP += pi
		s.sumErr += e
		s.sumAbs += math.Abs(e)
		s.sumSq += e * e
	}
	return s
}

func (s pointSums) meanY() float64 { return s.sumY / s.n }
func (s pointSums) meanP() float64 { return s.sumP / s.n }
func (s pointSums) ambe() float64  { return math.Abs(s.sumErr / s.n) }
func (s pointSums) nrmse() float64 { return math.Sqrt(s.sumSq/s.n) / s.meanY() }
func (s pointSums) nmae() float64  { return s.sumAbs / s.n / s.meanY() }

// NRMSE returns sqrt(mean((yhat-y)²)) / mean(y). It fails with ErrEmpty,
// ErrLength, ErrNonFinite, or ErrNonPositiveMean when mean(y) <= 0.
func NRMSE(y, yhat []float64) (float64, error) {
	s, err := pointSumsChecked(y, yhat)
	if err != nil {
		return 0, err
	}
	return s.nrmse(), nil
}

// NMAE returns mean(|yhat-y|) / mean(y), with the errors of [NRMSE].
func NMAE(y, yhat []float64) (float64, error) {
	s, err := pointSumsChecked(y, yhat)
	if err != nil {
		return 0, err
	}
	return s.nmae(), nil
}

// AMBE returns |mean(yhat-y)| in label units. It fails only on ErrEmpty,
// ErrLength and ErrNonFinite.
func AMBE(y, yhat []float64) (float64, error) {
	if err := checkPair(y, yhat); err != nil {
		return 0, err
	}
	return newPointSums(y, yhat).ambe(), nil
}

func pointSumsChecked(y, yhat []float64) (pointSums, error) {
	if err := checkPair(y, yhat); err != nil {
		return pointSums{}, err
	}
	s := newPointSums(y, yhat)
	if !(s.meanY() > 0) {
		return s, errNonPositiveMean(s.meanY())
	}
	return s, nil
}
