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

// The mean property QM has (ApplyQM's doc): before the running maximum,
// each horizon's QM mean is its mixture's mean (1e-6 relative); after it,
// QM is the running maximum of those values, equal in mean at the first
// horizon and above at later ones, by exactly the mean lift of the users
// whose value fell.
func TestQMMeanAcrossHorizons(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	const n, T, M = 5000, 3, 6
	ev := make([][]float64, n)
	sk := make([]*QMSketch, T)
	for h := range sk {
		sk[h] = NewQMSketch()
	}
	mixMean := make([]float64, T)
	mass, val := make([]float64, M), make([]float64, M)
	for i := range ev {
		ev[i] = make([]float64, T)
		prev := 0.0
		for h := 0; h < T; h++ {
			var z, e float64
			for j := range mass {
				mass[j] = rng.Float64()
				z += mass[j]
			}
			for j := range mass {
				mass[j] /= z
				val[j] = float64(j*j*(h+1)) * (1 + rng.Float64())
				if j == 0 {
					val[j] = 0
				}
				e += mass[j] * val[j]
			}
			mixMean[h] += e / n
			// The EV fed to QM is non-decreasing (the model's own running
			// maximum), yet ranks change between horizons.
			ev[i][h] = math.Max(prev, e)
			prev = ev[i][h]
			sk[h].AddUser(ev[i][h], mass, val)
		}
	}
	raw, err := applyQMRaw(ev, sk)
	if err != nil {
		t.Fatal(err)
	}
	qm, err := ApplyQM(ev, sk)
	if err != nil {
		t.Fatal(err)
	}
	fell := 0
	for h := 0; h < T; h++ {
		var rm, qmm, evm float64
		for i := range raw {
			rm += raw[i][h] / n
			qmm += qm[i][h] / n
			evm += ev[i][h] / n
			want := raw[i][h]
			if h > 0 {
				want = math.Max(qm[i][h-1], raw[i][h])
				if raw[i][h] < qm[i][h-1] {
					fell++
				}
			}
			if qm[i][h] != want {
				t.Fatalf("user %d horizon %d: QM %v, want the running maximum %v", i, h, qm[i][h], want)
			}
		}
		// The mixture's mean, up to QM's 1e-6 tie-break weight on EV and
		// float32 output rounding.
		if math.Abs(rm-mixMean[h]) > 1e-6*mixMean[h]+1e-6*math.Abs(evm-mixMean[h]) {
			t.Errorf("horizon %d: raw QM mean %.9g, mixture mean %.9g", h, rm, mixMean[h])
		}
		if h == 0 && qmm != rm {
			t.Errorf("first horizon: QM mean %v, raw %v", qmm, rm)
		}
		if qmm < rm {
			t.Errorf("horizon %d: the running maximum lowered the mean (%v < %v)", h, qmm, rm)
		}
	}
	if fell == 0 {
		t.Fatal("no user's QM value fell between horizons: the running maximum was not exercised")
	}
}
