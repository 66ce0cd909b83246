package score

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/odmn/odmn/data"
	"github.com/odmn/odmn/graph"
	"github.com/odmn/odmn/internal/testenv"
	"github.com/odmn/odmn/train"
)

const (
	goldenModel  = "../fixtures/golden/golden.onnx"
	goldenInputs = "../fixtures/golden/inputs.csv"
)

func loadGolden(t *testing.T) *Model {
	t.Helper()
	m, err := Load(goldenModel, train.InferOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// readOut reads a score output's first column as strings and the rest as floats.
func readOut(t *testing.T, path string) ([]string, [][]float64, []string) {
	t.Helper()
	cols, err := data.FileColumns(path)
	if err != nil {
		t.Fatal(err)
	}
	req := []data.ColumnRequest{{Name: cols[0], Kind: data.String}}
	for _, c := range cols[1:] {
		req = append(req, data.ColumnRequest{Name: c, Kind: data.Float})
	}
	tab, err := data.ReadFile(path, req)
	if err != nil {
		t.Fatal(err)
	}
	rows := make([][]float64, tab.Rows())
	for i := range rows {
		for j := 1; j < len(cols); j++ {
			rows[i] = append(rows[i], tab.Num[j][i])
		}
	}
	return tab.Str[0], rows, cols
}

// rowsClose compares score rows: the native runtime's float32 results may
// change in the last digits with the batch size (GEMM blocking), never more;
// the interval quantiles and fqm amplify that rounding where the predicted
// CDF or the frozen map is steep, hence the relative 1e-4.
func rowsClose(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(a[i]-b[i]) > 1e-4+1e-4*math.Abs(b[i]) {
			return false
		}
	}
	return true
}

// Every shard count, with chunks that cut across the shard pattern: the
// shards' union is the whole file, each row once, in input order.
func TestShards(t *testing.T) {
	m := loadGolden(t)
	dir := t.TempDir()
	whole := filepath.Join(dir, "whole.csv")
	if _, err := File(context.Background(), m, goldenInputs, whole, Options{}); err != nil {
		t.Fatal(err)
	}
	ids, vals, cols := readOut(t, whole)
	if cols[0] != "user_id" || len(ids) != 300 || !slices.Equal(cols[1:5], []string{"ltv_30", "ltv_90", "ltv_180", "ltv_365"}) {
		t.Fatalf("columns %v, %d rows", cols, len(ids))
	}
	at := map[string]int{}
	for i, id := range ids {
		at[id] = i
	}
	for _, n := range []int{1, 2, 3, 7} {
		for _, batch := range []int{7, 64, 1000} {
			seen := make([]int, len(ids))
			for i := 0; i < n; i++ {
				p := filepath.Join(dir, "part.parquet")
				st, err := File(context.Background(), m, goldenInputs, p, Options{Shard: i, Shards: n, Batch: batch})
				if err != nil {
					t.Fatal(err)
				}
				pids, pvals, _ := readOut(t, p)
				if st.Scored != int64(len(pids)) || st.Rows != 300 {
					t.Errorf("stats %+v for %d rows", st, len(pids))
				}
				last := -1
				for k, id := range pids {
					r := at[id]
					if r%n != i || r <= last {
						t.Fatalf("shard %d/%d batch %d: row %d (%s) after %d", i, n, batch, r, id, last)
					}
					last = r
					seen[r]++
					if !rowsClose(pvals[k], vals[r]) {
						t.Fatalf("shard %d/%d: %s scored %v, whole %v", i, n, id, pvals[k], vals[r])
					}
				}
			}
			for r, k := range seen {
				if k != 1 {
					t.Fatalf("%d shards, batch %d: row %d scored %d times", n, batch, r, k)
				}
			}
		}
	}
	if _, err := File(context.Background(), m, goldenInputs, filepath.Join(dir, "x.csv"), Options{Shard: 2, Shards: 2}); err == nil {
		t.Error("shard 2/2 accepted")
	}
}

// Without an id column the output carries the input row; Parquet input
// scores like CSV; indices come out when asked.
func TestRowColumnParquetIndices(t *testing.T) {
	m := loadGolden(t)
	dir := t.TempDir()
	f := NewFeeder(m.Inputs)
	tab, err := data.ReadFile(goldenInputs, f.Columns())
	if err != nil {
		t.Fatal(err)
	}
	pq := filepath.Join(dir, "in.parquet")
	if err := data.WriteFile(pq, tab); err != nil {
		t.Fatal(err)
	}
	a, b := filepath.Join(dir, "a.csv"), filepath.Join(dir, "b.csv")
	if _, err := File(context.Background(), m, goldenInputs, a, Options{IDColumn: "-", Indices: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := File(context.Background(), m, pq, b, Options{Batch: 50, Indices: true}); err != nil {
		t.Fatal(err)
	}
	ra, va, ca := readOut(t, a)
	rb, vb, cb := readOut(t, b)
	if ca[0] != RowColumn || cb[0] != RowColumn || !slices.Contains(ca, "bucket_365") || !slices.Contains(ca, "margin_sub_30") {
		t.Fatalf("columns %v / %v", ca, cb)
	}
	for i := range ra {
		if ra[i] != strconv.Itoa(i) || rb[i] != ra[i] || !rowsClose(va[i], vb[i]) {
			t.Fatalf("row %d: %s %v / %s %v", i, ra[i], va[i], rb[i], vb[i])
		}
	}
	if _, err := File(context.Background(), m, goldenInputs, a, Options{Distributions: true}); err == nil || !strings.Contains(err.Error(), "o_30") {
		t.Errorf("distributions from a file without them: %v", err)
	}
}

// A bad value in the middle of the file fails the run, names row and
// column, and leaves the output as it was.
func TestScoreAtomic(t *testing.T) {
	m := loadGolden(t)
	dir := t.TempDir()
	raw, err := os.ReadFile(goldenInputs)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(raw), "\n")
	fields := strings.Split(lines[251], ",")
	fields[12] = "abc" // active_days_7d of data row 251
	lines[251] = strings.Join(fields, ",")
	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(bad, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.csv")
	if err := os.WriteFile(out, []byte("previous\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = File(context.Background(), m, bad, out, Options{Batch: 100})
	if err == nil || !strings.Contains(err.Error(), "row 251") || !strings.Contains(err.Error(), "active_days_7d") {
		t.Fatalf("bad value: %v", err)
	}
	if b, _ := os.ReadFile(out); string(b) != "previous\n" {
		t.Errorf("output changed: %q", b)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 2 {
		t.Errorf("files left behind: %v", ents)
	}
}

func TestFeederReusesBuffers(t *testing.T) {
	ins := []train.InputSpec{{Name: "c", Type: "string"}, {Name: "x", Type: "float32"}}
	f := NewFeeder(ins)
	tab := data.NewTable(nil, nil)
	tab.AddString("c", []string{"a", "b", "c"})
	tab.AddFloat("x", []float64{1.5, math.NaN(), 1e40})
	feed, err := f.Feed(tab, nil)
	if err != nil {
		t.Fatal(err)
	}
	if feed["c"].DType != graph.String || !slices.Equal(feed["c"].S, []string{"a", "b", "c"}) {
		t.Errorf("strings %v", feed["c"])
	}
	x := feed["x"].F
	if x[0] != 1.5 || x[1] == x[1] || !math.IsInf(float64(x[2]), 1) {
		t.Errorf("floats %v", x)
	}
	// Selecting rows must not write into the table fed without a copy.
	feed, err = f.Feed(tab, []int{2, 0})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(feed["c"].S, []string{"c", "a"}) || !slices.Equal(tab.Str[0], []string{"a", "b", "c"}) {
		t.Errorf("selected %v, table %v", feed["c"].S, tab.Str[0])
	}
	tab2 := data.NewTable(nil, nil)
	tab2.AddFloat("c", []float64{1})
	tab2.AddFloat("x", []float64{1})
	if _, err := f.Feed(tab2, nil); err == nil {
		t.Error("a float column fed to a string input")
	}
}

func TestFloat32To64(t *testing.T) {
	for _, f := range []float32{0, 1, 12.34, -0.1, 1e-30, 3.4e38, float32(math.Inf(-1))} {
		v := Float32To64(f)
		if float32(v) != f {
			t.Errorf("%v -> %v", f, v)
		}
		if s := strconv.FormatFloat(v, 'g', -1, 64); s != strconv.FormatFloat(float64(f), 'g', -1, 32) {
			t.Errorf("%v prints as %s", f, s)
		}
	}
	if v := Float32To64(float32(math.NaN())); v == v {
		t.Error("NaN")
	}
}

func TestPeakRSS(t *testing.T) {
	p, err := PeakRSS()
	if err != nil {
		testenv.Missing(t, err.Error(), "odmn score --report-mem reads /proc/self/status (Linux)")
	}
	if p < 1<<20 {
		t.Errorf("peak %d bytes", p)
	}
}
