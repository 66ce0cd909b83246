package train

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestFitBucketsZeroInflatedCounts(t *testing.T) {
	// 60% zeros, positives uniform on 1..30 with a raised tail at 30 (10%).
	r := rand.New(rand.NewPCG(1, 1))
	var y []float32
	for i := 0; i < 10000; i++ {
		switch u := r.Float64(); {
		case u < 0.6:
			y = append(y, 0)
		case u < 0.7:
			y = append(y, 30)
		default:
			y = append(y, float32(1+r.IntN(29)))
		}
	}
	tb, err := FitBuckets(30, y, BucketOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(tb.Subs) != 2 {
		t.Fatalf("want zero and positive sub-distributions, got %d", len(tb.Subs))
	}
	if z := tb.Subs[0]; len(z.Buckets) != 1 || !z.Buckets[0].Point || z.Buckets[0].Left != 0 {
		t.Fatalf("zero sub-distribution: %+v", z)
	}
	pos := tb.Subs[1].Buckets
	var has30 bool
	for _, b := range pos {
		if b.Point && b.Left == 30 {
			has30 = true
		}
	}
	if !has30 {
		t.Fatalf("the raised tail at 30 (25%% of positives) is not a point bucket: %+v", pos)
	}
	// Every label maps into a bucket whose range holds it, with bias in [0,1].
	counts := make([]int, len(pos))
	for _, v := range y {
		s, u, c := tb.Assign(float64(v))
		if v == 0 {
			if s != 0 {
				t.Fatalf("0 assigned to sub %d", s)
			}
			continue
		}
		if s != 1 {
			t.Fatalf("%v assigned to sub %d", v, s)
		}
		b := pos[u]
		if c < 0 || c > 1 || math.Abs(b.Value(c)-float64(v)) > 1e-9 {
			t.Fatalf("%v -> bucket %+v bias %v decodes to %v", v, b, c, b.Value(c))
		}
		counts[u]++
	}
	// Interval buckets hold roughly equal counts (equal frequency).
	lo, hi := 1<<30, 0
	for u, b := range pos {
		if b.Point {
			continue
		}
		lo, hi = min(lo, counts[u]), max(hi, counts[u])
	}
	if lo == 0 || float64(hi)/float64(lo) > 3 {
		t.Fatalf("interval bucket counts uneven: %v (%+v)", counts, pos)
	}
}

func TestFitBucketsOrderedAndMedianSplit(t *testing.T) {
	// Few zeros (1%): split at the median instead of at zero.
	r := rand.New(rand.NewPCG(2, 2))
	y := make([]float32, 5000)
	for i := range y {
		if i%100 != 0 {
			y[i] = float32(math.Exp(r.NormFloat64()) * 20)
		}
	}
	tb, err := FitBuckets(90, y, BucketOptions{Buckets: 8})
	if err != nil {
		t.Fatal(err)
	}
	if len(tb.Subs) != 2 || tb.Subs[0].Hi != tb.Subs[1].Lo {
		t.Fatalf("subs %+v", tb.Subs)
	}
	prev := math.Inf(-1)
	for _, s := range tb.Subs {
		if len(s.Buckets) > 8 {
			t.Fatalf("%d buckets, asked at most 8", len(s.Buckets))
		}
		for _, b := range s.Buckets {
			if b.Left < prev {
				t.Fatalf("buckets out of order: %+v", tb.Subs)
			}
			prev = b.Left
		}
	}
	// Values beyond the training range clamp.
	s, u, c := tb.Assign(1e9)
	last := tb.Subs[len(tb.Subs)-1]
	if s != len(tb.Subs)-1 || u != len(last.Buckets)-1 || c != 1 {
		t.Fatalf("huge label -> %d %d %v", s, u, c)
	}
}

func TestFitBucketsErrors(t *testing.T) {
	if _, err := FitBuckets(30, nil, BucketOptions{}); err == nil {
		t.Fatal("empty labels accepted")
	}
	if _, err := FitBuckets(30, []float32{1, float32(math.NaN())}, BucketOptions{}); err == nil {
		t.Fatal("NaN label accepted")
	}
	tb, err := FitBuckets(30, []float32{0, 0, 0}, BucketOptions{})
	if err != nil || tb.NumBuckets() != 1 {
		t.Fatalf("constant labels: %+v %v", tb, err)
	}
}
