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

func TestMeanBiasAndBBTInit(t *testing.T) {
	y := make([]float32, 0, 3000)
	for i := 0; i < 3000; i++ {
		if i%3 == 0 {
			y = append(y, 0)
		} else {
			y = append(y, float32(1+(i*7919)%200))
		}
	}
	tb, err := FitBuckets(30, y, BucketOptions{Buckets: 6})
	if err != nil {
		t.Fatal(err)
	}
	pos := tb.Subs[1]
	if len(pos.MeanBias) != pos.Intervals() || pos.Intervals() == 0 {
		t.Fatalf("mean bias %v for %d interval buckets", pos.MeanBias, pos.Intervals())
	}
	// Brute force: the bias of every positive label, averaged per bucket.
	sum, cnt := map[int]float64{}, map[int]float64{}
	for _, v := range y {
		s, u, c := tb.Assign(float64(v))
		if s == 1 && !pos.Buckets[u].Point {
			sum[u] += c
			cnt[u]++
		}
	}
	k := 0
	for u, b := range pos.Buckets {
		if b.Point {
			continue
		}
		if want := sum[u] / cnt[u]; math.Abs(pos.MeanBias[k]-want) > 1e-12 {
			t.Fatalf("bucket %d: mean bias %v, want %v", u, pos.MeanBias[k], want)
		}
		k++
	}
	// With BBTInit the BBT output bias starts at logit(mean bias).
	for _, on := range []bool{false, true} {
		cfg := smallConfig(MDME)
		cfg.BBTInit = on
		m := NewModel(cfg, toyData(10, 1).Features, []int{30}, []int{0}, []TaskBuckets{tb}, 1)
		if _, err := m.InferGraph(InferOptions{}); err != nil {
			t.Fatal(err)
		}
		b := m.Param("t30.s1.bbt.o.b").T.F
		for k, c := range pos.MeanBias {
			want := float32(0)
			if on {
				c = math.Min(math.Max(c, 0.01), 0.99)
				want = float32(math.Log(c / (1 - c)))
			}
			if b[k] != want {
				t.Fatalf("BBTInit=%v: output bias %v, want %v", on, b[k], want)
			}
		}
	}
}
