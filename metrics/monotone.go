package metrics

import (
	"fmt"
	"math"
)

// MonotonicityViolationRate returns the share of users (rows of the [n][T]
// matrix pred) with pred[i][t] > pred[i][t+1] + tol for some t. tol must be
// finite and >= 0 (ErrTolerance); rows must all have the same length T >= 1
// (ErrShape, ErrEmpty) and finite values (ErrNonFinite). With T = 1 the rate
// is 0.
func MonotonicityViolationRate(pred [][]float64, tol float64) (float64, error) {
	if err := checkTol(tol); err != nil {
		return 0, err
	}
	if _, err := checkMatrix("pred", pred); err != nil {
		return 0, err
	}
	return violationRate(pred, tol), nil
}

func checkTol(tol float64) error {
	if !(tol >= 0) || math.IsInf(tol, 0) {
		return fmt.Errorf("%w: got %v", ErrTolerance, tol)
	}
	return nil
}

// checkMatrix validates an [n][T] matrix and returns T.
func checkMatrix(name string, m [][]float64) (int, error) {
	if len(m) == 0 {
		return 0, fmt.Errorf("%w: %s has no rows", ErrEmpty, name)
	}
	if len(m) > math.MaxInt32 {
		return 0, fmt.Errorf("%w: %s has %d rows (max %d)", ErrTooLarge, name, len(m), math.MaxInt32)
	}
	t := len(m[0])
	if t == 0 {
		return 0, fmt.Errorf("%w: %s has no horizons", ErrEmpty, name)
	}
	for i, row := range m {
		if len(row) != t {
			return 0, fmt.Errorf("%w: %s row %d has %d horizons, row 0 has %d", ErrShape, name, i, len(row), t)
		}
		for j, x := range row {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return 0, fmt.Errorf("%w: %s[%d][%d] = %v", ErrNonFinite, name, i, j, x)
			}
		}
	}
	return t, nil
}

func violationRate(m [][]float64, tol float64) float64 {
	bad := 0
	for _, row := range m {
		for t := 0; t+1 < len(row); t++ {
			if row[t] > row[t+1]+tol {
				bad++
				break
			}
		}
	}
	return float64(bad) / float64(len(m))
}
