package data

import (
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// writeTable writes t as CSV in a temp dir and returns the path.
func writeTable(t *testing.T, tb *Table) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "data.csv")
	if err := WriteFile(path, tb); err != nil {
		t.Fatal(err)
	}
	return path
}

func binCounts(ids []int32, f, slot, card int) []int {
	c := make([]int, card)
	for i := slot; i < len(ids); i += f {
		c[ids[i]]++
	}
	return c
}

func TestCutPointsEqualFrequency(t *testing.T) {
	// 1..100 in a shuffled order.
	vals := make([]float64, 100)
	for i := range vals {
		vals[i] = float64((i*37)%100 + 1)
	}
	for _, bins := range []int{2, 4, 5, 10, 20} {
		cuts := cutPoints(append([]float64{}, vals...), bins)
		if len(cuts) != bins-1 {
			t.Fatalf("%d bins: %d cuts %v", bins, len(cuts), cuts)
		}
		counts := make([]int, bins+1)
		for _, v := range vals {
			counts[bin(cuts, v)]++
		}
		for b := 1; b <= bins; b++ {
			if counts[b] != 100/bins {
				t.Fatalf("%d bins: bin %d has %d values, want %d (cuts %v)", bins, b, counts[b], 100/bins, cuts)
			}
		}
	}
	if got := cutPoints(append([]float64{}, vals...), 4); !reflect.DeepEqual(got, []float64{26, 51, 76}) {
		t.Fatalf("quartile cuts of 1..100 = %v, want [26 51 76]", got)
	}
}

func TestCutPointsRepeatedValues(t *testing.T) {
	cases := []struct {
		vals []float64
		bins int
		want []float64
	}{
		// 80 zeros and 1..20: the zero run swallows three quartile targets,
		// leaving two bins, {0} and {>0}.
		{append(make([]float64, 80), seq(1, 20)...), 4, []float64{1}},
		// Four of each of 1, 2, 3 with 3 bins: one bin per value.
		{[]float64{3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2}, 3, []float64{2, 3}},
		// Same with 8 bins: still only the 3 distinct values.
		{[]float64{3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2}, 8, []float64{2, 3}},
		// The median sits in a run of 5s that is nearer its upper edge: the
		// cut goes after the run (8 | 2), not before it (1 | 9).
		{[]float64{5, 1, 5, 5, 9, 5, 5, 5, 9, 5}, 2, []float64{9}},
		// Nearer the lower edge: the cut goes before the run (2 | 8).
		{[]float64{1, 1, 5, 5, 5, 5, 5, 5, 5, 9}, 2, []float64{5}},
		// A constant column: a single bin.
		{[]float64{7, 7, 7, 7}, 4, []float64{}},
		// No values at all.
		{nil, 4, []float64{}},
		// +Inf never becomes a cut.
		{[]float64{1, 2, math.Inf(1), math.Inf(1)}, 2, []float64{}},
	}
	for i, c := range cases {
		got := cutPoints(append([]float64{}, c.vals...), c.bins)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("case %d: cuts %v, want %v", i, got, c.want)
		}
		// No bin between 1 and len(cuts)+1 is empty.
		counts := make([]int, len(got)+2)
		for _, v := range c.vals {
			counts[bin(got, v)]++
		}
		for b := 1; b < len(counts) && len(c.vals) > 0; b++ {
			if counts[b] == 0 {
				t.Errorf("case %d: bin %d is empty (cuts %v)", i, b, got)
			}
		}
	}
}

func seq(a, b int) []float64 {
	var s []float64
	for i := a; i <= b; i++ {
		s = append(s, float64(i))
	}
	return s
}

func TestBin(t *testing.T) {
	bounds := []float64{1, 5}
	for x, want := range map[float64]int32{-10: 1, 0.99: 1, 1: 2, 4.9: 2, 5: 3, 1e9: 3, math.Inf(1): 3, math.Inf(-1): 1} {
		if got := bin(bounds, x); got != want {
			t.Errorf("bin(%v) = %d, want %d", x, got, want)
		}
	}
	if bin(bounds, math.NaN()) != 0 {
		t.Error("NaN must be bin 0")
	}
}

// Values and bounds compare in float32, the precision of served models'
// inputs: the rule sees x and float64(float32(x)) alike.
func TestBinFloat32(t *testing.T) {
	b := 0.1 // not a float32
	above := math.Nextafter(b, 2)
	below := math.Nextafter(b, -2)
	bounds := []float64{b, 1e10 + 1, 1e10 + 2}
	for _, c := range []struct {
		x    float64
		want int32
	}{
		{b, 2}, {above, 2}, {below, 2}, // all round to float32(0.1)
		{float64(math.Nextafter32(float32(b), -1)), 1},
		{1e10, 4},            // 1e10, 1e10+1 and 1e10+2 are one float32: both bounds count
		{1e10 - 600, 2},      // the float32 below 1e10
		{math.MaxFloat64, 4}, // +Inf in float32
	} {
		if got := Bin(bounds, c.x); got != c.want {
			t.Errorf("Bin(%v) = %d, want %d", c.x, got, c.want)
		}
		if got := Bin(bounds, float64(float32(c.x))); got != c.want {
			t.Errorf("Bin(float32(%v)) = %d, want %d", c.x, got, c.want)
		}
	}
}

