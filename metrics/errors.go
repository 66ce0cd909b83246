package metrics

import (
	"errors"
	"fmt"
	"math"
)

// Sentinel errors. Functions wrap them with detail; test with errors.Is.
var (
	// ErrEmpty: no users (n = 0) or no horizons (T = 0).
	ErrEmpty = errors.New("metrics: empty input")
	// ErrLength: label and prediction vectors (or matrices) differ in length.
	ErrLength = errors.New("metrics: length mismatch")
	// ErrShape: a matrix row has a different number of horizons than row 0,
	// or Options.Horizons does not name every horizon.
	ErrShape = errors.New("metrics: ragged or inconsistent shape")
	// ErrNonFinite: NaN or ±Inf in the input.
	ErrNonFinite = errors.New("metrics: non-finite value")
	// ErrNegative: a negative value where a Lorenz curve is required.
	ErrNegative = errors.New("metrics: negative value where a Lorenz curve needs non-negative values")
	// ErrZeroTotal: a vector summing to 0 where a Lorenz curve is required.
	ErrZeroTotal = errors.New("metrics: vector sums to 0, its Lorenz curve is undefined")
	// ErrNonPositiveMean: mean(y) <= 0, so NRMSE/NMAE cannot be normalized.
	ErrNonPositiveMean = errors.New("metrics: label mean is not positive")
	// ErrConstant: a constant vector has no defined rank correlation.
	ErrConstant = errors.New("metrics: constant vector")
	// ErrTolerance: the monotonicity tolerance is negative or not finite.
	ErrTolerance = errors.New("metrics: tolerance must be finite and >= 0")
	// ErrTooLarge: more users than int32 indices can address, or an
	// unreasonable number of Lorenz sample points.
	ErrTooLarge = errors.New("metrics: input too large")
)

// checkVec rejects empty, oversized and non-finite vectors.
func checkVec(name string, v []float64) error {
	if len(v) == 0 {
		return fmt.Errorf("%w: %s has no values", ErrEmpty, name)
	}
	if len(v) > math.MaxInt32 {
		return fmt.Errorf("%w: %s has %d values (max %d)", ErrTooLarge, name, len(v), math.MaxInt32)
	}
	for i, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("%w: %s[%d] = %v", ErrNonFinite, name, i, x)
		}
	}
	return nil
}

// checkPair validates a label/prediction pair of one horizon.
func checkPair(y, yhat []float64) error {
	if len(y) != len(yhat) {
		return fmt.Errorf("%w: %d labels, %d predictions", ErrLength, len(y), len(yhat))
	}
	if err := checkVec("y", y); err != nil {
		return err
	}
	return checkVec("yhat", yhat)
}

// checkLorenz rejects negative and all-zero vectors (v already finite).
func checkLorenz(name string, v []float64) error {
	pos := false
	for i, x := range v {
		if x < 0 {
			return fmt.Errorf("%w: %s[%d] = %v", ErrNegative, name, i, x)
		}
		if x > 0 {
			pos = true
		}
	}
	if !pos {
		return fmt.Errorf("%w: %s is all zeros", ErrZeroTotal, name)
	}
	return nil
}

func errNonPositiveMean(m float64) error {
	return fmt.Errorf("%w: mean(y) = %v", ErrNonPositiveMean, m)
}
