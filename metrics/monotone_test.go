package metrics

import (
	"math"
	"testing"
)

func TestMonotonicityViolationRate(t *testing.T) {
	m := [][]float64{
		{1, 2, 3},    // ordered
		{2, 1, 3},    // 2 > 1: violation of 1
		{1, 1, 1},    // equal is allowed
		{3, 2.95, 4}, // 3 > 2.95: violation of 0.05
	}
	// tol 0: rows 1 and 3 -> 2/4.
	got, err := MonotonicityViolationRate(m, 0)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "rate tol 0", got, 0.5, 0)
	// tol 0.1: only row 1 (1 > 0.1) -> 1/4.
	got, _ = MonotonicityViolationRate(m, 0.1)
	near(t, "rate tol 0.1", got, 0.25, 0)
	// A user with two violations counts once: 1/1.
	got, _ = MonotonicityViolationRate([][]float64{{3, 2, 1}}, 0)
	near(t, "counted once", got, 1, 0)
	// T = 1: no pairs, rate 0.
	got, err = MonotonicityViolationRate([][]float64{{5}, {1}}, 0)
	if err != nil || got != 0 {
		t.Errorf("T=1: %v, %v", got, err)
	}
}

func TestMonotonicityDegenerate(t *testing.T) {
	_, err := MonotonicityViolationRate(nil, 0)
	wantErr(t, "no rows", err, ErrEmpty)
	_, err = MonotonicityViolationRate([][]float64{{}}, 0)
	wantErr(t, "no horizons", err, ErrEmpty)
	_, err = MonotonicityViolationRate([][]float64{{1, 2}, {1}}, 0)
	wantErr(t, "ragged", err, ErrShape)
	_, err = MonotonicityViolationRate([][]float64{{1, math.NaN()}}, 0)
	wantErr(t, "NaN", err, ErrNonFinite)
	for _, tol := range []float64{-0.1, math.NaN(), math.Inf(1)} {
		_, err = MonotonicityViolationRate([][]float64{{1, 2}}, tol)
		wantErr(t, "tolerance", err, ErrTolerance)
	}
}
