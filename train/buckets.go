package train

import (
	"fmt"
	"math"
	"sort"
)

// Bucket is one class of a sub-distribution. A point bucket holds a single
// heavy value (Left == Right, no bias output: the paper's "bucket width 1"
// for integer labels); an interval bucket is [Left, Right) with a bias
// coefficient in [0, 1] learned by the BBT (the last is closed at Right).
type Bucket struct {
	Left  float64 `json:"left"`
	Right float64 `json:"right"`
	Point bool    `json:"point,omitempty"`
}

// Width is Right - Left (0 for a point bucket).
func (b Bucket) Width() float64 { return b.Right - b.Left }

// Value is the label a bucket decodes to with bias coefficient c.
func (b Bucket) Value(c float64) float64 {
	if b.Point {
		return b.Left
	}
	return b.Left + c*b.Width()
}

// SubDist is one sub-distribution of a task: labels in [Lo, Hi] (Hi
// included only for the last one) and the buckets that split it.
type SubDist struct {
	Lo      float64  `json:"lo"`
	Hi      float64  `json:"hi"`
	Buckets []Bucket `json:"buckets"`
	// MeanBias is the mean training bias coefficient of each interval
	// bucket, in bucket order (Config.BBTInit starts the BBT there).
	MeanBias []float64 `json:"mean_bias,omitempty"`
}

// Intervals is the number of interval buckets (the BBT's width r_s).
func (s SubDist) Intervals() int {
	r := 0
	for _, b := range s.Buckets {
		if !b.Point {
			r++
		}
	}
	return r
}

// TaskBuckets is the label layout of one horizon: its sub-distributions
// in increasing label order (the DCT classes) and their buckets.
type TaskBuckets struct {
	Horizon int       `json:"horizon"`
	Subs    []SubDist `json:"subs"`
}

// BucketOptions control FitBuckets.
type BucketOptions struct {
	// Buckets is the largest number of buckets per sub-distribution (default 12).
	Buckets int
	// PointShare is the share of a sub-distribution's samples above which a
	// single value becomes a point bucket (spec 2, 5b: default 5%).
	PointShare float64
	// ZeroShare is the share of zero labels above which the zero mass is its
	// own sub-distribution (default: PointShare). Below it, the labels are
	// split at their median instead.
	ZeroShare float64
	// MinPerBucket is the fewest training samples an interval bucket is cut
	// for (default 50), so small data sets get fewer buckets.
	MinPerBucket int
}

func (o *BucketOptions) defaults() {
	if o.Buckets <= 0 {
		o.Buckets = 12
	}
	if o.PointShare <= 0 {
		o.PointShare = 0.05
	}
	if o.ZeroShare <= 0 {
		o.ZeroShare = o.PointShare
	}
	if o.MinPerBucket <= 0 {
		o.MinPerBucket = 50
	}
}

// FitBuckets fits the sub-distributions and buckets of one horizon from
// its training labels (spec section 2). Two sub-distributions: the zero
// mass and the positive labels when zeros are common, else the lower and
// upper halves at the median. Inside each, buckets cut the labels at equal
// frequency, and values holding PointShare or more become point buckets.
func FitBuckets(horizon int, labels []float32, opts BucketOptions) (TaskBuckets, error) {
	opts.defaults()
	tb := TaskBuckets{Horizon: horizon}
	if len(labels) == 0 {
		return tb, fmt.Errorf("horizon %d: no training labels", horizon)
	}
	v := make([]float64, len(labels))
	for i, y := range labels {
		if math.IsNaN(float64(y)) || y < 0 || math.IsInf(float64(y), 0) {
			return tb, fmt.Errorf("horizon %d: label %d is %v (labels must be finite and non-negative)", horizon, i, y)
		}
		v[i] = float64(y)
	}
	sort.Float64s(v)
	zeros := sort.SearchFloat64s(v, 1e-300)
	var parts [][]float64
	switch {
	case v[len(v)-1] == v[0]:
		parts = [][]float64{v}
	case float64(zeros)/float64(len(v)) >= opts.ZeroShare:
		parts = [][]float64{v[:zeros], v[zeros:]}
	default:
		mid := len(v) / 2
		cut := v[mid]
		k := sort.SearchFloat64s(v, cut) // first index of the median value
		if k == 0 {
			k = sort.Search(len(v), func(i int) bool { return v[i] > cut })
		}
		parts = [][]float64{v[:k], v[k:]}
	}
	for i, p := range parts {
		sd := SubDist{Lo: p[0], Hi: p[len(p)-1]}
		if i+1 < len(parts) {
			sd.Hi = parts[i+1][0]
		}
		sd.Buckets = fitSub(p, opts)
		tb.Subs = append(tb.Subs, sd)
	}
	for s := range tb.Subs {
		tb.Subs[s].MeanBias = meanBias(&tb, s, parts[s])
	}
	return tb, nil
}

// meanBias averages the bias coefficient of the labels v of sub-distribution
// s over each of its interval buckets (0.5 for a bucket no label reaches).
func meanBias(tb *TaskBuckets, s int, v []float64) []float64 {
	bs := tb.Subs[s].Buckets
	interval := make([]int, len(bs))
	r := 0
	for u, b := range bs {
		interval[u] = -1
		if !b.Point {
			interval[u] = r
			r++
		}
	}
	if r == 0 {
		return nil
	}
	sum, cnt := make([]float64, r), make([]float64, r)
	for _, y := range v {
		ss, u, c := tb.Assign(y)
		if ss == s && interval[u] >= 0 {
			sum[interval[u]] += c
			cnt[interval[u]]++
		}
	}
	out := make([]float64, r)
	for k := range out {
		out[k] = 0.5
		if cnt[k] > 0 {
			out[k] = sum[k] / cnt[k]
		}
	}
	return out
}

