package bench

import (
	"math"
	"testing"
)

func TestMedianAndRatio(t *testing.T) {
	if m := median([]float64{3, 1, 2}); m != 2 {
		t.Errorf("median 3 1 2 = %v", m)
	}
	if m := median([]float64{4, 1, 2, 3}); m != 2.5 {
		t.Errorf("median 4 1 2 3 = %v", m)
	}
	r := ratio("a/b", 2, []float64{2, 9, 3}, []float64{1, 3, 2})
	if r.Median != 2 || r.Min != 1.5 || r.Max != 3 || len(r.Rounds) != 3 {
		t.Errorf("ratio %+v", r)
	}
}

func TestAmdahl(t *testing.T) {
	// a perfect 2x on 2 threads: no serial part, 16x on 16
	if f, s := amdahl(2, 2, 16); f != 0 || s != 16 {
		t.Errorf("amdahl(2, 2) = %v, %v", f, s)
	}
	// no gain: all serial
	if f, s := amdahl(1, 2, 16); f != 1 || s != 1 {
		t.Errorf("amdahl(1, 2) = %v, %v", f, s)
	}
	// 1.6x on 2 threads: f = (1/1.6 - 1/2) / (1/2) = 0.25; 16 cores: 1/(0.25 + 0.75/16)
	f, s := amdahl(1.6, 2, 16)
	if math.Abs(f-0.25) > 1e-12 || math.Abs(s-1/(0.25+0.75/16)) > 1e-12 {
		t.Errorf("amdahl(1.6, 2) = %v, %v", f, s)
	}
}
