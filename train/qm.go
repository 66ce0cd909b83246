package train

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// Quantile-matched EV (QM), spec section 5b: rank the users by EV and give
// the user at rank quantile u the u-quantile of the population's predicted
// mixture (the mean over the users of their predicted distributions).
//
// Exactly: with n users and the mixture's quantile function Q, the user of
// rank r (0-based, ties sharing their slice) gets n × ∫ Q(u) du over
// [r/n, (r+1)/n], the mean of the mixture over its rank slice. The slices
// partition [0, 1], so the mean of QM is the mixture's mean, which is the
// mean of the users' EVs.
//
// QMSketch computes it in one pass with flat memory: two mergeable
// histograms over logarithmic bins of relative width QMAlpha (plus one bin
// for values <= 0), one of the users' EVs (count and EV sum per bin), one
// of the mixture (mass and mass × value per bin). A user's rank slice is
// that of its EV bin: users whose EVs fall into the same bin (EVs within a
// factor 1 + QMAlpha) share one value. The error bound, tested against the
// exact in-memory computation: a user's sketched value and its exact value
// both lie between Q at the start and Q at the end of the user's bin's
// rank slice, widened by one mixture bin (relative QMAlpha); the mean is
// kept exactly (up to float rounding) whatever QMAlpha.

// QMTieBreak breaks QM's ties by EV: a user's value is (1 - κ) × its
// slice mean + κ × its EV with κ = QMTieBreak. Users sharing a point mass
// of the mixture (most often the zero mass) keep EV's order, the mean is
// kept exactly (EV's mean is the mixture's), and no value moves by more
// than κ relative to the slice mean and the EV.
const QMTieBreak = 1e-6

// QMAlpha is the relative bin width of QMSketch.
const QMAlpha = 1e-4

var logGamma = math.Log1p(QMAlpha)

// zeroKey is the bin of values <= 0 (and of tiny positive ones).
const zeroKey = math.MinInt32

// qmTiny: values at or below it are binned with zero.
const qmTiny = 1e-30

func binKey(v float64) int32 {
	if !(v > qmTiny) {
		return zeroKey
	}
	return int32(math.Floor(math.Log(v) / logGamma))
}

// QMSketch accumulates one horizon's EVs and predicted mixture.
type QMSketch struct {
	ev  map[int32]*[2]float64 // count, sum of EV
	mix map[int32]*[2]float64 // mass, sum of mass × value
}

// NewQMSketch returns an empty sketch.
func NewQMSketch() *QMSketch {
	return &QMSketch{ev: map[int32]*[2]float64{}, mix: map[int32]*[2]float64{}}
}

func addTo(m map[int32]*[2]float64, k int32, a, b float64) {
	c := m[k]
	if c == nil {
		c = &[2]float64{}
		m[k] = c
	}
	c[0] += a
	c[1] += b
}

// AddUser adds one user: its EV (the ranking key) and its predicted
// distribution as atoms, mass[j] at value val[j] (masses sum to 1).
func (s *QMSketch) AddUser(ev float64, mass, val []float64) {
	addTo(s.ev, binKey(ev), 1, ev)
	for j, p := range mass {
		if p > 0 {
			addTo(s.mix, binKey(val[j]), p, p*val[j])
		}
	}
}

// Merge adds other's users to s.
func (s *QMSketch) Merge(other *QMSketch) {
	for k, c := range other.ev {
		addTo(s.ev, k, c[0], c[1])
	}
	for k, c := range other.mix {
		addTo(s.mix, k, c[0], c[1])
	}
}

// Users is the number of users added.
func (s *QMSketch) Users() float64 {
	n := 0.0
	for _, c := range s.ev {
		n += c[0]
	}
	return n
}

// QMMap is a fitted EV -> value map: per EV bin (in increasing order) its
// key, user count, mean EV and value.
type QMMap struct {
	Keys   []int32
	Count  []float64
	MeanEV []float64
	Value  []float64
}

