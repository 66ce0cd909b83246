package pipeline_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/odmn/odmn/data"
	"github.com/odmn/odmn/pipeline"
)

// splitLog writes the data lines of a log (header first) round-robin into
// k files with the header, and the same lines file after file into one
// log: the order in which BuildFromTransactions and the pipeline add each
// customer's transactions is then the same.
func splitLog(t *testing.T, header string, lines []string, k int) (files []string, whole string) {
	t.Helper()
	dir := t.TempDir()
	parts := make([][]string, k)
	for i, l := range lines {
		parts[i%k] = append(parts[i%k], l)
	}
	var all []string
	for i, p := range parts {
		f := filepath.Join(dir, fmt.Sprintf("log-%d.txt", i))
		if err := os.WriteFile(f, []byte(header+"\n"+strings.Join(p, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
		all = append(all, p...)
	}
	whole = filepath.Join(dir, "whole.txt")
	if err := os.WriteFile(whole, []byte(header+"\n"+strings.Join(all, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return files, whole
}

// synthLog is a log of n customers over two years: values with 2
// decimals, item counts, a few customers with many purchases.
func synthLog(n int, seed uint64) (string, []string) {
	r := rand.New(rand.NewPCG(seed, 1))
	start := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	var lines []string
	for c := 0; c < n; c++ {
		first := r.IntN(500)
		k := 1 + r.IntN(12)
		for j := 0; j < k; j++ {
			day := first
			if j > 0 {
				day += r.IntN(200)
			}
			v := fmt.Sprintf("%.2f", r.ExpFloat64()*30)
			lines = append(lines, fmt.Sprintf("c%04d,%s,%s,%d", c, start.AddDate(0, 0, day).Format("2006-01-02"), v, 1+r.IntN(4)))
		}
	}
	r.Shuffle(len(lines), func(i, j int) { lines[i], lines[j] = lines[j], lines[i] })
	return "cust,when,amount,items", lines
}

// readShards reads the pipeline's shards into one table sorted by customer.
func readShards(t *testing.T, shards []string, names []string, kinds []data.Kind) *data.Table {
	t.Helper()
	var all *data.Table
	for _, s := range shards {
		tab, err := data.ReadFile(s, data.Request(names, kinds))
		if err != nil {
			t.Fatal(err)
		}
		if all == nil {
			all = tab
			continue
		}
		for j := range names {
			if kinds[j] == data.String {
				all.Str[j] = append(all.Str[j], tab.Str[j]...)
			} else {
				all.Num[j] = append(all.Num[j], tab.Num[j]...)
			}
		}
	}
	return sortByID(all)
}

func sortByID(t *data.Table) *data.Table {
	idx := make([]int, t.Rows())
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return t.Str[0][idx[a]] < t.Str[0][idx[b]] })
	out := data.NewTable(nil, nil)
	for j, n := range t.Names {
		if t.Kinds[j] == data.String {
			col := make([]string, len(idx))
			for i, k := range idx {
				col[i] = t.Str[j][k]
			}
			out.AddString(n, col)
		} else {
			col := make([]float64, len(idx))
			for i, k := range idx {
				col[i] = t.Num[j][k]
			}
			out.AddFloat(n, col)
		}
	}
	return out
}

// sameTable compares two tables cell for cell (floats to the bit).
func sameTable(t *testing.T, got, want *data.Table) {
	t.Helper()
	if !reflect.DeepEqual(got.Names, want.Names) {
		t.Fatalf("columns %v, want %v", got.Names, want.Names)
	}
	if got.Rows() != want.Rows() {
		t.Fatalf("%d rows, want %d", got.Rows(), want.Rows())
	}
	for j, n := range want.Names {
		for i := 0; i < want.Rows(); i++ {
			if want.Kinds[j] == data.String {
				if got.Str[j][i] != want.Str[j][i] {
					t.Fatalf("row %d (%s) column %s: %q, want %q", i, want.Str[0][i], n, got.Str[j][i], want.Str[j][i])
				}
			} else if math.Float64bits(got.Num[j][i]) != math.Float64bits(want.Num[j][i]) {
				t.Fatalf("row %d (%s) column %s: %v, want %v", i, want.Str[0][i], n, got.Num[j][i], want.Num[j][i])
			}
		}
	}
}

type logCols struct{ customer, time, value, count string }

// checkSame runs the pipeline on files and data.BuildFromTransactions (what
// odmn dataset from-transactions runs) on whole, and compares.
func checkSame(t *testing.T, files []string, whole string, c logCols, asOf time.Time, window int, horizons []int, labels bool, runner, endpoint string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "feat")
	res, err := pipeline.Features(context.Background(), pipeline.FeaturesOptions{
		In: files, Customer: c.customer, Time: c.time, Value: c.value, Count: c.count,
		AsOf: asOf, Window: window, Horizons: horizons, Labels: labels, Out: out, Shards: 3,
		Runner: runner, Endpoint: endpoint,
	})
	if err != nil {
		t.Fatal(err)
	}
	wantOut := filepath.Join(t.TempDir(), "want.parquet")
	tab, spec, st, err := data.BuildFromTransactions(data.BuildOptions{
		In: whole, Customer: c.customer, Time: c.time, Value: c.value, Count: c.count,
		AsOf: asOf, Window: window, Horizons: horizons, NoLabels: !labels, Out: wantOut,
	})
	if err != nil {
		t.Fatal(err)
	}
	if st.Kept == 0 || st.Kept == st.Customers && labels {
		t.Fatalf("a weak test: %d of %d customers kept", st.Kept, st.Customers)
	}
	got := readShards(t, res.Shards, tab.Names, tab.Kinds)
	sameTable(t, got, sortByID(tab))
	gotSpec, err := os.ReadFile(res.Spec)
	if err != nil {
		t.Fatal(err)
	}
	wantSpec, err := os.ReadFile(st.SpecPath)
	if err != nil {
		t.Fatal(err)
	}
	if string(gotSpec) != string(wantSpec) {
		t.Fatalf("spec\n%s\nwant (dataset from-transactions)\n%s", gotSpec, wantSpec)
	}
	_ = spec
	if res.Written != int64(st.Kept) || res.Bad != 0 {
		t.Fatalf("written %d, bad %d; build stats %+v", res.Written, res.Bad, st)
	}
	// Beam's counters, as the runner reports them (at most the truth:
	// prism has been seen to drop a bundle's counters).
	cn := res.Counters
	if cn["written"] > int64(st.Kept) || cn["customers"] > int64(st.Customers) || cn["written"] == 0 || cn["bad"] != 0 {
		t.Fatalf("counters %v, build stats %+v", cn, st)
	}
}

func TestFeaturesSameAsFromTransactions(t *testing.T) {
	header, lines := synthLog(400, 7)
	files, whole := splitLog(t, header, lines, 3)
	c := logCols{"cust", "when", "amount", "items"}
	asOf := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	t.Run("labels", func(t *testing.T) {
		checkSame(t, files, whole, c, asOf, 7, []int{30, 90}, true, "", "")
	})
	t.Run("scoring-set", func(t *testing.T) {
		checkSame(t, files, whole, c, asOf, 7, []int{30, 90}, false, "", "")
	})
}

func TestFeaturesCDNOW(t *testing.T) {
	b, err := os.ReadFile("../fixtures/cdnow/CDNOW_master.txt")
	if err != nil {
		t.Fatal(err) // the fixture is in the repository
	}
	all := strings.Split(strings.TrimRight(string(b), "\r\n"), "\n")
	files, whole := splitLog(t, all[0], all[1:], 4)
	c := logCols{"customer_id", "date", "dollar_value", "number_of_cds"}
	t.Run("labels", func(t *testing.T) {
		checkSame(t, files, whole, c, time.Date(1998, 3, 15, 0, 0, 0, 0, time.UTC), 7, data.DefaultHorizons, true, "", "")
	})
	t.Run("scoring-set", func(t *testing.T) {
		checkSame(t, files, whole, c, time.Date(1997, 2, 20, 0, 0, 0, 0, time.UTC), 7, data.DefaultHorizons, false, "", "")
	})
}

func TestFeaturesBadRows(t *testing.T) {
	header, lines := synthLog(300, 3)
	// Bad rows: a negative value, an unparsable date, a missing field.
	bad := []string{"c0001,2023-02-01,-5.00,1", "c0002,2023-02-31,5.00,1", "c0003,2023-02-01,5.00"}
	good := append([]string{}, lines...)
	withBad := append(append([]string{}, lines[:10]...), bad...)
	withBad = append(withBad, lines[10:]...)
	files, _ := splitLog(t, header, withBad, 2)
	c := logCols{"cust", "when", "amount", "items"}
	asOf := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	out := filepath.Join(t.TempDir(), "feat")
	opts := pipeline.FeaturesOptions{In: files, Customer: c.customer, Time: c.time, Value: c.value, Count: c.count,
		AsOf: asOf, Window: 7, Horizons: []int{30}, Out: out}

	// Default --max-bad (0.1%): 3 of ~2000 rows is past it.
	res, err := pipeline.Features(context.Background(), opts)
	if err == nil || !strings.Contains(err.Error(), "3 bad rows") || !strings.Contains(err.Error(), "max-bad") {
		t.Fatalf("error %v, want 3 bad rows past --max-bad", err)
	}
	for _, s := range res.Shards {
		if _, err := os.Stat(s); err == nil {
			t.Fatalf("%s left behind by a failed run", s)
		}
	}
	if _, err := os.Stat(res.Spec); err == nil {
		t.Fatal("spec written by a failed run")
	}

	opts.MaxBad = 0.01
	res, err = pipeline.Features(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Bad != 3 || res.Counters["bad"] > 3 || res.Counters["rows_read"] > int64(len(withBad)) {
		t.Fatalf("bad %d, counters %v", res.Bad, res.Counters)
	}
	var reasons []string
	for _, f := range res.BadFiles {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(fh).ReadAll()
		fh.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(recs[0], []string{"file", "line", "column", "reason"}) {
			t.Fatalf("%s header %v", f, recs[0])
		}
		for _, r := range recs[1:] {
			reasons = append(reasons, filepath.Base(r[0])+":"+r[1]+":"+r[2]+":"+r[3])
		}
	}
	sort.Strings(reasons)
	// withBad rows 10, 11, 12 go to files 0, 1, 0 at lines 7, 7, 8 (header = line 1).
	want := []string{
		`log-0.txt:7:amount:negative value -5.00 (refunds and corrections must be netted out before building)`,
		`log-0.txt:8::has 3 fields, the header has 4`,
		`log-1.txt:7:when:cannot parse "2023-02-31" as a date in the format YYYY-MM-DD used for this file (detected from the first row unless --date-format is given)`,
	}
	if !reflect.DeepEqual(reasons, want) {
		t.Fatalf("bad rows\n%s\nwant\n%s", strings.Join(reasons, "\n"), strings.Join(want, "\n"))
	}
	// A clean rerun into the same prefix removes the stale bad-row files.
	opts.In, _ = splitLog(t, header, good, 2)
	res, err = pipeline.Features(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.BadFiles) != 0 || res.Bad != 0 || res.Counters["bad"] != 0 {
		t.Fatalf("clean rerun: bad files %v, counters %v", res.BadFiles, res.Counters)
	}
}
