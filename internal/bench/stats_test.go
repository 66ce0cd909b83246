package bench

import (
	"fmt"
	"math"
	"strings"
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

// The extrapolations use the 1-thread rate and the measured scaling, and
// the targets read the medians.
func TestExtrapolateAndTargets(t *testing.T) {
	r := &Report{
		Train:              []TrainRate{{Threads: 1, Samples: 1000}, {Threads: 2, Samples: 1600}},
		TrainScaling:       1.6,
		TrainScalingRounds: &Ratio{Threads: 2, Median: 1.6, Min: 1.5, Max: 1.7, Rounds: []float64{1.5, 1.6, 1.7}},
		Score:              []ScoreRate{{Threads: 1, Native: 2000, Ratio: 1.3, NativeRounds: []float64{1, 2, 3}}},
		ScoreScaling:       &Ratio{Threads: 2, Median: 2},
		Memory:             &Memory{TrainUsers: []int{100, 1100}, TrainMiB: []float64{10, 10 + 100000.0/(1<<20)}},
		TrainBytesPerRow:   100,
	}
	e := extrapolateEpoch(r)
	_, s := amdahl(1.6, 2, 16)
	if math.Abs(e.Minutes-180e6/(1000*s)/60) > 1e-9 || e.MemoryGiB <= 0 {
		t.Errorf("epoch %+v", e)
	}
	wantGiB := (10*(1<<20) - 100*100 + 100*180e6) / (1 << 30)
	if math.Abs(e.MemoryGiB-wantGiB) > 1e-9 {
		t.Errorf("memory %v GiB, want %v", e.MemoryGiB, wantGiB)
	}
	b := extrapolateScore(r)
	if math.Abs(b.Minutes-1e9/(2000*16)/60) > 1e-9 {
		t.Errorf("1e9 users: %+v", b)
	}
	// The machine's own SGEMM scaling is fitted the same way and quoted.
	r.Sgemm = []SgemmRate{{Shape: bigSgemm, Threads: 1, GFLOPS: 100}, {Shape: bigSgemm, Threads: 2, GFLOPS: 180}, {Shape: "8x8x8", Threads: 2, GFLOPS: 1}}
	_, hw := amdahl(1.8, 2, 16)
	if f := extrapolateScore(r).Formula; !strings.Contains(f, fmt.Sprintf("(1.80x on 2 threads), gives %.2f on 16 cores", hw)) {
		t.Errorf("formula %q does not quote the machine's SGEMM scaling", f)
	}
	r.Epoch180M, r.Billion = e, b
	want := []bool{false, true, true, false, false} // scaling, memory, native/ORT, epoch, 1e9
	ts := targets(r)
	if len(ts) != len(want) {
		t.Fatalf("%d targets, want %d: %+v", len(ts), len(want), ts)
	}
	for i, x := range ts {
		if x.Met != want[i] {
			t.Errorf("target %q met = %v, want %v", x.Name, x.Met, want[i])
		}
	}
}
