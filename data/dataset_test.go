package data

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
)

func smallSpec() *Spec {
	return &Spec{
		ID:          "id",
		Categorical: []Categorical{{Name: "c"}},
		Numeric:     []Numeric{{Name: "x", Bins: 2}},
		Sequences:   []Sequence{{Name: "s", Length: 2, Bins: 2}},
		Labels:      []Label{{Name: "y_30", Horizon: 30}, {Name: "y_90", Horizon: 90}, {Name: "y_180", Horizon: 180}},
		LabelKind:   "money",
	}
}

func csvFile(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "users.csv")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoad(t *testing.T) {
	// The "extra" column is not in the spec; its ragged last field makes the
	// file invalid CSV, so give every row one.
	path := csvFile(t, "id,c,x,s_d1,s_d2,y_30,y_90,y_180,extra\n"+
		"a,red,1,0,0,0,0,0,e\n"+
		"b,blue,2,1,3,1.5,2,2,e\n"+
		"c,red,3,2,,0,0,10,e\n"+
		"d,red,4,,5,5,5,5.25,e\n")
	spec := smallSpec()
	enc, err := Fit(path, spec, FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// x: 1..4 in 2 bins -> cut 3; s pooled {0,1,2,0,3,5} -> sorted 0,0,1,2,3,5, cut at p=3 -> 2.
	if !reflect.DeepEqual(enc.Numeric[0].Bounds, []float64{3}) || !reflect.DeepEqual(enc.Sequences[0].Bounds, []float64{2}) {
		t.Fatalf("bounds %v %v", enc.Numeric[0].Bounds, enc.Sequences[0].Bounds)
	}
	ds, err := Load(path, spec, enc, ChunkRows(3))
	if err != nil {
		t.Fatal(err)
	}
	if ds.N != 4 || ds.F != 4 || ds.T != 3 {
		t.Fatalf("N F T = %d %d %d", ds.N, ds.F, ds.T)
	}
	// red = 1, blue = 2.
	wantX := []int32{
		1, 1, 1, 1,
		2, 1, 1, 2,
		1, 2, 2, 0,
		1, 2, 0, 2,
	}
	if got := allRows(ds); !reflect.DeepEqual(got, wantX) {
		t.Fatalf("X = %v, want %v", got, wantX)
	}
	wantY := []float32{0, 0, 0, 1.5, 2, 2, 0, 0, 10, 5, 5, 5.25}
	if !reflect.DeepEqual(ds.Y, wantY) {
		t.Fatalf("Y = %v, want %v", ds.Y, wantY)
	}
	if got := allIDs(ds); !reflect.DeepEqual(got, []string{"a", "b", "c", "d"}) {
		t.Fatalf("IDs = %v", got)
	}
	if !reflect.DeepEqual(ds.Horizons(), []int{30, 90, 180}) || !reflect.DeepEqual(ds.Cardinalities(), []int{3, 3, 3, 3}) {
		t.Fatalf("horizons %v cardinalities %v", ds.Horizons(), ds.Cardinalities())
	}
	sub := ds.Subset([]int{3, 1})
	if sub.N != 2 || !reflect.DeepEqual(sub.Row(0), ds.Row(3)) || !reflect.DeepEqual(sub.Label(1), ds.Label(1)) || !reflect.DeepEqual(allIDs(sub), []string{"d", "b"}) {
		t.Fatalf("subset %+v", sub)
	}

	// The same table as Parquet loads identically.
	tb, err := ReadFile(path, specRequests(spec))
	if err != nil {
		t.Fatal(err)
	}
	pq := filepath.Join(t.TempDir(), "users.parquet")
	if err := WriteFile(pq, tb); err != nil {
		t.Fatal(err)
	}
	ds2, err := Load(pq, spec, enc)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(allRows(ds2), allRows(ds)) || !reflect.DeepEqual(ds2.Y, ds.Y) || !reflect.DeepEqual(allIDs(ds2), allIDs(ds)) {
		t.Fatal("Parquet load differs from CSV load")
	}
}

func TestLoadLabelErrors(t *testing.T) {
	header := "id,c,x,s_d1,s_d2,y_30,y_90,y_180\n"
	ok := "a,red,1,0,0,0,1,2\n"
	spec := smallSpec()
	enc, err := Fit(csvFile(t, header+ok), spec, FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		row   string
		parts []string
	}{
		{"b,red,1,0,0,1,,3\n", []string{"row 3 (line 4)", `column "y_90"`, "missing label"}},
		{"b,red,1,0,0,1,NA,3\n", []string{"row 3 (line 4)", `column "y_90"`, "missing label"}},
		{"b,red,1,0,0,-1,1,3\n", []string{"row 3 (line 4)", `column "y_30"`, "negative label -1"}},
		{"b,red,1,0,0,1,2,inf\n", []string{"row 3 (line 4)", `column "y_180"`, "label is +Inf"}},
		{"b,red,1,0,0,1,5,4.5\n", []string{"row 3 (line 4)", `column "y_90"`, "y_90 = 5 > y_180 = 4.5", "labels decrease"}},
		{"b,red,1,0,0,1,2,x\n", []string{"row 3 (line 4)", `column "y_180"`, `not a number: "x"`}},
	}
	for _, c := range cases {
		path := csvFile(t, header+ok+ok+c.row+ok)
		_, err := Load(path, spec, enc)
		errContains(t, err, append([]string{path}, c.parts...)...)
		var de *Error
		if !errors.As(err, &de) || de.Pos.Row != 3 {
			t.Fatalf("%q: want a Error at row 3, got %v", c.row, err)
		}
	}
}

func TestLoadSpecMismatchBeforeWork(t *testing.T) {
	// y_90 is misnamed and y_180 absent; a later row is also bad, but the
	// column check must come first and name both columns.
	path := csvFile(t, "id,c,x,s_d1,s_d2,y_30,y90\na,red,1,0,0,0,1\nb,red,oops,0,0,0,1\n")
	spec := smallSpec()
	enc, err := Fit(csvFile(t, "id,c,x,s_d1,s_d2,y_30,y_90,y_180\na,red,1,0,0,0,1,2\n"), spec, FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Load(path, spec, enc)
	errContains(t, err, "spec does not match the data", `"y_90" (did you mean "y90"`, `"y_180"`)
	_, err = Fit(path, spec, FitOptions{})
	errContains(t, err, "spec does not match the data", `"y_180"`)
}

func TestSplit(t *testing.T) {
	train, val := Split(1000, 0.2, 42)
	if len(train) != 800 || len(val) != 200 {
		t.Fatalf("sizes %d %d", len(train), len(val))
	}
	if !sort.IntsAreSorted(train) || !sort.IntsAreSorted(val) {
		t.Fatal("not sorted")
	}
	seen := make([]int, 1000)
	for _, i := range train {
		seen[i]++
	}
	for _, i := range val {
		seen[i]++
	}
	for i, n := range seen {
		if n != 1 {
			t.Fatalf("row %d appears %d times", i, n)
		}
	}
	t2, v2 := Split(1000, 0.2, 42)
	if !reflect.DeepEqual(t2, train) || !reflect.DeepEqual(v2, val) {
		t.Fatal("same seed, different split")
	}
	_, v3 := Split(1000, 0.2, 43)
	if reflect.DeepEqual(v3, val) {
		t.Fatal("different seed, same split")
	}
	// Validation rows are spread over the range, not a prefix.
	if val[0] > 50 || val[len(val)-1] < 950 {
		t.Fatalf("validation rows not spread: first %d last %d", val[0], val[len(val)-1])
	}
	// A known value pins the algorithm across Go releases.
	_, small := Split(10, 0.3, 1)
	if !reflect.DeepEqual(small, pinnedSplit) {
		t.Fatalf("Split(10, 0.3, 1) val = %v, want %v", small, pinnedSplit)
	}
	tr, v := Split(5, 0, 1)
	if len(tr) != 5 || len(v) != 0 {
		t.Fatal("valFrac 0")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("valFrac 1.5 did not panic")
		}
	}()
	Split(5, 1.5, 1)
}

var pinnedSplit = []int{2, 6, 9}

// allIDs is every row's id (nil without an id column).
func allIDs(d *Dataset) []string {
	if !d.HasIDs() {
		return nil
	}
	out := []string{}
	for i := range d.N {
		out = append(out, d.ID(i))
	}
	return out
}

// allRows is every row's ids, end to end.
func allRows(d *Dataset) []int32 {
	var out []int32
	for i := range d.N {
		out = append(out, d.Row(i)...)
	}
	return out
}

// Rows are held in the narrowest type their slot allows, across chunks,
// and read back as they were encoded.
func TestCompactRows(t *testing.T) {
	feats := []Feature{{Cardinality: 3}, {Cardinality: 70000}, {Cardinality: 300}, {Cardinality: 256}}
	c := newCompactRows(feats)
	if c.bytesPerRow() != 1+4+2+1 {
		t.Fatalf("%d bytes per row, want 8", c.bytesPerRow())
	}
	n := chunkRows + 10
	want := make([]int32, 0, 4*n)
	for i := range n {
		want = append(want, int32(i%3), int32(i%70000), int32(i%300), int32(i%256))
	}
	c.add(want[:4*100], 4)
	c.add(want[4*100:], 4)
	c.trim()
	d := &Dataset{N: n, F: 4, Features: feats, rows: c}
	got := make([]int64, 4)
	for i := range n {
		d.RowInt64(i, got)
		for j := range 4 {
			if got[j] != int64(want[i*4+j]) {
				t.Fatalf("row %d slot %d: %d, want %d", i, j, got[j], want[i*4+j])
			}
		}
		if r := d.Row(i); !reflect.DeepEqual(r, want[i*4:(i+1)*4]) {
			t.Fatalf("row %d: %v, want %v", i, r, want[i*4:(i+1)*4])
		}
	}
}

// estReader is a Reader with a fixed row estimate (growLabels reads only that).
type estReader struct {
	Reader
	est int64
}

func (r estReader) rowsEstimate() int64 { return r.est }

// The label array grows to the reader's estimate and a tenth more, at
// least doubling and at most 16 times the rows read: a forged estimate
// (a Parquet footer claiming 2^62 rows) reserves no more than that.
func TestGrowLabels(t *testing.T) {
	for _, c := range []struct {
		est      int64
		min, max int
	}{{1000, 1100, 1100}, {1 << 62, 1600, 1600}, {0, 200, 200}, {150, 200, 200}} {
		d := &Dataset{T: 3}
		growLabels(d, estReader{est: c.est}, 100)
		if got := cap(d.Y) / 3; got < c.min || got > c.max+c.max/8 {
			t.Errorf("estimate %d: room for %d rows, want %d", c.est, got, c.min)
		}
	}
	d := &Dataset{T: 3, N: 100, Y: make([]float32, 300, 600)}
	growLabels(d, estReader{est: 1 << 62}, 100)
	if cap(d.Y) != 600 {
		t.Errorf("grew to %d with room left", cap(d.Y))
	}
}
