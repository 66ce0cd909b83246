package train

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"sort"
	"testing"
)

// fitSub reads the non-heavy values at their ranks without copying them,
// with the buckets of the copying version, on ties, point masses, few
// values and many.
func TestFitSubRanksMatchCopying(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for c := range 3000 {
		n := 1 + r.IntN(2000)
		if c%50 == 0 {
			n = 20000 + r.IntN(20000)
		}
		levels := 1 + r.IntN(60)
		v := make([]float64, n)
		for i := range v {
			switch r.IntN(4) {
			case 0:
				v[i] = float64(r.IntN(levels))
			case 1:
				v[i] = 0
			default:
				v[i] = r.ExpFloat64() * 10
			}
		}
		sort.Float64s(v)
		opts := BucketOptions{Buckets: 1 + r.IntN(16), PointShare: []float64{0.01, 0.05, 0.2, 0.5}[r.IntN(4)], MinPerBucket: 1 + r.IntN(40)}
		opts.defaults()
		got, want := fitSub(slices.Clone(v), opts), fitSubCopying(slices.Clone(v), opts)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("case %d (n %d, %+v): %v, copying %v", c, n, opts, got, want)
		}
	}
}

// fitSubCopying is fitSub as it was, copying the non-heavy values: the
// reference the rank walk must equal.
func fitSubCopying(v []float64, opts BucketOptions) []Bucket {
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
	var rest []float64
	for _, x := range v {
		if !heavy[x] {
			rest = append(rest, x)
		}
	}
	k := opts.Buckets - len(heavy)
	if m := len(rest) / opts.MinPerBucket; m < k {
		k = m
	}
	if k < 1 && len(rest) > 0 {
		k = 1
	}
	// Equal-frequency edges over the non-heavy values.
	var edges []float64
	if len(rest) > 0 {
		edges = append(edges, rest[0])
		for j := 1; j < k; j++ {
			e := rest[j*len(rest)/k]
			if e > edges[len(edges)-1] {
				edges = append(edges, e)
			}
		}
		last := rest[len(rest)-1]
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
