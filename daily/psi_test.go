package daily

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/odmn/odmn/data"
)

// TestPSIHandComputed checks PSI against values worked out by hand.
func TestPSIHandComputed(t *testing.T) {
	cases := []struct {
		name             string
		expected, actual []int64
		want             float64
	}{
		// shares .5 .3 .2 -> .4 .3 .3:
		// (.4-.5) ln(.4/.5) + 0 + (.3-.2) ln(.3/.2) = 0.0223144 + 0.0405465
		{"shift", []int64{50, 30, 20}, []int64{40, 30, 30}, 0.062860866},
		// an empty training bin takes PSIEpsilon:
		// (.99-1) ln(.99/1) + (.01-1e-4) ln(.01/1e-4) = 0.0001005 + 0.0455912
		{"empty bin", []int64{100, 0}, []int64{99, 1}, 0.045691688},
		// bins empty on both sides add nothing; same shares give 0
		{"same", []int64{2, 0, 6}, []int64{1, 0, 3}, 0},
	}
	for _, c := range cases {
		if got := PSI(c.expected, c.actual); math.Abs(got-c.want) > 1e-8 {
			t.Errorf("%s: PSI = %.9f, want %.9f", c.name, got, c.want)
		}
	}
	if !math.IsNaN(PSI([]int64{0, 0}, []int64{1, 2})) || !math.IsNaN(PSI([]int64{1}, []int64{1, 2})) {
		t.Error("PSI of an empty histogram or of different lengths is not NaN")
	}
}

// TestHistograms checks the model's bins: vocabulary ids (0 for missing
// and unknown) and discretization bins (0 for missing).
func TestHistograms(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "t.csv")
	csv := "cat,x,s_d1,s_d2\na,0.5,0,9\nb,1,1,9\nz,1.5,,9\n,2,3,9\nb,5,0,\n"
	if err := os.WriteFile(path, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	enc := &data.Encoder{
		Categorical: []data.CategoricalEncoding{{Name: "cat", Values: []string{"b", "a"}, Counts: []int64{2, 1}}},
		Numeric:     []data.NumericEncoding{{Name: "x", Bounds: []float64{1, 2}}},
		Sequences:   []data.SequenceEncoding{{Name: "s", Length: 2, Bounds: []float64{1}}},
	}
	h, err := Histograms(enc, path)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]int64{
		{2, 2, 1}, // "", z | b b | a
		{0, 1, 2, 2},
		{1, 2, 2}, // NaN | 0 0 | 1 3
		{1, 0, 4},
	}
	for k := range want {
		if len(h[k]) != len(want[k]) {
			t.Fatalf("slot %d: %d bins, want %d", k, len(h[k]), len(want[k]))
		}
		for i := range want[k] {
			if h[k][i] != want[k][i] {
				t.Errorf("slot %d: histogram %v, want %v", k, h[k], want[k])
				break
			}
		}
	}
	ps, err := Drift(enc, path, path)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 4 || ps[0].PSI != 0 {
		t.Errorf("drift of a table against itself: %+v", ps)
	}
}
