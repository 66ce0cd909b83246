package metrics

import (
	"fmt"
	"math"
)

// NormalizedGini returns the normalized model Gini of google/lifetime_value
// (lifetime_value/metrics.py: cumulative_true, gini_from_gain):
//
//	G_i   = (sum of the labels of the i users with the highest predictions) / sum(y)
//	raw   = 2·(G_1 + ... + G_n)/n - 1
//	value = raw(y ordered by yhat) / raw(y ordered by y)
//
// Ties in yhat are averaged, not ordered: each user in a block of equal
// predictions is credited with the block's mean label, which is the expected
// gain curve over all orders of the tied users. The value therefore does not
// depend on input order. Constant predictions give raw = 1/n and value =
// 1/(n·raw_truth) (google's right-endpoint sum; it tends to 0 as n grows).
// Perfect ranking gives exactly 1 (the same code path computes numerator
// and denominator). Predictions may be negative; labels must be
// non-negative and not all zero (ErrNegative, ErrZeroTotal), and both finite
// of equal length n >= 1.
func NormalizedGini(y, yhat []float64) (float64, error) {
	if err := checkPair(y, yhat); err != nil {
		return 0, err
	}
	if err := checkLorenz("y", y); err != nil {
		return 0, err
	}
	return normalizedGiniPairs(sortedPairs(y), sortedPairs(yhat), y), nil
}

// gainRaw returns google's raw Gini 2·mean(G) - 1 for labels y taken in the
// order of p (sorted descending by p.v), averaging labels over blocks of
// equal p.v. In a block of k users with label sum S following a prefix sum
// P, the cumulative sums are P + S·j/k (j = 1..k), which add up to
// k·P + S(k+1)/2.
func gainRaw(p []pair, y []float64) float64 {
	var prefix, sumC float64
	for a := 0; a < len(p); {
		b := blockEnd(p, a)
		var s float64
		for _, q := range p[a:b] {
			s += y[q.i]
		}
		k := float64(b - a)
		sumC += k*prefix + s*(k+1)/2
		prefix += s
		a = b
	}
	return 2*sumC/(float64(len(p))*prefix) - 1
}

// normalizedGiniPairs: py sorted by y, pp sorted by yhat, y non-negative with
// positive total (so raw(truth) >= 1/n > 0).
func normalizedGiniPairs(py, pp []pair, y []float64) float64 {
	return gainRaw(pp, y) / gainRaw(py, y)
}

// Spearman returns the Spearman rank correlation of x and y: the Pearson
// correlation of their ranks, tied values sharing the average of the ranks
// they span. It fails with ErrConstant if either vector is constant (n = 1
// included), and with ErrEmpty, ErrLength, ErrNonFinite.
func Spearman(x, y []float64) (float64, error) {
	if len(x) != len(y) {
		return 0, fmt.Errorf("%w: %d and %d values", ErrLength, len(x), len(y))
	}
	if err := checkVec("x", x); err != nil {
		return 0, err
	}
	if err := checkVec("y", y); err != nil {
		return 0, err
	}
	return spearmanPairs(sortedPairs(x), sortedPairs(y), make([]float64, len(x)))
}

// spearmanPairs: px, py sorted descending (ranking both descending gives
// the same correlation as ascending); rank is scratch of length n.
func spearmanPairs(px, py []pair, rank []float64) (float64, error) {
	n := len(px)
	c := float64(n+1) / 2 // mean rank
	var sxx, syy, sxy float64
	blocks := 0
	for a := 0; a < n; {
		b := blockEnd(px, a)
		r := float64(a+1+b)/2 - c // average of ranks a+1..b, centred
		for _, q := range px[a:b] {
			rank[q.i] = r
		}
		sxx += float64(b-a) * r * r
		blocks++
		a = b
	}
	if blocks == 1 {
		return 0, fmt.Errorf("%w: all %d values of the first vector are equal", ErrConstant, n)
	}
	blocks = 0
	for a := 0; a < n; {
		b := blockEnd(py, a)
		r := float64(a+1+b)/2 - c
		var s float64
		for _, q := range py[a:b] {
			s += rank[q.i]
		}
		sxy += s * r
		syy += float64(b-a) * r * r
		blocks++
		a = b
	}
	if blocks == 1 {
		return 0, fmt.Errorf("%w: all %d values of the second vector are equal", ErrConstant, n)
	}
	rho := sxy / (math.Sqrt(sxx) * math.Sqrt(syy))
	return math.Max(-1, math.Min(1, rho)), nil
}

// NumDeciles is the number of rows of a decile table.
const NumDeciles = 10

// DecileRow is one prediction decile. Decile 1 holds the highest
// predictions. Mean and range fields are null for an empty decile (n < 10).
type DecileRow struct {
	Decile    int      `json:"decile"`
	Count     int      `json:"count"`
	MeanLabel *float64 `json:"mean_label"`
	MeanPred  *float64 `json:"mean_pred"`
	MinPred   *float64 `json:"min_pred"`
	MaxPred   *float64 `json:"max_pred"`
}

// Deciles sorts users by prediction descending and splits them into 10
// consecutive groups; with n = 10q + r the first r deciles hold q+1 users and
// the others q. A block of tied predictions that straddles a boundary gives
// each decile its mean label times its overlap, i.e. the expectation over
// orders of the tied users, so the table does not depend on input order.
// Labels and predictions may be any finite values (ErrEmpty, ErrLength,
// ErrNonFinite). For n < 10 the last 10-n deciles are empty.
func Deciles(y, yhat []float64) ([]DecileRow, error) {
	if err := checkPair(y, yhat); err != nil {
		return nil, err
	}
	return decilesPairs(sortedPairs(yhat), y), nil
}

// decileStart returns the first sorted position of decile d (0-based);
// decileStart(10) = n.
func decileStart(d, n int) int {
	q, r := n/NumDeciles, n%NumDeciles
	return d*q + min(d, r)
}

// decilesPairs: pp sorted descending by prediction.
func decilesPairs(pp []pair, y []float64) []DecileRow {
	n := len(pp)
	var labelSum, predSum [NumDeciles]float64
	d := 0 // decile of position a
	for a := 0; a < n; {
		b := blockEnd(pp, a)
		var s float64
		for _, q := range pp[a:b] {
			s += y[q.i]
		}
		k := b - a
		v := pp[a].v
		for pos := a; pos < b; {
			for decileStart(d+1, n) <= pos {
				d++
			}
			end := min(b, decileStart(d+1, n))
			o := end - pos
			if o == k {
				labelSum[d] += s // whole block in one decile: no rounding
			} else {
				labelSum[d] += s * float64(o) / float64(k)
			}
			predSum[d] += v * float64(o)
			pos = end
		}
		a = b
	}
	rows := make([]DecileRow, NumDeciles)
	for d := range rows {
		lo, hi := decileStart(d, n), decileStart(d+1, n)
		rows[d] = DecileRow{Decile: d + 1, Count: hi - lo}
		if hi > lo {
			c := float64(hi - lo)
			rows[d].MeanLabel = ptr(labelSum[d] / c)
			rows[d].MeanPred = ptr(predSum[d] / c)
			rows[d].MaxPred = ptr(pp[lo].v)
			rows[d].MinPred = ptr(pp[hi-1].v)
		}
	}
	return rows
}

func ptr(v float64) *float64 { return &v }