// fitSub cuts one sub-distribution's sorted labels into buckets.
func fitSub(v []float64, opts BucketOptions) []Bucket {
	n := len(v)
	if v[0] == v[n-1] {
		return []Bucket{{Left: v[0], Right: v[0], Point: true}}
	}
	// Heavy values become point buckets.
	heavy := map[float64]bool{}
	for i := 0; i < n; {
		j := i
		for j < n && v[j] == v[i] {
			j++
		}
		if float64(j-i) >= opts.PointShare*float64(n) {
			heavy[v[i]] = true
		}
		i = j
	}
	// The non-heavy values ("rest", in order) are only read at k+1 ranks:
	// find those in one pass instead of copying them.
	nrest := 0
	for _, x := range v {
		if !heavy[x] {
			nrest++
		}
	}
	k := opts.Buckets - len(heavy)
	if m := nrest / opts.MinPerBucket; m < k {
		k = m
	}
	if k < 1 && nrest > 0 {
		k = 1
	}
	// Equal-frequency edges over the non-heavy values.
	var edges []float64
	if nrest > 0 {
		ranks := make([]int, 0, k+1)
		for j := 0; j < k; j++ {
			ranks = append(ranks, j*nrest/k)
		}
		ranks = append(ranks, nrest-1)
		rest := restAt(v, heavy, ranks)
		edges = append(edges, rest[0])
		for j := 1; j < k; j++ {
			e := rest[j]
			if e > edges[len(edges)-1] {
				edges = append(edges, e)
			}
		}
		last := rest[k]
		if last > edges[len(edges)-1] {
			edges = append(edges, last)
		} else {
			// all remaining values are one value: it is a point
			heavy[last] = true
			edges = nil
		}
	}
	var bs []Bucket
	for j := 0; j+1 < len(edges); j++ {
		bs = append(bs, Bucket{Left: edges[j], Right: edges[j+1]})
	}
	for x := range heavy {
		bs = append(bs, Bucket{Left: x, Right: x, Point: true})
	}
	// Order by position; a point sorts before an interval starting at it.
	sort.Slice(bs, func(i, j int) bool {
		if bs[i].Left != bs[j].Left {
			return bs[i].Left < bs[j].Left
		}
		return bs[i].Point && !bs[j].Point
	})
	// Drop intervals no sample falls into (all their values were heavy).
	tb := TaskBuckets{Subs: []SubDist{{Lo: v[0], Hi: v[n-1], Buckets: bs}}}
	counts := make([]int, len(bs))
	for _, x := range v {
		_, u, _ := tb.Assign(x)
		counts[u]++
	}
	out := bs[:0]
	for i, b := range bs {
		if counts[i] > 0 {
			out = append(out, b)
		}
	}
	return out
}

// restAt returns the values of v that are not heavy at the given ranks
// among them (ranks non-decreasing).
func restAt(v []float64, heavy map[float64]bool, ranks []int) []float64 {
	out := make([]float64, len(ranks))
	r, t := 0, 0
	for _, x := range v {
		if heavy[x] {
			continue
		}
		for t < len(ranks) && ranks[t] == r {
			out[t] = x
			t++
		}
		if t == len(ranks) {
			break
		}
		r++
	}
	return out
}

// Assign maps a label to its sub-distribution, bucket (index within the
// sub-distribution) and bias coefficient (0 for point buckets). Labels
// beyond the fitted range go to the nearest bucket, with the bias clamped
// to [0, 1].
func (tb *TaskBuckets) Assign(y float64) (sub, bucket int, bias float64) {
	sub = len(tb.Subs) - 1
	for s := 0; s+1 < len(tb.Subs); s++ {
		if y < tb.Subs[s+1].Lo {
			sub = s
			break
		}
	}
	bs := tb.Subs[sub].Buckets
	for u, b := range bs {
		if b.Point && y == b.Left {
			return sub, u, 0
		}
	}
	best := -1
	for u, b := range bs {
		if b.Point {
			continue
		}
		if y >= b.Left && (y < b.Right || u == lastInterval(bs)) {
			best = u
			break
		}
	}
	if best < 0 { // outside every interval: nearest bucket by value
		d := math.Inf(1)
		for u, b := range bs {
			var dist float64
			switch {
			case y < b.Left:
				dist = b.Left - y
			case y > b.Right:
				dist = y - b.Right
			}
			if dist < d {
				d, best = dist, u
			}
		}
	}
	b := bs[best]
	if b.Point {
		return sub, best, 0
	}
	c := (y - b.Left) / b.Width()
	return sub, best, math.Max(0, math.Min(1, c))
}

func lastInterval(bs []Bucket) int {
	for u := len(bs) - 1; u >= 0; u-- {
		if !bs[u].Point {
			return u
		}
	}
	return -1
}

// NumBuckets is the total bucket count over all sub-distributions (the
// length of the normalized distribution o_t).
func (tb *TaskBuckets) NumBuckets() int {
	n := 0
	for _, s := range tb.Subs {
		n += len(s.Buckets)
	}
	return n
}
