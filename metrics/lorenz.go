package metrics

import (
	"fmt"
	"math"
)

// Point is one point of a Lorenz curve: X is the share of users (highest
// values first), Y the share of the total value they hold.
type Point struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
}

// Lorenz returns the n+1 breakpoints of the descending Lorenz curve of v:
// (0, 0), (i/n, sum of the i largest / sum(v)) for i = 1..n; the last point is
// exactly (1, 1). v must be finite, non-negative and not all zero
// (ErrNonFinite, ErrNegative, ErrZeroTotal; ErrEmpty for n = 0).
func Lorenz(v []float64) ([]Point, error) {
	if err := checkLorenzVec("v", v); err != nil {
		return nil, err
	}
	p := sortedPairs(v)
	total := sumDesc(p)
	n := float64(len(p))
	out := make([]Point, len(p)+1)
	var c float64
	for j, q := range p {
		c += q.v
		out[j+1] = Point{float64(j+1) / n, c / total}
	}
	return out, nil
}

// LorenzSampled returns k+1 points of the exact (piecewise-linear) descending
// Lorenz curve of v at x = j/k, j = 0..k, for plotting millions of users with
// a fixed number of points. Errors as [Lorenz]; k must be in [1, 1<<24].
func LorenzSampled(v []float64, k int) ([]Point, error) {
	if err := checkLorenzVec("v", v); err != nil {
		return nil, err
	}
	if k < 1 || k > 1<<24 {
		return nil, fmt.Errorf("%w: k = %d sample points (want 1..%d)", ErrTooLarge, k, 1<<24)
	}
	p := sortedPairs(v)
	return lorenzSampledPairs(p, k, false), nil
}

// lorenzSampledPairs samples the Lorenz curve of p (sorted descending,
// non-negative, positive total). diag replaces it by the diagonal.
func lorenzSampledPairs(p []pair, k int, diag bool) []Point {
	out := make([]Point, k+1)
	n := int64(len(p))
	if diag {
		for j := range out {
			x := float64(j) / float64(k)
			out[j] = Point{x, x}
		}
		return out
	}
	total := sumDesc(p)
	var c float64 // sum of the first idx values
	idx := int64(0)
	for j := 0; j <= k; j++ {
		num := int64(j) * n // position j*n/k in units of 1/k users
		i := num / int64(k)
		rem := num - i*int64(k)
		for idx < i {
			c += p[idx].v
			idx++
		}
		y := c / total
		if rem > 0 {
			y += float64(rem) / float64(k) * p[i].v / total
		}
		if j == k {
			y = 1
		}
		out[j] = Point{float64(j) / float64(k), y}
	}
	return out
}

// Gini returns 2 ∫ (L(x) - x) dx for the descending Lorenz curve of v, exact
// for the piecewise-linear curve: 0 for a constant vector, (n-1)/n for a
// one-hot vector. Errors as [Lorenz].
func Gini(v []float64) (float64, error) {
	if err := checkLorenzVec("v", v); err != nil {
		return 0, err
	}
	return giniDesc(sortedPairs(v)), nil
}

// MutualGini returns ∫₀¹ |L_y(x) - L_yhat(x)| dx (paper Eq. 16), each Lorenz
// curve sorted by its own values, integrated exactly segment by segment and
// split where the curves cross. Both vectors must be finite, non-negative and
// not all zero, of equal length n >= 1 (ErrLength, ErrEmpty, ErrNonFinite,
// ErrNegative, ErrZeroTotal).
func MutualGini(y, yhat []float64) (float64, error) {
	if err := checkPair(y, yhat); err != nil {
		return 0, err
	}
	if err := checkLorenz("y", y); err != nil {
		return 0, err
	}
	if err := checkLorenz("yhat", yhat); err != nil {
		return 0, err
	}
	return mutualGiniDesc(sortedPairs(y), sortedPairs(yhat), false), nil
}

func checkLorenzVec(name string, v []float64) error {
	if err := checkVec(name, v); err != nil {
		return err
	}
	return checkLorenz(name, v)
}

// sumDesc sums the values in sorted order, the same order in which the
// curves accumulate them, so that the last point of a curve is exactly 1.
func sumDesc(p []pair) float64 {
	var s float64
	for _, q := range p {
		s += q.v
	}
	return s
}

// giniDesc: p sorted descending, non-negative, positive total.
// Trapezoids: ∫L = (Σ_{i=1..n} L_i - 1/2)/n, Gini = 2∫L - 1.
func giniDesc(p []pair) float64 {
	var c, sumC float64
	for _, q := range p {
		c += q.v
		sumC += c
	}
	n := float64(len(p))
	g := (2*(sumC/c)-1)/n - 1
	// Mathematically g >= 0 for a descending curve; clip rounding below 0.
	return math.Max(g, 0)
}

// mutualGiniDesc integrates |L_y - L_p| exactly. ys and ps are sorted
// descending with positive totals; predDiag replaces L_p by the diagonal
// (the report's convention for all-zero predictions).
func mutualGiniDesc(ys, ps []pair, predDiag bool) float64 {
	n := len(ys)
	ty := sumDesc(ys)
	var tp float64
	if !predDiag {
		tp = sumDesc(ps)
	}
	var cy, cp, d0, area float64
	for j := 0; j < n; j++ {
		cy += ys[j].v
		var lp float64
		if predDiag {
			lp = float64(j+1) / float64(n)
		} else {
			cp += ps[j].v
			lp = cp / tp
		}
		d1 := cy/ty - lp
		area += segAbs(d0, d1)
		d0 = d1
	}
	return area / float64(n)
}

// segAbs is ∫₀¹ |d0 + (d1-d0)t| dt for a linear d: the trapezoid when d keeps
// its sign, otherwise two triangles meeting at the crossing
// t* = |d0|/(|d0|+|d1|): (t*|d0| + (1-t*)|d1|)/2 = (d0²+d1²)/(2(|d0|+|d1|)).
func segAbs(d0, d1 float64) float64 {
	a0, a1 := math.Abs(d0), math.Abs(d1)
	if (d0 >= 0) == (d1 >= 0) || a0 == 0 || a1 == 0 {
		return (a0 + a1) / 2
	}
	return (d0*d0 + d1*d1) / (2 * (a0 + a1))
}
