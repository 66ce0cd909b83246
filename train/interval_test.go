package train

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Labels drawn from each user's own bucket distribution (a zero point mass
// and interval buckets): the randomized-PIT coverage of [p10, p90] is 80%,
// while the closed interval holds more, as much as its predicted
// probability (IntervalMass's definition), because p10 is often the zero
// atom. Each check is within 4 standard errors of the sampling noise.
func TestIntervalCoverageWithAtoms(t *testing.T) {
	tb := TaskBuckets{Horizon: 30, Subs: []SubDist{
		{Lo: 0, Hi: 0, Buckets: []Bucket{{Left: 0, Right: 0, Point: true}}},
		{Lo: 1, Hi: 500, Buckets: []Bucket{{Left: 1, Right: 10}, {Left: 10, Right: 25}, {Left: 25, Right: 25, Point: true}, {Left: 25, Right: 100}, {Left: 100, Right: 500}}},
	}}
	knots, cdf := MixtureKnots(tb)
	rng := rand.New(rand.NewPCG(7, 11))
	const n = 20000
	M := tb.NumBuckets()
	var pit, closed, mass float64
	o := make([]float64, M)
	for i := 0; i < n; i++ {
		// A user's distribution: zero mass between 0.3 and 0.95, the rest
		// spread unevenly.
		z := 0.3 + 0.65*rng.Float64()
		var sum float64
		for j := 1; j < M; j++ {
			o[j] = rng.Float64() + 0.05
			sum += o[j]
		}
		o[0] = z
		for j := 1; j < M; j++ {
			o[j] *= (1 - z) / sum
		}
		// A label from o.
		u, j := rng.Float64(), 0
		for ; j < M-1 && u > o[j]; j++ {
			u -= o[j]
		}
		b := tb.Subs[subOfIndex(tb, j)].Buckets[j-offsetOf(tb, subOfIndex(tb, j))]
		y := b.Left
		if !b.Point {
			y = b.Left + rng.Float64()*b.Width()
		}
		lo, hi := MixtureQuantileRef(o, knots, cdf, 0.1), MixtureQuantileRef(o, knots, cdf, 0.9)
		r := bucketPIT(tb, o, y)
		if r[1]-r[0] > 1e-12 {
			pit += math.Max(0, math.Min(r[1], 0.9)-math.Max(r[0], 0.1)) / (r[1] - r[0])
		} else if r[0] >= 0.1 && r[0] <= 0.9 {
			pit++
		}
		if y >= lo && y <= hi {
			closed++
		}
		mass += bucketPIT(tb, o, hi)[1] - bucketPIT(tb, o, lo)[0]
	}
	pit, closed, mass = pit/n, closed/n, mass/n
	se := math.Sqrt(0.25 / n)
	t.Logf("PIT coverage %.4f, closed %.4f, closed mass %.4f", pit, closed, mass)
	if math.Abs(pit-0.8) > 4*se {
		t.Errorf("randomized-PIT coverage %.4f, want 0.8 ± %.4f", pit, 4*se)
	}
	if math.Abs(closed-mass) > 4*se {
		t.Errorf("closed interval holds %.4f of the labels, its predicted mass is %.4f", closed, mass)
	}
	if mass < 0.85 {
		t.Errorf("closed interval's predicted mass %.4f: the zero atom should lift it well above 0.8", mass)
	}
}