// Map fits the QM map of the users added so far.
func (s *QMSketch) Map() (*QMMap, error) {
	if len(s.ev) == 0 {
		return nil, errors.New("qm: no users")
	}
	ek := sortedKeys(s.ev)
	mk := sortedKeys(s.mix)
	var n, W float64
	for _, k := range ek {
		n += s.ev[k][0]
	}
	for _, k := range mk {
		W += s.mix[k][0]
	}
	if !(W > 0) {
		return nil, errors.New("qm: the predicted distributions have no mass")
	}
	// G(m): the mixture's mass × value below cumulative mass m, linear
	// within a bin (its mass spread at its mean value).
	j, cumM, cumG := 0, 0.0, 0.0
	G := func(m float64) float64 {
		for j < len(mk) && cumM+s.mix[mk[j]][0] <= m {
			cumM += s.mix[mk[j]][0]
			cumG += s.mix[mk[j]][1]
			j++
		}
		if j == len(mk) {
			return cumG
		}
		c := s.mix[mk[j]]
		return cumG + (m-cumM)/c[0]*c[1]
	}
	out := &QMMap{}
	c0, g0 := 0.0, 0.0
	scale := W / n // mixture mass per user
	for i, k := range ek {
		c := s.ev[k]
		c1 := c0 + c[0]
		var g1 float64
		if i == len(ek)-1 {
			g1 = 0
			for _, mk := range mk {
				g1 += s.mix[mk][1]
			}
		} else {
			g1 = G(c1 * scale)
		}
		out.Keys = append(out.Keys, k)
		out.Count = append(out.Count, c[0])
		out.MeanEV = append(out.MeanEV, c[1]/c[0])
		out.Value = append(out.Value, (g1-g0)/(c[0]*scale))
		c0, g0 = c1, g1
	}
	// Slice means of a non-decreasing Q are non-decreasing; keep them so
	// through float rounding.
	for i := 1; i < len(out.Value); i++ {
		out.Value[i] = math.Max(out.Value[i], out.Value[i-1])
	}
	return out, nil
}