func encoderFixture(t *testing.T) (string, *Spec) {
	t.Helper()
	n := 100
	tb := NewTable(nil, nil)
	ids := make([]string, n)
	ch := make([]string, n)
	x := make([]float64, n)
	d1 := make([]float64, n)
	d2 := make([]float64, n)
	y1 := make([]float64, n)
	y2 := make([]float64, n)
	for i := 0; i < n; i++ {
		ids[i] = fmt.Sprintf("u%03d", i)
		switch {
		case i < 50:
			ch[i] = "ads"
		case i < 80:
			ch[i] = "organic"
		case i < 90:
			ch[i] = "email"
		case i < 95:
			ch[i] = "zz" // 5 of them, below MinCount 6
		case i < 98:
			ch[i] = "" // missing
		default:
			ch[i] = "aa" // 2 of them
		}
		x[i] = float64(i + 1)
		if i%10 == 0 {
			x[i] = math.NaN()
		}
		d1[i] = float64(i)       // 0..99
		d2[i] = float64(i + 100) // 100..199
		y1[i] = float64(i % 3)
		y2[i] = y1[i] + 1
	}
	tb.AddString("user_id", ids)
	tb.AddString("channel", ch)
	tb.AddFloat("x", x)
	tb.AddFloat("s_d1", d1)
	tb.AddFloat("s_d2", d2)
	tb.AddFloat("y_30", y1)
	tb.AddFloat("y_90", y2)
	spec := &Spec{
		ID:          "user_id",
		Categorical: []Categorical{{Name: "channel", MinCount: 3}},
		Numeric:     []Numeric{{Name: "x", Bins: 3}},
		Sequences:   []Sequence{{Name: "s", Length: 2, Bins: 4}},
		Labels:      []Label{{Name: "y_30", Horizon: 30}, {Name: "y_90", Horizon: 90}},
		LabelKind:   "count",
	}
	return writeTable(t, tb), spec
}

