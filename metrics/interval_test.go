package metrics

import (
	"math"
	"testing"
)

// Hand values: coverage, pinball and PIT coverage of four users.
func TestIntervals(t *testing.T) {
	labels := [][]float64{{0}, {5}, {10}, {20}}
	levels := []float64{0.1, 0.9}
	q := [][][]float64{
		{{0}, {2}, {12}, {1}}, // p10
		{{0}, {8}, {15}, {4}}, // p90
	}
	// PIT: a zero on a point mass [0, 0.5]; the others continuous.
	pit := [][][2]float64{{{0, 0.5}}, {{0.5, 0.5}}, {{0.05, 0.05}}, {{0.95, 0.95}}}
	r, err := Intervals(labels, levels, q, pit, []string{"30d"})
	if err != nil {
		t.Fatal(err)
	}
	iv := r[0]
	if iv.Coverage != 0.5 { // users 1 and 2 inside
		t.Errorf("coverage %v, want 0.5", iv.Coverage)
	}
	// PIT: user 1 has 0.4 of [0, 0.5] inside [0.1, 0.9] (0.8), user 2 is
	// inside, users 3 and 4 outside: (0.8 + 1) / 4.
	if iv.PITCoverage == nil || math.Abs(*iv.PITCoverage-0.45) > 1e-12 {
		t.Errorf("PIT coverage %v, want 0.45", iv.PITCoverage)
	}
	// Pinball at 0.1: y-p = 0, 3, -2, 19 -> 0, 0.3, 1.8, 1.9; mean 1.0;
	// label mean 8.75.
	if want := 1.0 / 8.75; math.Abs(iv.Pinball[0]-want) > 1e-12 {
		t.Errorf("pinball 0.1: %v, want %v", iv.Pinball[0], want)
	}
	// At 0.9: y-p = 0, -3, -5, 16 -> 0, 0.3, 0.5, 14.4; mean 3.8.
	if want := 3.8 / 8.75; math.Abs(iv.Pinball[1]-want) > 1e-12 {
		t.Errorf("pinball 0.9: %v, want %v", iv.Pinball[1], want)
	}
	if _, err := Intervals(labels, []float64{0.5}, q[:1], nil, []string{"30d"}); err == nil {
		t.Error("one level accepted")
	}
}