func sortedKeys(m map[int32]*[2]float64) []int32 {
	ks := make([]int32, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// Apply maps an EV: the value of its bin when the map has it (an EV the
// sketch saw), else FrozenQMRef over the bins' mean EVs; ties broken by
// EV (QMTieBreak).
func (q *QMMap) Apply(ev float64) float64 {
	k := binKey(ev)
	if i, ok := slices.BinarySearch(q.Keys, k); ok {
		return (1-QMTieBreak)*q.Value[i] + QMTieBreak*ev
	}
	if len(q.Keys) == 1 {
		return (1-QMTieBreak)*(q.Value[0]+math.Max(ev-q.MeanEV[0], 0)) + QMTieBreak*ev
	}
	return FrozenQMRef(ev, q.MeanEV, q.Value)
}

// FrozenMap is the frozen form of a QM map for one horizon (fqm): knots
// X (increasing EVs) and Y (non-decreasing values), applied by FrozenQM.
type FrozenMap struct {
	Horizon int       `json:"horizon"`
	X       []float64 `json:"x"`
	Y       []float64 `json:"y"`
}

// DefaultFrozenKnots is the most knots a frozen map keeps.
const DefaultFrozenKnots = 128

// Freeze compresses the map to at most knots knots: consecutive bins
// grouped at equal user counts, each group at its mean EV and mean value
// (so the map keeps the validation mean).
func (q *QMMap) Freeze(horizon, knots int) (FrozenMap, error) {
	if knots < 2 {
		return FrozenMap{}, fmt.Errorf("qm: %d knots, want at least 2", knots)
	}
	n := 0.0
	for _, c := range q.Count {
		n += c
	}
	fm := FrozenMap{Horizon: horizon}
	per := n / float64(knots)
	var cnt, sev, sval float64
	flush := func() {
		if cnt == 0 {
			return
		}
		x, y := sev/cnt, sval/cnt
		if l := len(fm.X); l > 0 && !(x > fm.X[l-1]) {
			fm.Y[l-1] = math.Max(fm.Y[l-1], y)
		} else {
			if l > 0 {
				y = math.Max(y, fm.Y[l-1])
			}
			fm.X, fm.Y = append(fm.X, x), append(fm.Y, y)
		}
		cnt, sev, sval = 0, 0, 0
	}
	for i, c := range q.Count {
		cnt += c
		sev += c * q.MeanEV[i]
		sval += c * q.Value[i]
		if cnt >= per {
			flush()
		}
	}
	flush()
	if len(fm.X) == 1 { // one knot: continue one for one on both sides
		fm.X = append(fm.X, fm.X[0]+1)
		fm.Y = append(fm.Y, fm.Y[0]+1)
	}
	return fm, nil
}

// ExactQM is the exact in-memory QM of one horizon (the reference the
// sketch is tested against): ev[i] is user i's EV, atoms[i] its predicted
// distribution (mass and value pairs). Users with equal EVs share their
// slices' mean.
func ExactQM(ev []float64, mass, val [][]float64) []float64 {
	n := len(ev)
	type atom struct{ v, m float64 }
	var atoms []atom
	W := 0.0
	for i := range mass {
		for j, p := range mass[i] {
			if p > 0 {
				atoms = append(atoms, atom{val[i][j], p})
				W += p
			}
		}
	}
	slices.SortFunc(atoms, func(a, b atom) int {
		switch {
		case a.v < b.v:
			return -1
		case a.v > b.v:
			return 1
		}
		return 0
	})
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case ev[a] < ev[b]:
			return -1
		case ev[a] > ev[b]:
			return 1
		}
		return 0
	})
	scale := W / float64(n)
	j, cumM, cumG := 0, 0.0, 0.0
	G := func(m float64) float64 {
		for j < len(atoms) && cumM+atoms[j].m <= m {
			cumM += atoms[j].m
			cumG += atoms[j].m * atoms[j].v
			j++
		}
		if j == len(atoms) {
			return cumG
		}
		return cumG + (m-cumM)*atoms[j].v
	}
	out := make([]float64, n)
	g0 := 0.0
	for r := 0; r < n; {
		e := r
		for e < n && ev[order[e]] == ev[order[r]] {
			e++
		}
		g1 := G(float64(e) * scale)
		v := (g1 - g0) / (float64(e-r) * scale)
		for _, i := range order[r:e] {
			out[i] = v
		}
		g0, r = g1, e
	}
	return out
}

// LogNormalAtoms writes k equal-mass atoms of a zero-inflated lognormal
// (P(y > 0) = p, log y ~ N(mu, sigma²) given y > 0, times scale) into
// mass and val (length k+1: the zero atom first): each atom at the mean of
// its 1/k slice of the lognormal, so the atoms' mean is the
// distribution's mean p·scale·exp(mu + sigma²/2).
func LogNormalAtoms(p, mu, sigma, scale float64, k int, mass, val []float64) {
	mass[0], val[0] = 1-p, 0
	mean := scale * math.Exp(mu+sigma*sigma/2)
	prev := 0.0 // Φ(z_j - σ) at the slice start
	for j := 1; j <= k; j++ {
		var cur float64
		if j == k {
			cur = 1
		} else {
			z := normQuantile(float64(j) / float64(k))
			cur = normCDF(z - sigma)
		}
		mass[j] = p / float64(k)
		val[j] = mean * (cur - prev) * float64(k)
		prev = cur
	}
}

// ZILNQuantile is the q-quantile of a zero-inflated lognormal (see
// LogNormalAtoms).
func ZILNQuantile(q, p, mu, sigma, scale float64) float64 {
	if q <= 1-p {
		return 0
	}
	return scale * math.Exp(mu+sigma*normQuantile((q-(1-p))/p))
}

func normCDF(z float64) float64 { return 0.5 * math.Erfc(-z/math.Sqrt2) }

func normQuantile(p float64) float64 {
	switch {
	case p <= 0:
		return math.Inf(-1)
	case p >= 1:
		return math.Inf(1)
	}
	return math.Sqrt2 * math.Erfinv(2*p-1)
}