func TestFitAndEncode(t *testing.T) {
	path, spec := encoderFixture(t)
	enc, err := Fit(path, spec, FitOptions{Seed: 7, ChunkRows: 16})
	if err != nil {
		t.Fatal(err)
	}
	// Vocabulary: by descending count, ties by value; MinCount 3 drops "aa";
	// "zz" (5) stays; "" is never a value.
	c := enc.Categorical[0]
	if !reflect.DeepEqual(c.Values, []string{"ads", "organic", "email", "zz"}) || !reflect.DeepEqual(c.Counts, []int64{50, 30, 10, 5}) {
		t.Fatalf("vocabulary %v %v", c.Values, c.Counts)
	}
	// x: 90 non-NaN values, 3 equal-frequency bins of 30.
	if got := enc.Numeric[0].Bounds; len(got) != 2 {
		t.Fatalf("x bounds %v", got)
	}
	// The sequence pools both days: values 0..199, 4 bins -> 50, 100, 150.
	if got := enc.Sequences[0].Bounds; !reflect.DeepEqual(got, []float64{50, 100, 150}) {
		t.Fatalf("sequence bounds %v, want [50 100 150]", got)
	}
	if got, want := enc.Cardinalities(), []int{5, 4, 5, 5}; !reflect.DeepEqual(got, want) {
		t.Fatalf("cardinalities %v, want %v", got, want)
	}
	fs := enc.Features()
	if fs[2].Column != "s_d1" || fs[3].Column != "s_d2" || fs[3].Day != 2 || fs[3].Name != "s" || fs[0].Type != "categorical" {
		t.Fatalf("features %+v", fs)
	}

	tb, err := ReadFile(path, specRequests(spec))
	if err != nil {
		t.Fatal(err)
	}
	ids, err := enc.Encode(tb, nil)
	if err != nil {
		t.Fatal(err)
	}
	F := enc.NumFeatures()
	if F != 4 || len(ids) != 100*F {
		t.Fatalf("F = %d, %d ids", F, len(ids))
	}
	// channel: ads=1, organic=2, email=3, zz=4, ""/aa = 0.
	if got := binCounts(ids, F, 0, 5); !reflect.DeepEqual(got, []int{5, 50, 30, 10, 5}) {
		t.Fatalf("channel id counts %v", got)
	}
	// x: 10 NaN in bin 0, then 30/30/30.
	if got := binCounts(ids, F, 1, 4); !reflect.DeepEqual(got, []int{10, 30, 30, 30}) {
		t.Fatalf("x bin counts %v", got)
	}
	// Day 1 (0..99) falls in bins 1-2, day 2 (100..199) in bins 3-4.
	if got := binCounts(ids, F, 2, 5); !reflect.DeepEqual(got, []int{0, 50, 50, 0, 0}) {
		t.Fatalf("s_d1 bin counts %v", got)
	}
	if got := binCounts(ids, F, 3, 5); !reflect.DeepEqual(got, []int{0, 0, 0, 50, 50}) {
		t.Fatalf("s_d2 bin counts %v", got)
	}
	// Unseen category and NaN on a fresh table.
	fresh := NewTable(nil, nil)
	fresh.AddFloat("s_d2", []float64{math.NaN(), 1e9})
	fresh.AddString("channel", []string{"brand-new", "email"})
	fresh.AddFloat("x", []float64{math.NaN(), -5})
	fresh.AddFloat("s_d1", []float64{50, 49.5})
	got, err := enc.Encode(fresh, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int32{0, 0, 2, 0, 3, 1, 1, 4}; !reflect.DeepEqual(got, want) {
		t.Fatalf("encoded %v, want %v", got, want)
	}

	// JSON round trip encodes identically.
	encPath := filepath.Join(t.TempDir(), "enc.json")
	if err := enc.Save(encPath); err != nil {
		t.Fatal(err)
	}
	back, err := LoadEncoder(encPath)
	if err != nil {
		t.Fatal(err)
	}
	got2, err := back.Encode(fresh, nil)
	if err != nil || !reflect.DeepEqual(got, got2) {
		t.Fatalf("after JSON round trip: %v, %v", got2, err)
	}
	if !reflect.DeepEqual(back.Fit, enc.Fit) || back.Fit.Rows != 100 || back.Fit.Method != "reservoir" {
		t.Fatalf("fit info %+v", back.Fit)
	}
	var bad Encoder
	errContains(t, json.Unmarshal([]byte(`{"version":1,"numeric":[{"name":"x","bins":3,"bounds":[2,1]}]}`), &bad), "bounds must increase")
	errContains(t, json.Unmarshal([]byte(`{"version":99}`), &bad), "version 99")
}

func TestFitRowsAndSampling(t *testing.T) {
	path, spec := encoderFixture(t)
	// Fitting on rows 0..49 only: every channel value is "ads".
	rows := make([]int, 50)
	for i := range rows {
		rows[i] = i
	}
	enc, err := Fit(path, spec, FitOptions{Rows: rows})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(enc.Categorical[0].Values, []string{"ads"}) || enc.Fit.Rows != 50 {
		t.Fatalf("fit on rows 0..49: %v, %d rows", enc.Categorical[0].Values, enc.Fit.Rows)
	}
	// A small reservoir: deterministic for a seed, bounds inside the data.
	a, err := Fit(path, spec, FitOptions{SampleSize: 20, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Fit(path, spec, FitOptions{SampleSize: 20, Seed: 1, ChunkRows: 7})
	if !reflect.DeepEqual(a.Sequences, b.Sequences) || !reflect.DeepEqual(a.Numeric, b.Numeric) {
		t.Fatalf("same seed, different bounds: %v vs %v", a.Sequences, b.Sequences)
	}
	differ := false
	for seed := uint64(2); seed < 6 && !differ; seed++ {
		c, _ := Fit(path, spec, FitOptions{SampleSize: 20, Seed: seed})
		differ = !reflect.DeepEqual(a.Sequences, c.Sequences)
	}
	if !differ {
		t.Fatal("the seed has no effect on a sampled fit")
	}
	for _, v := range a.Sequences[0].Bounds {
		if v < 0 || v > 199 {
			t.Fatalf("bound %v outside the data", v)
		}
	}
	_, err = Fit(path, spec, FitOptions{Rows: []int{3, 1000}})
	errContains(t, err, "Rows names row 1000, but the file has 100 rows")
	_, err = Fit(path, spec, FitOptions{Rows: []int{}})
	errContains(t, err, "no training rows")
}

func TestEncoderSpecMismatch(t *testing.T) {
	path, spec := encoderFixture(t)
	enc, err := Fit(path, spec, FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	other := *spec
	other.Sequences = []Sequence{{Name: "s", Length: 1}}
	_, err = Load(path, &other, enc)
	errContains(t, err, "encoder does not match the spec", "s (length 2)", "s (length 1)")

	tb := NewTable(nil, nil)
	tb.AddString("channel", []string{"a"})
	_, err = enc.Encode(tb, nil)
	errContains(t, err, `no column "x"`)
	if !strings.Contains(fmt.Sprint(enc.Columns()), "s_d2") {
		t.Fatalf("Columns() = %v", enc.Columns())
	}
}
